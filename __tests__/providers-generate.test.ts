import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import type { Prompts } from '../src/kernel/ports.js';
import type { GenerateOptions } from '../src/providers/types.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { MODELSCOPE_KEY, providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDir, writtenIn } from './helpers/tmp.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

describe('generate on ModelScope', () => {
  let cleanup = () => {};
  let dir = '';
  afterEach(() => {
    cleanup();
    fake.requests = [];
    fake.modelscopeSubmitReplies = [];
    fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
  });

  async function generate(
    prompt: string,
    extra: Partial<GenerateSpec> = {},
    env: Record<string, string> = {},
    options: GenerateOptions = {},
  ) {
    const t = tempDir();
    cleanup = t.cleanup;
    dir = t.dir;
    const h = providerHarness(fake, dir, env);
    const spec: GenerateSpec = {
      prompt,
      options,
      keepOriginal: false,
      force: false,
      report: true,
      dryRun: false,
      ...extra,
    };
    const error = await runGenerate(spec, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err as Error & Record<string, unknown>,
    );
    expect(JSON.stringify([h.rec.lines, h.rec.results, h.rec.data, error?.message, error?.hint])).not.toContain(
      MODELSCOPE_KEY,
    );
    return { ...h, error };
  }

  it('submits asynchronously, polls with the task-type header and saves the picture under a slug', async () => {
    const { error, rec } = await generate(
      'A red fox among ferns',
      {},
      {},
      { seed: '7', steps: '30', size: '1024x768' },
    );
    expect(error).toBeUndefined();
    const submit = fake.requests.find((r) => r.method === 'POST')!;
    expect(submit.path).toBe('/v1/images/generations');
    expect(submit.headers.authorization).toBe(`Bearer ${MODELSCOPE_KEY}`);
    expect(submit.headers['x-modelscope-async-mode']).toBe('true');
    expect(submit.body).toEqual({
      model: 'Qwen/Qwen-Image',
      prompt: 'A red fox among ferns',
      seed: 7,
      steps: 30,
      size: '1024x768',
    });
    const polls = fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks/'));
    expect(polls).toHaveLength(3);
    for (const poll of polls) expect(poll.headers['x-modelscope-task-type']).toBe('image_generation');
    expect(rec.results[0]).toEqual(
      expect.objectContaining({
        status: 'ok',
        source: 'modelscope',
        output: path.join(dir, 'a-red-fox-among-ferns.png'),
        seed: 7,
        taskId: expect.stringMatching(/^ms-task-/),
      }),
    );
    expect(readFileSync(path.join(dir, 'a-red-fox-among-ferns.png')).equals(fake.result.body)).toBe(true);
  });

  it('with --style finishes the picture as a loom image and keeps the original on request', async () => {
    const { error, rec } = await generate('一只猫 on a rug', { style: 'loom', keepOriginal: true });
    expect(error).toBeUndefined();
    expect(writtenIn(dir).sort()).toEqual([
      '一只猫-on-a-rug.loom.json',
      '一只猫-on-a-rug.loom.png',
      '一只猫-on-a-rug.png',
    ]);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({
        source: 'modelscope',
        style: 'loom',
        prompt: '一只猫 on a rug',
        width: 32,
        original: path.join(dir, '一只猫-on-a-rug.png'),
      }),
    );
    const png = readFileSync(path.join(dir, '一只猫-on-a-rug.loom.png'));
    expect(png.includes(Buffer.from('一只猫 on a rug', 'utf8'))).toBe(true);
  });

  it('reports a moderation refusal (FAILED, code 422) as kind moderation', async () => {
    fake.modelscopeSteps = [
      'RUNNING',
      { status: 'FAILED', code: 422, message: 'Output data may contain inappropriate content.' },
    ];
    const { error } = await generate('a cat');
    expect(error).toMatchObject({
      kind: 'moderation',
      code: '422',
      provider: 'modelscope',
      taskId: expect.stringMatching(/^ms-task-/),
    });
    expect(writtenIn(dir)).toEqual([]);
  });

  it.each([
    [{ status: 404, body: { errors: { message: 'model not found' } } }, 'usage', /model id/],
    [{ status: 403, body: { errors: { message: 'Forbidden' } } }, 'quota', /real-name/],
    [
      { status: 400, body: { errors: { message: 'submit image generation task error' } } },
      'usage',
      /rejected a parameter/,
    ],
  ])('classifies %j without retrying', async (reply, kind, hint) => {
    fake.modelscopeSubmitReplies = [reply];
    const { error } = await generate('a cat');
    expect(error).toMatchObject({ kind, status: reply.status });
    expect(String(error!.hint)).toMatch(hint);
    expect(fake.count('POST', '/v1/images/generations')).toBe(1);
  });

  it('retries a 429 and then reports the remaining daily quota', async () => {
    const limited = {
      status: 429,
      body: { errors: { message: 'Too Many Requests' } },
      headers: { 'modelscope-ratelimit-requests-remaining': '0', 'modelscope-ratelimit-model-requests-remaining': '0' },
    };
    fake.modelscopeSubmitReplies = [limited, limited, limited];
    const { error } = await generate('a cat');
    expect(error).toMatchObject({ kind: 'rate-limit', status: 429 });
    expect(error!.hint).toContain('0 calls left today, 0 for this model');
    expect(fake.count('POST', '/v1/images/generations')).toBe(3);
  });

  it('stops with kind auth when the key is rejected or missing, sending nothing without one', async () => {
    const rejected = await generate('a cat', {}, { MODELSCOPE_API_KEY: 'ms-wrong' });
    expect(rejected.error).toMatchObject({ kind: 'auth', status: 401 });
    fake.requests = [];
    const missing = await generate('a cat', {}, { MODELSCOPE_API_KEY: ' ', DASHSCOPE_API_KEY: ' ' });
    // A blank env var counts as unset, so the resolved key is missing (and DashScope has none to fall to).
    expect(missing.error).toMatchObject({ kind: 'auth', message: 'no ModelScope key configured' });
    expect(fake.requests).toEqual([]);
  });

  it('asks for a missing prompt only when it has a key: without one it stops before asking (kind auth)', async () => {
    const asked: string[] = [];
    const prompts: Prompts = {
      text: async (message) => {
        asked.push(message);
        return 'a fox among ferns';
      },
      secret: async () => '',
      confirm: async () => false,
      choice: async (_m, _c, d) => d,
    };
    const t = tempDir();
    cleanup = t.cleanup;
    const spec: GenerateSpec = {
      prompt: '',
      options: {},
      keepOriginal: false,
      force: false,
      report: true,
      dryRun: false,
    };
    const keyless = providerHarness(fake, t.dir, {
      MODELSCOPE_API_KEY: ' ',
      DASHSCOPE_API_KEY: ' ',
      TONGYI_API_KEY: ' ',
    });
    await expect(runGenerate(spec, keyless.resolved, { ...keyless.services, prompts })).rejects.toMatchObject({
      kind: 'auth',
      message: 'no ModelScope key configured',
    });
    expect(asked).toEqual([]);
    expect(fake.requests).toEqual([]);

    const keyed = providerHarness(fake, t.dir);
    await runGenerate(spec, keyed.resolved, { ...keyed.services, prompts });
    expect(asked).toEqual(['Prompt']);
    expect(keyed.rec.results[0]).toMatchObject({ status: 'ok', prompt: 'a fox among ferns' });
  });

  it('reads the success:false envelope on a poll as the error it is, and polls again after a non-JSON answer', async () => {
    fake.modelscopeSteps = [
      'PENDING',
      { status: 200, body: { success: false, code: 'InvalidToken', message: 'token invalid' } },
    ];
    const failed = await generate('a cat');
    expect(failed.error).toMatchObject({
      provider: 'modelscope',
      code: 'InvalidToken',
      message: expect.stringContaining('token invalid'),
    });
    // Ended by the envelope at the second poll, not by the deadline.
    expect(fake.count('GET', '/v1/tasks/')).toBe(2);
    fake.requests = [];
    fake.modelscopeSteps = ['PENDING', { status: 200, body: '<html>gateway hiccup</html>' }, 'SUCCEED'];
    const recovered = await generate('a cat');
    expect(recovered.error).toBeUndefined();
    expect(fake.count('GET', '/v1/tasks/')).toBe(3);
  });

  it('checks -o before generating: an existing file stops the run and nothing is sent', async () => {
    const t = tempDir();
    const target = path.join(t.dir, 'fox.png');
    writeFileSync(target, 'mine');
    const { error } = await generate('a fox', { output: target });
    const kept = readFileSync(target, 'utf8');
    t.cleanup();
    expect(error).toMatchObject({ kind: 'failure', message: `${target} already exists` });
    expect(kept).toBe('mine');
    expect(fake.requests).toEqual([]);
  });

  it('prints the planned requests for --dry-run and sends nothing', async () => {
    const { error, rec } = await generate('a cat', { dryRun: true }, {}, { lora: ['a/x:0.6', 'b/y:0.4'] });
    expect(error).toBeUndefined();
    expect(fake.requests).toEqual([]);
    expect(rec.data[0]).toEqual({
      method: 'POST',
      url: `${fake.url}/v1/images/generations`,
      headers: {
        Authorization: 'Bearer ms-…4444',
        'Content-Type': 'application/json',
        'X-ModelScope-Async-Mode': 'true',
        'X-Request-Id': '{request_id}',
      },
      body: { model: 'Qwen/Qwen-Image', prompt: 'a cat', loras: { 'a/x': 0.6, 'b/y': 0.4 } },
    });
    expect(rec.data[1]).toEqual(expect.objectContaining({ method: 'GET', url: `${fake.url}/v1/tasks/{task_id}` }));
  });

  it('refuses a non-https result URL from a non-loopback provider', async () => {
    fake.resultBase = 'http://203.0.113.9';
    const { error } = await generate('a cat');
    fake.resultBase = undefined;
    expect(error).toMatchObject({ kind: 'failure' });
    expect(error!.message).toContain('non-https result URL');
    expect(fake.count('GET', '/results/')).toBe(0);
  });
});
