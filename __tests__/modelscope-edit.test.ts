/**
 * `edit` through ModelScope against the fake: the picture goes in `image_url` as a data URI on the generation
 * endpoint, the task is polled as a generation, and the result finishes as a loom image. Also the choice of
 * edit provider, the edit models and their limits, numeric task ids, batches with a journal, and a submit that
 * is never answered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveConfig } from '../src/config/resolve.js';
import { findStyle, styleInstruction } from '../src/config/styles.js';
import { dashscope } from '../src/providers/dashscope/index.js';
import { modelscope } from '../src/providers/modelscope/index.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { editProvider } from '../src/jobs/providers.js';
import { runTask } from '../src/jobs/task.js';
import { encodeRgbPng } from '../src/formats/png.js';
import { sizeRange } from '../src/providers/modelscope/request.js';
import { fitSides } from '../src/providers/shared/size.js';
import { rgbImage } from './helpers/images.js';
import type { FakeProviders, RecordedRequest } from './helpers/fake-providers.js';
import { MODELSCOPE_KEY, fakeEnv, providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDirsPerTest, writtenIn } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SUBMIT = '/v1/images/generations';
const NO_DASHSCOPE = { DASHSCOPE_API_KEY: '', TONGYI_API_KEY: '' };

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());
afterEach(() => {
  fake.requests = [];
  fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
  fake.modelscopeSubmitReplies = [];
  fake.modelscopeNumericTaskIds = false;
  fake.pollFaults = undefined;
  fake.hang = {};
  fake.releaseAll();
});

const setup = tempDirsPerTest();

function spec(extra: Partial<EditSpec> = {}): EditSpec {
  return {
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    provider: 'modelscope',
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...extra,
  };
}

async function edit(
  extra: Partial<EditSpec> = {},
  env: Record<string, string> = {},
  config: Record<string, unknown> = {},
) {
  const dir = setup();
  const h = providerHarness(fake, dir, env, config);
  const error = await runEdit(spec(extra), h.resolved, h.services).then(
    () => undefined,
    (err: unknown) => err as Error & Record<string, unknown>,
  );
  expect(JSON.stringify([h.rec.lines, h.rec.results, error?.message])).not.toContain(MODELSCOPE_KEY);
  return { ...h, dir, error };
}

const submits = (): RecordedRequest[] => fake.requests.filter((r) => r.method === 'POST' && r.path === SUBMIT);

/** The size of the picture a submit carried, from its PNG header (the fake checked that the data is base64). */
function sentPicture(request: RecordedRequest): { width: number; height: number } {
  const body = request.body as { image_url: string[] };
  const uri = /^data:image\/png;base64,(.+)$/.exec(body.image_url[0]);
  expect(uri).not.toBeNull();
  const png = Buffer.from(uri![1], 'base64');
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** A plain picture of this size, as a PNG file. */
function pictureFile(dir: string, width: number, height: number): string {
  const file = path.join(dir, `p-${width}x${height}.png`);
  writeFileSync(file, encodeRgbPng(rgbImage(width, height, (x) => (x % 64 < 32 ? [51, 102, 153] : [200, 180, 40]))));
  return file;
}

describe('edit --provider modelscope', () => {
  it('sends the picture as a data URI in image_url, polls as a generation, and finishes the loom image', async () => {
    const { error, rec, dir } = await edit();
    expect(error).toBeUndefined();
    const [submit] = submits();
    expect(submits()).toHaveLength(1);
    expect(submit.headers.authorization).toBe(`Bearer ${MODELSCOPE_KEY}`);
    expect(submit.headers['x-modelscope-async-mode']).toBe('true');
    const body = submit.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['image_url', 'model', 'prompt']);
    expect(body.model).toBe('Qwen/Qwen-Image-Edit-2509');
    // The style's wording for ModelScope, which says what to keep (there is no strength).
    expect(body.prompt).toMatch(/^Turn this picture into a flat jacquard weaving design\. Keep the subject/);
    expect(body.image_url).toEqual([expect.stringMatching(/^data:image\/png;base64,/)]);
    expect(sentPicture(submit)).toEqual({ width: 512, height: 600 }); // within 64-1664 px: sent as it is
    const polls = fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks/'));
    expect(polls.length).toBeGreaterThanOrEqual(3);
    for (const poll of polls) expect(poll.headers['x-modelscope-task-type']).toBe('image_generation');
    expect(rec.results).toEqual([
      expect.objectContaining({
        status: 'ok',
        source: 'modelscope',
        provider: 'modelscope',
        model: 'Qwen/Qwen-Image-Edit-2509',
        taskId: expect.stringMatching(/^ms-task-/),
        requestId: expect.stringMatching(/^req-/),
        width: 32,
        colors: expect.any(Number),
      }),
    ]);
    expect(writtenIn(dir).sort()).toEqual(['grace-hopper.loom.json', 'grace-hopper.loom.png']);
    const report = JSON.parse(readFileSync(path.join(dir, 'grace-hopper.loom.json'), 'utf8'));
    expect(report.source).toEqual(expect.objectContaining({ kind: 'modelscope' }));
  });

  it('sends the other editing models with -m, and the configured one without', async () => {
    expect((await edit({ model: 'Qwen/Qwen-Image-Edit' })).error).toBeUndefined();
    expect((submits()[0].body as { model: string }).model).toBe('Qwen/Qwen-Image-Edit');
    fake.requests = [];
    const configured = await edit(
      {},
      {},
      {
        providers: { modelscope: { editModel: 'black-forest-labs/FLUX.1-Kontext-dev' } },
      },
    );
    expect(configured.error).toBeUndefined();
    expect((submits()[0].body as { model: string }).model).toBe('black-forest-labs/FLUX.1-Kontext-dev');
    expect(configured.rec.results[0].model).toBe('black-forest-labs/FLUX.1-Kontext-dev');
  });

  it.each([
    ['a text-to-image model', 'Qwen/Qwen-Image'],
    ['a typo', 'Qwen/Qwen-Image-Edit-2059'],
  ])('refuses %s as the edit model (exit 2) before any request, listing the supported ones', async (_, model) => {
    const { error } = await edit({ model });
    expect(error).toMatchObject({
      kind: 'usage',
      message: `ModelScope model "${model}" is not one imagegen can call`,
    });
    expect(error!.hint).toContain(
      'modelscope: Qwen/Qwen-Image-Edit-2509, Qwen/Qwen-Image-Edit-2511, Qwen/Qwen-Image-Edit, black-forest-labs/FLUX.1-Kontext-dev',
    );
    expect(error!.hint).toMatch(/^supported edit models, per provider: dashscope: wanx2\.1-imageedit, /);
    expect(fake.requests).toEqual([]);
  });

  it("refuses DashScope's options (--function, --strength, --expand, --upscale, --sketch) and an instruction of 2000 characters, before any request", async () => {
    for (const instruction of [
      { function: 'expand' },
      { strength: 0.4 },
      { expand: 1.5 },
      { upscale: 2 },
      { sketch: true },
      { prompt: 'x'.repeat(2000) },
    ]) {
      const { error } = await edit({ instruction });
      expect(error).toMatchObject({ kind: 'usage' });
    }
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ['Qwen/Qwen-Image-Edit-2509', 3000, 1200, [1664, 666]],
    ['Qwen/Qwen-Image-Edit', 1000, 1664, [1000, 1664]],
    ['black-forest-labs/FLUX.1-Kontext-dev', 3000, 1200, [1024, 410]],
    ['Qwen/Qwen-Image-Edit-2509', 40, 30, [85, 64]],
    ['Qwen/Qwen-Image-Edit-2509', 2000, 20, undefined],
  ])('fits a picture to %s: %i×%i is sent as %j', (model, width, height, expected) => {
    const fit = fitSides(width, height, ...sizeRange(model));
    expect(fit && [fit.width, fit.height]).toEqual(expected);
  });

  it("sends a picture over the model's sides scaled down, and a small one scaled up", async () => {
    const dir = setup();
    const large = await edit({ model: 'black-forest-labs/FLUX.1-Kontext-dev', inputs: [pictureFile(dir, 1500, 300)] });
    expect(large.error).toBeUndefined();
    expect(sentPicture(submits()[0])).toEqual({ width: 1024, height: 205 });
    fake.requests = [];
    const small = await edit({ inputs: [pictureFile(dir, 40, 30)] });
    expect(small.error).toBeUndefined();
    expect(sentPicture(submits()[0])).toEqual({ width: 85, height: 64 });
  });

  it('refuses a picture too long and thin for any side range, before any request', async () => {
    const input = pictureFile(setup(), 2000, 20);
    const { error } = await edit({ inputs: [input] });
    expect(error).toMatchObject({ kind: 'failure', message: expect.stringMatching(/cannot be brought within/) });
    expect(fake.requests).toEqual([]);
  });

  it('takes a task id given as a number, polls it and finishes', async () => {
    fake.modelscopeNumericTaskIds = true;
    const { error, rec } = await edit();
    expect(error).toBeUndefined();
    const taskId = rec.results[0].taskId as string;
    expect(taskId).toMatch(/^\d+$/);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === `/v1/tasks/${taskId}`)).toBe(true);
  });

  it('finishes although polls are answered 429 and 500 now and then', async () => {
    fake.modelscopeSteps = ['PENDING', 'PENDING', 'PROCESSING', 'PROCESSING', 'SUCCEED'];
    fake.pollFaults = {
      every: 2,
      replies: [
        { status: 429, body: { errors: { message: 'Too many requests, please try again later.' } } },
        { status: 500, body: { errors: { message: 'Server is busy, please try again later' } } },
      ],
    };
    const { error, rec } = await edit();
    expect(error).toBeUndefined();
    expect(rec.results[0].source).toBe('modelscope');
    const polls = fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks/'));
    expect(polls.length).toBeGreaterThanOrEqual(9); // five statuses, with a fault after each
    expect(submits()).toHaveLength(1);
  });

  it('says a submit left unanswered may have made a task, with the request id sent, and never sends it again', async () => {
    fake.hang = { submits: 1 };
    // The submit's own timeout is cut to the polling deadline.
    const polling = { intervalMs: 100, maxIntervalMs: 100, timeoutMs: 1500 };
    const strict = await edit({}, {}, { polling, retry: { retries: 3, minTimeoutMs: 1 } });
    expect(submits()).toHaveLength(1);
    expect(fake.tasksCreated).toBeGreaterThanOrEqual(1);
    const sentId = submits()[0].headers['x-request-id'];
    expect(sentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(strict.error).toMatchObject({
      kind: 'network',
      code: 'SubmitUnanswered',
      provider: 'modelscope',
      requestId: sentId,
    });
    expect(strict.error!.message).toMatch(/ModelScope submit: .*timed out; a task may have been created \(request id /);
    expect(strict.error!.hint).toMatch(/does not submit it again/);
    expect(writtenIn(strict.dir)).toEqual([]);

    // With fallback the picture is finished locally, and the record keeps what happened.
    fake.requests = [];
    fake.hang = { submits: 1 };
    const fell = await edit({ fallback: true }, {}, { polling });
    expect(fell.error).toBeUndefined();
    expect(submits()).toHaveLength(1);
    expect(fell.rec.results[0]).toEqual(
      expect.objectContaining({
        source: 'local-fallback',
        remoteError: expect.objectContaining({
          code: 'SubmitUnanswered',
          requestId: submits()[0].headers['x-request-id'],
        }),
      }),
    );
  }, 20_000);

  it('prints the planned requests for --dry-run and sends nothing', async () => {
    const { error, rec } = await edit({ dryRun: true, instruction: { seed: 7 } });
    expect(error).toBeUndefined();
    expect(fake.requests).toEqual([]);
    const [submit, poll] = rec.data as Array<{
      url: string;
      headers: Record<string, string>;
      body?: Record<string, unknown>;
    }>;
    expect(submit.url).toBe(`${fake.url}${SUBMIT}`);
    expect(submit.headers['X-ModelScope-Async-Mode']).toBe('true');
    expect(submit.body).toEqual({
      model: 'Qwen/Qwen-Image-Edit-2509',
      prompt: expect.any(String),
      image_url: [expect.stringMatching(/^data:image\/png;base64,.{20,}… \(\d+ characters\)$/)],
      seed: 7,
    });
    expect(poll.headers['X-ModelScope-Task-Type']).toBe('image_generation');
  });
});

