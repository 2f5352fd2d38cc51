import { describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

describe('imagegen binary: config safety', () => {
  const newDir = tempDirsPerTest();

  it('never runs a config planted in a folder above the current one', async () => {
    const shared = newDir();
    const marker = path.join(shared, 'ran');
    writeFileSync(
      path.join(shared, '.imagegenrc.cjs'),
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = {};`,
    );
    const cwd = path.join(shared, 'mine');
    mkdirSync(cwd);
    const r = await runCli(['--json', 'config'], { cwd });
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.stdout).not.toContain(shared + path.sep + '.imagegenrc');
    // The current folder's own file is still found, with no package.json or .git anywhere.
    writeFileSync(path.join(cwd, '.imagegenrc.json'), '{"loom":{"colors":5}}');
    const own = await runCli(['--json', 'config'], { cwd });
    expect(own.code).toBe(0);
    expect(own.stdout).toContain(path.join(cwd, '.imagegenrc.json'));
  });

  it('refuses a config file others can write, with exit 2 and the reason', async () => {
    const cwd = newDir();
    const file = path.join(cwd, '.imagegenrc.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o666);
    const r = await runCli(['config'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: writable by its group and others (mode 666)`);
    expect(r.stderr).toContain('chmod go-w');
  });

  it('runs a local edit whatever a provider it does not call is configured with', async () => {
    const cwd = newDir();
    const r = await runCli(['edit', SAMPLE, '--local', '--width', '32', '-o', path.join(cwd, 'out.png')], {
      cwd,
      env: { MODELSCOPE_API_KEY: 'ms-test-token-0000', IMAGEGEN_MODELSCOPE_BASE_URL: 'http://imagegen-test.invalid' },
    });
    expect(r.stderr).not.toContain('unencrypted');
    expect(r.code).toBe(0);
    expect(existsSync(path.join(cwd, 'out.png'))).toBe(true);
  });

  it('refuses a plain-http base URL to another machine before sending anything (exit 2)', async () => {
    const cwd = newDir();
    writeFileSync(path.join(cwd, '.imagegenrc.json'), '{"retry":{"retries":0,"minTimeoutMs":1}}');
    const r = await runCli(['generate', 'a fox'], {
      cwd,
      env: { MODELSCOPE_API_KEY: 'ms-test-token-0000', IMAGEGEN_MODELSCOPE_BASE_URL: 'http://imagegen-test.invalid' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('http://imagegen-test.invalid would send the key unencrypted; use https');
  });
});
