/**
 * Edits of several pictures and the newer edit models against the fake: wan2.6-image on the image-generation
 * endpoint, --ref pictures sent after the edited one (and refused past each model's count before anything is
 * sent), prompt_extend false unless --prompt-extend, ModelScope's Qwen-Image-Edit-2511, and every picture kept
 * under 10 MB as the data URI that is sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { encodeRgbPng } from '../src/formats/png.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { prepareForDashscope } from '../src/providers/dashscope/prepare.js';
import { DASHSCOPE_MODELS } from '../src/providers/dashscope/models.js';
import { resizeToGrid } from '../src/loom/resize.js';
import { dataUriLength, encodeWithin } from '../src/providers/shared/encode.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { rgbaImage, rgbImage } from './helpers/images.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg'); // 512 x 600
const IMAGE_GENERATION = '/api/v1/services/aigc/image-generation/generation';
const IMAGE2IMAGE = '/api/v1/services/aigc/image2image/image-synthesis';
const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());
afterEach(() => {
  fake.requests = [];
  fake.imagesBilled = 0;
});

const setup = tempDirsPerTest();

/** Reference pictures of distinct sizes (so that their order can be read back), written into `dir`. */
function refs(dir: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `ref-${i + 1}.png`);
    writeFileSync(file, encodeRgbPng(rgbImage(400 + 40 * i, 700, (x, y) => [x % 256, y % 256, 40 * i])));
    return file;
  });
}

async function edit(extra: Partial<EditSpec> = {}, refCount = 0, env: Record<string, string> = {}) {
  const dir = setup();
  const h = providerHarness(fake, dir, env);
  const spec: EditSpec = {
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    refs: refs(dir, refCount),
    ...extra,
  };
  const error = await runEdit(spec, h.resolved, h.services).then(
    () => undefined,
    (err: unknown) => err as Error & Record<string, unknown>,
  );
  const said = JSON.stringify([h.rec.lines, h.rec.results, error?.message]);
  expect(said).not.toContain(DASHSCOPE_KEY);
  expect(said).not.toContain(MODELSCOPE_KEY);
  return { ...h, dir, error };
}

/** Width and height of each data URI, in order. */
async function sizes(uris: unknown[]): Promise<string[]> {
  const out: string[] = [];
  for (const uri of uris) {
    const picture = await Jimp.fromBuffer(Buffer.from(String(uri).split(',')[1], 'base64'));
    out.push(`${picture.bitmap.width}x${picture.bitmap.height}`);
  }
  return out;
}

type Body = { model: string; input: Record<string, unknown>; parameters: Record<string, unknown> };
const posted = () => fake.requests.filter((r) => r.method === 'POST');

describe('wan2.6-image', () => {
  it('an async task on image-generation: one text then the pictures, n 1, no interleave; result from choices', async () => {
    const { error, rec } = await edit({ model: 'wan2.6-image' }, 1);
    expect(error).toBeUndefined();
    const [submit] = posted();
    expect(submit.path).toBe(IMAGE_GENERATION);
    expect(submit.headers['x-dashscope-async']).toBe('enable');
    const body = submit.body as Body;
    const [message] = body.input.messages as Array<{ role: string; content: Array<Record<string, string>> }>;
    expect(message.role).toBe('user');
    expect(Object.keys(message.content[0])).toEqual(['text']);
    expect(await sizes(message.content.slice(1).map((c) => c.image))).toEqual(['512x600', '400x700']);
    expect(body.parameters).toEqual({ n: 1, watermark: false, prompt_extend: false, enable_interleave: false });
    expect(fake.imagesBilled).toBe(1);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({ status: 'ok', model: 'wan2.6-image', taskId: expect.stringMatching(/^ds-task-/) }),
    );
  });

  it('takes 4 pictures in all: 3 references go, 4 are refused naming the limit, nothing sent', async () => {
    expect((await edit({ model: 'wan2.6-image' }, 3)).error).toBeUndefined();
    const content = ((posted()[0].body as Body).input.messages as Array<{ content: unknown[] }>)[0].content;
    expect(content).toHaveLength(5);
    fake.requests = [];
    const { error } = await edit({ model: 'wan2.6-image' }, 4);
    expect(error).toMatchObject({
      kind: 'usage',
      message: '--ref: wan2.6-image takes at most 4 pictures, the edited one and 3 more; got 4 more',
    });
    expect(fake.requests).toEqual([]);
  });
});

