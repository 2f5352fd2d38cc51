import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { Jimp } from 'jimp';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDir, writtenIn } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

describe('edit through DashScope', () => {
  let cleanup = () => {};
  let dir = '';
  let savedResult: FakeProviders['result'];
  beforeAll(() => {
    savedResult = fake.result;
  });
  afterEach(() => {
    cleanup();
    fake.requests = [];
    fake.dashscopeSubmitReplies = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.result = savedResult;
  });

  async function edit(
    options: { fallback?: boolean; request?: Partial<EditSpec>; abortAfterPolls?: number; maxDownloadMb?: number } = {},
  ) {
    const t = tempDir();
    cleanup = t.cleanup;
    dir = t.dir;
    const h = providerHarness(fake, dir);
    if (options.abortAfterPolls !== undefined) {
      const sleep = h.services.sleep;
      let polls = 0;
      h.services.sleep = async (ms: number) => {
        if (++polls >= options.abortAfterPolls!) h.controller.abort();
        await sleep(ms);
      };
    }
    const spec: EditSpec = {
      inputs: [SAMPLE],
      style: 'loom',
      local: false,
      fallback: options.fallback ?? true,
      dryRun: false,
      force: false,
      report: true,
      instruction: {},
      maxDownloadMb: options.maxDownloadMb,
      ...options.request,
    };
    const outcome = await runEdit(spec, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err,
    );
    const everything = JSON.stringify([
      h.rec.lines,
      h.rec.results,
      outcome instanceof Error ? [outcome.message, (outcome as { hint?: string }).hint] : null,
    ]);
    expect(everything).not.toContain(DASHSCOPE_KEY);
    return { ...h, error: outcome as (Error & Record<string, unknown>) | undefined };
  }

  it('submits the documented request, polls, downloads and finishes locally', async () => {
    const { rec, error, slept } = await edit();
    expect(error).toBeUndefined();
    const submit = fake.requests.find((r) => r.path === SUBMIT)!;
    expect(submit.headers.authorization).toBe(`Bearer ${DASHSCOPE_KEY}`);
    expect(submit.headers['x-dashscope-async']).toBe('enable');
    expect(submit.headers['content-type']).toMatch(/application\/json/);
    const body = submit.body as { model: string; input: Record<string, string>; parameters: Record<string, unknown> };
    expect(body.model).toBe('wanx2.1-imageedit');
    expect(body.input.function).toBe('description_edit');
    expect(body.input.prompt).toContain('jacquard');
    expect(body.parameters).toEqual({ n: 1, strength: 0.6, watermark: false });
    expect(Object.keys(body).sort()).toEqual(['input', 'model', 'parameters']);
    const uri = /^data:image\/png;base64,(.+)$/.exec(body.input.base_image_url);
    expect(uri).not.toBeNull();
    const sent = await Jimp.fromBuffer(Buffer.from(uri![1], 'base64'));
    expect(sent.bitmap.width).toBe(512); // 512×600 sample sent as is
    expect(sent.bitmap.height).toBe(600);
    // The first poll comes at once, then pauses grow from the configured interval.
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(3);
    expect(slept).toEqual([1000, 1000]);
    expect(fake.count('GET', '/results/')).toBe(1);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({
        status: 'ok',
        source: 'dashscope',
        taskId: expect.stringMatching(/^ds-task-/),
        width: 32,
        height: 24,
      }),
    );
    expect(writtenIn(dir).sort()).toEqual(['grace-hopper.loom.json', 'grace-hopper.loom.png']);
  });

  it('scales a small picture up to the 512 px minimum before sending', async () => {
    const t = tempDir();
    const small = path.join(t.dir, 'small.png');
    await new Jimp({ width: 100, height: 80, color: 0x336699ff }).write(small as `${string}.png`);
    const { error } = await edit({ request: { inputs: [small] } });
    t.cleanup();
    expect(error).toBeUndefined();
    const body = fake.requests.find((r) => r.path === SUBMIT)!.body as { input: { base_image_url: string } };
    const sent = await Jimp.fromBuffer(Buffer.from(body.input.base_image_url.split(',')[1], 'base64'));
    expect([sent.bitmap.width, sent.bitmap.height]).toEqual([640, 512]);
  });

  it('stops on a rejected key with exit kind auth, without retrying or falling back', async () => {
    fake.dashscopeSubmitReplies = [
      { status: 401, body: { code: 'InvalidApiKey', message: 'Invalid API-key provided.' } },
    ];
    const { error, rec } = await edit();
    expect(error).toMatchObject({
      kind: 'auth',
      status: 401,
      code: 'InvalidApiKey',
      provider: 'dashscope',
      requestId: expect.stringMatching(/^req-/),
    });
    expect(error!.hint).toContain('DASHSCOPE_API_KEY');
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(rec.results).toEqual([]);
    expect(writtenIn(dir)).toEqual([]);
  });

  it.each([
    [
      {
        status: 400,
        body: { code: 'Arrearage', message: 'Access denied, plesase make sure your account is in good standing.' },
      },
      'quota',
    ],
    [{ status: 403, body: { code: 'AccessDenied.Unpurchased', message: 'Access to model denied.' } }, 'quota'],
    [
      { status: 400, body: { code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' } },
      'moderation',
    ],
    [{ status: 400, body: { code: 'InvalidParameter', message: 'Required parameter(s) missing or invalid' } }, 'usage'],
  ])('does not fall back on %j', async (reply, kind) => {
    fake.dashscopeSubmitReplies = [reply];
    const { error } = await edit();
    expect(error).toMatchObject({ kind, code: (reply.body as { code: string }).code });
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(writtenIn(dir)).toEqual([]);
  });

  it('retries a 500 InternalError submit and then succeeds', async () => {
    fake.dashscopeSubmitReplies = [
      { status: 500, body: { code: 'InternalError', message: 'submit algo service error, Internal server error!' } },
    ];
    const { error, rec } = await edit();
    expect(error).toBeUndefined();
    expect(fake.count('POST', SUBMIT)).toBe(2);
    expect(rec.lines.warn[0]).toMatch(/DashScope: retrying in .* \(HTTP 500 InternalError\)/);
    expect(rec.results[0].source).toBe('dashscope');
  });

  it('waits as long as Retry-After asks after a 429', async () => {
    fake.dashscopeSubmitReplies = [
      {
        status: 429,
        body: { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded' },
        headers: { 'retry-after': '3' },
      },
    ];
    const { error, slept } = await edit();
    expect(error).toBeUndefined();
    expect(fake.count('POST', SUBMIT)).toBe(2);
    expect(slept[0]).toBeGreaterThanOrEqual(2999); // the rest of 3 s beyond p-retry's own 1 ms pause
  });

  it('falls back to the local pipeline when still rate limited after retries, or fails with --no-fallback', async () => {
    const throttled = { status: 429, body: { code: 'Throttling', message: 'Requests throttling triggered.' } };
    fake.dashscopeSubmitReplies = [throttled, throttled, throttled];
    const fell = await edit();
    expect(fell.error).toBeUndefined();
    expect(fake.count('POST', SUBMIT)).toBe(3);
    expect(fell.rec.results[0]).toEqual(
      expect.objectContaining({
        source: 'local-fallback',
        remoteError: expect.objectContaining({ kind: 'rate-limit', code: 'Throttling' }),
      }),
    );
    expect(fell.rec.lines.warn.at(-1)).toMatch(
      /DashScope failed .*Throttling.*request id req-\d+.*local pipeline instead/,
    );
    const report = JSON.parse(
      await import('node:fs').then((fs) => fs.readFileSync(path.join(dir, 'grace-hopper.loom.json'), 'utf8')),
    );
    expect(report.source.kind).toBe('local-fallback');
    fake.requests = [];
    fake.dashscopeSubmitReplies = [throttled, throttled, throttled];
    const strict = await edit({ fallback: false });
    expect(strict.error).toMatchObject({ kind: 'rate-limit' });
  });

  it('falls back when the task FAILS with InternalError, naming the task', async () => {
    fake.dashscopeSteps = [
      'PENDING',
      { status: 'FAILED', code: 'InternalError', message: 'submit algo service error, Internal server error!' },
    ];
    const { error, rec } = await edit();
    expect(error).toBeUndefined();
    const remoteError = rec.results[0].remoteError;
    expect(remoteError).toEqual(
      expect.objectContaining({ kind: 'network', code: 'InternalError', taskId: expect.stringMatching(/^ds-task-/) }),
    );
    const strict = await edit({ fallback: false });
    expect(strict.error).toMatchObject({ kind: 'network', code: 'InternalError' });
  });

  it('treats a task that FAILED with a parameter code as a task failure: fallback, or kind failure (exit 1)', async () => {
    fake.dashscopeSteps = [
      'PENDING',
      { status: 'FAILED', code: 'InvalidParameter', message: 'url error, please check url!' },
    ];
    const fell = await edit();
    expect(fell.error).toBeUndefined();
    expect(fell.rec.results[0]).toEqual(
      expect.objectContaining({
        source: 'local-fallback',
        remoteError: expect.objectContaining({ kind: 'failure', code: 'InvalidParameter' }),
      }),
    );
    const strict = await edit({ fallback: false });
    expect(strict.error).toMatchObject({ kind: 'failure', code: 'InvalidParameter' });
  });

  it('checks -o and its report before calling DashScope, and sends nothing when one exists', async () => {
    const t = tempDir();
    const taken = path.join(t.dir, 'out.json');
    await import('node:fs').then((fs) => fs.writeFileSync(taken, 'keep'));
    const { error } = await edit({ request: { output: path.join(t.dir, 'out.png') } });
    const left = writtenIn(t.dir);
    t.cleanup();
    expect(error).toMatchObject({ kind: 'failure', message: `${taken} already exists` });
    expect(fake.requests).toEqual([]);
    expect(left).toEqual(['out.json']);
  });

  it('refuses description_edit_with_mask (no mask is sent) before sending anything', async () => {
    const { error } = await edit({ request: { instruction: { function: 'description_edit_with_mask' } } });
    expect(error).toMatchObject({ kind: 'usage', hint: 'use description_edit' });
    expect(fake.requests).toEqual([]);
  });

  it('gives up on a task that never finishes at the deadline, with its id', async () => {
    fake.dashscopeSteps = ['PENDING', 'RUNNING'];
    const { error, slept } = await edit({ fallback: false });
    expect(error).toMatchObject({
      kind: 'network',
      code: 'WaitTaskTimeout',
      taskId: expect.stringMatching(/^ds-task-/),
    });
    expect(error!.message).toMatch(/did not finish within \d+ s \(last status RUNNING\)/);
    // 1, 1, 2, 2, 2, 4, 4, 4, 5, 5, … s, never past the 60 s deadline.
    expect(slept.slice(0, 9)).toEqual([1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000, 5000]);
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000);
  });

  it('keeps polling through 503 and 504 answers', async () => {
    fake.dashscopeSteps = [
      'PENDING',
      { status: 503, body: { code: 'ServiceUnavailable' } },
      { status: 504, body: {} },
      'RUNNING',
      'SUCCEEDED',
    ];
    const { error, rec } = await edit({ fallback: false });
    expect(error).toBeUndefined();
    expect(rec.results[0].source).toBe('dashscope');
  });

  it('treats an UNKNOWN (expired) task as a failure', async () => {
    fake.dashscopeSteps = ['UNKNOWN'];
    const { error } = await edit({ fallback: false });
    expect(error).toMatchObject({ kind: 'failure', code: 'UNKNOWN' });
  });

  it.each([
    [
      'an expired result URL',
      {
        status: 403,
        body: Buffer.from('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'),
        contentType: 'application/xml',
      },
      /expired or is gone \(HTTP 403\)/,
    ],
    [
      'a result that is not an image',
      { status: 200, body: Buffer.from('<html>oops</html>'), contentType: 'text/html' },
      /not a supported image/,
    ],
    [
      'a result over the size cap',
      { status: 200, body: Buffer.alloc(3_000_000, 1), contentType: 'image/png' },
      /larger than 2 MB/,
    ],
  ])('handles %s: an error without fallback, the local image with it', async (_name, result, message) => {
    fake.result = result;
    const strict = await edit({ fallback: false, maxDownloadMb: 2 });
    expect(strict.error?.message).toMatch(message);
    expect(writtenIn(dir)).toEqual([]);
    const h = await edit({ maxDownloadMb: 2 });
    expect(h.error).toBeUndefined();
    expect(h.rec.results[0].source).toBe('local-fallback');
  });

  it('cancels a task still PENDING on Ctrl-C and writes nothing', async () => {
    fake.dashscopeSteps = ['PENDING'];
    const { error } = await edit({ abortAfterPolls: 2 });
    expect(error).toMatchObject({ kind: 'interrupted' });
    expect(error!.message).toMatch(/task ds-task-\S+ was canceled/);
    expect(fake.canceled).toHaveLength(1);
    expect(writtenIn(dir)).toEqual([]);
  });

  it('refuses an instruction over 800 characters before sending anything', async () => {
    const { error } = await edit({ request: { instruction: { prompt: 'x'.repeat(801) } } });
    expect(error).toMatchObject({ kind: 'usage' });
    expect(fake.requests).toEqual([]);
  });

  it('prints the planned requests for --dry-run, key redacted, and sends nothing', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const h = providerHarness(fake, t.dir);
    await runEdit(
      {
        inputs: [SAMPLE],
        style: 'poster',
        local: false,
        fallback: true,
        force: false,
        report: true,
        dryRun: true,
        instruction: { strength: 0.2 },
      },
      h.resolved,
      h.services,
    );
    expect(fake.requests).toEqual([]);
    expect(writtenIn(t.dir)).toEqual([]);
    expect(h.rec.data).toHaveLength(2);
    const [submit, poll] = h.rec.data as Array<{
      method: string;
      url: string;
      headers: Record<string, string>;
      body?: { input: { base_image_url: string }; parameters: unknown };
    }>;
    expect(submit.method).toBe('POST');
    expect(submit.url).toBe(fake.url + SUBMIT);
    expect(submit.headers.Authorization).toBe('Bearer sk-…6666');
    expect(submit.body!.input.base_image_url).toMatch(/^data:image\/png;base64,.{20,}… \(\d+ characters\)$/);
    expect(submit.body!.parameters).toEqual({ n: 1, strength: 0.2, watermark: false });
    expect(poll.url).toBe(`${fake.url}/api/v1/tasks/{task_id}`);
    expect(JSON.stringify(h.rec.data)).not.toContain(DASHSCOPE_KEY);
  });
});
