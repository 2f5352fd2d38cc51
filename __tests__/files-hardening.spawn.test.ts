/**
 * Files against the built binary: a write never replaces a device or a pipe; a journal, a palette or a config
 * that is a pipe, a device or a link is refused at once; names too long and prompts-file outputs that leave
 * the output folder are refused before anything is sent; a journal in use by another run is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { FakeProviders } from './helpers/fake-providers.js';
import { fakeEnv, startFake } from './helpers/provider-setup.js';
import { BIN, runCli, type RunResult } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';
const GENERATE = '/v1/images/generations';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());
afterEach(() => {
  fake.requests = [];
  fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  fake.releaseAll();
});

const newDir = tempDirsPerTest();

function setup(): string {
  const dir = newDir();
  writeFileSync(
    path.join(dir, '.imagegenrc.json'),
    JSON.stringify({ polling: { intervalMs: 5, maxIntervalMs: 10 }, loom: { width: 40 } }),
  );
  return dir;
}

function fifo(file: string): string {
  execFileSync('mkfifo', [file]);
  return file;
}

/** Runs the binary and says how long it took. */
async function timed(args: string[], dir: string, env = fakeEnv(fake)): Promise<RunResult & { ms: number }> {
  const start = Date.now();
  const r = await runCli(args, { cwd: dir, env });
  return { ...r, ms: Date.now() - start };
}

/** One error line, and nothing unexpected or temporary named. */
function expectOneError(r: RunResult, message: string | RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(1);
  expect(r.stderr).not.toMatch(/unexpected|\.tmp\b/);
}

describe('a write replaces only a regular file', () => {
  it('-o a pipe, with --force: exit 2 before anything is sent, and the pipe is still there', async () => {
    const dir = setup();
    fifo(path.join(dir, 'pipe'));
    const r = await timed(['edit', SAMPLE, '-o', 'pipe', '--force'], dir);
    expect(r.code).toBe(2);
    expectOneError(r, /-o \S+pipe: is not a regular file \(a device, a pipe or a socket\): not replaced/);
    expect(r.ms).toBeLessThan(5000);
    expect(fake.requests).toEqual([]);
    expect(lstatSync(path.join(dir, 'pipe')).isFIFO()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'pipe']);
  });

  it('-o a link to /dev/null and --report a pipe, with --force: exit 2, nothing sent', async () => {
    const dir = setup();
    symlinkSync('/dev/null', path.join(dir, 'null.png'));
    const viaLink = await timed(['edit', SAMPLE, '-o', 'null.png', '--force'], dir);
    expect(viaLink.code).toBe(2);
    expectOneError(viaLink, /-o \S+null\.png: is not a regular file/);
    expect(lstatSync(path.join(dir, 'null.png')).isSymbolicLink()).toBe(true);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);

    fifo(path.join(dir, 'r.json'));
    const report = await timed(['edit', SAMPLE, '-o', 'x.png', '--report', 'r.json', '--force'], dir);
    expect(report.code).toBe(2);
    expectOneError(report, /--report \S+r\.json: is not a regular file/);
    expect(fake.requests).toEqual([]);
    expect(existsSync(path.join(dir, 'x.png'))).toBe(false);
  });

  const root = process.getuid?.() === 0;
  // Making a device needs root; CI runs as root, so there it never skips.
  (root || process.env.CI ? it : it.skip)(
    '-o a character device, with --force (as root): the device stays',
    async () => {
      const dir = setup();
      const device = path.join(dir, 'devnull');
      execFileSync('mknod', [device, 'c', '1', '3']);
      const r = await timed(['edit', SAMPLE, '--local', '-o', 'devnull', '--force'], dir);
      expect(r.code).toBe(2);
      expectOneError(r, /-o \S+devnull: is not a regular file/);
      expect(lstatSync(device).isCharacterDevice()).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'devnull']);
    },
  );
});

