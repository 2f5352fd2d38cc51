/**
 * Waiting for a task: only the deadline (polling.timeoutMs after the submit) ends the wait; polls answered
 * 429 or 5xx are tried again with a growing pause; each poll's request is cut to the time left, so a hung one
 * cannot hold the wait past the deadline; a 429 that says the day's allowance is used up ends it at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { NetworkError, ProviderError } from '../src/kernel/errors.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { isDailyQuota, providerError } from '../src/providers/shared/errors.js';
import { pollTask, type PollOptions, type PollOutcome } from '../src/providers/shared/poll.js';
import { isRetryable } from '../src/providers/shared/retry.js';
import { modelscope } from '../src/providers/modelscope/index.js';
import { dashscope } from '../src/providers/dashscope/index.js';
import { MODELSCOPE_DAILY_QUOTA_MESSAGE, type FakeProviders } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

/** A fake clock: sleeps advance it, and so does each check by `checkMs`. */
function clock(checkMs = 100) {
  let now = 0;
  const slept: number[] = [];
  const timeLeft: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    slept,
    timeLeft,
    options(schedule: Partial<PollOptions> = {}): PollOptions {
      return {
        intervalMs: 5000,
        maxIntervalMs: 5000,
        timeoutMs: 10_000,
        now: () => now,
        sleep: async (ms) => {
          slept.push(ms);
          now += ms;
        },
        timeoutError: (status, elapsed) =>
          new ProviderError('network', `gave up after ${elapsed} ms (${status})`, { code: 'WaitTaskTimeout' }),
        ...schedule,
      };
    },
    /** A check that answers `answer(n)` for its n-th call, taking `checkMs` of the clock. */
    check<T>(answer: (n: number, at: number) => PollOutcome<T> | Error) {
      let n = 0;
      return async (left: number): Promise<PollOutcome<T>> => {
        timeLeft.push(left);
        now += checkMs;
        const a = answer(++n, now);
        if (a instanceof Error) throw a;
        return a;
      };
    },
  };
}

const running = { done: false as const, status: 'RUNNING' };
const fault = (status: number, retryAfterMs?: number) =>
  new ProviderError(status === 429 ? 'rate-limit' : 'network', `HTTP ${status}`, { status, retryAfterMs });

describe('pollTask', () => {
  it('waits until the deadline, not a pause less: the last pause ends just before it, for one more poll', async () => {
    const c = clock();
    let polls = 0;
    const error = await pollTask(
      c.check(() => (polls++, running)),
      c.options(),
    ).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'WaitTaskTimeout' });
    // 0.1 s poll, 5 s pause, 5.2 s poll, then the rest of the wait less a moment, and a last poll.
    expect(polls).toBe(3);
    expect(c.now()).toBeGreaterThanOrEqual(9000);
    expect(c.now()).toBeLessThanOrEqual(10_000);
  });

  it('sees a task that ends during the last pause', async () => {
    const c = clock();
    const url = await pollTask(
      c.check((_, at) => (at >= 8500 ? { done: true, value: 'https://r/x.png' } : running)),
      c.options(),
    );
    expect(url).toBe('https://r/x.png');
  });

  it('counts the deadline from the submit, and gives each poll no more than the time left', async () => {
    const c = clock();
    // The submit took 4 s of the 10 s.
    c.advance(4000);
    const error = await pollTask(
      c.check(() => running),
      c.options({ startedAt: 0 }),
    ).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'WaitTaskTimeout' });
    expect(c.now()).toBeLessThanOrEqual(10_000);
    expect(c.timeLeft[0]).toBe(6000);
    for (let i = 0; i < c.timeLeft.length; i++) expect(c.timeLeft[i]).toBeLessThanOrEqual(6000);
  });

  it('polls again after 429 and 5xx answers and after no answer, with growing pauses, until it ends', async () => {
    const c = clock(10);
    const answers: Array<PollOutcome<string> | Error> = [
      fault(429),
      fault(500),
      new NetworkError('host timed out', { code: 'ETIMEDOUT' }),
      fault(503),
      running,
      { done: true, value: 'u' },
    ];
    const url = await pollTask(
      c.check((n) => answers[n - 1]),
      c.options({ intervalMs: 1000, maxIntervalMs: 5000, timeoutMs: 120_000 }),
    );
    expect(url).toBe('u');
    // Failures in a row double the pause from intervalMs: 2, 4, 8, 16 s; then the schedule again.
    expect(c.slept).toEqual([2000, 4000, 8000, 16_000, 2000]);
  });

  it("waits as long as a poll's Retry-After asks, but not past the deadline", async () => {
    const c = clock(10);
    const answers = [fault(429, 7000), { done: true as const, value: 'u' }];
    await pollTask(
      c.check((n) => answers[n - 1]),
      c.options({ intervalMs: 1000, timeoutMs: 60_000 }),
    );
    expect(c.slept).toEqual([7000]);
    const d = clock(10);
    const error = await pollTask(
      d.check(() => fault(429, 600_000)),
      d.options({ intervalMs: 1000, timeoutMs: 60_000 }),
    ).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'WaitTaskTimeout' });
    expect(d.now()).toBeLessThanOrEqual(60_000);
  });

  it('stops at once on an answer that will not change: a 400, a FAILED task, a used-up daily allowance', async () => {
    const daily = providerError({ provider: modelscope, status: 429, message: MODELSCOPE_DAILY_QUOTA_MESSAGE });
    expect(daily.exhausted).toBe(true);
    for (const err of [fault(400), providerError({ provider: dashscope, code: 'X', taskFailed: true }), daily]) {
      const c = clock();
      let polls = 0;
      await expect(
        pollTask(
          c.check(() => (polls++, err)),
          c.options(),
        ),
      ).rejects.toBe(err);
      expect(polls).toBe(1);
    }
  });
});

