import { afterEach, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { nodeFs } from '../src/cli/services.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { expandInputs, mayNameSeveral } from '../src/jobs/inputs.js';
import { configuredKeys } from '../src/jobs/providers.js';
import { runJobs, type JobQueue } from '../src/jobs/run.js';
import {
  AuthError,
  InputError,
  InterruptedError,
  PartialBatchError,
  ProviderError,
  SkippedError,
  UsageError,
} from '../src/kernel/errors.js';
import type { Fs, Sleep } from '../src/kernel/ports.js';
import type { JobRecord } from '../src/kernel/records.js';
import { ProviderGate, type GateOptions } from '../src/providers/shared/gate.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { fakeEnv, startFake } from './helpers/provider-setup.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';
import { recordingUi } from './helpers/ui.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise settled from outside, so a test decides the order in which items end. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Waits (real time) until `cond` holds; fails the test rather than hanging. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

/** The most timestamps that fall in any window [t, t + windowMs). */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    let n = 0;
    for (let j = i; j < sorted.length && sorted[j] - sorted[i] < windowMs; j++) n++;
    most = Math.max(most, n);
  }
  return most;
}

/** A real sleep that honours the signal, for the suites that run against a fake on real time. */
const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function okRecord(input: string): JobRecord {
  return { status: 'ok', input, output: `${input}.png`, style: 'loom', source: 'local' };
}

const rateLimited = (message = 'Requests rate limit exceeded', details: { retryAfterMs?: number } = {}) =>
  new ProviderError('rate-limit', message, { provider: 'dashscope', status: 429, ...details });

