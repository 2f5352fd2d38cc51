/**
 * Ctrl-C (SIGINT) and SIGTERM against the built binary, sent at different moments of a run: the run stops,
 * exits 130 or 143, and leaves no image, report or temporary file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import type { FakeProviders } from './helpers/fake-providers.js';
import { noisyGradient } from './helpers/images.js';
import { fakeEnv, startFake } from './helpers/provider-setup.js';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDir, tempDirsPerTest } from './helpers/tmp.js';

/** A noisy picture big enough that weaving it takes a while. */
let bigPng: Buffer;
/** A picture small enough to be sent at once. */
let smallPng: Buffer;
let fake: FakeProviders;
const shared = tempDir();
const BIG = path.join(shared.dir, 'big.png');

beforeAll(async () => {
  const { width, height, data } = noisyGradient(1200, 1200);
  bigPng = await new Jimp({ width, height, data: Buffer.from(data) }).getBuffer('image/png');
  writeFileSync(BIG, bigPng);
  const small = noisyGradient(120, 90);
  smallPng = await new Jimp({ width: small.width, height: small.height, data: Buffer.from(small.data) }).getBuffer(
    'image/png',
  );
  fake = await startFake();
});
afterAll(async () => {
  await fake.close();
  shared.cleanup();
});

interface Stopped {
  code: number | null;
  stderr: string;
  stdout: string;
}

/**
 * Runs the binary in `dir` and sends `signal` once `ready` says so (it is given stderr so far); resolves when
 * the process has ended.
 */
function stopWhen(
  args: string[],
  dir: string,
  env: Record<string, string>,
  signal: NodeJS.Signals,
  ready: (stderr: string) => boolean,
): Promise<Stopped> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  let sent = false;
  const check = () => {
    if (!sent && ready(stderr)) {
      sent = true;
      child.kill(signal);
    }
  };
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const timer = setInterval(check, 10);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stderr, stdout });
    }),
  );
}

function config(dir: string, extra: Record<string, unknown> = {}) {
  writeFileSync(
    path.join(dir, '.imagegenrc.json'),
    JSON.stringify({
      polling: { intervalMs: 5, maxIntervalMs: 10, timeoutMs: 20000 },
      retry: { retries: 1, minTimeoutMs: 1 },
      loom: { width: 1200, colors: 12 },
      ...extra,
    }),
  );
}

describe('a signal once the pipeline has started', () => {
  const newDir = tempDirsPerTest();
  const weaving = (stderr: string) => stderr.includes('weaving');

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while one picture is woven: exit %i, nothing written', async (signal, exitCode) => {
    const dir = newDir();
    config(dir);
    copyFileSync(BIG, path.join(dir, 'in.png'));
    const r = await stopWhen(['edit', 'in.png', '--local'], dir, {}, signal, weaving);
    expect(r.code).toBe(exitCode);
    expect(r.stderr).toContain('error: interrupted');
    expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'in.png']);
  });

  it('SIGTERM as soon as a batch on worker threads starts: exit 143, nothing written', async () => {
    const dir = newDir();
    config(dir);
    for (const name of ['a.png', 'b.png', 'c.png']) copyFileSync(BIG, path.join(dir, name));
    const r = await stopWhen(
      ['edit', 'a.png', 'b.png', 'c.png', '--local', '--jobs', '2', '--out-dir', 'woven'],
      dir,
      {},
      'SIGTERM',
      (stderr) => stderr.includes('running the local loom pipeline'),
    );
    expect(r.code).toBe(143);
    expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'a.png', 'b.png', 'c.png']);
  });

  it('SIGINT after the remote result is downloaded: exit 130, nothing written', async () => {
    const dir = newDir();
    config(dir);
    fake.requests = [];
    fake.result = { status: 200, body: bigPng, contentType: 'image/png' };
    const downloaded = () => fake.requests.some((r) => r.method === 'GET' && r.path.startsWith('/results/'));
    const edit = await stopWhen(['edit', BIG], dir, fakeEnv(fake), 'SIGINT', downloaded);
    expect(edit.code).toBe(130);
    expect(readdirSync(dir).sort()).toEqual(['.imagegen', '.imagegenrc.json']);

    fake.requests = [];
    const generate = await stopWhen(
      ['generate', 'a red fox', '--style', 'loom'],
      dir,
      fakeEnv(fake),
      'SIGTERM',
      downloaded,
    );
    expect(generate.code).toBe(143);
    // Only the journal of what was paid for, which a rerun reads.
    expect(readdirSync(dir).sort()).toEqual(['.imagegen', '.imagegenrc.json']);
    expect(readdirSync(path.join(dir, '.imagegen'))).toEqual(['journal.jsonl']);
  });
});

describe('Ctrl-C while tasks run at the provider', () => {
  const newDir = tempDirsPerTest();
  const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: the task wait line of each running task, the summary, the hint; records for every item; exit %i; a rerun re-attaches',
    async (signal, exitCode) => {
      const dir = newDir();
      config(dir, { loom: { width: 40 } });
      for (const name of ['a.png', 'b.png', 'c.png']) writeFileSync(path.join(dir, name), smallPng);
      fake.requests = [];
      fake.dashscopeSteps = ['RUNNING'];
      const args = ['--json', 'edit', 'a.png', 'b.png', 'c.png', '--out-dir', 'woven', '--no-fallback', '--jobs', '1'];
      // Once a task has been seen running (a queued one would be canceled, and cost nothing).
      const polled = () => fake.requests.some((req) => req.method === 'GET' && req.path.startsWith('/api/v1/tasks/'));
      const r = await stopWhen(args, dir, fakeEnv(fake), signal, polled);
      expect(r.code).toBe(exitCode);

      const records = r.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown> & { error?: Record<string, string> });
      const summary = records.at(-1);
      const items = records.slice(0, -1);
      expect(items.map((rec) => rec.input).sort()).toEqual(['a.png', 'b.png', 'c.png']);
      for (const rec of items) expect(['interrupted', 'skipped']).toContain(rec.status);
      const running = items
        .filter((rec) => rec.error?.taskId && rec.error.code !== 'TaskCanceled')
        .map((rec) => rec.error!.taskId);
      expect(running.length).toBeGreaterThanOrEqual(1);
      expect(summary).toMatchObject({
        type: 'summary',
        total: 3,
        ok: 0,
        failed: 0,
        interrupted: items.filter((rec) => rec.status === 'interrupted').length,
        skipped: items.filter((rec) => rec.status === 'skipped').length,
      });

      const waitLines = running.map((id) => `imagegen task wait dashscope:${id}`);
      for (const line of waitLines) expect(r.stderr).toContain(line);
      const summaryLine = r.stderr.search(/0 of 3 done, \d interrupted/);
      const hint = r.stderr.indexOf('hint: run the same command again: it skips what is done and re-attaches');
      expect(summaryLine).toBeGreaterThan(Math.max(...waitLines.map((line) => r.stderr.indexOf(line))));
      expect(hint).toBeGreaterThan(summaryLine);

      // The same command again: the running tasks are polled, not submitted again.
      fake.requests = [];
      fake.dashscopeSteps = ['SUCCEEDED'];
      const again = await runCli(args, { cwd: dir, env: fakeEnv(fake) });
      expect(again.code).toBe(0);
      expect(fake.count('POST', SUBMIT)).toBe(3 - running.length);
      for (const id of running)
        expect(fake.requests.some((req) => req.method === 'GET' && req.path === `/api/v1/tasks/${id}`)).toBe(true);
      fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    },
    60_000,
  );
});