describe('--ref on the other models', () => {
  it('wan2.5-i2i-preview: the edited picture first, then the references in order; a fourth is refused', async () => {
    expect((await edit({ model: 'wan2.5-i2i-preview' }, 2)).error).toBeUndefined();
    const body = posted()[0].body as Body;
    expect(posted()[0].path).toBe(IMAGE2IMAGE);
    expect(await sizes(body.input.images as string[])).toEqual(['512x600', '400x700', '440x700']);
    fake.requests = [];
    const { error } = await edit({ model: 'wan2.5-i2i-preview' }, 3);
    expect(error).toMatchObject({ kind: 'usage', message: expect.stringContaining('at most 3 pictures') });
    expect(error!.hint).toContain('wan2.6-image (4)');
    expect(fake.requests).toEqual([]);
  });

  it('qwen-image-edit-plus: pictures then the text in one message; --prompt-extend sends prompt_extend true', async () => {
    expect((await edit({ model: 'qwen-image-edit-plus' }, 2)).error).toBeUndefined();
    const [call] = posted();
    expect(call.path).toBe(SYNC);
    const content = ((call.body as Body).input.messages as Array<{ content: Array<Record<string, string>> }>)[0]
      .content;
    expect(content.map((c) => Object.keys(c)[0])).toEqual(['image', 'image', 'image', 'text']);
    expect((call.body as Body).parameters).toEqual({ n: 1, watermark: false, prompt_extend: false });
    fake.requests = [];
    expect((await edit({ model: 'qwen-image-edit-max', instruction: { promptExtend: true } })).error).toBeUndefined();
    expect((posted()[0].body as Body).parameters.prompt_extend).toBe(true);
  });

  it('models of one picture refuse --ref; models without prompt_extend refuse --prompt-extend', async () => {
    for (const model of ['qwen-image-edit', 'wanx2.1-imageedit']) {
      const { error } = await edit({ model }, 1);
      expect(error).toMatchObject({
        kind: 'usage',
        message: `--ref: ${model} takes one picture, the edited one; got 1 more`,
      });
    }
    const plain = await edit({ model: 'qwen-image-edit', instruction: { promptExtend: true } });
    expect(plain.error).toMatchObject({
      kind: 'usage',
      message: '--prompt-extend: qwen-image-edit rewrites no instruction',
    });
    const wanx = await edit({ instruction: { promptExtend: true } });
    expect(wanx.error).toMatchObject({ kind: 'usage', message: expect.stringContaining('wanx2.1-imageedit') });
    expect(fake.requests).toEqual([]);
    // Without the flag, plain qwen-image-edit gets no prompt_extend at all: it takes none.
    expect((await edit({ model: 'qwen-image-edit' })).error).toBeUndefined();
    expect((posted()[0].body as Body).parameters).toEqual({ n: 1, watermark: false });
  });

  it('wan2.5-i2i-preview takes --prompt-extend', async () => {
    expect((await edit({ model: 'wan2.5-i2i-preview', instruction: { promptExtend: true } })).error).toBeUndefined();
    expect((posted()[0].body as Body).parameters.prompt_extend).toBe(true);
  });

  it('a reference that cannot be read stops the run before anything is sent', async () => {
    const { error } = await edit({ model: 'wan2.6-image', refs: [path.join(setup(), 'missing.png')] });
    expect(error).toMatchObject({ kind: 'failure', message: expect.stringContaining('missing.png: no such file') });
    expect(fake.requests).toEqual([]);
  });

  it('--ref with --local, which sends nothing, is a usage error; nothing is read or sent', async () => {
    const { error } = await edit({ local: true, refs: ['/nonexistent/ref.png'] });
    expect(error).toMatchObject({ kind: 'usage', message: expect.stringContaining('--ref') });
    expect(error?.message).toContain('--local sends nothing');
    expect(fake.requests).toEqual([]);
  });
});

