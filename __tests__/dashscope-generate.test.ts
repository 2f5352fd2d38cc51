/**
 * generate on DashScope against the fake: each text-to-image family's request shape and result path, sizes
 * typed as WxH turned into the model's W*H and checked before anything is sent, `n` always 1 where the
 * service defaults to 4, `prompt_extend` false unless asked, and which provider is chosen.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import { generateProvider } from '../src/jobs/providers.js';
import type { GenerateOptions } from '../src/providers/types.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDir } from './helpers/tmp.js';

const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';
const IMAGE_GENERATION = '/api/v1/services/aigc/image-generation/generation';
const TEXT2IMAGE = '/api/v1/services/aigc/text2image/image-synthesis';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

let cleanup = () => {};
afterEach(() => {
  cleanup();
  fake.requests = [];
  fake.imagesBilled = 0;
  fake.dashscopeSubmitReplies = [];
});

/** generate with only a DashScope key (ModelScope's blank), as a Tongyi user has. */
async function generate(
  prompt: string,
  options: GenerateOptions = {},
  extra: Partial<GenerateSpec> = {},
  env: Record<string, string> = { MODELSCOPE_API_KEY: ' ' },
  config: Record<string, unknown> = {},
) {
  const t = tempDir();
  cleanup = t.cleanup;
  const h = providerHarness(fake, t.dir, env, config);
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
  expect(JSON.stringify([h.rec.lines, h.rec.results, h.rec.data, error?.message])).not.toContain(DASHSCOPE_KEY);
  return { ...h, error, dir: t.dir };
}

type Body = { model: string; input: Record<string, unknown>; parameters: Record<string, unknown> };
const posted = () => fake.requests.filter((r) => r.method === 'POST');

describe('DashScope text-to-image families', () => {
  it('qwen-image (the default family): one synchronous call, no async header, an explicit size, no task', async () => {
    const { error, rec, dir } = await generate('A red fox among ferns', {}, { model: 'qwen-image' });
    expect(error).toBeUndefined();
    const [call] = posted();
    expect(posted()).toHaveLength(1);
    expect(call.path).toBe(SYNC);
    expect(call.headers['x-dashscope-async']).toBeUndefined();
    expect(call.body).toEqual({
      model: 'qwen-image',
      input: { messages: [{ role: 'user', content: [{ text: 'A red fox among ferns' }] }] },
      parameters: { size: '1328*1328', prompt_extend: false, watermark: false },
    });
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(0);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({
        status: 'ok',
        source: 'dashscope',
        model: 'qwen-image',
        output: path.join(dir, 'a-red-fox-among-ferns.png'),
      }),
    );
    expect(rec.results[0]).not.toHaveProperty('taskId');
  });

  it('with no -m the configured default, qwen-image-plus, is sent; a dated snapshot goes as typed', async () => {
    expect((await generate('a fox')).error).toBeUndefined();
    expect((posted()[0].body as Body).model).toBe('qwen-image-plus');
    fake.requests = [];
    expect(
      (await generate('a fox', { size: '1664x928' }, { model: 'qwen-image-max-2025-12-30' })).error,
    ).toBeUndefined();
    expect(posted()[0].body).toMatchObject({ model: 'qwen-image-max-2025-12-30', parameters: { size: '1664*928' } });
  });

  it('z-image-turbo: the same call; 1024x1536 goes as 1024*1536, no watermark; --negative is refused', async () => {
    const { error } = await generate('a fox', { size: '1024x1536', seed: '9' }, { model: 'z-image-turbo' });
    expect(error).toBeUndefined();
    expect(posted()[0].path).toBe(SYNC);
    expect((posted()[0].body as Body).parameters).toEqual({ size: '1024*1536', prompt_extend: false, seed: 9 });
    fake.requests = [];
    const negative = await generate('a fox', { negative: 'blur' }, { model: 'z-image-turbo' });
    expect(negative.error).toMatchObject({ kind: 'usage', message: expect.stringContaining('no negative prompt') });
    expect(fake.requests).toEqual([]);
  });

  it('wan2.6-t2i: an async task on image-generation with n 1, polled; the picture comes from choices', async () => {
    const { error, rec } = await generate('a fox', { negative: 'blur' }, { model: 'wan2.6-t2i' });
    expect(error).toBeUndefined();
    const [submit] = posted();
    expect(submit.path).toBe(IMAGE_GENERATION);
    expect(submit.headers['x-dashscope-async']).toBe('enable');
    expect(submit.body).toEqual({
      model: 'wan2.6-t2i',
      input: { messages: [{ role: 'user', content: [{ text: 'a fox' }] }] },
      parameters: { size: '1280*1280', n: 1, prompt_extend: false, watermark: false, negative_prompt: 'blur' },
    });
    // One picture asked for, not the four the service makes (and bills) by default.
    expect(fake.imagesBilled).toBe(1);
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(3);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({ status: 'ok', model: 'wan2.6-t2i', taskId: expect.stringMatching(/^ds-task-/) }),
    );
  });

  it('wan2.5-t2i-preview and the wan2.2/wanx2.1 models: text2image, input.prompt, n 1, results[].url', async () => {
    for (const [model, size, sent] of [
      ['wan2.5-t2i-preview', '1440x1280', '1440*1280'],
      ['wan2.2-t2i-flash', '1024x1024', '1024*1024'],
      ['wan2.2-t2i-plus', '512x1440', '512*1440'],
      ['wanx2.1-t2i-plus', '1440x1440', '1440*1440'],
      ['wanx2.1-t2i-turbo', '768x1024', '768*1024'],
    ]) {
      fake.requests = [];
      fake.imagesBilled = 0;
      const { error, rec } = await generate('a fox', { size, negative: 'blur' }, { model });
      expect(error).toBeUndefined();
      const [submit] = posted();
      expect(submit.path).toBe(TEXT2IMAGE);
      expect(submit.headers['x-dashscope-async']).toBe('enable');
      expect(submit.body).toEqual({
        model,
        input: { prompt: 'a fox', negative_prompt: 'blur' },
        parameters: { size: sent, n: 1, prompt_extend: false, watermark: false },
      });
      expect(fake.imagesBilled).toBe(1);
      expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', model }));
    }
  });

  it('--prompt-extend sends prompt_extend true', async () => {
    expect((await generate('a fox', { promptExtend: true }, { model: 'wan2.6-t2i' })).error).toBeUndefined();
    expect((posted()[0].body as Body).parameters.prompt_extend).toBe(true);
  });
});

