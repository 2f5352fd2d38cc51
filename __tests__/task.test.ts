/**
 * `imagegen task show|wait|cancel`: one task submitted earlier, looked at, waited for and finished through
 * the loom pipeline, or canceled; and the timeout error that names the command.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { runEdit } from '../src/jobs/edit.js';
import { runTask, type TaskSpec } from '../src/jobs/task.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, fakeEnv, providerHarness, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

/** A task at the fake, submitted as DashScope's own console would. */
async function submitTask(): Promise<string> {
  const res = await fetch(`${fake.url}/api/v1/services/aigc/image2image/image-synthesis`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${DASHSCOPE_KEY}`,
      'Content-Type': 'application/json',
      'X-DashScope-Async': 'enable',
    },
    body: JSON.stringify({
      model: 'wanx2.1-imageedit',
      input: { function: 'description_edit', prompt: 'flat', base_image_url: 'https://example.com/a.png' },
      parameters: { n: 1 },
    }),
  });
  const body = (await res.json()) as { output: { task_id: string } };
  return body.output.task_id;
}

describe('imagegen task', () => {
  const setup = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  });
  const spec = (action: TaskSpec['action'], ref: string): TaskSpec => ({
    action,
    ref,
    style: 'loom',
    force: false,
    report: true,
  });

  it('show gives the status without waiting; wait finishes the result as a loom image', async () => {
    const dir = setup();
    const taskId = await submitTask();
    const h = providerHarness(fake, dir);
    await runTask(spec('show', `dashscope:${taskId}`), h.resolved, h.services);
    expect(h.rec.data).toEqual([{ provider: 'dashscope', taskId, status: 'PENDING' }]);
    expect(readdirSync(dir)).toEqual([]);

    await runTask(spec('wait', `dashscope:${taskId}`), h.resolved, h.services);
    expect(fake.count('POST', '/api/v1/services/aigc/image2image/image-synthesis')).toBe(1);
    const [record] = h.rec.results;
    expect(record).toMatchObject({ status: 'ok', taskId, source: 'dashscope', width: 32 });
    // A task id does not say which model made it: the record and the report name none, rather than a guess.
    expect(record.model).toBeUndefined();
    expect(JSON.parse(readFileSync(record.report as string, 'utf8')).source.model).toBeNull();
    const image = await Jimp.read(record.output as string);
    expect(image.bitmap.width).toBe(32);
  });

  it('wait with --weave writes the lift plan and cloth preview beside the image; a bad map sends nothing', async () => {
    const dir = setup();
    const taskId = await submitTask();
    const h = providerHarness(fake, dir);
    const weave = { weave: true, tile: false, invert: false };
    await runTask({ ...spec('wait', `dashscope:${taskId}`), weave }, h.resolved, h.services);
    const [record] = h.rec.results;
    expect(record).toMatchObject({ status: 'ok', taskId });
    const stem = path.basename(record.output as string).replace(/\.png$/, '');
    expect(readdirSync(dir).sort()).toEqual(['cloth.png', 'json', 'lift.bmp', 'png'].map((ext) => `${stem}.${ext}`));
    const lift = await Jimp.read(record.lift as string);
    expect([lift.bitmap.width, lift.bitmap.height]).toEqual([
      32,
      (await Jimp.read(record.output as string)).bitmap.height,
    ]);
    expect(record.cloth).toMatch(/\.cloth\.png$/);

    const other = setup();
    const bad = providerHarness(fake, other, {}, { weave: { map: '0=nosuch' } });
    const polls = fake.count('GET', `/api/v1/tasks/${taskId}`);
    const err = await runTask({ ...spec('wait', `dashscope:${taskId}`), weave }, bad.resolved, bad.services).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ kind: 'usage' });
    expect((err as Error).message).toContain('nosuch');
    expect(fake.count('GET', `/api/v1/tasks/${taskId}`)).toBe(polls);
    expect(readdirSync(other)).toEqual([]);
  });

  it('cancel cancels a queued task; show then says CANCELED as a failure', async () => {
    const dir = setup();
    const taskId = await submitTask();
    const h = providerHarness(fake, dir);
    await runTask(spec('cancel', `dashscope:${taskId}`), h.resolved, h.services);
    expect(fake.canceled).toContain(taskId);
    expect(h.rec.data).toEqual([{ provider: 'dashscope', taskId, canceled: true }]);
    await runTask(spec('show', `dashscope:${taskId}`), h.resolved, h.services);
    expect(h.rec.data[1]).toMatchObject({ status: 'FAILED', error: expect.objectContaining({ code: 'CANCELED' }) });
  });

  it('refuses a reference without a known provider, and ModelScope cancel', async () => {
    const dir = setup();
    const h = providerHarness(fake, dir);
    await expect(runTask(spec('show', 'abc'), h.resolved, h.services)).rejects.toMatchObject({ kind: 'usage' });
    await expect(runTask(spec('show', 'acme:abc'), h.resolved, h.services)).rejects.toMatchObject({ kind: 'usage' });
    await expect(runTask(spec('cancel', 'modelscope:abc'), h.resolved, h.services)).rejects.toMatchObject({
      kind: 'usage',
      message: 'ModelScope tasks cannot be canceled',
    });
  });

  it('never sends the key over plain http to another machine, for show and cancel too', async () => {
    const dir = setup();
    const h = providerHarness(fake, dir, { IMAGEGEN_DASHSCOPE_BASE_URL: 'http://imagegen-test.invalid' });
    for (const action of ['show', 'cancel', 'wait'] as const) {
      await expect(runTask(spec(action, 'dashscope:abc'), h.resolved, h.services)).rejects.toMatchObject({
        kind: 'usage',
        message: expect.stringContaining('would send the key unencrypted'),
      });
    }
    expect(fake.requests).toEqual([]);
  });

  it('a task that outlasts the wait names the command that picks it up', async () => {
    const dir = setup();
    fake.dashscopeSteps = Array.from({ length: 200 }, () => 'RUNNING');
    const h = providerHarness(fake, dir);
    const err = await runEdit(
      {
        inputs: [SAMPLE],
        style: 'loom',
        local: false,
        fallback: false,
        dryRun: false,
        force: false,
        report: true,
        instruction: {},
      },
      h.resolved,
      h.services,
    ).then(
      () => ({}) as Error & { hint?: string; taskId?: string },
      (e: unknown) => e as Error & { hint?: string; taskId?: string },
    );
    expect(err).toMatchObject({ kind: 'network', code: 'WaitTaskTimeout' });
    expect(err.hint).toContain(`imagegen task wait dashscope:${err.taskId}`);
  });

  it('the binary: wait names the result with the whole task id, and says it waits, not that it submitted', async () => {
    const dir = setup();
    const taskId = await submitTask();
    expect(taskId.length).toBeGreaterThan(20);
    const r = await runCli(['task', 'wait', `dashscope:${taskId}`, '--width', '32'], {
      cwd: dir,
      env: fakeEnv(fake),
    });
    expect(r.stderr).not.toContain('submitted');
    expect(r.stderr).toContain(`task ${taskId.slice(0, 8)}: waiting`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(dir, `dashscope-${taskId}.loom.png`));
  });

  it.each([
    ['show', 'modelscope'],
    ['wait', 'modelscope'],
    ['show', 'dashscope'],
    ['wait', 'dashscope'],
  ])('the binary: task %s of a %s task it does not know exits 1, saying so', async (action, provider) => {
    const dir = setup();
    const r = await runCli(['task', action, `${provider}:nosuch-task`, '--json'], { cwd: dir, env: fakeEnv(fake) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UNKNOWN: the task is unknown or has expired');
    expect(r.stderr).toContain('hint: check the task id');
    expect(r.stderr).not.toContain('submitted');
    expect(r.stderr).not.toContain('model or path');
    if (action === 'show') {
      expect(JSON.parse(r.stdout)).toMatchObject({ provider, taskId: 'nosuch-task', status: 'UNKNOWN' });
    } else {
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the binary: wait refuses an -o of a format it does not write before anything is sent', async () => {
    const dir = setup();
    fake.requests = [];
    const r = await runCli(['task', 'wait', 'dashscope:ds-task-1', '-o', 'result.jpg'], {
      cwd: dir,
      env: fakeEnv(fake),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-o result.jpg: the loom image is a .png, .bmp, .tiff or .tif file, not .jpg');
    expect(fake.requests).toEqual([]);
  });

  it('the binary exits 2 for an unknown action', async () => {
    const r = await runCli(['task', 'frob', 'dashscope:abc'], { cwd: setup() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('task: expected show, wait, cancel or find, got "frob"');
  });

  it('the binary exits 2 for show or cancel given options that only wait takes, before anything is sent', async () => {
    const r = await runCli(['task', 'cancel', 'dashscope:abc', '--width', '40', '-o', 'x.png'], {
      cwd: setup(),
      env: fakeEnv(fake),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('task cancel takes no --output, --width: such options are for task wait');
    expect(fake.requests).toEqual([]);
  });
});

describe('imagegen task find', () => {
  const setup = tempDirsPerTest();
  beforeEach(() => fake.clearTasks());
  afterEach(() => {
    fake.requests = [];
    fake.clearTasks();
  });
  const find = (args: string[]) =>
    runCli(['task', 'find', ...args], { cwd: setup(), env: fakeEnv(fake) }).then((r) => {
      expect(r.stdout + r.stderr).not.toContain(DASHSCOPE_KEY);
      return r;
    });

  it('lists the tasks made since a time, of one model: a line each on stdout, a count on stderr', async () => {
    const now = Date.now();
    const a = fake.addDashscopeTask('wanx2.1-imageedit', now - 20 * 60_000, 'SUCCEEDED');
    const b = fake.addDashscopeTask('wanx2.1-imageedit', now - 5 * 60_000, 'RUNNING');
    fake.addDashscopeTask('wan2.5-i2i-preview', now - 5 * 60_000);
    // Made before --since: not listed.
    fake.addDashscopeTask('wanx2.1-imageedit', now - 3 * 3600_000);
    const r = await find(['--since', '1h', '--model', 'wanx2.1-imageedit']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^dashscope:${b}  RUNNING  wanx2\\.1-imageedit  \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^dashscope:${a}  SUCCEEDED  wanx2\\.1-imageedit  `)),
    ]);
    expect(r.stderr).toMatch(
      /^2 tasks of wanx2\.1-imageedit at DashScope since \d{4}-.*Z \(times as DashScope gives them, on its own clock\)\n$/,
    );
    const list = fake.requests.filter((q) => q.path === '/api/v1/tasks');
    expect(list).toHaveLength(1);
    expect(fake.requests.filter((q) => q.method === 'POST')).toEqual([]);
  });

  it('--json gives a record a task; none found is said on stderr, stdout empty', async () => {
    const now = Date.now();
    const a = fake.addDashscopeTask('wan2.5-i2i-preview', now - 60_000, 'FAILED');
    const r = await find(['--since', new Date(now - 600_000).toISOString(), '--json']);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        provider: 'dashscope',
        taskId: a,
        status: 'FAILED',
        model: 'wan2.5-i2i-preview',
        submitTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} /),
      },
    ]);
    const none = await find(['--since', '30m', '--model', 'wanx2.1-imageedit']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^no tasks of wanx2\.1-imageedit at DashScope since /);
  });

  it('refuses what it cannot do, before anything is sent (exit 2)', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'task find needs --since <time>'],
      [['--since', 'yesterday-ish'], '--since: expected a time or how long ago, got "yesterday-ish"'],
      [['--since', '1h', '--provider', 'modelscope'], 'ModelScope has no task list to look in'],
      [['--since', '1h', '--width', '40'], 'task find takes no --width'],
      [['dashscope:abc', '--since', '1h'], 'task find takes no task id, got "dashscope:abc"'],
    ];
    for (const [args, message] of cases) {
      const r = await find(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const wait = await runCli(['task', 'show', 'dashscope:abc', '--since', '1h'], { cwd: setup(), env: fakeEnv(fake) });
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('task show takes no --since: such options are for task find');
    expect(fake.requests).toEqual([]);
  });
});