describe('styles: one instruction per provider where the wording must differ', () => {
  const styles = (data: unknown) => resolveConfig({ file: { path: 'rc', data: { styles: data } }, env: {} });

  it('gives DashScope its function and strength and ModelScope its own wording, without them', () => {
    const loom = findStyle('loom');
    expect(styleInstruction(loom, dashscope)).toEqual({
      function: 'description_edit',
      strength: 0.6,
      prompt: expect.stringMatching(/^Redraw this picture as a flat jacquard/),
    });
    expect(styleInstruction(loom, modelscope)).toEqual({
      prompt: expect.stringMatching(/^Turn this picture into a flat jacquard weaving design\. Keep/),
    });
  });

  it('takes styles.<name>.prompts.<provider> from the config; a new common prompt replaces the built-in wordings', () => {
    const r = styles({
      loom: { prompts: { modelscope: 'Weave it; keep the cat.' } },
      poster: { prompt: 'Make a poster.' },
      mine: { prompt: 'Mine.', prompts: { dashscope: 'Mine, for DashScope.', gemini: 'x' } },
    });
    expect(styleInstruction(findStyle('loom', r.config.styles), modelscope).prompt).toBe('Weave it; keep the cat.');
    expect(styleInstruction(findStyle('poster', r.config.styles), modelscope).prompt).toBe('Make a poster.');
    expect(styleInstruction(findStyle('mine', r.config.styles), modelscope).prompt).toBe('Mine.');
    expect(styleInstruction(findStyle('mine', r.config.styles), dashscope).prompt).toBe('Mine, for DashScope.');
    expect(r.warnings).toEqual([expect.stringContaining('unknown key styles.mine.prompts.gemini')]);
    expect(() => styles({ loom: { prompts: { modelscope: 3 } } })).toThrow(/styles\.loom\.prompts\.modelscope/);
    expect(() => styles({ loom: { prompts: 'x' } })).toThrow(/styles\.loom\.prompts/);
  });

  it('sends the configured ModelScope wording of a style', async () => {
    const { error } = await edit(
      { style: 'silhouette' },
      {},
      {
        styles: { silhouette: { prompts: { modelscope: 'Black shape, white ground.' } } },
      },
    );
    expect(error).toBeUndefined();
    expect((submits()[0].body as { prompt: string }).prompt).toBe('Black shape, white ground.');
  });
});