describe('a journal, a palette or a config is read only from a regular file', () => {
  const cases: Array<[string, (dir: string) => string[], number, RegExp]> = [
    [
      'generate --journal a pipe',
      (dir) => ['generate', 'a fox', '--journal', fifo(path.join(dir, 'j'))],
      2,
      /--journal \S+j: not a regular file/,
    ],
    [
      'edit --journal a pipe, with --resume',
      (dir) => ['edit', SAMPLE, '--journal', fifo(path.join(dir, 'j')), '--resume'],
      2,
      /--journal \S+j: not a regular file/,
    ],
    [
      'edit --journal /dev/zero, with --resume',
      () => ['edit', SAMPLE, '--journal', '/dev/zero', '--resume'],
      2,
      /not a regular file/,
    ],
    [
      'edit --journal /dev/null',
      () => ['edit', SAMPLE, '--journal', '/dev/null'],
      2,
      /--journal \/dev\/null: not a regular file/,
    ],
    [
      'edit --palette a pipe',
      (dir) => ['edit', SAMPLE, '--palette', fifo(path.join(dir, 'p.gpl'))],
      1,
      /palette file \S+p\.gpl: not a regular file/,
    ],
    [
      'edit --palette /dev/zero',
      () => ['edit', SAMPLE, '--palette', '/dev/zero'],
      1,
      /palette file \/dev\/zero: not a regular file/,
    ],
    [
      '--config a pipe',
      (dir) => ['--config', fifo(path.join(dir, 'c.json')), 'edit', SAMPLE],
      2,
      /c\.json: is not a regular file/,
    ],
    ['--config /dev/zero', () => ['--config', '/dev/zero', 'edit', SAMPLE], 2, /\/dev\/zero: is not a regular file/],
  ];

  it.each(cases)('%s: refused at once, nothing sent', async (_, args, code, message) => {
    const dir = setup();
    const r = await timed(args(dir), dir);
    expect(r.code).toBe(code);
    expectOneError(r, message);
    expect(r.ms).toBeLessThan(5000);
    expect(fake.requests).toEqual([]);
  });

  it('--journal a symbolic link: exit 2, and the file it points to is left alone', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'real'), 'mine\n');
    symlinkSync(path.join(dir, 'real'), path.join(dir, 'j'));
    for (const extra of [[], ['--resume']]) {
      const r = await timed(['edit', SAMPLE, '--journal', 'j', ...extra], dir);
      expect(r.code).toBe(2);
      expectOneError(r, /--journal \S+j: is a symbolic link: not followed/);
    }
    expect(readFileSync(path.join(dir, 'real'), 'utf8')).toBe('mine\n');
    expect(fake.requests).toEqual([]);
  });

  it('a journal line that is not an event is corrupt: exit 2 naming the line', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'j'), `{"event":"queued","item":"x","at":"2026-01-01T00:00:00Z"}\nnull\n`);
    const r = await timed(['edit', SAMPLE, '--journal', 'j', '--resume'], dir);
    expect(r.code).toBe(2);
    expectOneError(r, /j:2: not a journal line \(not an event imagegen writes\): corrupt/);
    expect(fake.requests).toEqual([]);
  });

  it('--resume takes a recorded output only where this command writes: a forged one is never reported', async () => {
    const dir = setup();
    const forged = path.join(dir, 'elsewhere.txt');
    writeFileSync(forged, 'not an image\n');
    const sha256 = createHash('sha256').update(readFileSync(forged)).digest('hex');
    const line = { event: 'finished', item: `edit:${SAMPLE}`, output: forged, sha256, at: new Date().toISOString() };
    writeFileSync(path.join(dir, 'j'), JSON.stringify(line) + '\n');
    const r = await timed(['edit', SAMPLE, '--local', '--journal', 'j', '--resume'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('elsewhere');
    expect(r.stdout.trim()).toBe(path.join(dir, 'grace-hopper.loom.png'));
    // The output it did write is taken on the next --resume.
    const again = await timed(['edit', SAMPLE, '--local', '--journal', 'j', '--resume', '--json'], dir);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 'skipped',
      output: path.join(dir, 'grace-hopper.loom.png'),
    });
  });
});

