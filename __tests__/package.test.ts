/** What the package says about itself matches the files it ships. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

describe('the package', () => {
  it('ships the MIT licence its package.json names', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    const licence = readFileSync('LICENSE', 'utf8');
    expect(licence.split('\n')[0]).toBe('MIT License');
    expect(licence).toContain('Copyright (c) 2026 imagegen contributors');
    expect(readFileSync('README.md', 'utf8')).toContain('[LICENSE](LICENSE)');
  });
});
