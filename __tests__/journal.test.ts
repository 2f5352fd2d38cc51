/**
 * The journal: every paid step is on the disk before the batch goes on; --resume skips what is done,
 * re-attaches to tasks still running (never submitting them again), and a rerun of a finished batch sends
 * nothing. The kill -9 case runs the built binary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { NetworkError } from '../src/kernel/errors.js';
import type { HttpClient } from '../src/kernel/ports.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import { Journal } from '../src/jobs/journal.js';
import { nodeFs } from '../src/cli/services.js';
import { Redactor } from '../src/kernel/redact.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { fakeEnv, providerHarness, startFake } from './helpers/provider-setup.js';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';

function events(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function folderOf(dir: string, n: number): string {
  const inputs = path.join(dir, 'in');
  mkdirSync(inputs);
  for (let i = 1; i <= n; i++) copyFileSync(SAMPLE, path.join(inputs, `p${i}.jpg`));
  return inputs;
}

describe('Journal', () => {
  const setup = tempDirsPerTest();
  const services = (now = () => Date.parse('2026-11-25T10:00:00Z')) => ({
    fs: nodeFs,
    now,
    redactor: new Redactor(['sk-journal-secret-1234']),
  });

  it('appends one line per event, keys masked, and reads back what each item needs', async () => {
    const file = path.join(setup(), 'j.ndjson');
    const journal = await Journal.open(file, false, services());
    await journal.append({ event: 'queued', item: 'a' });
    await journal.append({ event: 'submitted', item: 'a', provider: 'dashscope', model: 'm', taskId: 't1' });
    await journal.append({
      event: 'failed',
      item: 'b',
      error: { kind: 'failure', message: 'Bearer sk-journal-secret-1234 was refused' },
    });
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(3);
    expect(text).not.toContain('sk-journal-secret-1234');
    await journal.close();
    const again = await Journal.open(file, true, services());
    expect(again.pendingTask('a', 'dashscope')).toEqual({ taskId: 't1' });
    expect(again.pendingTask('a', 'modelscope')).toBeUndefined();
    expect(again.pendingTask('b', 'dashscope')).toBeUndefined();
    await again.close();
    // A day later the provider has dropped the task: the item is submitted anew.
    const later = await Journal.open(
      file,
      true,
      services(() => Date.parse('2026-11-26T10:00:01Z')),
    );
    expect(later.pendingTask('a', 'dashscope')).toBeUndefined();
  });

  it('keeps an interrupted task to re-attach to, but not a canceled or failed one', async () => {
    const file = path.join(setup(), 'j.ndjson');
    const journal = await Journal.open(file, false, services());
    for (const item of ['running', 'canceled', 'failed']) {
      await journal.append({ event: 'submitted', item, provider: 'dashscope', model: 'm', taskId: `t-${item}` });
    }
    await journal.append({ event: 'failed', item: 'running', error: { kind: 'interrupted', message: 'x' } });
    await journal.append({
      event: 'failed',
      item: 'canceled',
      error: { kind: 'interrupted', message: 'x', code: 'TaskCanceled' },
    });
    await journal.append({ event: 'failed', item: 'failed', error: { kind: 'network', message: 'x' } });
    await journal.close();
    const again = await Journal.open(file, true, services());
    expect(again.pendingTask('running', 'dashscope')).toEqual({ taskId: 't-running' });
    expect(again.pendingTask('canceled', 'dashscope')).toBeUndefined();
    expect(again.pendingTask('failed', 'dashscope')).toBeUndefined();
  });

  it('takes a last line cut short by a crash, and refuses a file that is not a journal', async () => {
    const dir = setup();
    const cut = path.join(dir, 'cut.ndjson');
    writeFileSync(
      cut,
      '{"event":"submitted","item":"a","provider":"p","model":"m","taskId":"t","at":"2026-11-25T09:00:00Z"}\n{"event":"fini',
    );
    expect((await Journal.open(cut, true, services())).pendingTask('a', 'p')).toEqual({ taskId: 't' });
    const other = path.join(dir, 'notes.txt');
    writeFileSync(other, 'hello\nworld\n');
    await expect(Journal.open(other, true, services())).rejects.toThrow(`${other}:1: not a journal line`);
  });
});

/** Every submit reaches the fake, which makes the task, but its answer is lost on the way back. */
function loseSubmitAnswers(services: { http: HttpClient }): void {
  const http = services.http;
  services.http = {
    ...http,
    request: async (req) => {
      const res = await http.request(req);
      if (req.method === 'POST') throw new NetworkError('dashscope timed out', { code: 'ETIMEDOUT' });
      return res;
    },
  };
}