describe('what is final and what is tried again', () => {
  it.each([
    [MODELSCOPE_DAILY_QUOTA_MESSAGE, true],
    ['Your magicubes for today are used up; they are restored at 00:00 (UTC+8).', true],
    ['Daily allowance exhausted', true],
    ['Quota exhausted for this account', true],
    ['今日魔力值已用完', true],
    ['Too many requests, please try again later.', false],
    ['Allocated quota exceeded, please increase your quota limit.', false],
    ['Requests rate limit exceeded, please try again later.', false],
    ['Too many concurrent requests: the number of running tasks exceeds your limit. Please try again later.', false],
  ])('a 429 saying "%s" is final for the day: %s', (message, daily) => {
    expect(isDailyQuota({ status: 429, message })).toBe(daily);
    const err = providerError({ provider: modelscope, status: 429, message });
    expect(err.exhausted).toBe(daily);
    expect(isRetryable(err)).toBe(!daily);
    if (daily) expect(err.hint).toMatch(/magicubes.*00:00 China time/);
  });

  it('never retries a submit that may have reached the service: a timeout, a reset, a 504 or 408', () => {
    expect(isRetryable(new NetworkError('timed out', { code: 'ETIMEDOUT' }))).toBe(false);
    expect(isRetryable(new NetworkError('reset', { code: 'ECONNRESET' }))).toBe(false);
    expect(isRetryable(providerError({ provider: dashscope, status: 504 }))).toBe(false);
    expect(isRetryable(providerError({ provider: dashscope, status: 408, code: 'RequestTimeOut' }))).toBe(false);
    expect(isRetryable(new NetworkError('refused', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(providerError({ provider: dashscope, status: 500, code: 'InternalError' }))).toBe(true);
  });
});

describe('polls against the fake, both providers', () => {
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests = [];
    fake.pollFaults = undefined;
    fake.hang = {};
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
    fake.dashscopeSubmitReplies = [];
  });
  const setup = tempDirsPerTest();

  const spec = (provider: string): EditSpec => ({
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    provider,
    fallback: false,
    dryRun: false,
    force: false,
    report: false,
    instruction: {},
  });

  it('DashScope: finishes although polls are answered 429 and 500 now and then', async () => {
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
    fake.pollFaults = {
      every: 2,
      replies: [
        { status: 429, body: { code: 'Throttling', message: 'Requests throttling triggered.' } },
        { status: 500, body: { code: 'InternalError', message: 'Internal server error!' } },
      ],
    };
    const h = providerHarness(fake, setup());
    await runEdit(spec('dashscope'), h.resolved, h.services);
    expect(h.rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', source: 'dashscope' }));
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(7);
  });

  it.each(['dashscope', 'modelscope'])(
    '%s: a hung poll ends at the deadline, not after the fixed request timeout',
    async (provider) => {
      fake.hang = { polls: 100 };
      const h = providerHarness(
        fake,
        setup(),
        {},
        { polling: { intervalMs: 200, maxIntervalMs: 200, timeoutMs: 1500 } },
      );
      // A real clock: the HTTP timeouts are real.
      h.services.now = Date.now;
      h.services.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const started = Date.now();
      const error = await runEdit(spec(provider), h.resolved, h.services).catch((e: Error) => e);
      const took = Date.now() - started;
      expect(error).toMatchObject({ code: 'WaitTaskTimeout', provider });
      expect(fake.hung).toBeGreaterThanOrEqual(1);
      // The submit and the picture's preparation count too; far below the 30 s a request may otherwise take.
      expect(took).toBeLessThan(8000);
    },
    15_000,
  );

  it('counts the deadline from the submit: a slow submit leaves less time to poll', async () => {
    fake.dashscopeSteps = ['RUNNING'];
    const h = providerHarness(
      fake,
      setup(),
      {},
      { polling: { intervalMs: 1000, maxIntervalMs: 1000, timeoutMs: 10_000 } },
    );
    let clock = 0;
    h.services.now = () => clock;
    h.services.sleep = async (ms) => {
      clock += ms;
    };
    const http = h.services.http;
    let submittedAt = -1;
    h.services.http = {
      ...http,
      request: async (req) => {
        if (req.method === 'POST') {
          submittedAt = clock;
          clock += 4000; // the submit took 4 s
        }
        return http.request(req);
      },
    };
    const error = await runEdit(spec('dashscope'), h.resolved, h.services).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'WaitTaskTimeout' });
    expect(submittedAt).toBeGreaterThanOrEqual(0);
    expect(clock - submittedAt).toBeLessThanOrEqual(10_000);
    expect(clock - submittedAt).toBeGreaterThanOrEqual(9000);
  });

  it('ModelScope: a poll answered with the daily-quota 429 ends the wait at once', async () => {
    fake.modelscopeSteps = [
      'PENDING',
      { status: 429, body: { errors: { message: MODELSCOPE_DAILY_QUOTA_MESSAGE } } },
      'SUCCEED',
    ];
    const h = providerHarness(fake, setup());
    const error = await runEdit(spec('modelscope'), h.resolved, h.services).catch((e: Error) => e);
    expect(error).toMatchObject({ kind: 'rate-limit', status: 429 });
    expect(fake.count('GET', '/v1/tasks/')).toBe(2);
  });
});