describe('sizes and limits, checked before anything is sent', () => {
  it.each([
    ['qwen-image', '1024x1024', 'sizes 1664x928, 1472x1104, 1328x1328, 1104x1472, 928x1664; got 1024x1024'],
    ['wan2.6-t2i', '1024x1024', '1280x1280 to 1440x1440 pixels in all, aspect 1:4 to 4:1; got 1024x1024'],
    ['wan2.6-t2i', '3000x600', 'aspect 1:4 to 4:1; got 3000x600'],
    ['wan2.5-t2i-preview', '1500x1500', '1280x1280 to 1440x1440 pixels in all'],
    ['wanx2.1-t2i-turbo', '2048x1024', 'sides of 512-1440 px; got 2048x1024'],
    ['z-image-turbo', '400x400', '512x512 to 2048x2048 pixels in all; got 400x400'],
    ['qwen-image', 'big', 'expected WIDTHxHEIGHT'],
  ])('%s --size %s: exit 2 naming what it takes', async (model, size, said) => {
    const { error } = await generate('a fox', { size }, { model });
    expect(error).toMatchObject({ kind: 'usage', message: expect.stringContaining(said) });
    expect(fake.requests).toEqual([]);
  });

  it("a prompt over the model's length, ModelScope options and unknown models are refused unsent", async () => {
    const long = await generate('x'.repeat(801), {}, { model: 'qwen-image' });
    expect(long.error).toMatchObject({ kind: 'usage', message: expect.stringContaining('at most 800') });
    expect((await generate('x'.repeat(2100), {}, { model: 'wan2.6-t2i' })).error).toBeUndefined();
    fake.requests = [];
    const longer = await generate('x'.repeat(2101), {}, { model: 'wan2.6-t2i' });
    expect(longer.error).toMatchObject({ kind: 'usage', message: expect.stringContaining('at most 2100') });
    const steps = await generate('a fox', { steps: '30' });
    expect(steps.error).toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('--steps is a ModelScope option'),
    });
    const unknown = await generate('a fox', {}, { model: 'wanx-v1' });
    expect(unknown.error).toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('not a text-to-image model'),
      hint: expect.stringContaining('qwen-image, qwen-image-plus'),
    });
    const editModel = await generate('a fox', {}, { model: 'qwen-image-edit-plus' });
    expect(editModel.error).toMatchObject({ kind: 'usage' });
    expect(fake.requests).toEqual([]);
  });
});

