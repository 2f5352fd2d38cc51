/**
 * Inputs that are not regular files (devices, FIFOs) and regular files too large to hold: refused with one
 * clear line, at once, without opening a FIFO (which blocks) or reading an endless device.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { nodeFs } from '../src/cli/services.js';
import { InputError } from '../src/kernel/errors.js';
import type { Fs } from '../src/kernel/ports.js';
import { readInput } from '../src/stages/acquire.js';
import { testServices } from './helpers/services.js';
import { BIN, type RunResult } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const MB = 1000 * 1000;

/** FIFOs made by a test; a reader still blocked on one is let go (its open returns, then EOF) afterwards. */
const fifos: string[] = [];
afterEach(() => {
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting, which is what a fixed build leaves
    }
  }
});

/** The system's mkfifo(1) (named here, not in the call, as identify.test.ts names its tools). */
const MKFIFO = 'mkfifo';

function mkfifo(file: string): string {
  execFileSync(MKFIFO, [file]);
  fifos.push(file);
  return file;
}

/** The promise's outcome, or 'still waiting' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'still waiting'> {
  return Promise.race([
    promise.catch((err: unknown) => err as Error),
    new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms).unref()),
  ]);
}

/** Runs the built binary in `cwd` with a hard time limit; `ms` is how long it took. */
function run(args: string[], cwd: string, limitMs = 10_000): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: cwd },
        encoding: 'utf8',
        timeout: limitMs,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end();
  });
}

describe('readInput refuses what is not a regular file', () => {
  const setup = tempDirsPerTest();

  it('refuses a FIFO at once, without blocking on opening it', async () => {
    const dir = setup();
    const fifo = mkfifo(path.join(dir, 'pipe.png'));
    const { services } = testServices(dir);
    const outcome = await within(readInput(services, 'pipe.png', fifo), 2000);
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as Error).message).toBe('pipe.png: not a regular file');
  });

  it('nodeFs.readFile with a cap refuses a FIFO without waiting for a writer (one swapped in after the stat)', async () => {
    const fifo = mkfifo(path.join(setup(), 'swapped.png'));
    const outcome = await within(nodeFs.readFile(fifo, { maxBytes: 1000 }), 2000);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as NodeJS.ErrnoException).code).toBe('EFTYPE');
  });

  it('refuses a character device (/dev/null, /dev/zero)', async () => {
    const { services } = testServices(setup());
    for (const device of ['/dev/null', '/dev/zero']) {
      const outcome = await within(readInput(services, device, device), 2000);
      expect(outcome).toBeInstanceOf(InputError);
      expect((outcome as Error).message).toBe(`${device}: not a regular file`);
    }
  });

  it('keeps the other messages: missing, folder, empty; and reads a regular file through a symlink', async () => {
    const dir = setup();
    const { services } = testServices(dir);
    mkdirSync(path.join(dir, 'folder'));
    writeFileSync(path.join(dir, 'empty.png'), '');
    writeFileSync(path.join(dir, 'real.png'), 'abc');
    symlinkSync(path.join(dir, 'real.png'), path.join(dir, 'link.png'));
    const read = (name: string) => readInput(services, name, path.join(dir, name));
    await expect(read('missing.png')).rejects.toThrow('missing.png: no such file');
    await expect(read('folder')).rejects.toThrow('folder: is a folder, not an image');
    await expect(read('empty.png')).rejects.toThrow('empty.png: is empty (0 bytes)');
    expect((await read('link.png')).toString()).toBe('abc');
  });
});

describe('readInput caps regular files', () => {
  const setup = tempDirsPerTest();

  it('refuses a file larger than the cap from its size, before reading it', async () => {
    const dir = setup();
    const big = path.join(dir, 'big.png');
    writeFileSync(big, '');
    truncateSync(big, 20 * MB); // sparse: instant, takes no disk
    let reads = 0;
    const fs: Fs = {
      ...nodeFs,
      readFile: (...args: Parameters<Fs['readFile']>) => {
        reads++;
        return nodeFs.readFile(...args);
      },
    };
    const { services } = testServices(dir, { fs });
    const outcome = await within(readInput(services, 'big.png', big, 10 * MB), 5000);
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as Error).message).toBe('big.png: larger than 10 MB');
    expect(reads).toBe(0);
  });

  it('stops at the cap when the file is larger than stat said (it grew)', async () => {
    const dir = setup();
    const big = path.join(dir, 'grows.png');
    writeFileSync(big, '');
    truncateSync(big, 20 * MB);
    // stat taken while the file was still small
    const fs: Fs = { ...nodeFs, stat: async (file) => Object.assign(await nodeFs.stat(file), { size: 100 }) };
    const { services } = testServices(dir, { fs });
    const outcome = await within(readInput(services, 'grows.png', big, 10 * MB), 5000);
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as Error).message).toBe('grows.png: larger than 10 MB');
  });

  it('reads a file of exactly the cap', async () => {
    const dir = setup();
    const file = path.join(dir, 'exact.txt');
    writeFileSync(file, Buffer.alloc(1000, 'a'));
    const { services } = testServices(dir);
    expect((await readInput(services, 'exact.txt', file, 1000)).length).toBe(1000);
  });
});

describe('imagegen edit with a device or a FIFO', () => {
  const setup = tempDirsPerTest();

  async function refused(input: string, cwd: string) {
    const before = readdirSync(cwd).sort();
    const r = await run(['edit', input, '--local'], cwd);
    expect(r.ms).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const naming = r.stderr.split('\n').filter((line) => line.includes(input));
    expect(naming).toEqual([`error: ${input}: not a regular file`]);
    expect(readdirSync(cwd).sort()).toEqual(before);
  }

  it('exits 1 at once on /dev/zero, writing nothing', async () => {
    await refused('/dev/zero', setup());
  });

  it('exits 1 at once on a FIFO no one writes to, writing nothing', async () => {
    const dir = setup();
    mkfifo(path.join(dir, 'pipe.jpg'));
    await refused('pipe.jpg', dir);
  });
});