describe('expandInputs', () => {
  const setup = tempDirsPerTest();

  /** A folder `pics` with pictures, other files, a dotfile and a sub-folder; and `in` with two JPEGs and a PNG. */
  function tree(): string {
    const cwd = setup();
    mkdirSync(path.join(cwd, 'pics', 'sub'), { recursive: true });
    for (const name of ['b.png', 'a.jpg', 'C.JPEG', 'd.webp', 'notes.txt', '.hidden.png', 'README'])
      writeFileSync(path.join(cwd, 'pics', name), 'x');
    writeFileSync(path.join(cwd, 'pics', 'sub', 'deep.png'), 'x');
    mkdirSync(path.join(cwd, 'in'));
    for (const name of ['two.jpg', 'one.jpg', 'three.png']) writeFileSync(path.join(cwd, 'in', name), 'x');
    return cwd;
  }

  // The folder listing comes back in reverse, so the result is sorted only if expandInputs sorts it.
  const reversedFs: Fs = { ...nodeFs, readdir: async (dir) => (await nodeFs.readdir(dir)).sort().reverse() };

  it("gives a folder its pictures sorted by name, without other files, dotfiles or its sub-folders' pictures", async () => {
    const cwd = tree();
    expect(await expandInputs(['pics'], cwd, reversedFs)).toEqual([
      path.join('pics', 'C.JPEG'),
      path.join('pics', 'a.jpg'),
      path.join('pics', 'b.png'),
      path.join('pics', 'd.webp'),
    ]);
    // An absolute folder gives absolute paths.
    expect(await expandInputs([path.join(cwd, 'in')], cwd, nodeFs)).toEqual([
      path.join(cwd, 'in', 'one.jpg'),
      path.join(cwd, 'in', 'three.png'),
      path.join(cwd, 'in', 'two.jpg'),
    ]);
  });

  it('expands a quoted glob pattern, sorted; relative results stay relative to cwd, absolute ones absolute', async () => {
    const cwd = tree();
    expect(await expandInputs(['in/*.jpg'], cwd, nodeFs)).toEqual([
      path.join('in', 'one.jpg'),
      path.join('in', 'two.jpg'),
    ]);
    expect(await expandInputs([path.join(cwd, 'in', '*.{jpg,png}')], cwd, nodeFs)).toEqual([
      path.join(cwd, 'in', 'one.jpg'),
      path.join(cwd, 'in', 'three.png'),
      path.join(cwd, 'in', 'two.jpg'),
    ]);
  });

  it('tells, before listing anything, whether the inputs may name several pictures', async () => {
    const cwd = tree();
    const several = (inputs: string[]) => mayNameSeveral(inputs, cwd, nodeFs);
    expect(await several(['in/one.jpg', 'in/two.jpg'])).toBe(true);
    expect(await several(['in'])).toBe(true);
    mkdirSync(path.join(cwd, 'one'));
    writeFileSync(path.join(cwd, 'one', 'only.png'), 'x');
    writeFileSync(path.join(cwd, 'one', 'notes.txt'), 'x');
    expect(await several(['one'])).toBe(false);
    expect(await several(['in/*.jpg'])).toBe(true);
    expect(await several(['in/one.jpg'])).toBe(false);
    expect(await several(['-'])).toBe(false);
    expect(await several(['missing.jpg'])).toBe(false);
  });

  it('keeps each file once, in the order first named, however it is named', async () => {
    const cwd = tree();
    const inputs = ['in/two.jpg', 'in', './in/one.jpg', 'in/*.jpg', path.join(cwd, 'in', 'three.png')];
    expect(await expandInputs(inputs, cwd, nodeFs)).toEqual([
      'in/two.jpg',
      path.join('in', 'one.jpg'),
      path.join('in', 'three.png'),
    ]);
  });

  it('keeps a missing plain name, so that its item fails later and the others go on', async () => {
    const cwd = tree();
    expect(await expandInputs(['in/one.jpg', 'missing.jpg'], cwd, nodeFs)).toEqual(['in/one.jpg', 'missing.jpg']);
  });

  it('refuses an empty folder and a pattern without a match, naming them', async () => {
    const cwd = tree();
    mkdirSync(path.join(cwd, 'empty'));
    writeFileSync(path.join(cwd, 'empty', '.only-a-dotfile.png'), 'x');
    const empty = expandInputs(['in/one.jpg', 'empty'], cwd, nodeFs);
    await expect(empty).rejects.toBeInstanceOf(InputError);
    await expect(empty).rejects.toThrow(/^empty: /);
    const nomatch = expandInputs(['in/*.gif'], cwd, nodeFs);
    await expect(nomatch).rejects.toBeInstanceOf(InputError);
    await expect(nomatch).rejects.toThrow('in/*.gif');
  });

  it('takes - (stdin) alone, once', async () => {
    const cwd = tree();
    expect(await expandInputs(['-'], cwd, nodeFs)).toEqual(['-']);
    for (const inputs of [
      ['-', '-'],
      ['-', 'in/one.jpg'],
      ['in/one.jpg', '-'],
      ['in', '-'],
    ]) {
      await expect(expandInputs(inputs, cwd, nodeFs)).rejects.toBeInstanceOf(UsageError);
    }
  });
});

