import { afterEach } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'imagegen-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** For a describe block: returns a maker of temporary folders that are all removed after each test. */
export function tempDirsPerTest(): () => string {
  const made: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of made.splice(0)) cleanup();
  });
  return () => {
    const t = tempDir();
    made.push(t.cleanup);
    return t.dir;
  };
}

/** The names in a folder, but the journal folder (`.imagegen`) that a run calling a provider keeps there. */
export function writtenIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== '.imagegen');
}
