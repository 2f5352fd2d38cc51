/**
 * Answers that mean money (a bill overdue, a model not bought, a free quota spent, a balance used up) stop at
 * once with exit 4: one request, no retry, no fallback, and the provider's items not yet started are skipped.
 * A task that failed because of its own input is exit 2, without fallback, and the other items go on.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import type { FakeProviders, Reply } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ASYNC = '/api/v1/services/aigc/image2image/image-synthesis';
const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';
const MS_SUBMIT = '/v1/images/generations';

// A fake of its own for each test: no connection kept alive from an earlier test is reused (one the fake
// closes just as it is taken would be reset, and the submit on it unanswered).
let fake: FakeProviders;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(async () => fake.close());
const setup = tempDirsPerTest();

const reply = (status: number, code: string, message: string): Reply => ({ status, body: { code, message } });

const BILLING: Array<[string, Reply, RegExp]> = [
  [
    'CommodityNotPurchased',
    reply(429, 'CommodityNotPurchased', 'Commodity has not purchased yet.'),
    /not purchased.*buy or activate it in the console/,
  ],
  [
    'PrepaidBillOverdue',
    reply(429, 'PrepaidBillOverdue', 'The prepaid bill is overdue.'),
    /overdue prepaid bill: pay it/,
  ],
  [
    'PostpaidBillOverdue',
    reply(429, 'PostpaidBillOverdue', 'The postpaid bill is overdue.'),
    /overdue postpaid bill: pay it/,
  ],
  [
    'Throttling.AllocationQuota (free quota spent)',
    reply(429, 'Throttling.AllocationQuota', 'Free allocated quota exceeded.'),
    /free quota of this model is spent.*use another model/,
  ],
  [
    'AllocationQuota.FreeTierOnly',
    reply(
      403,
      'AllocationQuota.FreeTierOnly',
      'The free tier of the model has been exhausted. If you wish to continue access the model on a paid basis, please disable the "use free tier only" mode in the management console.',
    ),
    /turn off "use free tier only" in the console/,
  ],
];

function editSpec(inputs: string[], extra: Partial<EditSpec> = {}): EditSpec {
  return {
    inputs,
    style: 'loom',
    local: false,
    // Fallback allowed: these errors must still not fall back.
    fallback: true,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...extra,
  };
}

/** One task at a time, so that a batch's second submit waits for the first one's answer. */
const ONE_AT_A_TIME = { providers: { dashscope: { limits: { tasksInFlight: 1, submitsPerSecond: 2 } } } };

async function edit(inputs: string[], extra: Partial<EditSpec> = {}) {
  const dir = setup();
  const h = providerHarness(fake, dir, {}, ONE_AT_A_TIME);
  const error = await runEdit(editSpec(inputs, extra), h.resolved, h.services).then(
    () => undefined,
    (err: unknown) => err as Error & Record<string, unknown>,
  );
  return { ...h, error, dir };
}

function folderOf(n: number): string {
  const dir = path.join(setup(), 'in');
  mkdirSync(dir);
  for (let i = 1; i <= n; i++) copyFileSync(SAMPLE, path.join(dir, `p${i}.jpg`));
  return dir;
}

describe('DashScope answers that mean money', () => {
  it.each(BILLING)('%s: exit 4 with its hint, one request, no retry and no fallback', async (_name, answer, hint) => {
    fake.dashscopeSubmitReplies = [answer];
    const { error, rec, slept } = await edit([SAMPLE]);
    expect(error).toMatchObject({ kind: 'quota', provider: 'dashscope', code: (answer.body as { code: string }).code });
    expect(exitCodeFor(error)).toBe(4);
    expect(error!.hint).toMatch(hint);
    expect(fake.count('POST', ASYNC)).toBe(1);
    expect(fake.count('GET', '/api/v1/tasks')).toBe(0);
    expect(slept).toEqual([]);
    expect(rec.results).toEqual([expect.objectContaining({ status: 'error', source: null, output: null })]);
    expect(rec.lines.warn.join('\n')).not.toMatch(/retrying|local pipeline/);
  });

  it('the same on the synchronous qwen-image-edit call', async () => {
    fake.dashscopeSubmitReplies = [BILLING[0][1]];
    const { error } = await edit([SAMPLE], { model: 'qwen-image-edit-plus' });
    expect(error).toMatchObject({ kind: 'quota', code: 'CommodityNotPurchased' });
    expect(fake.count('POST', SYNC)).toBe(1);
  });

  it('the per-minute Throttling.AllocationQuota is still waited out', async () => {
    fake.dashscopeSubmitReplies = [
      reply(429, 'Throttling.AllocationQuota', 'Allocated quota exceeded, please increase your quota limit.'),
    ];
    const { error } = await edit([SAMPLE]);
    expect(error).toBeUndefined();
    expect(fake.count('POST', ASYNC)).toBe(2);
  });

  it.each(BILLING.map(([name, answer]) => [name, answer] as const))(
    '%s in a batch: one submit in all, the other pictures skipped, exit 4',
    async (_name, answer) => {
      fake.dashscopeSubmitReplies = [answer];
      const { error, rec } = await edit([folderOf(3)]);
      expect(error).toMatchObject({ kind: 'quota', code: (answer.body as { code: string }).code });
      expect(exitCodeFor(error)).toBe(4);
      expect(fake.count('POST', ASYNC)).toBe(1);
      expect(rec.results.map((r) => r.status).sort()).toEqual(['error', 'skipped', 'skipped']);
      const skipped = rec.results.filter((r) => r.status === 'skipped');
      for (const r of skipped) expect(r.error?.message).toMatch(/^not attempted: DashScope HTTP/);
      expect(rec.summaries).toEqual([expect.objectContaining({ total: 3, ok: 0, failed: 1, skipped: 2 })]);
    },
  );
});