describe('ModelScope Qwen/Qwen-Image-Edit-2511', () => {
  const NO_DASHSCOPE = { DASHSCOPE_API_KEY: '', TONGYI_API_KEY: '' };

  it('is an edit model; its references go in image_url after the edited picture', async () => {
    const { error, rec } = await edit({ provider: 'modelscope', model: 'Qwen/Qwen-Image-Edit-2511' }, 2, NO_DASHSCOPE);
    expect(error).toBeUndefined();
    const [submit] = posted();
    expect(submit.path).toBe('/v1/images/generations');
    const body = submit.body as { model: string; image_url: string[] };
    expect(body.model).toBe('Qwen/Qwen-Image-Edit-2511');
    expect(await sizes(body.image_url)).toEqual(['512x600', '400x700', '440x700']);
    expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', model: 'Qwen/Qwen-Image-Edit-2511' }));
  });

  it('FLUX.1-Kontext-dev takes one picture; --prompt-extend is a DashScope option', async () => {
    const flux = await edit({ provider: 'modelscope', model: 'black-forest-labs/FLUX.1-Kontext-dev' }, 1, NO_DASHSCOPE);
    expect(flux.error).toMatchObject({ kind: 'usage', message: expect.stringContaining('takes one picture') });
    const extend = await edit({ provider: 'modelscope', instruction: { promptExtend: true } }, 0, NO_DASHSCOPE);
    expect(extend.error).toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('--prompt-extend is a DashScope option'),
    });
    expect(fake.requests).toEqual([]);
  });
});

describe('10 MB is the data URI, not the file', () => {
  /** Noise: a PNG of it is about as large as its raw pixels. */
  function noise(width: number, height: number) {
    let s = 7;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    return rgbaImage(width, height, () => [rand(), rand(), rand()]);
  }

  it('DashScope: a picture whose PNG fits the limit but whose data URI does not goes as a JPEG that fits', async () => {
    const picture = noise(400, 400);
    const png = encodeRgbPng(resizeToGrid(picture, 400, 400));
    // A limit between the file and its data URI, as 10 MB lies for a large photo: the file fits, the URI not.
    const limit = png.length + 1000;
    expect(dataUriLength(png.length, 'image/png')).toBeGreaterThan(limit);
    const prepared = await prepareForDashscope(picture, { minSide: 240, maxSide: 8000, maxBytes: limit }, 'test');
    expect(prepared.dataUri.length).toBeLessThanOrEqual(limit);
    expect(prepared.mime).toBe('image/jpeg');
    expect([prepared.width, prepared.height]).toEqual([400, 400]);
  });

  it('shrinks (never below the smallest side) when not even a JPEG fits; the services get 10 MB URIs', async () => {
    const picture = noise(400, 400);
    const encoded = await encodeWithin(
      picture,
      { width: 400, height: 400 },
      { minSide: 150, maxUriBytes: 120_000 },
      { model: 'test', provider: 'dashscope' },
    );
    expect(encoded.dataUri.length).toBeLessThanOrEqual(120_000);
    expect(encoded.width).toBeLessThan(400);
    expect(encoded.width).toBeGreaterThanOrEqual(150);
    // What DashScope and ModelScope are held to.
    for (const model of DASHSCOPE_MODELS) expect(model.input.maxBytes).toBe(10 * 1000 * 1000);
  });
});