describe('edit --journal against the fake DashScope', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.releaseAll();
    // Each test's lost submits are looked for among its own tasks only.
    fake.clearTasks();
  });

  const spec = (inputs: string[], journal: string, extra: Partial<EditSpec> = {}): EditSpec => ({
    inputs,
    style: 'loom',
    local: false,
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    journal,
    ...extra,
  });

  it('writes submits and results down, and a rerun with --resume sends nothing and writes nothing', async () => {
    const dir = setup();
    const inputs = folderOf(dir, 3);
    const journal = path.join(dir, 'j.ndjson');
    const first = providerHarness(fake, dir);
    await runEdit(spec([inputs], journal), first.resolved, first.services);
    expect(fake.count('POST', SUBMIT)).toBe(3);
    const written = events(journal);
    expect(written.filter((e) => e.event === 'submitted')).toHaveLength(3);
    for (const e of written.filter((e) => e.event === 'finished')) {
      expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(e.output as string)).toBe(true);
    }
    const files = readdirSync(dir).sort();

    fake.requests = [];
    const again = providerHarness(fake, dir);
    await runEdit(spec([inputs], journal, { resume: true }), again.resolved, again.services);
    expect(fake.requests).toEqual([]);
    expect(again.rec.results.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(again.rec.summaries).toEqual([expect.objectContaining({ skipped: 3, ok: 0, failed: 0 })]);
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it('runs an item again when its output was changed or removed', async () => {
    const dir = setup();
    const inputs = folderOf(dir, 2);
    const journal = path.join(dir, 'j.ndjson');
    const first = providerHarness(fake, dir);
    await runEdit(spec([inputs], journal), first.resolved, first.services);
    const outputs = events(journal)
      .filter((e) => e.event === 'finished')
      .map((e) => e.output as string);
    writeFileSync(outputs[0], 'changed by hand');
    fake.requests = [];
    const again = providerHarness(fake, dir);
    await runEdit(spec([inputs], journal, { resume: true }), again.resolved, again.services);
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(again.rec.results.map((r) => r.status).sort()).toEqual(['ok', 'skipped']);
  });

  it('re-attaches to a task left running by an interrupt: polls it by id and never submits it again', async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    fake.dashscopeSteps = ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
    const first = providerHarness(fake, dir);
    let polls = 0;
    const http = first.services.http;
    first.services.http = {
      ...http,
      request: async (req) => {
        const res = await http.request(req);
        if (req.method === 'GET' && ++polls === 2) first.controller.abort();
        return res;
      },
    };
    await expect(runEdit(spec([SAMPLE], journal), first.resolved, first.services)).rejects.toMatchObject({
      kind: 'interrupted',
    });
    const taskId = events(journal).find((e) => e.event === 'submitted')?.taskId as string;
    expect(taskId).toMatch(/^ds-task-/);

    fake.requests = [];
    const again = providerHarness(fake, dir);
    await runEdit(spec([SAMPLE], journal, { resume: true }), again.resolved, again.services);
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === `/api/v1/tasks/${taskId}`)).toBe(true);
    expect(again.rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId, source: 'dashscope' })]);
  });

  it('an item whose submit got no answer is looked for in the task list and re-attached to, never resent', async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    const first = providerHarness(fake, dir);
    first.services.now = () => Date.now();
    loseSubmitAnswers(first.services);
    await expect(runEdit(spec([SAMPLE], journal), first.resolved, first.services)).rejects.toMatchObject({
      code: 'SubmitUnanswered',
    });
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(events(journal).map((e) => e.event)).toEqual(['queued', 'submitting', 'failed']);
    const made = fake.stats.dashscope.accepted.at(-1)!.taskId;

    fake.requests = [];
    const again = providerHarness(fake, dir);
    again.services.now = () => Date.now();
    await runEdit(spec([SAMPLE], journal, { resume: true }), again.resolved, again.services);
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(fake.requests.filter((r) => r.path === '/api/v1/tasks')).toHaveLength(1);
    expect(again.rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId: made })]);
    expect(again.rec.lines.info.join('\n')).toContain(`made task ${made}`);
    expect(events(journal).find((e) => e.event === 'lookup')).toMatchObject({
      decision: 'attach',
      taskId: made,
      model: 'wanx2.1-imageedit',
      zone: 'assumed UTC+08:00 or UTC+00:00',
    });
  });

  it('writes down a submit that was refused, so that a later interrupt does not hold the item back', async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    const first = providerHarness(fake, dir);
    const http = first.services.http;
    let posts = 0;
    // The first submit gets a 500 (no task), the retry goes through.
    first.services.http = {
      ...http,
      request: async (req) =>
        req.method === 'POST' && ++posts === 1
          ? { status: 500, headers: {}, body: '{"code":"InternalError","message":"busy"}' }
          : http.request(req),
    };
    await runEdit(spec([SAMPLE], journal), first.resolved, first.services);
    expect(events(journal).map((e) => e.event)).toEqual([
      'queued',
      'submitting',
      'refused',
      'submitting',
      'submitted',
      'finished',
    ]);
    // Had the run been interrupted after the refusal, the item would run again on --resume.
    const item = `edit:${SAMPLE}`;
    const at = new Date().toISOString();
    const other = path.join(dir, 'k.ndjson');
    writeFileSync(
      other,
      [
        { event: 'queued', item, at },
        { event: 'submitting', item, provider: 'dashscope', model: 'wanx2.1-imageedit', at },
        { event: 'refused', item, provider: 'dashscope', at },
        { event: 'failed', item, error: { kind: 'interrupted', message: 'interrupted' }, at },
      ]
        .map((e) => JSON.stringify(e) + '\n')
        .join(''),
    );
    fake.requests = [];
    const again = providerHarness(fake, dir);
    await runEdit(spec([SAMPLE], other, { resume: true, force: true }), again.resolved, again.services);
    expect(fake.count('POST', SUBMIT)).toBe(1);
  });

  it("journals qwen-image-edit's one paid call as a submit, and never sends it again once unanswered", async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    const first = providerHarness(fake, dir);
    loseSubmitAnswers(first.services);
    const model = { model: 'qwen-image-edit' };
    await expect(runEdit(spec([SAMPLE], journal, model), first.resolved, first.services)).rejects.toMatchObject({
      code: 'SubmitUnanswered',
    });
    expect(events(journal).map((e) => e.event)).toEqual(['queued', 'submitting', 'failed']);
    fake.requests = [];
    const again = providerHarness(fake, dir);
    await expect(
      runEdit(spec([SAMPLE], journal, { ...model, resume: true }), again.resolved, again.services),
    ).rejects.toMatchObject({ code: 'SubmitUnanswered' });
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('does not submit again after a run that ended while its submit was under way', async () => {
    const dir = setup();
    const journal = path.join(dir, 'j.ndjson');
    const item = `edit:${SAMPLE}`;
    const at = new Date().toISOString();
    writeFileSync(
      journal,
      [
        { event: 'queued', item, at },
        { event: 'submitting', item, provider: 'dashscope', model: 'wanx2.1-imageedit', at },
      ]
        .map((e) => JSON.stringify(e) + '\n')
        .join(''),
    );
    const h = providerHarness(fake, dir);
    await expect(runEdit(spec([SAMPLE], journal, { resume: true }), h.resolved, h.services)).rejects.toMatchObject({
      code: 'SubmitUnanswered',
    });
    expect(fake.count('POST', SUBMIT)).toBe(0);
    // A submit that was answered, even with a refusal, may be sent again.
    writeFileSync(
      journal,
      JSON.stringify({
        event: 'failed',
        item,
        error: { kind: 'usage', message: 'refused', provider: 'dashscope', status: 400 },
        at,
      }) + '\n',
      { flag: 'a' },
    );
    const later = providerHarness(fake, dir);
    await runEdit(spec([SAMPLE], journal, { resume: true }), later.resolved, later.services);
    expect(fake.count('POST', SUBMIT)).toBe(1);
  });

  it('--resume without --journal in a local run, which keeps no journal, is a usage error', async () => {
    const dir = setup();
    const h = providerHarness(fake, dir);
    const local = { journal: undefined, resume: true, local: true, fallback: true };
    await expect(runEdit(spec([SAMPLE], '', local), h.resolved, h.services)).rejects.toMatchObject({
      kind: 'usage',
      message: '--resume needs --journal FILE',
    });
    expect(existsSync(path.join(dir, '.imagegen'))).toBe(false);
  });
});