describe('a task that failed because of its input', () => {
  const INPUT_FAULT = {
    status: 'FAILED' as const,
    code: 'InternalError.Algo.InvalidParameter',
    message: 'Failed to download multimodal content',
  };

  it('is exit 2 naming the input as the cause, with no fallback and no second submit', async () => {
    fake.dashscopeSteps = ['PENDING', INPUT_FAULT];
    const { error, rec } = await edit([SAMPLE]);
    expect(error).toMatchObject({
      kind: 'usage',
      code: 'InternalError.Algo.InvalidParameter',
      taskId: expect.any(String),
    });
    expect(exitCodeFor(error)).toBe(2);
    expect(error!.hint).toMatch(/could not use this item's input/);
    expect(fake.count('POST', ASYNC)).toBe(1);
    expect(rec.results).toEqual([expect.objectContaining({ status: 'error', source: null, output: null })]);
  });

  it('in a batch fails its own item only: the others are finished', async () => {
    fake.dashscopeTaskSteps = [['PENDING', INPUT_FAULT]];
    const { error, rec } = await edit([folderOf(3)]);
    expect(rec.results.map((r) => r.status).sort()).toEqual(['error', 'ok', 'ok']);
    expect(fake.count('POST', ASYNC)).toBe(3);
    expect(error).toMatchObject({ kind: 'partial' });
    expect(exitCodeFor(error)).toBe(8);
    expect(rec.results.find((r) => r.status === 'error')?.error).toMatchObject({
      kind: 'usage',
      code: 'InternalError.Algo.InvalidParameter',
    });
  });
});

describe('ModelScope: a balance used up', () => {
  const BALANCE: Reply = {
    status: 429,
    body: { errors: { message: 'Request failed: insufficient balance, please recharge your account.' } },
  };
  const spec = (extra: Partial<GenerateSpec>): GenerateSpec => ({
    options: {},
    keepOriginal: false,
    force: false,
    report: true,
    dryRun: false,
    ...extra,
  });

  it('stops at once with exit 4: one submit, no retry', async () => {
    fake.modelscopeSubmitReplies = [BALANCE];
    const dir = setup();
    const h = providerHarness(fake, dir);
    const error = await runGenerate(spec({ prompt: 'a fox' }), h.resolved, h.services).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'quota', provider: 'modelscope', status: 429 });
    expect(exitCodeFor(error)).toBe(4);
    expect((error as { hint: string }).hint).toMatch(/balance is used up; top it up/);
    expect(fake.count('POST', MS_SUBMIT)).toBe(1);
    expect(h.slept).toEqual([]);
  });

  it("skips the provider's prompts not yet started, as a used-up daily allowance does", async () => {
    fake.modelscopeSubmitReplies = [BALANCE];
    const dir = setup();
    writeFileSync(path.join(dir, 'p.txt'), 'one\ntwo\nthree\nfour\n');
    const h = providerHarness(fake, dir);
    const error = await runGenerate(spec({ promptsFile: 'p.txt' }), h.resolved, h.services).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'quota' });
    expect(exitCodeFor(error)).toBe(4);
    expect(fake.count('POST', MS_SUBMIT)).toBe(1);
    expect(h.rec.results.map((r) => r.status).sort()).toEqual(['error', 'skipped', 'skipped', 'skipped']);
    expect(h.rec.summaries).toEqual([expect.objectContaining({ total: 4, ok: 0, failed: 1, skipped: 3 })]);
  });
});
