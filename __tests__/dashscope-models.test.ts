import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Jimp } from 'jimp';
import { resolveConfig } from '../src/config/resolve.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { DASHSCOPE_REGIONS } from '../src/providers/dashscope/models.js';
import { secureResultUrl } from '../src/providers/dashscope/request.js';
import { regionOfUrl } from '../src/providers/shared/regions.js';
import { DASHSCOPE_ALLOCATION_QUOTA, type FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, fakeEnv, providerHarness, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { testServices } from './helpers/services.js';
import { tempDir, writtenIn } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ASYNC = '/api/v1/services/aigc/image2image/image-synthesis';
const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

let cleanup = () => {};
afterEach(() => {
  cleanup();
  fake.requests = [];
  fake.dashscopeSubmitReplies = [];
  fake.dashscopeSyncDelayMs = 0;
});

async function edit(request: Partial<EditSpec> = {}, harness = providerHarness) {
  const t = tempDir();
  cleanup = t.cleanup;
  const h = harness(fake, t.dir);
  const spec: EditSpec = {
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...request,
  };
  const error = await runEdit(spec, h.resolved, h.services).then(
    () => undefined,
    (err: unknown) => err as Error & Record<string, unknown>,
  );
  expect(JSON.stringify([h.rec.lines, h.rec.results, h.rec.data])).not.toContain(DASHSCOPE_KEY);
  return { ...h, error, dir: t.dir };
}

async function sentSize(dataUri: string): Promise<[number, number]> {
  const picture = await Jimp.fromBuffer(Buffer.from(dataUri.split(',')[1], 'base64'));
  return [picture.bitmap.width, picture.bitmap.height];
}

describe('DashScope model families', () => {
  it('wan2.5-i2i-preview: input.images, no function, n 1, and the loom image finished', async () => {
    const { error, rec, dir } = await edit({ model: 'wan2.5-i2i-preview' });
    expect(error).toBeUndefined();
    const submit = fake.requests.find((r) => r.path === ASYNC)!;
    expect(submit.headers['x-dashscope-async']).toBe('enable');
    const body = submit.body as { model: string; input: Record<string, unknown>; parameters: Record<string, unknown> };
    expect(body.model).toBe('wan2.5-i2i-preview');
    expect(Object.keys(body.input).sort()).toEqual(['images', 'prompt']);
    expect(body.input.images).toHaveLength(1);
    expect((body.input.images as string[])[0]).toMatch(/^data:image\/png;base64,/);
    // prompt_extend is on unless sent false: the instruction goes as written.
    expect(body.parameters).toEqual({ n: 1, watermark: false, prompt_extend: false });
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(3);
    expect(rec.results[0]).toEqual(
      expect.objectContaining({ status: 'ok', source: 'dashscope', model: 'wan2.5-i2i-preview' }),
    );
    expect(writtenIn(dir).sort()).toEqual(['grace-hopper.loom.json', 'grace-hopper.loom.png']);
  });

  it('wan2.5-i2i-preview: a small picture is brought up to its own 384 px minimum', async () => {
    const t = tempDir();
    const small = path.join(t.dir, 'small.png');
    await new Jimp({ width: 100, height: 80, color: 0x336699ff }).write(small as `${string}.png`);
    const { error } = await edit({ model: 'wan2.5-i2i-preview', inputs: [small] });
    t.cleanup();
    expect(error).toBeUndefined();
    const body = fake.requests.find((r) => r.path === ASYNC)!.body as { input: { images: string[] } };
    expect(await sentSize(body.input.images[0])).toEqual([480, 384]);
  });

  it('the fake refuses a wan2.5 body with four images or n 5, as documented', async () => {
    const small = (await new Jimp({ width: 400, height: 400, color: 0xffffffff }).getBuffer('image/png')).toString(
      'base64',
    );
    const image = `data:image/png;base64,${small}`;
    const post = (input: unknown, parameters: unknown) =>
      fetch(fake.url + ASYNC, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${DASHSCOPE_KEY}`,
          'Content-Type': 'application/json',
          'X-DashScope-Async': 'enable',
        },
        body: JSON.stringify({ model: 'wan2.5-i2i-preview', input, parameters }),
      }).then((r) => r.status);
    expect(await post({ prompt: 'x', images: [image, image, image, image] }, { n: 1 })).toBe(400);
    expect(await post({ prompt: 'x', images: [image] }, { n: 5 })).toBe(400);
    expect(await post({ prompt: 'x', images: [image] }, { n: 1 })).toBe(200);
  });

  it('qwen-image-edit: one synchronous call without the async header, then the loom image', async () => {
    const { error, rec, dir } = await edit({ model: 'qwen-image-edit', instruction: { seed: 7 } });
    expect(error).toBeUndefined();
    expect(fake.count('POST', ASYNC)).toBe(0);
    expect(fake.count('GET', '/api/v1/tasks/')).toBe(0);
    const call = fake.requests.find((r) => r.path === SYNC)!;
    expect(call.headers['x-dashscope-async']).toBeUndefined();
    expect(call.headers.authorization).toBe(`Bearer ${DASHSCOPE_KEY}`);
    const body = call.body as {
      model: string;
      input: { messages: Array<{ role: string; content: Array<Record<string, string>> }> };
      parameters: Record<string, unknown>;
    };
    expect(body.model).toBe('qwen-image-edit');
    expect(body.input.messages).toHaveLength(1);
    expect(body.input.messages[0].role).toBe('user');
    const [image, text] = body.input.messages[0].content;
    expect(image.image).toMatch(/^data:image\/png;base64,/);
    expect(text.text).toContain('jacquard');
    expect(body.parameters).toEqual({ n: 1, watermark: false, seed: 7 });
    expect(fake.count('GET', '/results/sync-')).toBe(1);
    expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', source: 'dashscope' }));
    expect(rec.results[0].taskId).toBeUndefined();
    expect(writtenIn(dir).sort()).toEqual(['grace-hopper.loom.json', 'grace-hopper.loom.png']);
  });

  it('qwen-image-edit-plus snapshots go the same way; the fake refuses the async header there with 403', async () => {
    const { error } = await edit({ model: 'qwen-image-edit-plus-2025-10-30' });
    expect(error).toBeUndefined();
    expect((fake.requests.find((r) => r.path === SYNC)!.body as { model: string }).model).toBe(
      'qwen-image-edit-plus-2025-10-30',
    );
    const refused = await fetch(fake.url + SYNC, {
      method: 'POST',
      headers: { Authorization: `Bearer ${DASHSCOPE_KEY}`, 'X-DashScope-Async': 'enable' },
      body: JSON.stringify(fake.requests.find((r) => r.path === SYNC)!.body),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('AccessDenied');
  });

  it('qwen-image-edit: Ctrl-C aborts the call in progress', async () => {
    fake.dashscopeSyncDelayMs = 20_000;
    const t = tempDir();
    cleanup = t.cleanup;
    const h = providerHarness(fake, t.dir);
    const started = Date.now();
    // Aborted once the call has reached the service and waits for its answer.
    const watch = setInterval(() => {
      if (fake.count('POST', SYNC) === 0) return;
      clearInterval(watch);
      h.controller.abort();
    }, 20);
    const error = await runEdit(
      {
        inputs: [SAMPLE],
        style: 'loom',
        local: false,
        fallback: true,
        dryRun: false,
        force: false,
        report: true,
        instruction: {},
        model: 'qwen-image-edit',
      },
      h.resolved,
      h.services,
    ).then(
      () => undefined,
      (err: unknown) => err as { kind: string },
    );
    clearInterval(watch);
    expect(error).toMatchObject({ kind: 'interrupted' });
    expect(fake.count('POST', SYNC)).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(writtenIn(t.dir)).toEqual([]);
  });

  it('an unknown model is refused before anything is sent, listing the supported ones', async () => {
    const { error } = await edit({ model: 'wanx-v1' });
    expect(error).toMatchObject({ kind: 'usage' });
    expect(error!.message).toBe('DashScope model "wanx-v1" is not one imagegen can call');
    expect(error!.hint).toContain('dashscope: wanx2.1-imageedit, wan2.5-i2i-preview, wan2.6-image, qwen-image-edit');
    expect(fake.requests).toEqual([]);
  });

  it('options a model does not take are refused: --expand with qwen-image-edit', async () => {
    const { error } = await edit({ model: 'qwen-image-edit', instruction: { expand: 1.5 } });
    expect(error).toMatchObject({ kind: 'usage' });
    expect(error!.message).toContain('--expand is a wanx2.1-imageedit option');
    expect(fake.requests).toEqual([]);
  });

  it('--function and --strength typed for a model without functions are refused, not dropped', async () => {
    for (const instruction of [{ function: 'stylization_all' }, { strength: 0.5 }]) {
      const { error } = await edit({ model: 'qwen-image-edit', instruction });
      expect(error).toMatchObject({ kind: 'usage' });
      expect(error!.message).toMatch(/^--(function|strength) is a wanx2.1-imageedit option; qwen-image-edit has/);
    }
    expect(fake.requests).toEqual([]);
  });
});

describe('wanx2.1-imageedit function parameters', () => {
  async function parametersFor(instruction: EditSpec['instruction']) {
    const { error } = await edit({ instruction });
    expect(error).toBeUndefined();
    const body = fake.requests.find((r) => r.path === ASYNC)!.body as {
      input: { function: string };
      parameters: Record<string, unknown>;
    };
    fake.requests = [];
    return { fn: body.input.function, parameters: body.parameters };
  }

  it('expand sends all four scales; --expand alone implies the function', async () => {
    expect(await parametersFor({ expand: 1.8 })).toEqual({
      fn: 'expand',
      parameters: { n: 1, top_scale: 1.8, bottom_scale: 1.8, left_scale: 1.8, right_scale: 1.8, watermark: false },
    });
  });

  it('super_resolution sends upscale_factor', async () => {
    expect(await parametersFor({ function: 'super_resolution', upscale: 3 })).toEqual({
      fn: 'super_resolution',
      parameters: { n: 1, upscale_factor: 3, watermark: false },
    });
  });

  it('doodle sends is_sketch: false for a picture, true with --sketch', async () => {
    expect((await parametersFor({ function: 'doodle' })).parameters).toEqual({
      n: 1,
      is_sketch: false,
      watermark: false,
    });
    expect((await parametersFor({ sketch: true })).parameters).toEqual({ n: 1, is_sketch: true, watermark: false });
  });

  it('refuses --expand outside 1-2 and --upscale with another function', async () => {
    expect((await edit({ instruction: { expand: 2.5 } })).error).toMatchObject({ kind: 'usage' });
    const mismatch = await edit({ instruction: { function: 'colorization', upscale: 2 } });
    expect(mismatch.error!.message).toBe('--upscale goes with --function super_resolution, not colorization');
    expect(fake.requests).toEqual([]);
  });
});

describe('quotas and result URLs', () => {
  it('Throttling.AllocationQuota once: waits through the shared cool-down, then succeeds', async () => {
    fake.dashscopeSubmitReplies = [DASHSCOPE_ALLOCATION_QUOTA];
    const { error, rec, slept } = await edit();
    expect(error).toBeUndefined();
    expect(fake.count('POST', ASYNC)).toBe(2);
    expect(slept[0]).toBe(20_000);
    expect(rec.lines.warn.join('\n')).toMatch(
      /Throttling\.AllocationQuota.*retrying in 20\.0 s, and every other submit waits/,
    );
    expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', source: 'dashscope' }));
  });

  it('Throttling.AllocationQuota on the synchronous call is waited out the same way', async () => {
    fake.dashscopeSubmitReplies = [DASHSCOPE_ALLOCATION_QUOTA];
    const { error, slept } = await edit({ model: 'qwen-image-edit-max' });
    expect(error).toBeUndefined();
    expect(fake.count('POST', SYNC)).toBe(2);
    expect(slept[0]).toBe(20_000);
  });

  it('a rejected key: the hint says a key works only in its own region', async () => {
    const { error } = await edit({}, (f, cwd) =>
      providerHarness(f, cwd, { DASHSCOPE_API_KEY: 'sk-test-other-region-1' }),
    );
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
    expect(error!.hint).toContain('a key works only in its own region and gets 401 in any other');
    expect(error!.hint).toContain('providers.dashscope.region');
  });

  it('Arrearage still stops at once', async () => {
    fake.dashscopeSubmitReplies = [
      {
        status: 400,
        body: { code: 'Arrearage', message: 'Access denied, plesase make sure your account is in good standing.' },
      },
    ];
    const { error } = await edit();
    expect(error).toMatchObject({ kind: 'quota' });
    expect(fake.count('POST', ASYNC)).toBe(1);
  });

  it('an http:// result URL on aliyuncs.com is fetched over https; others are left alone', () => {
    expect(secureResultUrl('http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/a.png?Expires=1')).toBe(
      'https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/a.png?Expires=1',
    );
    expect(secureResultUrl('http://example.com/a.png')).toBe('http://example.com/a.png');
    expect(secureResultUrl('http://aliyuncs.com.example.com/a.png')).toBe('http://aliyuncs.com.example.com/a.png');
  });
});

describe('regions', () => {
  function resolved(data: unknown, env: Record<string, string> = {}) {
    return resolveConfig({ file: { path: 'rc', data }, env });
  }

  it('region picks the documented host; an explicit baseUrl wins; a trailing /api/v1 is dropped', () => {
    expect(resolved({}).config.providers.dashscope.baseUrl).toBe('https://dashscope.aliyuncs.com');
    const sg = resolved({ providers: { dashscope: { region: 'singapore' } } });
    expect(sg.config.providers.dashscope.baseUrl).toBe('https://dashscope-intl.aliyuncs.com');
    expect(sg.sources['providers.dashscope.baseUrl']).toEqual({ kind: 'file', path: 'rc' });
    expect(resolved({ providers: { dashscope: { region: 'virginia' } } }).config.providers.dashscope.baseUrl).toBe(
      'https://dashscope-us.aliyuncs.com',
    );
    const explicit = resolved(
      { providers: { dashscope: { region: 'singapore' } } },
      { IMAGEGEN_DASHSCOPE_BASE_URL: 'https://dashscope.aliyuncs.com/api/v1/' },
    );
    expect(explicit.config.providers.dashscope.baseUrl).toBe('https://dashscope.aliyuncs.com');
    expect(() => resolved({ providers: { dashscope: { region: 'mars' } } })).toThrow(/region/);
  });

  it('knows the workspace domains of every listed region, Germany (Frankfurt) included', () => {
    const regionOf = (url: string) => regionOfUrl(DASHSCOPE_REGIONS, url)?.label;
    expect(regionOf('https://ws-a1b2c3.cn-beijing.maas.aliyuncs.com')).toBe('China (Beijing)');
    expect(regionOf('https://ws-a1b2c3.ap-southeast-1.maas.aliyuncs.com/api/v1')).toBe('Singapore');
    expect(regionOf('https://llm-x9.us-east-1.maas.aliyuncs.com')).toBe('US (Virginia)');
    expect(regionOf('https://ws-a1b2c3.cn-hongkong.maas.aliyuncs.com')).toBe('China (Hong Kong)');
    expect(regionOf('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com')).toBe('Germany (Frankfurt)');
    expect(regionOf('https://trial.eu-central-1.maas.aliyuncs.com')).toBe('Germany (Frankfurt)');
    // Not over https on the default port, a region not listed, or a look-alike: no region.
    expect(regionOf('http://ws-a1b2c3.eu-central-1.maas.aliyuncs.com')).toBeUndefined();
    expect(regionOf('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com:8443')).toBeUndefined();
    expect(regionOf('https://ws-a1b2c3.ap-northeast-1.maas.aliyuncs.com')).toBeUndefined();
    expect(regionOf('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com.example.com')).toBeUndefined();
    expect(regionOf('https://eu-central-1.maas.aliyuncs.com')).toBeUndefined();
  });

  it('region frankfurt has no shared host: it needs the workspace domain as baseUrl', () => {
    expect(() => resolved({ providers: { dashscope: { region: 'frankfurt' } } })).toThrow(
      "rc: providers.dashscope.region: Germany (Frankfurt) has no shared DashScope host: set providers.dashscope.baseUrl to your workspace's domain, https://<workspace id>.eu-central-1.maas.aliyuncs.com",
    );
    const ws = resolved({
      providers: {
        dashscope: { region: 'frankfurt', baseUrl: 'https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com/api/v1' },
      },
    });
    expect(ws.config.providers.dashscope.baseUrl).toBe('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com');
  });

  it('region singapore: --dry-run shows the intl host; wanx2.1-imageedit there is warned of', async () => {
    const harness = (f: FakeProviders, cwd: string) => {
      const env = fakeEnv(f);
      delete (env as Record<string, string | undefined>).IMAGEGEN_DASHSCOPE_BASE_URL;
      const h = testServices(cwd);
      return {
        resolved: resolveConfig({
          file: { path: 'rc', data: { providers: { dashscope: { region: 'singapore' } } } },
          env,
        }),
        ...h,
      };
    };
    const wan = await edit({ model: 'wan2.5-i2i-preview', dryRun: true }, harness);
    expect(wan.error).toBeUndefined();
    expect((wan.rec.data[0] as { url: string }).url).toBe(`https://dashscope-intl.aliyuncs.com${ASYNC}`);
    expect(wan.rec.lines.warn.join('\n')).not.toContain('documented only for');
    // Three pictures planned: one warning for the run, not one a picture.
    const copies = mkdtempSync(path.join(tmpdir(), 'imagegen-three-'));
    const three = [1, 2, 3].map((n) => path.join(copies, `p${n}.jpg`));
    for (const file of three) copyFileSync(SAMPLE, file);
    const wanx = await edit({ dryRun: true, inputs: three }, harness);
    rmSync(copies, { recursive: true, force: true });
    expect((wanx.rec.data[0] as { url: string }).url).toBe(`https://dashscope-intl.aliyuncs.com${ASYNC}`);
    expect(wanx.rec.data).toHaveLength(6); // a submit and a poll for each
    expect(wanx.rec.lines.warn.filter((l) => l.includes('documented only for'))).toEqual([
      expect.stringContaining('wanx2.1-imageedit is documented only for China (Beijing), not Singapore'),
    ]);
    expect(fake.requests).toEqual([]);
  });
});

describe('the binary', () => {
  function rcDir(data: unknown) {
    const t = tempDir();
    cleanup = t.cleanup;
    writeFileSync(path.join(t.dir, '.imagegenrc.json'), JSON.stringify(data));
    return t.dir;
  }

  it('an unknown -m exits 2 before any request', async () => {
    const cwd = rcDir({});
    const r = await runCli(['edit', SAMPLE, '-m', 'qwen-image-edit-turbo'], { cwd, env: fakeEnv(fake) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DashScope model "qwen-image-edit-turbo" is not one imagegen can call');
    expect(r.stderr).toContain('wan2.5-i2i-preview');
    expect(fake.requests).toEqual([]);
    expect(writtenIn(cwd)).toEqual(['.imagegenrc.json']);
  });

  it('region singapore: --dry-run prints the intl host', async () => {
    const cwd = rcDir({ providers: { dashscope: { region: 'singapore' } } });
    const env = fakeEnv(fake);
    delete (env as Record<string, string | undefined>).IMAGEGEN_DASHSCOPE_BASE_URL;
    const r = await runCli(['edit', SAMPLE, '-m', 'qwen-image-edit-plus', '--dry-run'], { cwd, env });
    expect(r.code).toBe(0);
    const planned = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { url: string; headers: Record<string, string> });
    expect(planned).toHaveLength(1);
    expect(planned[0].url).toBe(`https://dashscope-intl.aliyuncs.com${SYNC}`);
    expect(planned[0].headers['X-DashScope-Async']).toBeUndefined();
    expect(fake.requests).toEqual([]);
  });

  it('imagegen styles lists each DashScope model with what it does and its limits', async () => {
    const r = await runCli(['styles'], { cwd: rcDir({}) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('DashScope models (-m, or providers.dashscope.model)');
    expect(r.stdout).toMatch(
      /wan2\.5-i2i-preview {2}instruction edit keeping the subject.*\n {2}input sides 384-5000 px/,
    );
    expect(r.stdout).toMatch(/qwen-image-edit-max .*\n {2}input sides 384-3072 px.*at most 800 characters/);
  });
});