/** Every file below `dir`, with its size, as `relative/path:size`. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return `${path.relative(dir, file)}:${readFileSync(file).length}`;
    })
    .sort();
}

describe('every run that calls a provider remembers what it paid for', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  });

  const spec = (inputs: string[], extra: Partial<EditSpec> = {}): EditSpec => ({
    inputs,
    style: 'loom',
    local: false,
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...extra,
  });
  const outDir = (dir: string) => ({ output: { dir: path.join(dir, 'woven') } });
  const run = async (dir: string, inputs: string[], extra: Partial<EditSpec> = {}) => {
    const h = providerHarness(fake, dir, {}, outDir(dir));
    await runEdit(spec(inputs, extra), h.resolved, h.services);
    return h;
  };

  it('a plain rerun of a batch sends nothing, writes nothing, and says each item was skipped', async () => {
    const dir = setup();
    const inputs = folderOf(dir, 3);
    await run(dir, [inputs]);
    expect(fake.count('POST', SUBMIT)).toBe(3);
    const journal = path.join(dir, 'woven', '.imagegen', 'journal.jsonl');
    expect(events(journal).filter((e) => e.event === 'finished')).toHaveLength(3);
    for (const e of events(journal)) expect(e.key).toMatch(/^[0-9a-f]{64}$/);
    const before = tree(dir);

    fake.requests = [];
    const again = await run(dir, [inputs]);
    expect(fake.requests).toEqual([]);
    expect(tree(dir)).toEqual(before);
    expect(again.rec.results.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(again.rec.summaries).toEqual([expect.objectContaining({ skipped: 3, ok: 0, failed: 0 })]);
    expect(
      again.rec.lines.info.filter((l) => /: skipped, done in an earlier run \(woven\/p\d\.loom\.png/.test(l)),
    ).toHaveLength(3);
  });

  it('a changed input, or a changed option, runs again; --again pays for every item anew', async () => {
    const dir = setup();
    const inputs = folderOf(dir, 3);
    await run(dir, [inputs]);
    expect(fake.count('POST', SUBMIT)).toBe(3);

    // Other bytes in one file: that item only.
    const flipped = (await Jimp.read(SAMPLE)).flip({ horizontal: true, vertical: false });
    writeFileSync(path.join(inputs, 'p2.jpg'), await flipped.getBuffer('image/jpeg'));
    fake.requests = [];
    const changed = await run(dir, [inputs]);
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(changed.rec.results.find((r) => r.status === 'ok')?.input).toBe(path.join(inputs, 'p2.jpg'));

    // Another instruction: every item.
    fake.requests = [];
    await run(dir, [inputs], { instruction: { strength: 0.3 } });
    expect(fake.count('POST', SUBMIT)).toBe(3);

    fake.requests = [];
    const again = await run(dir, [inputs], { instruction: { strength: 0.3 }, again: true });
    expect(fake.count('POST', SUBMIT)).toBe(3);
    expect(again.rec.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    // And that is remembered too: the same command again sends nothing.
    fake.requests = [];
    await run(dir, [inputs], { instruction: { strength: 0.3 } });
    expect(fake.requests).toEqual([]);
  });

  it('a plain rerun re-attaches to a task an interrupt left running: polled by id, never submitted again', async () => {
    const dir = setup();
    fake.dashscopeSteps = ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
    const first = providerHarness(fake, dir, {}, outDir(dir));
    let polls = 0;
    const http = first.services.http;
    first.services.http = {
      ...http,
      request: async (req) => {
        const res = await http.request(req);
        if (req.method === 'GET' && ++polls === 2) first.controller.abort();
        return res;
      },
    };
    await expect(runEdit(spec([SAMPLE]), first.resolved, first.services)).rejects.toMatchObject({
      kind: 'interrupted',
      hint: expect.stringMatching(/^run the same command again: it skips what is done and re-attaches/),
    });
    const taskId = events(path.join(dir, 'woven', '.imagegen', 'journal.jsonl')).find((e) => e.event === 'submitted')
      ?.taskId as string;
    expect(first.rec.lines.warn).toContain(
      `${SAMPLE}: its dashscope task may still finish; fetch it with: imagegen task wait dashscope:${taskId}`,
    );
    expect(first.rec.results).toEqual([
      expect.objectContaining({ status: 'interrupted', error: expect.objectContaining({ taskId }) }),
    ]);

    fake.requests = [];
    const again = await run(dir, [SAMPLE]);
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === `/api/v1/tasks/${taskId}`)).toBe(true);
    expect(again.rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId, source: 'dashscope' })]);
  });

  it('generate: a rerun of a prompts file sends nothing, even for a line with its own output; another seed runs again', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'p.txt'), 'a red fox\n{"prompt":"tulips","output":"tulips.png"}\n');
    const gen = async (extra: Partial<GenerateSpec> = {}) => {
      const h = providerHarness(fake, dir, {}, outDir(dir));
      const generateSpec: GenerateSpec = {
        promptsFile: 'p.txt',
        options: {},
        style: 'loom',
        keepOriginal: false,
        force: false,
        report: true,
        dryRun: false,
        ...extra,
      };
      await runGenerate(generateSpec, h.resolved, h.services);
      return h;
    };
    const posts = () => fake.requests.filter((r) => r.method === 'POST').length;
    await gen();
    expect(posts()).toBe(2);
    const before = tree(dir);

    fake.requests = [];
    const again = await gen();
    expect(fake.requests).toEqual([]);
    expect(tree(dir)).toEqual(before);
    expect(again.rec.results.map((r) => r.status)).toEqual(['skipped', 'skipped']);

    // Another seed: both again (the line's own output is then replaced only with --force, as ever).
    fake.requests = [];
    await gen({ options: { seed: '7' }, force: true });
    expect(posts()).toBe(2);
  });

  it('an item the provider failed, finished locally instead, is sent again by a rerun', async () => {
    const dir = setup();
    fake.dashscopeSteps = [{ status: 'FAILED', code: 'InternalError', message: 'the model crashed' }];
    const first = await run(dir, [SAMPLE], { fallback: true });
    expect(first.rec.results).toEqual([expect.objectContaining({ status: 'ok', source: 'local-fallback' })]);
    fake.dashscopeSteps = ['SUCCEEDED'];
    fake.requests = [];
    const again = await run(dir, [SAMPLE], { fallback: true });
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(again.rec.results).toEqual([expect.objectContaining({ status: 'ok', source: 'dashscope' })]);
  });

  it('a local run keeps no journal unless asked', async () => {
    const dir = setup();
    await run(dir, [SAMPLE], { local: true, fallback: true });
    expect(existsSync(path.join(dir, 'woven', '.imagegen'))).toBe(false);
  });

  it('refuses a journal folder that is a symbolic link, before anything is sent', async () => {
    const dir = setup();
    mkdirSync(path.join(dir, 'woven'));
    mkdirSync(path.join(dir, 'elsewhere'));
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'woven', '.imagegen'));
    const h = providerHarness(fake, dir, {}, outDir(dir));
    await expect(runEdit(spec([SAMPLE]), h.resolved, h.services)).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('is a symbolic link'),
    });
    expect(fake.requests).toEqual([]);
    expect(readdirSync(path.join(dir, 'elsewhere'))).toEqual([]);
  });
});

describe('a submit left unanswered, looked for in the task list on --resume', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    fake.requests = [];
    fake.clearTasks();
  });
  const MODEL = 'wanx2.1-imageedit';
  const item = `edit:${SAMPLE}`;
  // Three hours ago: well clear of anything else the fake holds, and within its 24 hours.
  const from = () => Date.now() - 3 * 3600_000;
  const iso = (ms: number) => new Date(ms).toISOString();

  /** A journal whose run's submit at `at` got no answer (given up on 10 s later), and other events before. */
  function lostJournal(dir: string, at: number, before: Array<Record<string, unknown>> = []): string {
    const file = path.join(dir, 'j.ndjson');
    const lines = [
      ...before,
      { event: 'queued', item, at: iso(at) },
      { event: 'submitting', item, provider: 'dashscope', model: MODEL, at: iso(at) },
      {
        event: 'failed',
        item,
        error: {
          kind: 'network',
          message: 'timed out',
          provider: 'dashscope',
          code: 'SubmitUnanswered',
          requestId: 'req-lost',
        },
        at: iso(at + 10_000),
      },
    ];
    writeFileSync(file, lines.map((e) => JSON.stringify(e) + '\n').join(''));
    return file;
  }

  const resume = async (dir: string, journal: string, now = () => Date.now()) => {
    const h = providerHarness(fake, dir);
    h.services.now = now;
    const error = await runEdit(
      {
        inputs: [SAMPLE],
        style: 'loom',
        local: false,
        fallback: false,
        dryRun: false,
        force: true,
        report: true,
        instruction: {},
        journal,
        resume: true,
      },
      h.resolved,
      h.services,
    ).then(
      () => undefined,
      (err: unknown) => err as Error & Record<string, unknown>,
    );
    return { ...h, error };
  };
  const lookups = (file: string) => events(file).filter((e) => e.event === 'lookup');
  const listRequests = () => fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/tasks');

  it('one task of the model in its time, not owned by another item: re-attached to, nothing submitted', async () => {
    const dir = setup();
    const at = from();
    const other = fake.addDashscopeTask(MODEL, at + 1000);
    const mine = fake.addDashscopeTask(MODEL, at + 3000);
    fake.addDashscopeTask('wan2.5-i2i-preview', at + 3000);
    // The other task belongs to another picture of the same journal.
    const journal = lostJournal(dir, at, [
      { event: 'queued', item: 'edit:/elsewhere.jpg', at: iso(at) },
      { event: 'submitting', item: 'edit:/elsewhere.jpg', provider: 'dashscope', model: MODEL, at: iso(at) },
      {
        event: 'submitted',
        item: 'edit:/elsewhere.jpg',
        provider: 'dashscope',
        model: MODEL,
        taskId: other,
        at: iso(at + 1500),
      },
    ]);
    const { error, rec } = await resume(dir, journal);
    expect(error).toBeUndefined();
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId: mine })]);
    expect(lookups(journal)).toEqual([
      expect.objectContaining({
        decision: 'attach',
        taskId: mine,
        from: iso(at),
        to: iso(at + 10_000),
        // The other item's task, listed, gives the service's clock away.
        zone: "UTC+08:00, from the journal's own tasks",
      }),
    ]);
    // A later --resume re-attaches by the recorded id, without listing again.
    fake.requests = [];
    const later = await resume(dir, journal);
    expect(later.error).toBeUndefined();
    expect(listRequests()).toHaveLength(0);
    expect(fake.count('POST', SUBMIT)).toBe(0);
  });

  it('none: not submitted again while the submit may still make a task, then submitted once', async () => {
    const dir = setup();
    const at = from();
    // A task of the model, but an hour after the submit: not its.
    fake.addDashscopeTask(MODEL, at + 3600_000);
    const journal = lostJournal(dir, at);
    // Our clock says the submit was a moment ago.
    const early = await resume(dir, journal, () => at + 30_000);
    expect(early.error).toMatchObject({ kind: 'network', code: 'SubmitUnanswered', requestId: 'req-lost' });
    expect(early.error?.message).toMatch(
      /^not submitted again yet: no task of wanx2\.1-imageedit made between .* is listed, but the submit left unanswered \(request id req-lost\) may still make one$/,
    );
    expect(early.error?.hint).toBe(
      `run again with --resume after ${iso(at + 130_000)
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`,
    );
    expect(fake.count('POST', SUBMIT)).toBe(0);

    const late = await resume(dir, journal);
    expect(late.error).toBeUndefined();
    expect(fake.count('POST', SUBMIT)).toBe(1);
    expect(late.rec.results).toEqual([expect.objectContaining({ status: 'ok', source: 'dashscope' })]);
    expect(late.rec.lines.info.join('\n')).toMatch(/no task of wanx2\.1-imageedit was made .* submitting it again/);
    expect(lookups(journal).map((e) => e.decision)).toEqual(['wait', 'resubmit']);
  });

  it('several: stops the item and lists them, submitting nothing', async () => {
    const dir = setup();
    const at = from();
    const a = fake.addDashscopeTask(MODEL, at + 2000, 'SUCCEEDED');
    const b = fake.addDashscopeTask(MODEL, at + 4000, 'FAILED');
    const journal = lostJournal(dir, at);
    const { error } = await resume(dir, journal);
    expect(error).toMatchObject({ kind: 'failure', code: 'SubmitAmbiguous', provider: 'dashscope' });
    expect(error?.message).toContain(`2 tasks of wanx2.1-imageedit were made between`);
    expect(error?.message).toContain(`${b} (FAILED, `);
    expect(error?.message).toContain(`${a} (SUCCEEDED, `);
    expect(error?.hint).toMatch(/imagegen task wait dashscope:<id>/);
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(lookups(journal)).toEqual([
      expect.objectContaining({ decision: 'ambiguous', candidates: expect.arrayContaining([a, b]) }),
    ]);
    // It stays undecided: the next --resume looks again, and still sends nothing.
    fake.requests = [];
    const again = await resume(dir, journal);
    expect(again.error).toMatchObject({ code: 'SubmitAmbiguous' });
    expect(fake.count('POST', SUBMIT)).toBe(0);
  });

  it('reads every page of the list', async () => {
    const dir = setup();
    const at = from();
    // 150 tasks of the model made after the submit, newest first in the list: its task is on page 2.
    for (let i = 0; i < 150; i++) fake.addDashscopeTask(MODEL, at + 3600_000 + i * 1000);
    const mine = fake.addDashscopeTask(MODEL, at + 5000);
    const journal = lostJournal(dir, at);
    const { error, rec } = await resume(dir, journal);
    expect(error).toBeUndefined();
    expect(listRequests()).toHaveLength(2);
    expect(rec.results).toEqual([expect.objectContaining({ status: 'ok', taskId: mine })]);
  });
});

