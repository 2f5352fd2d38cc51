import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, fakeEnv, startFake } from './helpers/provider-setup.js';
import { spawn } from 'node:child_process';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDir, writtenIn } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

describe('imagegen binary against the fake providers', () => {
  let cleanup = () => {};
  afterEach(() => {
    cleanup();
    fake.requests = [];
    fake.dashscopeSubmitReplies = [];
    fake.modelscopeSubmitReplies = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
  });

  function run(args: string[], env: Record<string, string> = {}) {
    const t = tempDir();
    cleanup = t.cleanup;
    writeFileSync(
      path.join(t.dir, '.imagegenrc.json'),
      JSON.stringify({
        polling: { intervalMs: 5, maxIntervalMs: 10, timeoutMs: 3000 },
        retry: { retries: 1, minTimeoutMs: 1 },
        loom: { width: 40 },
      }),
    );
    return runCli(args, {
      cwd: t.dir,
      env: fakeEnv(fake, env),
    }).then((r) => {
      expect(r.stdout + r.stderr).not.toContain(DASHSCOPE_KEY);
      expect(r.stdout + r.stderr).not.toContain(MODELSCOPE_KEY);
      return { ...r, dir: t.dir };
    });
  }

  it('edit restyles on DashScope and prints the path', async () => {
    const r = await run(['edit', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      expect.objectContaining({ source: 'dashscope', output: path.join(r.dir, 'grace-hopper.loom.png'), width: 40 }),
    );
    expect(fake.count('POST', '/api/v1/services/aigc/image2image/image-synthesis')).toBe(1);
  });

  it('edit --provider modelscope sends the picture to ModelScope and prints the path; a wrong -m exits 2', async () => {
    const r = await run(['edit', SAMPLE, '--provider', 'modelscope', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      expect.objectContaining({
        source: 'modelscope',
        model: 'Qwen/Qwen-Image-Edit-2509',
        output: path.join(r.dir, 'grace-hopper.loom.png'),
        width: 40,
      }),
    );
    const submit = fake.requests.find((q) => q.method === 'POST' && q.path === '/v1/images/generations');
    expect((submit?.body as { image_url: string[] }).image_url[0]).toMatch(/^data:image\/png;base64,/);
    fake.requests = [];
    const wrong = await run(['edit', SAMPLE, '--provider', 'modelscope', '-m', 'Qwen/Qwen-Image']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('ModelScope model "Qwen/Qwen-Image" is not one imagegen can call');
    expect(wrong.stderr).toContain('black-forest-labs/FLUX.1-Kontext-dev');
    expect(fake.requests).toEqual([]);
  });

  it('config says which provider edit uses and why; styles describe ModelScope editing', async () => {
    const both = await run(['config']);
    expect(both.code).toBe(0);
    expect(both.stdout).toContain('edit uses:   dashscope (the first with a key, in the order dashscope, modelscope)');
    const only = await run(['config', '--json'], { DASHSCOPE_API_KEY: '' });
    const row = only.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; value: unknown; source: string })
      .find((r) => r.key === 'edit (provider in use)');
    expect(row).toEqual({
      key: 'edit (provider in use)',
      value: 'modelscope',
      source: 'the first with a key, in the order dashscope, modelscope',
    });
    const styles = await run(['styles'], { DASHSCOPE_API_KEY: '' });
    expect(styles.code).toBe(0);
    expect(styles.stdout).toMatch(/modelscope: +"Turn this picture into a flat jacquard weaving design/);
    expect(styles.stdout).toMatch(/dashscope: +description_edit, strength 0\.6: "Redraw this picture/);
    expect(styles.stdout).toContain(
      'ModelScope models (-m, or providers.modelscope.editModel) (used now: the first with a key',
    );
    expect(styles.stdout).toMatch(
      /^Qwen\/Qwen-Image-Edit-2509 \(default\) .*\n {2}input sides 64-1664 px, at most 10 MB/m,
    );
    expect(styles.stdout).toMatch(/^Qwen\/Qwen-Image-Edit .*\n {2}input sides 64-1664 px/m);
    expect(styles.stdout).toMatch(/^black-forest-labs\/FLUX\.1-Kontext-dev .*\n {2}input sides 64-1024 px/m);
  });

  it('edit falls back on a FAILED task with one warning and exit 0; --no-fallback exits 5', async () => {
    fake.dashscopeSteps = [
      { status: 'FAILED', code: 'InternalError', message: 'submit algo service error, Internal server error!' },
    ];
    const r = await run(['edit', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout);
    expect(record.source).toBe('local-fallback');
    expect(record.remoteError).toEqual(expect.objectContaining({ code: 'InternalError', provider: 'dashscope' }));
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(1);
    expect(r.stderr).toMatch(
      /warning: .*DashScope failed \(DashScope InternalError: submit algo service error.*task id ds-task-/,
    );
    const strict = await run(['edit', SAMPLE, '--no-fallback']);
    expect(strict.code).toBe(5);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toContain('task id ds-task-');
    expect(writtenIn(strict.dir)).toEqual(['.imagegenrc.json']);
  });

  it.each([
    [{ status: 401, body: { code: 'InvalidApiKey', message: 'Invalid API-key provided.' } }, 3, 'DASHSCOPE_API_KEY'],
    [
      {
        status: 400,
        body: { code: 'Arrearage', message: 'Access denied, plesase make sure your account is in good standing.' },
      },
      4,
      'balance',
    ],
    [
      { status: 400, body: { code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' } },
      7,
      'content check',
    ],
    [{ status: 429, body: { code: 'PrepaidBillOverdue', message: 'The prepaid bill is overdue.' } }, 4, 'overdue'],
  ])('edit exits with the code of %j and a hint', async (reply, code, hint) => {
    fake.dashscopeSubmitReplies = [reply];
    const r = await run(['edit', SAMPLE]);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).toContain(hint);
    expect(r.stderr).toMatch(/request id req-\d+/);
    expect(r.stderr).not.toContain('    at ');
  });

  it('edit exits 6 when still rate limited after retries with --no-fallback', async () => {
    const limited = {
      status: 429,
      body: { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' },
    };
    fake.dashscopeSubmitReplies = [limited, limited];
    const r = await run(['edit', SAMPLE, '--no-fallback']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('retrying in');
  });

  it('--verbose logs each exchange with the key redacted; --dry-run prints requests and sends nothing', async () => {
    const verbose = await run(['edit', SAMPLE, '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(
      /→ POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/services\/aigc\/image2image\/image-synthesis .*"Authorization":"Bearer sk-…6666"/,
    );
    expect(verbose.stderr).toMatch(/← 200 GET .*\/api\/v1\/tasks\//);
    fake.requests = [];
    const dry = await run(['edit', SAMPLE, '--dry-run']);
    expect(dry.code).toBe(0);
    const lines = dry.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.method)).toEqual(['POST', 'GET']);
    expect(lines[0].headers['X-DashScope-Async']).toBe('enable');
    expect(fake.requests).toEqual([]);
    expect(readdirSync(dry.dir)).toEqual(['.imagegenrc.json']);
  });

  it('edit runs locally and says so when no edit provider has a key, or the one named has none', async () => {
    const r = await run(['edit', SAMPLE], { DASHSCOPE_API_KEY: '', MODELSCOPE_API_KEY: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no DashScope key configured: running the local loom pipeline');
    const named = await run(['edit', SAMPLE, '--provider', 'dashscope'], { DASHSCOPE_API_KEY: '' });
    expect(named.code).toBe(0);
    expect(named.stderr).toContain('no DashScope key configured: running the local loom pipeline');
    expect(fake.requests).toEqual([]);
  });

  it('generate writes the picture; exit 3 without a key, 7 on a moderation refusal', async () => {
    const ok = await run(['generate', 'a', 'red', 'fox', '--style', 'loom']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(path.join(ok.dir, 'a-red-fox.loom.png') + '\n');
    // Without a ModelScope key generate goes to DashScope, the next with one; with neither it stops.
    const nokey = await run(['generate', 'a fox'], { MODELSCOPE_API_KEY: '', DASHSCOPE_API_KEY: '' });
    expect(nokey.code).toBe(3);
    expect(nokey.stderr).toContain('MODELSCOPE_API_KEY');
    fake.modelscopeSteps = [{ status: 'FAILED', code: 422, message: 'Output data may contain inappropriate content.' }];
    const refused = await run(['generate', 'a fox']);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('inappropriate content');
  });

  it('Ctrl-C while the DashScope task is queued cancels it, exits 130 and writes nothing', async () => {
    fake.dashscopeSteps = ['PENDING'];
    const t = tempDir();
    cleanup = t.cleanup;
    writeFileSync(
      path.join(t.dir, '.imagegenrc.json'),
      JSON.stringify({ polling: { intervalMs: 20, maxIntervalMs: 20, timeoutMs: 20000 } }),
    );
    const child = spawn(process.execPath, [BIN, 'edit', SAMPLE], {
      cwd: t.dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: t.dir,
        DASHSCOPE_API_KEY: DASHSCOPE_KEY,
        IMAGEGEN_DASHSCOPE_BASE_URL: fake.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const polled = async () => {
      for (let i = 0; i < 500 && fake.count('GET', '/api/v1/tasks/') < 2; i++)
        await new Promise((r) => setTimeout(r, 20));
    };
    await polled();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(fake.canceled).toHaveLength(1);
    expect(stderr).toMatch(/interrupted; DashScope task ds-task-\S+ was canceled/);
    expect(writtenIn(t.dir)).toEqual(['.imagegenrc.json']);
  });

  // The gate holds each submit slot for a second; a batch whose tasks end sooner must still send the rest.
  it('a --prompts batch whose tasks finish within a second runs every line and ends with its summary', async () => {
    const t = tempDir();
    writeFileSync(path.join(t.dir, 'prompts.txt'), 'a fox\na cat\na dog\n');
    const r = await run([
      'generate',
      '--prompts',
      path.join(t.dir, 'prompts.txt'),
      '--style',
      'loom',
      '--json',
    ]).finally(t.cleanup);
    expect(r.code).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((x) => x.status === 'ok').map((x) => x.prompt)).toEqual(['a fox', 'a cat', 'a dog']);
    expect(records.at(-1)).toMatchObject({ type: 'summary', total: 3, ok: 3 });
  });

  it('an edit batch whose tasks fail at once reports every picture and exits with their common code', async () => {
    fake.dashscopeSteps = [{ status: 'FAILED', code: 'InternalError', message: 'Internal server error!' }];
    const t = tempDir();
    const pictures = Array.from({ length: 6 }, (_, i) => path.join(t.dir, `p${i}.jpg`));
    for (const picture of pictures) copyFileSync(SAMPLE, picture);
    const r = await run(['edit', ...pictures, '--no-fallback', '--json']).finally(t.cleanup);
    expect(r.code).toBe(5);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((x) => x.status === 'error')).toHaveLength(6);
    expect(records.at(-1)).toMatchObject({ type: 'summary', total: 6, failed: 6 });
  });

  it.each(['86400', '3000000'])(
    'a 429 asking to wait %s s is reported at once, not slept (exit 6)',
    async (seconds) => {
      fake.dashscopeSubmitReplies = [
        {
          status: 429,
          headers: { 'retry-after': seconds },
          body: { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' },
        },
      ];
      const started = Date.now();
      const r = await run(['edit', SAMPLE, '--no-fallback']);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/the service asks to wait \d+ h, longer than the 120 s imagegen waits/);
      expect(r.stderr.split('\n').filter((l) => l.includes('retrying'))).toEqual([]);
      expect(fake.count('POST', '/api/v1/services/aigc/image2image/image-synthesis')).toBe(1);
    },
  );

  it('--max-pixels holds for the downloaded result too', async () => {
    const saved = fake.result;
    // A valid 2000 x 1000 grey PNG: 2 megapixels, refused from its header under --max-pixels 1.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(2000, 0);
    ihdr.writeUInt32BE(1000, 4);
    ihdr[8] = 8;
    const chunk = (type: string, data: Buffer) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length, 0);
      head.write(type, 4, 'latin1');
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
      return Buffer.concat([head, data, crc]);
    };
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(1000 * 2001))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    fake.result = { status: 200, body: png, contentType: 'image/png' };
    try {
      const r = await run(['edit', SAMPLE, '--no-fallback', '--max-pixels', '1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('DashScope result: 2000 × 1000 pixels');
      expect(r.stderr).toContain('more than the limit');
      expect(writtenIn(r.dir)).toEqual(['.imagegenrc.json']);
    } finally {
      fake.result = saved;
    }
  });

  it('generate validates ranges before sending (exit 2)', async () => {
    const r = await run(['generate', 'a fox', '--steps', '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--steps: expected an integer from 1 to 100');
    expect(fake.requests).toEqual([]);
  });
});
