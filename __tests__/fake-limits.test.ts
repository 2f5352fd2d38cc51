import { afterEach, describe, expect, it } from '@jest/globals';
import {
  FakeProviders,
  MODELSCOPE_CONCURRENCY_MESSAGE,
  MODELSCOPE_DAILY_QUOTA_MESSAGE,
  type FakeOptions,
} from './helpers/fake-providers.js';

const DS_KEY = 'sk-limits-test';
const MS_KEY = 'ms-limits-test';
const DS_SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';

let fake: FakeProviders | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Partial<FakeOptions> = {}): Promise<FakeProviders> {
  fake = await new FakeProviders({ dashscopeKey: DS_KEY, modelscopeKey: MS_KEY, ...options }).start();
  return fake;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function dsSubmit(f: FakeProviders, prompt = 'weave it'): Promise<Answer> {
  return call(f.url + DS_SUBMIT, {
    method: 'POST',
    headers: { authorization: `Bearer ${DS_KEY}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
    body: JSON.stringify({
      model: 'wanx2.1-imageedit',
      input: { function: 'description_edit', prompt, base_image_url: 'https://example.com/a.png' },
      parameters: { n: 1 },
    }),
  });
}

function dsPoll(f: FakeProviders, taskId: string): Promise<Answer> {
  return call(`${f.url}/api/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${DS_KEY}` } });
}

function dsCancel(f: FakeProviders, taskId: string): Promise<Answer> {
  return call(`${f.url}/api/v1/tasks/${taskId}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DS_KEY}` },
  });
}

function msSubmit(f: FakeProviders, prompt = 'a fox'): Promise<Answer> {
  return call(`${f.url}/v1/images/generations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${MS_KEY}`,
      'content-type': 'application/json',
      'x-modelscope-async-mode': 'true',
    },
    body: JSON.stringify({ model: 'Qwen/Qwen-Image', prompt }),
  });
}

function msPoll(f: FakeProviders, taskId: string): Promise<Answer> {
  return call(`${f.url}/v1/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${MS_KEY}`, 'x-modelscope-task-type': 'image_generation' },
  });
}

const taskIdOf = (a: Answer) => (a.body.output as { task_id: string }).task_id;
const statusOf = (a: Answer) => (a.body.output as { task_status: string }).task_status;
// Long enough that the early polls come before it on a loaded machine, short enough to keep the suite quick.
const DURATION = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fake provider limits', () => {
  it('are off unless asked for: rapid DashScope submits are all accepted', async () => {
    const f = await start();
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => dsSubmit(f, `p${i}`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(f.stats.dashscope.peakInFlight).toBe(5);
  });

  it('DashScope: a third submit within a second gets 429 Throttling.RateQuota, and the window rolls on', async () => {
    const f = await start({ limits: true });
    const first = await dsSubmit(f, 'one');
    const second = await dsSubmit(f, 'two');
    const third = await dsSubmit(f, 'three');
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    expect(third.body).toEqual({
      request_id: expect.stringMatching(/^req-/),
      code: 'Throttling.RateQuota',
      message: 'Requests rate limit exceeded, please try again later.',
    });
    expect(third.headers.get('retry-after')).toBeNull();
    expect(f.stats.dashscope.refused).toEqual({ rate: 1, inFlight: 0, dailyQuota: 0 });
    expect(f.stats.dashscope.submitTimes).toHaveLength(3);
    expect(f.stats.dashscope.accepted.map((a) => a.taskId)).toEqual([taskIdOf(first), taskIdOf(second)]);

    // Free one in-flight slot so only the rate can refuse the next submit.
    await dsCancel(f, taskIdOf(first));
    const oldest = f.stats.dashscope.accepted[0].at;
    await sleep(Math.max(0, oldest + 1000 - Date.now()) + 30);
    expect((await dsSubmit(f, 'four')).status).toBe(200);
  });

  it('DashScope: with a high rate, a third task in flight gets 429 Throttling until one finishes', async () => {
    const f = await start({ limits: true, dashscopeLimits: { submitsPerSecond: 100, retryAfterSeconds: 2 } });
    expect(f.dashscopeLimits).toEqual({ maxInFlight: 2, submitsPerSecond: 100, retryAfterSeconds: 2 });
    const first = await dsSubmit(f);
    expect((await dsSubmit(f)).status).toBe(200);
    const third = await dsSubmit(f);
    expect(third.status).toBe(429);
    expect(third.body).toEqual({
      request_id: expect.stringMatching(/^req-/),
      code: 'Throttling',
      message: 'Requests throttling triggered.',
    });
    expect(third.headers.get('retry-after')).toBe('2');

    // Scripted steps PENDING, RUNNING, SUCCEEDED: still in flight until the poll that reports SUCCEEDED.
    expect(statusOf(await dsPoll(f, taskIdOf(first)))).toBe('PENDING');
    expect(statusOf(await dsPoll(f, taskIdOf(first)))).toBe('RUNNING');
    expect((await dsSubmit(f)).status).toBe(429);
    expect(f.inFlight('dashscope')).toBe(2);
    expect(statusOf(await dsPoll(f, taskIdOf(first)))).toBe('SUCCEEDED');
    expect(f.inFlight('dashscope')).toBe(1);
    expect((await dsSubmit(f)).status).toBe(200);
    expect(f.stats.dashscope.refused).toEqual({ rate: 0, inFlight: 2, dailyQuota: 0 });
    expect(f.stats.dashscope.peakInFlight).toBe(2);
  });

  it('DashScope: a FAILED poll and a cancel both end a task in flight', async () => {
    const f = await start({ limits: true, dashscopeLimits: { submitsPerSecond: 100 } });
    f.dashscopeSteps = [{ status: 'FAILED', code: 'InternalError', message: 'boom' }];
    const a = await dsSubmit(f);
    const b = await dsSubmit(f);
    expect((await dsSubmit(f)).status).toBe(429);
    expect(statusOf(await dsPoll(f, taskIdOf(a)))).toBe('FAILED');
    expect(f.inFlight('dashscope')).toBe(1);
    expect((await dsCancel(f, taskIdOf(b))).status).toBe(200);
    expect(f.inFlight('dashscope')).toBe(0);
  });

  it('ModelScope: a second task while one is in flight gets 429', async () => {
    const f = await start({ limits: true });
    const first = await msSubmit(f, 'first');
    expect(first.status).toBe(200);
    const second = await msSubmit(f, 'second');
    expect(second.status).toBe(429);
    expect(second.body).toEqual({
      errors: { message: MODELSCOPE_CONCURRENCY_MESSAGE },
      request_id: expect.stringMatching(/^req-/),
    });
    expect(second.headers.get('modelscope-ratelimit-requests-limit')).toBe('2000');
    expect(f.stats.modelscope.refused.inFlight).toBe(1);

    const id = String(first.body.task_id);
    expect((await msPoll(f, id)).body.task_status).toBe('PENDING');
    expect((await msPoll(f, id)).body.task_status).toBe('PROCESSING');
    expect((await msSubmit(f, 'third')).status).toBe(429);
    expect((await msPoll(f, id)).body.task_status).toBe('SUCCEED');
    expect((await msSubmit(f, 'fourth')).status).toBe(200);
    expect(f.stats.modelscope.accepted.map((a) => (a.body as { prompt: string }).prompt)).toEqual(['first', 'fourth']);
    expect(f.stats.modelscope.peakInFlight).toBe(1);
  });

  it('ModelScope: dailyQuotaExhausted refuses every submit with the quota message, limits on or off', async () => {
    const f = await start({ dailyQuotaExhausted: true });
    expect(MODELSCOPE_DAILY_QUOTA_MESSAGE).toMatch(/quota/i);
    expect(MODELSCOPE_DAILY_QUOTA_MESSAGE).toMatch(/daily|day/i);
    for (const prompt of ['a', 'b']) {
      const answer = await msSubmit(f, prompt);
      expect(answer.status).toBe(429);
      expect(answer.body).toEqual({
        errors: { message: MODELSCOPE_DAILY_QUOTA_MESSAGE },
        request_id: expect.stringMatching(/^req-/),
      });
      expect(answer.headers.get('modelscope-ratelimit-requests-remaining')).toBe('0');
      expect(answer.headers.get('modelscope-ratelimit-model-requests-remaining')).toBe('0');
      expect(answer.headers.get('retry-after')).toBeNull();
    }
    f.limits = true;
    expect((await msSubmit(f, 'c')).status).toBe(429);
    expect(f.stats.modelscope.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 3 });
    expect(f.stats.modelscope.accepted).toEqual([]);
    // DashScope is not affected by ModelScope's quota.
    expect((await dsSubmit(f)).status).toBe(200);
    f.dailyQuotaExhausted = false;
    expect((await msSubmit(f, 'd')).status).toBe(200);
  });

  it('time mode: a task is RUNNING until taskDurationMs has passed, then SUCCEEDED with a result URL', async () => {
    const f = await start({ taskDurationMs: DURATION });
    const ds = await dsSubmit(f);
    const ms = await msSubmit(f);
    expect(statusOf(ds)).toBe('PENDING');
    const dsEarly = await dsPoll(f, taskIdOf(ds));
    const msEarly = await msPoll(f, String(ms.body.task_id));
    expect(statusOf(dsEarly)).toBe('RUNNING');
    expect(msEarly.body.task_status).toBe('RUNNING');
    expect(f.inFlight('dashscope')).toBe(1);
    await sleep(DURATION + 50);
    const dsLate = await dsPoll(f, taskIdOf(ds));
    expect(statusOf(dsLate)).toBe('SUCCEEDED');
    expect((dsLate.body.output as { results: { url: string }[] }).results[0].url).toBe(
      `${f.url}/results/${taskIdOf(ds)}.png?Expires=1`,
    );
    const msLate = await msPoll(f, String(ms.body.task_id));
    expect(msLate.body.task_status).toBe('SUCCEED');
    expect(msLate.body.output_images).toEqual([`${f.url}/results/${String(ms.body.task_id)}.png`]);
  });

  it('time mode: a task leaves the in-flight count when its time is up, without being polled', async () => {
    const f = await start({ limits: true, taskDurationMs: DURATION, dashscopeLimits: { submitsPerSecond: 100 } });
    const started = Date.now();
    expect((await dsSubmit(f)).status).toBe(200);
    expect((await dsSubmit(f)).status).toBe(200);
    const refused = await dsSubmit(f);
    // Only meaningful if the third submit came before the first task's time was up.
    expect(Date.now() - started).toBeLessThan(DURATION);
    expect(refused.body.code).toBe('Throttling');
    await sleep(DURATION + 50);
    expect(f.inFlight('dashscope')).toBe(0);
    expect((await dsSubmit(f)).status).toBe(200);
    expect((await dsSubmit(f)).status).toBe(200);
    expect(f.stats.dashscope.peakInFlight).toBe(2);
  });

  it('records peak in flight, accepted bodies and submit times; resetStats and releaseAll start afresh', async () => {
    const f = await start({ limits: true, dashscopeLimits: { submitsPerSecond: 100, maxInFlight: 5 } });
    const ids = [];
    for (const prompt of ['p1', 'p2', 'p3']) ids.push(taskIdOf(await dsSubmit(f, prompt)));
    expect(f.stats.dashscope.peakInFlight).toBe(3);
    await dsCancel(f, ids[0]);
    for (let i = 0; i < 3; i++) await dsPoll(f, ids[1]);
    expect(f.inFlight('dashscope')).toBe(1);
    ids.push(taskIdOf(await dsSubmit(f, 'p4')));
    expect(f.stats.dashscope.peakInFlight).toBe(3);

    const stats = f.stats.dashscope;
    expect(stats.accepted.map((a) => a.taskId)).toEqual(ids);
    expect(stats.accepted.map((a) => (a.body as { input: { prompt: string } }).input.prompt)).toEqual([
      'p1',
      'p2',
      'p3',
      'p4',
    ]);
    expect(stats.submitTimes).toHaveLength(4);
    expect([...stats.submitTimes].sort((x, y) => x - y)).toEqual(stats.submitTimes);
    expect(f.stats.modelscope.accepted).toEqual([]);

    f.resetStats();
    expect(f.stats.dashscope).toEqual({
      peakInFlight: 0,
      submitTimes: [],
      refused: { rate: 0, inFlight: 0, dailyQuota: 0 },
      accepted: [],
    });
    // Tasks from before the reset still count towards the new peak.
    await dsSubmit(f, 'p5');
    expect(f.stats.dashscope.peakInFlight).toBe(3);

    f.releaseAll();
    expect(f.inFlight('dashscope')).toBe(0);
    expect(statusOf(await dsPoll(f, ids[3]))).toBe('PENDING');
  });
});