describe('which provider edit uses', () => {
  const resolved = (env: Record<string, string>, data: Record<string, unknown> = {}) =>
    resolveConfig({ file: { path: '/p/.imagegenrc.json', data }, env: fakeEnv(fake, env) });

  it('DashScope first when both have a key; the only one with a key otherwise; the named one over both', () => {
    expect(editProvider(resolved({}))).toMatchObject({
      provider: { id: 'dashscope' },
      keyed: true,
      reason: 'the first with a key, in the order dashscope, modelscope',
    });
    expect(editProvider(resolved(NO_DASHSCOPE)).provider.id).toBe('modelscope');
    expect(editProvider(resolved({}, { edit: { provider: 'modelscope' } }))).toMatchObject({
      provider: { id: 'modelscope' },
      reason: 'named by edit.provider (/p/.imagegenrc.json)',
    });
    expect(editProvider(resolved({}, { edit: { provider: 'modelscope' } }), 'dashscope')).toMatchObject({
      provider: { id: 'dashscope' },
      reason: 'named by --provider',
    });
    expect(editProvider(resolved({ ...NO_DASHSCOPE, MODELSCOPE_API_KEY: '' }))).toMatchObject({
      provider: { id: 'dashscope' },
      keyed: false,
      reason: 'none of dashscope, modelscope has a key',
    });
  });

  it('edits on ModelScope without --provider when only ModelScope has a key', async () => {
    const { error, rec } = await edit({ provider: undefined }, NO_DASHSCOPE);
    expect(error).toBeUndefined();
    expect(submits()).toHaveLength(1);
    expect(rec.results[0].source).toBe('modelscope');
  });
});