describe('a batch killed with -9, then resumed', () => {
  const setup = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());

  it('submits each item exactly once in all, and ends with every output', async () => {
    const dir = setup();
    folderOf(dir, 4);
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ polling: { intervalMs: 50, maxIntervalMs: 100, timeoutMs: 20_000 }, loom: { width: 40 } }),
    );
    fake.limits = true;
    fake.taskDurationMs = 1500;
    const env = { PATH: process.env.PATH ?? '', HOME: dir, ...fakeEnv(fake) };
    const args = [BIN, 'edit', 'in', '--journal', 'j.ndjson', '--out-dir', 'out', '--no-fallback'];
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it as soon as two tasks are paid for and on the disk.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const journal = path.join(dir, 'j.ndjson');
      // The journal is being written: count whole lines only.
      const submitted = existsSync(journal)
        ? readFileSync(journal, 'utf8')
            .split('\n')
            .filter((line) => line.endsWith('}') && line.includes('"event":"submitted"')).length
        : 0;
      if (submitted >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const paidBeforeKill = fake.stats.dashscope.accepted.length;
    expect(paidBeforeKill).toBeGreaterThanOrEqual(2);
    expect(existsSync(path.join(dir, 'out')) ? readdirSync(path.join(dir, 'out')) : []).toEqual([]);

    const resumed = await runCli(['edit', 'in', '--journal', 'j.ndjson', '--resume', '--out-dir', 'out', '--json'], {
      cwd: dir,
      env: fakeEnv(fake),
    });
    expect(resumed.code).toBe(0);
    expect(fake.stats.dashscope.accepted).toHaveLength(4);
    expect(fake.stats.dashscope.refused).toEqual({ rate: 0, inFlight: 0, dailyQuota: 0 });
    expect(readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.png'))).toHaveLength(4);
    fake.limits = false;
    fake.taskDurationMs = undefined;
  }, 40_000);
});