describe('names too long for the file system are refused before anything is sent', () => {
  const long = `${'n'.repeat(246)}.png`;

  it.each([
    ['edit -o', (dir: string) => ['edit', SAMPLE, '-o', path.join(dir, long)]],
    ['generate --style loom -o', (dir: string) => ['generate', 'a fox', '--style', 'loom', '-o', path.join(dir, long)]],
    ['generate -o', (dir: string) => ['generate', 'a fox', '-o', path.join(dir, long)]],
  ])('%s a 250-byte name: exit 2 naming it, no task', async (_, args) => {
    const dir = setup();
    const r = await timed(args(dir), dir);
    expect(r.code).toBe(2);
    expectOneError(r, /-o \S+n{246}\.png: too long \(its name is 250 bytes long; at most \d+ fit/);
    expect(r.ms).toBeLessThan(5000);
    expect(fake.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual(['.imagegenrc.json']);
  });

  it('a name derived from a long input name: exit 2, no task', async () => {
    const dir = setup();
    const input = path.join(dir, `${'p'.repeat(240)}.jpg`);
    copyFileSync(SAMPLE, input);
    const r = await timed(['edit', input, SAMPLE], dir);
    expect(r.code).toBe(2);
    expectOneError(r, /the output name \S+p{240}\.loom…: too long/);
    expect(fake.requests).toEqual([]);
  });
});

describe("a prompts file's outputs stay inside the output folder", () => {
  function promptsWith(dir: string, output: string): void {
    writeFileSync(
      path.join(dir, 'prompts.jsonl'),
      `a red fox\n${JSON.stringify({ prompt: 'a blue heron', output })}\n`,
    );
  }

  it.each([
    ['../elsewhere/x.png', /prompts\.jsonl:2: "output" "\.\.\/elsewhere\/x\.png": leads out of the output folder/],
    ['/tmp/x.png', /prompts\.jsonl:2: "output" "\/tmp\/x\.png": is an absolute path/],
    [
      'link/x.png',
      /prompts\.jsonl:2: "output" "link\/x\.png": leads out of the output folder \S+ through a symbolic link/,
    ],
  ])('"output": %s is refused, naming the line, before anything is sent', async (output, message) => {
    const dir = setup();
    mkdirSync(path.join(dir, 'elsewhere'));
    mkdirSync(path.join(dir, 'out'));
    // out/link leads to a folder beside out
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'out', 'link'));
    promptsWith(dir, output);
    const r = await timed(['generate', '--prompts', 'prompts.jsonl', '--out-dir', 'out', '--force'], dir);
    expect(r.code).toBe(2);
    expectOneError(r, message);
    expect(fake.requests).toEqual([]);
    expect(readdirSync(path.join(dir, 'elsewhere'))).toEqual([]);
  });

  it('"output" is a name in --out-dir', async () => {
    const dir = setup();
    mkdirSync(path.join(dir, 'out'));
    writeFileSync(
      path.join(dir, 'prompts.jsonl'),
      `${JSON.stringify({ prompt: 'a blue heron', output: 'heron.png' })}\n`,
    );
    const r = await timed(['generate', '--prompts', 'prompts.jsonl', '--out-dir', 'out'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(dir, 'out', 'heron.png'));
    expect(existsSync(path.join(dir, 'out', 'heron.png'))).toBe(true);
    expect(existsSync(path.join(dir, 'heron.png'))).toBe(false);
    expect(fake.count('POST', GENERATE)).toBe(1);
  });
});

describe('a journal is used by one run at a time', () => {
  function folderOf(dir: string, n: number): string {
    const inputs = path.join(dir, 'in');
    mkdirSync(inputs);
    for (let i = 1; i <= n; i++) copyFileSync(SAMPLE, path.join(inputs, `p${i}.jpg`));
    return inputs;
  }

  it('a second run on a journal in use says so and exits 2, sending nothing; Ctrl-C frees it', async () => {
    const dir = setup();
    const inputs = folderOf(dir, 3);
    // The first run's tasks never end until it is interrupted.
    fake.dashscopeSteps = ['RUNNING'];
    const first = spawn(process.execPath, [BIN, 'edit', inputs, '--journal', 'j', '--no-fallback'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...fakeEnv(fake) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ended = new Promise<number | null>((resolve) => first.on('close', resolve));
    for (let i = 0; i < 1000 && fake.count('POST', SUBMIT) < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const submits = fake.count('POST', SUBMIT);
    expect(submits).toBeGreaterThan(0);
    expect(readFileSync(path.join(dir, 'j.lock'), 'utf8').trim()).toBe(String(first.pid));

    const second = await timed(['edit', inputs, '--journal', 'j', '--resume'], dir);
    expect(second.code).toBe(2);
    expectOneError(second, `journal ${path.join(dir, 'j')} is in use by process ${first.pid}`);
    expect(second.ms).toBeLessThan(5000);
    expect(fake.count('POST', SUBMIT)).toBe(submits);

    first.kill('SIGINT');
    expect(await ended).toBe(130);
    expect(existsSync(path.join(dir, 'j.lock'))).toBe(false);

    // The journal is free again: --resume re-attaches to the tasks, submits nothing new, and ends.
    fake.dashscopeSteps = ['SUCCEEDED'];
    const before = fake.count('POST', SUBMIT);
    const third = await timed(['edit', inputs, '--journal', 'j', '--resume', '--no-fallback'], dir);
    expect(third.code).toBe(0);
    expect(fake.count('POST', SUBMIT) - before).toBeLessThanOrEqual(3);
    expect(existsSync(path.join(dir, 'j.lock'))).toBe(false);
  });

  it('a lock left by a run that ended (kill -9) is taken over', async () => {
    const dir = setup();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.on('close', resolve));
    writeFileSync(path.join(dir, 'j.lock'), `${gone.pid}\n`);
    const r = await timed(['edit', SAMPLE, '--local', '--journal', 'j'], dir);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(dir, 'j.lock'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.lock'))).toEqual([]);
  });
});