describe('ModelScope edits in a batch, with a journal, and `imagegen task`', () => {
  it('runs a batch one task at a time, writes it down, and a resumed run sends nothing', async () => {
    const dir = setup();
    const inputs = path.join(dir, 'in');
    mkdirSync(inputs);
    for (const name of ['a.png', 'b.png', 'c.png']) copyFileSync(pictureFile(dir, 80, 60), path.join(inputs, name));
    const journal = path.join(dir, 'j.ndjson');
    fake.limits = true;
    fake.resetStats();
    try {
      const first = providerHarness(fake, dir);
      await runEdit(spec({ inputs: [inputs], journal, report: false }), first.resolved, first.services);
      expect(first.rec.results.map((r) => [r.status, r.source])).toEqual([
        ['ok', 'modelscope'],
        ['ok', 'modelscope'],
        ['ok', 'modelscope'],
      ]);
      expect(fake.stats.modelscope.accepted).toHaveLength(3);
      expect(fake.stats.modelscope.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 0 });
      const submitted = readFileSync(journal, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((e) => e.event === 'submitted');
      expect(submitted).toEqual(
        Array(3).fill(expect.objectContaining({ provider: 'modelscope', model: 'Qwen/Qwen-Image-Edit-2509' })),
      );
      fake.requests = [];
      const again = providerHarness(fake, dir);
      await runEdit(spec({ inputs: [inputs], journal, resume: true, report: false }), again.resolved, again.services);
      expect(fake.requests).toEqual([]);
      expect(again.rec.results.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    } finally {
      fake.limits = false;
    }
  });

  it('re-attaches to a ModelScope task left running by an interrupt, by its (numeric) id', async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    fake.modelscopeNumericTaskIds = true;
    fake.modelscopeSteps = ['RUNNING', 'RUNNING', 'RUNNING', 'SUCCEED'];
    const first = providerHarness(fake, dir);
    const http = first.services.http;
    first.services.http = {
      ...http,
      request: async (req) => {
        const res = await http.request(req);
        if (req.method === 'GET') first.controller.abort();
        return res;
      },
    };
    await expect(runEdit(spec({ journal }), first.resolved, first.services)).rejects.toMatchObject({
      kind: 'interrupted',
    });
    const taskId = readFileSync(journal, 'utf8').match(/"taskId":"(\d+)"/)?.[1];
    expect(taskId).toBeDefined();
    fake.requests = [];
    const again = providerHarness(fake, dir);
    await runEdit(spec({ journal, resume: true }), again.resolved, again.services);
    expect(submits()).toHaveLength(0);
    expect(again.rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId, source: 'modelscope' })]);
  });

  it('`task wait modelscope:<id>` finishes an edit task submitted earlier', async () => {
    fake.modelscopeNumericTaskIds = true;
    const res = await fetch(`${fake.url}${SUBMIT}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${MODELSCOPE_KEY}`,
        'Content-Type': 'application/json',
        'X-ModelScope-Async-Mode': 'true',
      },
      body: JSON.stringify({
        model: 'Qwen/Qwen-Image-Edit-2509',
        prompt: 'flat',
        image_url: ['https://example.com/a.png'],
      }),
    });
    const { task_id } = (await res.json()) as { task_id: number };
    expect(typeof task_id).toBe('number');
    const dir = setup();
    const h = providerHarness(fake, dir);
    await runTask(
      { action: 'wait', ref: `modelscope:${task_id}`, style: 'loom', force: false, report: true },
      h.resolved,
      h.services,
    );
    expect(h.rec.results).toEqual([
      expect.objectContaining({ status: 'ok', source: 'modelscope', taskId: String(task_id) }),
    ]);
  });
});