describe('which provider generate uses', () => {
  it('both keys: ModelScope (free allowance first); generate.provider or --provider picks DashScope', async () => {
    const both = {};
    const t = tempDir();
    cleanup = t.cleanup;
    const h = (config: Record<string, unknown> = {}, env: Record<string, string> = both) =>
      providerHarness(fake, t.dir, env, config).resolved;
    expect(generateProvider(h()).provider.id).toBe('modelscope');
    expect(generateProvider(h(), 'dashscope')).toMatchObject({ reason: 'named by --provider' });
    const configured = generateProvider(h({ generate: { provider: 'dashscope' } }));
    expect(configured).toMatchObject({ keyed: true, reason: 'named by generate.provider (test)' });
    expect(configured.provider.id).toBe('dashscope');
    const onlyDashscope = generateProvider(h({}, { MODELSCOPE_API_KEY: ' ' }));
    expect(onlyDashscope.provider.id).toBe('dashscope');
    expect(onlyDashscope.reason).toBe('the first with a key, in the order modelscope, dashscope');
  });

  it('--prompt-extend on ModelScope is refused before anything is sent', async () => {
    const { error } = await generate('a fox', { promptExtend: true }, {}, {});
    expect(error).toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('--prompt-extend is a DashScope option'),
    });
    expect(fake.requests).toEqual([]);
  });
});

describe('prompts files, styles and the journal on DashScope', () => {
  it('a prompts file with sizes per line, finished with --style, then --resume skips what is done', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = path.join(t.dir, 'prompts.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ prompt: 'a fox', size: '1472x1104' }),
        JSON.stringify({ prompt: 'an owl', size: '928x1664' }),
      ].join('\n'),
    );
    const run = async (resume: boolean) => {
      const h = providerHarness(fake, t.dir, { MODELSCOPE_API_KEY: ' ' });
      const spec: GenerateSpec = {
        promptsFile: file,
        options: {},
        model: 'qwen-image',
        style: 'loom',
        keepOriginal: false,
        force: false,
        report: true,
        dryRun: false,
        journal: path.join(t.dir, 'run.journal'),
        resume,
      };
      const error = await runGenerate(spec, h.resolved, h.services).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      return { error, rec: h.rec };
    };
    const first = await run(false);
    expect(first.error).toBeUndefined();
    expect(posted().map((r) => (r.body as Body).parameters.size)).toEqual(['1472*1104', '928*1664']);
    expect(
      readdirSync(t.dir)
        .filter((f) => f.endsWith('.png'))
        .sort(),
    ).toEqual(['a-fox.loom.png', 'an-owl.loom.png']);
    fake.requests = [];
    const again = await run(true);
    expect(again.error).toBeUndefined();
    expect(posted()).toHaveLength(0);
    expect(again.rec.results.map((r) => r.status)).toEqual(['skipped', 'skipped']);
  });

  it('a size out of range on line 2 of a prompts file stops before line 1 is sent', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = path.join(t.dir, 'prompts.jsonl');
    writeFileSync(
      file,
      [JSON.stringify({ prompt: 'a fox' }), JSON.stringify({ prompt: 'an owl', size: '640x640' })].join('\n'),
    );
    const h = providerHarness(fake, t.dir, { MODELSCOPE_API_KEY: ' ' });
    const spec: GenerateSpec = {
      promptsFile: file,
      options: {},
      model: 'wan2.6-t2i',
      keepOriginal: false,
      force: false,
      report: true,
      dryRun: false,
    };
    const error = await runGenerate(spec, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err as Error & Record<string, unknown>,
    );
    expect(error).toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/prompts\.jsonl:2: --size: wan2\.6-t2i takes/),
    });
    expect(fake.requests).toEqual([]);
  });

  it('--dry-run prints the request with the key redacted and sends nothing', async () => {
    const { error, rec } = await generate('a fox', { size: '1280x1280' }, { model: 'wan2.6-t2i', dryRun: true });
    expect(error).toBeUndefined();
    expect(fake.requests).toEqual([]);
    expect(JSON.stringify(rec.data)).toContain(IMAGE_GENERATION);
    expect(JSON.stringify(rec.data)).toContain('"n":1');
  });
});