describe('runJobs', () => {
  /** A queue over `items` with a recording UI; the test gives `run` and anything else. */
  function queue<T>(items: T[], run: JobQueue<T>['run'], extra: Partial<JobQueue<T>> = {}) {
    const rec = recordingUi();
    let statusCalls = 0;
    const status = rec.ui.status;
    rec.ui.status = () => {
      statusCalls++;
      return status();
    };
    const q: JobQueue<T> = { items, label: String, run, ui: rec.ui, now: Date.now, concurrency: 1, ...extra };
    return { rec, go: () => runJobs(q), statusCalls: () => statusCalls };
  }

  it('runs at most `concurrency` items at once, and that many when it can', async () => {
    let running = 0;
    let peak = 0;
    const { rec, go } = queue(
      [1, 2, 3, 4, 5, 6, 7, 8],
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await delay(15);
        running--;
        return okRecord(String(n));
      },
      { concurrency: 3 },
    );
    await go();
    expect(peak).toBe(3);
    expect(rec.results).toHaveLength(8);
  });

  it('reports each record when its item ends (completion order), with its time', async () => {
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const started: string[] = [];
    const { rec, go } = queue(
      ['a', 'b', 'c'],
      async (item) => {
        started.push(item);
        await gates[item as keyof typeof gates].promise;
        return okRecord(item);
      },
      { concurrency: 3 },
    );
    const done = go();
    await until(() => started.length === 3, 'all three items to start');
    gates.b.resolve();
    await until(() => rec.results.length === 1, 'b to be reported');
    gates.c.resolve();
    await until(() => rec.results.length === 2, 'c to be reported');
    gates.a.resolve();
    await done;
    expect(rec.results.map((r) => r.input)).toEqual(['b', 'c', 'a']);
    for (const r of rec.results) expect(typeof r.seconds).toBe('number');
  });

  it('goes on after a failed item and ends with a partial failure (exit 8) when only some fail', async () => {
    const bad = new InputError('b.jpg: not a supported image');
    const { rec, go } = queue(['a.jpg', 'b.jpg', 'c.jpg'], async (item) => {
      if (item === 'b.jpg') throw bad;
      return okRecord(item);
    });
    const err = await go().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PartialBatchError);
    expect(err).toMatchObject({ kind: 'partial', message: '1 of 3 items failed' });
    expect(exitCodeFor(err)).toBe(8);
    expect(rec.results.map((r) => [r.input, r.status])).toEqual([
      ['a.jpg', 'ok'],
      ['b.jpg', 'error'],
      ['c.jpg', 'ok'],
    ]);
    expect(rec.results[1]).toMatchObject({
      output: null,
      error: { kind: 'failure', message: 'b.jpg: not a supported image' },
    });
    expect(rec.lines.warn).toEqual([expect.stringContaining('b.jpg: not a supported image')]);
    expect(rec.summaries).toEqual([
      expect.objectContaining({ type: 'summary', total: 3, ok: 2, failed: 1, skipped: 0 }),
    ]);
  });

  it('throws the error itself when every item fails with the same kind', async () => {
    const errors = ['a', 'b', 'c'].map((n) => new InputError(`${n}: no such file`));
    const { rec, go } = queue([0, 1, 2], async (i) => {
      throw errors[i];
    });
    await expect(go()).rejects.toBe(errors[0]);
    expect(rec.results.map((r) => r.status)).toEqual(['error', 'error', 'error']);
    expect(rec.summaries).toEqual([expect.objectContaining({ total: 3, ok: 0, failed: 3, skipped: 0 })]);
  });

  it('calls it a partial failure when every item fails, but in different ways', async () => {
    const { go } = queue([0, 1], async (i) => {
      throw i === 0 ? new InputError('corrupt') : new ProviderError('network', 'HTTP 503', { status: 503 });
    });
    await expect(go()).rejects.toMatchObject({ kind: 'partial', message: '2 of 2 items failed' });
  });

  it.each([
    ['usage', new UsageError('--strength: expected a number from 0 to 1')],
    ['auth', new AuthError('DashScope: HTTP 401 InvalidApiKey')],
  ])(
    'stops the batch on an error of kind %s: items under way are told, unstarted ones never run',
    async (_kind, fatal) => {
      const ran: number[] = [];
      let firstAborted = false;
      const { rec, go } = queue(
        [0, 1, 2, 3, 4, 5],
        async (i, item) => {
          ran.push(i);
          if (i === 1) {
            await delay(5);
            throw fatal;
          }
          if (i === 0) {
            // Under way when the batch stops: it hears of it through its signal.
            await new Promise<void>((resolve) => item.signal.addEventListener('abort', () => resolve()));
            firstAborted = true;
            throw new InterruptedError();
          }
          return okRecord(String(i));
        },
        { concurrency: 2 },
      );
      await expect(go()).rejects.toBe(fatal);
      expect(ran).toEqual([0, 1]);
      expect(firstAborted).toBe(true);
      // Neither the stop nor what it caused is reported as an item, and there is no summary.
      expect(rec.results).toEqual([]);
      expect(rec.summaries).toEqual([]);
    },
  );

  it('records an item the provider can no longer take as skipped and ends with the reason (exit 6)', async () => {
    const reason = new ProviderError('rate-limit', 'ModelScope: HTTP 429 daily quota used up', {
      provider: 'modelscope',
      status: 429,
      exhausted: true,
    });
    const { rec, go } = queue(['a', 'b', 'c', 'd'], async (item) => {
      if (item === 'b') throw reason;
      if (item === 'c' || item === 'd') throw new SkippedError(reason);
      return okRecord(item);
    });
    const err = await go().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBe(reason);
    expect(exitCodeFor(err)).toBe(6);
    expect(rec.results.map((r) => [r.input, r.status])).toEqual([
      ['a', 'ok'],
      ['b', 'error'],
      ['c', 'skipped'],
      ['d', 'skipped'],
    ]);
    expect(rec.results[2]).toMatchObject({
      output: null,
      error: { kind: 'rate-limit', message: expect.stringContaining('not attempted') },
    });
    expect(rec.summaries).toEqual([expect.objectContaining({ total: 4, ok: 1, failed: 1, skipped: 2 })]);
    // The failure is a warning; the skips are not each repeated as one.
    expect(rec.lines.warn).toHaveLength(1);
  });

  it('ends a batch with a summary record and uses the status line; a single item has neither', async () => {
    let t = 0;
    const batch = queue(['a', 'b', 'c'], async (item) => okRecord(item), { now: () => (t += 250) });
    await batch.go();
    expect(batch.rec.summaries).toHaveLength(1);
    const summary = batch.rec.summaries[0];
    expect(summary).toMatchObject({ type: 'summary', total: 3, ok: 3, failed: 0, skipped: 0 });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(summary.perSecond).toBeCloseTo(3 / summary.seconds, 1);
    expect(batch.statusCalls()).toBe(1);
    expect(batch.rec.lines.status.length).toBeGreaterThan(0);
    expect(batch.rec.lines.status.at(-1)).toMatch(/^3\/3 done/);

    const single = queue(['a'], async (item, ctx) => {
      ctx.ui.spinner('a: weaving').succeed('a → a.png');
      return okRecord(item);
    });
    await single.go();
    expect(single.rec.results).toHaveLength(1);
    expect(single.rec.summaries).toEqual([]);
    expect(single.statusCalls()).toBe(0);
    expect(single.rec.lines.status).toEqual([]);
    // A single item keeps its own spinner.
    expect(single.rec.lines.spinner).toEqual(['a: weaving', 'a → a.png']);
  });

  it("in a batch, an item's spinner only prints how it ended, above the status line", async () => {
    const { rec, go } = queue(['a', 'b'], async (item, ctx) => {
      const spinner = ctx.ui.spinner(`${item}: weaving`);
      spinner.update(`${item}: still weaving`);
      spinner.succeed(`${item} → ${item}.png`);
      return okRecord(item);
    });
    await go();
    expect(rec.lines.spinner).toEqual([]);
    expect(rec.lines.info).toEqual(['a → a.png', 'b → b.png']);
  });
});

