/**
 * `generate --prompts`: the file's two forms, per-line fields over the command line's defaults, every line
 * checked before anything is sent, and a daily-quota 429 that skips the prompts not yet started.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import { parsePrompts } from '../src/jobs/prompts.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDirsPerTest } from './helpers/tmp.js';

describe('parsePrompts', () => {
  it('reads plain lines, skipping blanks and # comments', () => {
    expect(parsePrompts('# my list\na red fox\n\n  tulips in rain  \r\n', 'p.txt')).toEqual([
      { line: 2, prompt: 'a red fox' },
      { line: 4, prompt: 'tulips in rain' },
    ]);
  });

  it('reads JSON Lines with per-line fields, numbers allowed for the seed', () => {
    const [line] = parsePrompts('{"prompt":"a fox","seed":7,"size":"512x512","output":"fox.png","style":"loom"}', 'p');
    expect(line).toEqual({ line: 1, prompt: 'a fox', seed: '7', size: '512x512', output: 'fox.png', style: 'loom' });
  });

  it.each([
    ['{"prompt": "a fox",}', 'p.jsonl:1: not valid JSON'],
    ['{"prompt": "a fox", "colour": "red"}', 'p.jsonl:1: unknown field "colour"'],
    ['a fox\n{"seed": 3}', 'p.jsonl:2: "prompt" is missing or empty'],
    ['{"prompt": ["a", "fox"]}', 'p.jsonl:1: "prompt" must be a string'],
    ['# nothing\n\n', 'p.jsonl: has no prompts'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePrompts(text, 'p.jsonl')).toThrow(message);
  });
});

describe('generate --prompts against the fake ModelScope', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests = [];
    fake.dailyQuotaExhausted = false;
    fake.limits = false;
    fake.releaseAll();
  });

  const spec = (promptsFile: string, extra: Partial<GenerateSpec> = {}): GenerateSpec => ({
    promptsFile,
    options: { steps: '20' },
    keepOriginal: false,
    force: false,
    report: true,
    dryRun: false,
    ...extra,
  });
  const submits = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/images/generations');

  it('generates one picture per line, line fields over the command line, one task at a time', async () => {
    const dir = setup();
    fake.limits = true;
    writeFileSync(
      path.join(dir, 'p.txt'),
      'a red fox\n# skipped\n{"prompt":"tulips","seed":42,"output":"tulips.png"}\n{"prompt":"a cat"}\n',
    );
    const h = providerHarness(fake, dir);
    await runGenerate(spec('p.txt'), h.resolved, h.services);
    expect(h.rec.results.map((r) => [r.status, r.prompt, path.basename(r.output ?? '')])).toEqual(
      expect.arrayContaining([
        ['ok', 'a red fox', 'a-red-fox.png'],
        ['ok', 'tulips', 'tulips.png'],
        ['ok', 'a cat', 'a-cat.png'],
      ]),
    );
    const bodies = submits().map((r) => r.body as Record<string, unknown>);
    expect(bodies.map((b) => b.prompt).sort()).toEqual(['a cat', 'a red fox', 'tulips']);
    expect(bodies.find((b) => b.prompt === 'tulips')).toMatchObject({ seed: 42, steps: 20 });
    expect(fake.stats.modelscope.peakInFlight).toBe(1);
    expect(fake.stats.modelscope.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 0 });
    expect(h.rec.summaries).toEqual([expect.objectContaining({ type: 'summary', total: 3, ok: 3, failed: 0 })]);
  });

  it('checks every line before sending anything: a bad seed on line 3 stops the run, naming the line', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'p.txt'), 'a fox\na cat\n{"prompt":"a dog","seed":"-5"}\n');
    const h = providerHarness(fake, dir);
    await expect(runGenerate(spec('p.txt'), h.resolved, h.services)).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/^p\.txt:3: --seed: expected/),
    });
    expect(fake.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual(['p.txt']);
  });

  it('skips the prompts not yet started once the daily quota is used up, and ends with the rate-limit error', async () => {
    const dir = setup();
    fake.dailyQuotaExhausted = true;
    writeFileSync(path.join(dir, 'p.txt'), 'one\ntwo\nthree\nfour\n');
    const h = providerHarness(fake, dir);
    const err = await runGenerate(spec('p.txt'), h.resolved, h.services).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rate-limit' });
    // One submit met the quota; the gate sent no other.
    expect(submits()).toHaveLength(1);
    const statuses = h.rec.results.map((r) => r.status).sort();
    expect(statuses).toEqual(['error', 'skipped', 'skipped', 'skipped']);
    expect(h.rec.results.find((r) => r.status === 'skipped')?.error?.message).toMatch(/^not attempted: ModelScope/);
    expect(h.rec.summaries).toEqual([expect.objectContaining({ total: 4, ok: 0, failed: 1, skipped: 3 })]);
  });
});