describe('ProviderGate', () => {
  /** Options on a virtual clock: `sleep` moves it forward, and every pause is recorded. */
  function virtualClock() {
    let clock = 0;
    const slept: number[] = [];
    const options: GateOptions = {
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        const until = clock + ms;
        await Promise.resolve();
        clock = Math.max(clock, until);
      },
      minCoolDownMs: 1000,
      retries: 3,
      random: () => 0.5,
    };
    return { options, slept, now: () => clock };
  }

  it('never has more than tasksInFlight tasks at once', async () => {
    const gate = new ProviderGate({ tasksInFlight: 2, submitsPerSecond: 100 }, virtualClock().options);
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        gate.task(async () => {
          running++;
          peak = Math.max(peak, running);
          seen.push(gate.inFlight);
          await delay(10);
          running--;
          return n;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(Math.max(...seen)).toBe(2);
    expect(gate.inFlight).toBe(0);
  });

  it('lets at most submitsPerSecond submits go in any second', async () => {
    const gate = new ProviderGate({ tasksInFlight: 10, submitsPerSecond: 3 }, virtualClock().options);
    const times: number[] = [];
    const submit = () =>
      gate.submit(async () => {
        times.push(Date.now());
        return 'ok';
      });
    const start = Date.now();
    await Promise.all([1, 2, 3, 4, 5].map(submit));
    expect(times).toHaveLength(5);
    // Three at once, the other two a second later; 5 ms of slack for timer rounding.
    expect(times.slice(0, 3).every((t) => t - start < 200)).toBe(true);
    expect(times[3] - times[0]).toBeGreaterThanOrEqual(995);
    expect(mostInAnyWindow(times, 995)).toBeLessThanOrEqual(3);
  });

  it('counts the second from each submit, not from fixed windows', async () => {
    // p-queue's fixed windows (bd6d96d, before 8b10bca made the window sliding) let a submit late in one window
    // and a full window's worth early in the next go out together: here 3 within ~100 ms at 2 a second.
    const gate = new ProviderGate({ tasksInFlight: 10, submitsPerSecond: 2 }, virtualClock().options);
    const times: number[] = [];
    const submit = () =>
      gate.submit(async () => {
        times.push(Date.now());
        return 'ok';
      });
    await submit();
    await delay(900);
    await Promise.all([submit(), submit(), submit()]);
    expect(times).toHaveLength(4);
    expect(mostInAnyWindow(times, 995)).toBeLessThanOrEqual(2);
  });

  it('keeps a second between submits as the service may count them: from one answer to the next send', async () => {
    // The service counts a submit when it arrives, somewhere between our send and its answer; with a 60 ms
    // upload, only a second from each answer to the send submitsPerSecond places later is sure to keep it.
    const gate = new ProviderGate({ tasksInFlight: 10, submitsPerSecond: 2 }, virtualClock().options);
    const spans: Array<{ sent: number; answered: number }> = [];
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        gate.submit(async () => {
          const sent = Date.now();
          await delay(60);
          spans.push({ sent, answered: Date.now() });
        }),
      ),
    );
    const sends = spans.map((s) => s.sent).sort((a, b) => a - b);
    const answers = spans.map((s) => s.answered).sort((a, b) => a - b);
    expect(sends[2] - answers[0]).toBeGreaterThanOrEqual(995);
    expect(sends[3] - answers[1]).toBeGreaterThanOrEqual(995);
  });

  it('makes every other submit wait for the shared cool-down after a 429 with Retry-After', async () => {
    const clock = virtualClock();
    const coolDowns: number[] = [];
    const gate = new ProviderGate(
      { tasksInFlight: 10, submitsPerSecond: 100 },
      { ...clock.options, onCoolDown: (ms) => void coolDowns.push(ms) },
    );
    const attempts: Array<{ who: string; at: number }> = [];
    let refusedAt = -1;
    const first = gate.submit(async () => {
      attempts.push({ who: 'a', at: clock.now() });
      if (refusedAt < 0) {
        refusedAt = clock.now();
        throw rateLimited('Throttling.RateQuota', { retryAfterMs: 5000 });
      }
      return 'a';
    });
    await until(() => gate.rateLimited === 1, 'the 429');
    const others = ['b', 'c', 'd'].map((who) =>
      gate.submit(async () => {
        attempts.push({ who, at: clock.now() });
        return who;
      }),
    );
    expect(await Promise.all([first, ...others])).toEqual(['a', 'b', 'c', 'd']);
    expect(coolDowns).toEqual([5000]);
    expect(attempts).toHaveLength(5);
    for (const attempt of attempts.slice(1)) expect(attempt.at).toBeGreaterThanOrEqual(refusedAt + 5000);
  });

  it('without Retry-After cools down from minCoolDownMs, doubling with each 429 in a row', async () => {
    const clock = virtualClock();
    const coolDowns: number[] = [];
    const gate = new ProviderGate(
      { tasksInFlight: 1, submitsPerSecond: 100 },
      { ...clock.options, random: () => 0, onCoolDown: (ms) => void coolDowns.push(ms) },
    );
    let calls = 0;
    const value = await gate.submit(async () => {
      if (++calls <= 2) throw rateLimited();
      return 'through';
    });
    expect(value).toBe('through');
    // Jitter 0 is half the back-off: 1000 ms, then 2000 ms.
    expect(coolDowns).toEqual([500, 1000]);
    expect(gate.rateLimited).toBe(2);
  });

  it('a Retry-After of 0 is no reason to come straight back: the back-off still holds', async () => {
    const clock = virtualClock();
    const coolDowns: number[] = [];
    const gate = new ProviderGate(
      { tasksInFlight: 1, submitsPerSecond: 100 },
      { ...clock.options, random: () => 0, onCoolDown: (ms) => void coolDowns.push(ms) },
    );
    let calls = 0;
    await gate.submit(async () => {
      if (++calls <= 2) throw rateLimited('Throttling.RateQuota', { retryAfterMs: 0 });
      return 'through';
    });
    expect(coolDowns).toEqual([500, 1000]);
  });

  it('gives up after `retries` 429s in a row with the 429 itself', async () => {
    const clock = virtualClock();
    const gate = new ProviderGate({ tasksInFlight: 1, submitsPerSecond: 100 }, { ...clock.options, retries: 2 });
    const refusal = rateLimited();
    let calls = 0;
    await expect(
      gate.submit(async () => {
        calls++;
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(calls).toBe(3);
    expect(gate.rateLimited).toBe(3);
  });

  it('passes other errors straight through, with no cool-down', async () => {
    const coolDowns: number[] = [];
    const gate = new ProviderGate(
      { tasksInFlight: 1, submitsPerSecond: 100 },
      { ...virtualClock().options, onCoolDown: (ms) => void coolDowns.push(ms) },
    );
    const failure = new ProviderError('network', 'HTTP 503', { status: 503 });
    let calls = 0;
    await expect(
      gate.submit(async () => {
        calls++;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(coolDowns).toEqual([]);
    expect(gate.rateLimited).toBe(0);
  });

  it.each([86_400_000, 3_000_000_000])(
    'reports a 429 whose Retry-After (%d ms) is past two minutes at once, and skips what has not started',
    async (retryAfterMs) => {
      const clock = virtualClock();
      const coolDowns: number[] = [];
      const gate = new ProviderGate(
        { tasksInFlight: 1, submitsPerSecond: 100 },
        { ...clock.options, onCoolDown: (ms) => void coolDowns.push(ms) },
      );
      let calls = 0;
      const refused = gate.submit(async () => {
        calls++;
        throw rateLimited('Throttling.RateQuota', { retryAfterMs });
      });
      await expect(refused).rejects.toMatchObject({
        kind: 'rate-limit',
        message: expect.stringMatching(/asks to wait \d+ h, longer than the 120 s imagegen waits/),
      });
      expect(calls).toBe(1);
      expect(coolDowns).toEqual([]);
      expect(clock.slept).toEqual([]);
      await expect(gate.task(async () => 'later')).rejects.toBeInstanceOf(SkippedError);
    },
  );

  it('after a daily-quota 429 (exhausted) skips every task that has not started, waiting or new', async () => {
    const gate = new ProviderGate({ tasksInFlight: 1, submitsPerSecond: 100 }, virtualClock().options);
    const exhausted = new ProviderError('rate-limit', 'ModelScope: daily quota used up', {
      provider: 'modelscope',
      status: 429,
      exhausted: true,
    });
    let submits = 0;
    const worked: string[] = [];
    const first = gate.task(async () => {
      worked.push('first');
      return gate.submit(async () => {
        submits++;
        throw exhausted;
      });
    });
    // Waiting for the only slot while the first task meets the daily quota.
    const waiting = gate.task(async () => void worked.push('waiting'));
    await expect(first).rejects.toBe(exhausted);
    expect(submits).toBe(1);
    const skipped = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(skipped).toBeInstanceOf(SkippedError);
    expect((skipped as SkippedError).reason).toBe(exhausted);
    expect(skipped).toMatchObject({ kind: 'rate-limit' });
    await expect(gate.task(async () => void worked.push('later'))).rejects.toBeInstanceOf(SkippedError);
    expect(worked).toEqual(['first']);
  });
});

describe('a remote batch against the fake DashScope with its limits on', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  /** `count` copies of the sample in `in/`, config pointing at the fake, services on real time. */
  async function harness(taskDurationMs: number, count = 6) {
    fake = await startFake();
    fake.limits = true;
    fake.taskDurationMs = taskDurationMs;
    const cwd = setup();
    mkdirSync(path.join(cwd, 'in'));
    for (let i = 1; i <= count; i++) copyFileSync(SAMPLE, path.join(cwd, 'in', `p${i}.jpg`));
    const resolved = resolveConfig({
      file: {
        path: 'test',
        data: {
          retry: { retries: 3, minTimeoutMs: 50 },
          polling: { intervalMs: 20, maxIntervalMs: 50, timeoutMs: 20_000 },
          loom: { width: 32 },
          output: { dir: 'out' },
        },
      },
      env: fakeEnv(fake),
    });
    // The fake counts limits on the real clock; the gate and the polls must wait on it too.
    const { services, rec } = testServices(cwd, { sleep: realSleep, now: Date.now });
    services.redactor.add(configuredKeys(resolved));
    // When the client sent each submit, and when each answer came back.
    const sent: Array<{ at: number; status: number; answeredAt: number }> = [];
    const http = services.http;
    services.http = {
      ...http,
      async request(req) {
        const at = Date.now();
        const res = await http.request(req);
        if (req.method === 'POST' && req.url.endsWith(SUBMIT))
          sent.push({ at, status: res.status, answeredAt: Date.now() });
        return res;
      },
    };
    const spec: EditSpec = {
      inputs: ['in'],
      style: 'loom',
      local: false,
      fallback: false,
      dryRun: false,
      force: false,
      report: true,
      instruction: {},
    };
    return { cwd, rec, sent, fake, run: () => runEdit(spec, resolved, services) };
  }

  it('keeps within 2 tasks in flight and 2 submits a second, meets no 429, and overlaps tasks', async () => {
    const h = await harness(1000);
    await h.run();
    expect(h.rec.results).toHaveLength(6);
    expect(h.rec.results.every((r) => r.status === 'ok' && r.source === 'dashscope')).toBe(true);
    const stats = h.fake.stats.dashscope;
    expect(stats.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 0 });
    // Exactly two at once: within the limit, and the tasks overlapped rather than ran one by one (a timing
    // comparison would be at the mercy of a loaded machine).
    expect(stats.peakInFlight).toBe(2);
    // Each picture submitted once: six tasks, six different pictures' requests, no duplicates.
    expect(stats.accepted).toHaveLength(6);
    expect(new Set(stats.accepted.map((a) => a.taskId)).size).toBe(6);
    expect(h.sent).toHaveLength(6);
    expect(h.rec.results.map((r) => r.taskId).sort()).toEqual(stats.accepted.map((a) => a.taskId).sort());
    expect(readdirSync(path.join(h.cwd, 'out')).filter((f) => f.endsWith('.png'))).toHaveLength(6);
    expect(h.rec.summaries).toEqual([expect.objectContaining({ total: 6, ok: 6, failed: 0, skipped: 0 })]);
  });

  it('after a 429 with Retry-After, sends no submit until the cool-down is over, then meets no other 429', async () => {
    const h = await harness(300);
    h.fake.dashscopeSubmitReplies = [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' },
      },
    ];
    await h.run();
    expect(h.rec.results.map((r) => r.status)).toEqual(Array(6).fill('ok'));
    const first429 = h.sent.find((s) => s.status === 429)!;
    expect(first429).toBeDefined();
    const coolUntil = first429.answeredAt + 1000;
    // Submits sent before the 429 came back were already on their way; every one sent after it waits out the
    // second (5 ms of slack for timer rounding).
    const later = h.sent.filter((s) => s.at >= first429.answeredAt);
    expect(later.length).toBeGreaterThan(0);
    for (const s of later) expect(s.at).toBeGreaterThanOrEqual(coolUntil - 5);
    expect(h.rec.lines.warn[0]).toMatch(/HTTP 429 .*retrying in 1\.0 s, and every other submit waits too/);
    const stats = h.fake.stats.dashscope;
    expect(stats.accepted).toHaveLength(6);
    // The fake counts a rolling second at arrival, as DashScope does: the scripted 429 must be the only one.
    expect(h.sent.filter((s) => s.status === 429)).toHaveLength(1);
    expect(stats.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 0 });
  });
});

describe('runEdit batches (local)', () => {
  const setup = tempDirsPerTest();

  it('weaves a folder and a missing name: the missing one fails, the others are written (partial)', async () => {
    const cwd = setup();
    mkdirSync(path.join(cwd, 'in'));
    for (const name of ['a.jpg', 'b.jpg']) copyFileSync(SAMPLE, path.join(cwd, 'in', name));
    const { services, rec } = testServices(cwd);
    const resolved = resolveConfig({ env: {}, flags: { 'loom.width': { value: '24', flag: '--width' } } });
    const spec: EditSpec = {
      inputs: ['in', 'missing.jpg'],
      style: 'loom',
      local: true,
      fallback: true,
      dryRun: false,
      force: false,
      report: false,
      instruction: {},
    };
    await expect(runEdit(spec, resolved, services)).rejects.toMatchObject({ kind: 'partial' });
    const byInput = Object.fromEntries(rec.results.map((r) => [r.input, r]));
    expect(Object.keys(byInput).sort()).toEqual([path.join('in', 'a.jpg'), path.join('in', 'b.jpg'), 'missing.jpg']);
    expect(byInput['missing.jpg']).toMatchObject({ status: 'error', error: { message: /no such file/ } });
    expect(readdirSync(cwd).sort()).toEqual(['a.loom.png', 'b.loom.png', 'in']);
    expect(rec.summaries).toEqual([expect.objectContaining({ total: 3, ok: 2, failed: 1 })]);
  });

  it('refuses -o with a folder of several pictures as a usage error before writing anything', async () => {
    const cwd = setup();
    mkdirSync(path.join(cwd, 'in'));
    for (const name of ['a.jpg', 'b.jpg']) copyFileSync(SAMPLE, path.join(cwd, 'in', name));
    const { services, rec } = testServices(cwd);
    const spec: EditSpec = {
      inputs: ['in'],
      output: 'one.png',
      style: 'loom',
      local: true,
      fallback: true,
      dryRun: false,
      force: false,
      report: true,
      instruction: {},
    };
    await expect(runEdit(spec, resolveConfig({ env: {} }), services)).rejects.toBeInstanceOf(UsageError);
    expect(rec.results).toEqual([]);
    expect(readdirSync(cwd)).toEqual(['in']);
  });
});
