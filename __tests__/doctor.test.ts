/**
 * The doctor job against the fake providers: what each check reports, how sure it is, which failure decides
 * the exit code, what is sent (only requests that cannot become tasks) and what is not sent at all (a key
 * that failed its offline check, a key for a plain-http host, anything with --offline).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { runDoctor, type CheckRecord, type DoctorSpec } from '../src/jobs/doctor.js';
import type { ImagegenError } from '../src/kernel/errors.js';
import type { Fs, HttpClient } from '../src/kernel/ports.js';
import { nodeFs } from '../src/cli/services.js';
import { checkTargets } from '../src/stages/write.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, fakeEnv, startFake } from './helpers/provider-setup.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SUBMIT = '/api/v1/services/aigc/image2image/image-synthesis';
const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Run {
  records: CheckRecord[];
  error?: ImagegenError;
  one(check: string): CheckRecord;
  has(check: string): boolean;
}

async function doctor(
  cwd: string,
  env: Record<string, string>,
  options: { offline?: boolean; spec?: Partial<DoctorSpec>; http?: HttpClient; home?: string; fs?: Fs } = {},
): Promise<Run> {
  const { services } = testServices(cwd, {
    env,
    home: options.home ?? cwd,
    ...(options.http ? { http: options.http } : {}),
    ...(options.fs ? { fs: options.fs } : {}),
  });
  const records: CheckRecord[] = [];
  const error = await runDoctor({ offline: options.offline ?? false, flags: {}, ...options.spec }, services, (r) =>
    records.push(r),
  ).then(
    () => undefined,
    (err: unknown) => err as ImagegenError,
  );
  // No key, whole, in anything doctor says.
  const said = JSON.stringify({ records, error: error && { message: error.message, hint: error.hint } });
  expect(said).not.toContain(DASHSCOPE_KEY);
  expect(said).not.toContain(MODELSCOPE_KEY);
  const matching = (check: string) => records.filter((r) => r.check === check);
  return {
    records,
    error,
    has: (check) => matching(check).length > 0,
    one(check) {
      const found = matching(check);
      expect(found).toHaveLength(1);
      return found[0];
    },
  };
}

describe('imagegen doctor (job)', () => {
  const tmp = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeAccount = 'ok';
    fake.modelscopeAccount = 'ok';
    fake.modelscopeQuotaOnQuery = false;
    fake.modelscopeHeaders['modelscope-ratelimit-requests-remaining'] = '1999';
  });

  it('a valid setup passes: both keys accepted, the account not refused, nothing created', async () => {
    const run = await doctor(tmp(), fakeEnv(fake));
    expect(run.error).toBeUndefined();
    expect(run.records.filter((r) => r.status === 'failure')).toEqual([]);
    expect(run.records.map((r) => r.check)).toEqual([
      'config.file',
      'config.values',
      'output.dir',
      'loom',
      'local',
      'dashscope.key',
      'dashscope.baseUrl',
      'dashscope.model',
      'dashscope.generateModel',
      'dashscope.host',
      'dashscope.auth',
      'dashscope.account',
      'dashscope.generate',
      'modelscope.key',
      'modelscope.baseUrl',
      'modelscope.model',
      'modelscope.editModel',
      'modelscope.host',
      'modelscope.auth',
      'modelscope.account',
    ]);
    expect(run.one('dashscope.key')).toMatchObject({
      status: 'ok',
      message: '…6666 from env DASHSCOPE_API_KEY has the DashScope shape (sk-…)',
    });
    // The loopback fake is plain http and not flagged as insecure: only as not the documented host.
    expect(run.one('dashscope.baseUrl')).toMatchObject({ status: 'warning' });
    expect(run.one('dashscope.baseUrl').message).toContain('is this machine');
    expect(run.one('dashscope.auth')).toMatchObject({ status: 'ok', certainty: 'certain' });
    expect(run.one('dashscope.auth').message).toContain('answered UNKNOWN');
    expect(run.one('dashscope.account')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(run.one('dashscope.account').message).toContain('answered InvalidParameter');
    expect(run.one('modelscope.auth')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(run.one('modelscope.account')).toMatchObject({ status: 'warning', certainty: 'inferred' });
    expect(run.one('dashscope.host')).toMatchObject({ status: 'ok', ms: expect.any(Number) });

    // The text-to-image model is asked the same free way, on its own (synchronous) endpoint.
    expect(run.one('dashscope.generate')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(run.one('dashscope.generate').message).toContain('access to qwen-image-plus not refused');

    // Exactly four requests, none of which can become a task.
    expect(fake.tasksCreated).toBe(0);
    const sent = fake.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}$/, '{id}')}`);
    expect(sent.sort()).toEqual(
      [`GET /api/v1/tasks/{id}`, `GET /v1/tasks/{id}`, `POST ${SUBMIT}`, `POST ${SYNC}`].sort(),
    );
    for (const r of fake.requests.filter((q) => q.method === 'GET')) expect(r.path.split('/').pop()).toMatch(UUID);
    const submit = fake.requests.find((r) => r.method === 'POST' && r.path === SUBMIT)!;
    expect(submit.body).toEqual({ model: 'wanx2.1-imageedit', input: {} });
    const generate = fake.requests.find((r) => r.method === 'POST' && r.path === SYNC)!;
    expect(generate.body).toEqual({ model: 'qwen-image-plus', input: {} });
    expect(generate.headers['x-dashscope-async']).toBeUndefined();
    expect(submit.headers['x-dashscope-async']).toBe('enable');
    expect(fake.requests.find((r) => r.path.startsWith('/v1/'))!.headers['x-modelscope-task-type']).toBe(
      'image_generation',
    );
  });

  it('a rejected DashScope key fails as auth, certain, and the account is not asked', async () => {
    const run = await doctor(tmp(), fakeEnv(fake, { DASHSCOPE_API_KEY: 'sk-wrong-key-00000000' }));
    expect(run.one('dashscope.auth')).toMatchObject({ status: 'failure', certainty: 'certain', kind: 'auth' });
    expect(run.one('dashscope.auth').message).toContain('DashScope HTTP 401 InvalidApiKey');
    expect(run.one('dashscope.auth').hint).toContain('DASHSCOPE_API_KEY');
    expect(run.has('dashscope.account')).toBe(false);
    expect(fake.count('POST', SUBMIT)).toBe(0);
    expect(run.error).toMatchObject({ kind: 'auth', provider: 'dashscope' });
    expect(run.error!.message).toMatch(/^doctor: dashscope\.auth: DashScope HTTP 401/);
  });

  it('qwen-image-edit: the account is asked on its synchronous endpoint, without the async header', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { model: 'qwen-image-edit' } } }),
    );
    fake.requests = [];
    const run = await doctor(dir, fakeEnv(fake));
    expect(run.one('dashscope.account')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    const asked = fake.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.path.startsWith('/api/v1/services/') &&
        (r.body as { model: string }).model === 'qwen-image-edit',
    );
    expect(asked.map((r) => r.path)).toEqual(['/api/v1/services/aigc/multimodal-generation/generation']);
    expect(asked[0].headers['x-dashscope-async']).toBeUndefined();
    fake.dashscopeAccount = 'unpurchased';
    const refused = await doctor(dir, fakeEnv(fake));
    fake.dashscopeAccount = 'ok';
    expect(refused.one('dashscope.account')).toMatchObject({ status: 'failure', kind: 'quota' });
    expect(fake.tasksCreated).toBe(0);
  });

  it('the generate model: wan2.6-t2i is asked on image-generation with the async header; a refusal fails it', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { generateModel: 'wan2.6-t2i' } } }),
    );
    fake.requests = [];
    const run = await doctor(dir, fakeEnv(fake));
    expect(run.one('dashscope.generateModel')).toMatchObject({ status: 'ok' });
    expect(run.one('dashscope.generate')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    const asked = fake.requests.filter((r) => r.path === '/api/v1/services/aigc/image-generation/generation');
    expect(asked.map((r) => r.body)).toEqual([{ model: 'wan2.6-t2i', input: {} }]);
    expect(asked[0].headers['x-dashscope-async']).toBe('enable');
    fake.dashscopeAccount = 'unpurchased';
    const refused = await doctor(dir, fakeEnv(fake));
    fake.dashscopeAccount = 'ok';
    expect(refused.one('dashscope.generate')).toMatchObject({ status: 'failure', kind: 'quota', certainty: 'certain' });
    expect(fake.tasksCreated).toBe(0);
  });

  it('a generate model imagegen cannot call, or one its region lacks, fails offline', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { generateModel: 'wanx-v1' } } }),
    );
    const unknown = await doctor(dir, fakeEnv(fake), { offline: true });
    expect(unknown.one('dashscope.generateModel')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(unknown.one('dashscope.generateModel').hint).toContain('wan2.6-t2i');
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { region: 'virginia', generateModel: 'qwen-image' } } }),
    );
    const elsewhere = await doctor(dir, { DASHSCOPE_API_KEY: DASHSCOPE_KEY }, { offline: true });
    expect(elsewhere.one('dashscope.generateModel')).toMatchObject({
      status: 'failure',
      message: expect.stringContaining('not offered in US (Virginia)'),
    });
  });

  it.each([
    ['arrearage', 'Arrearage', 'no balance'],
    ['unpurchased', 'AccessDenied.Unpurchased', 'not activated'],
  ] as const)('an account %s fails the account check as quota, certain', async (account, code, hint) => {
    fake.dashscopeAccount = account;
    const run = await doctor(tmp(), fakeEnv(fake));
    expect(run.one('dashscope.auth')).toMatchObject({ status: 'ok' });
    expect(run.one('dashscope.account')).toMatchObject({ status: 'failure', certainty: 'certain', kind: 'quota' });
    expect(run.one('dashscope.account').message).toContain(code);
    expect(run.one('dashscope.account').hint).toContain(hint);
    expect(run.error).toMatchObject({ kind: 'quota' });
    expect(fake.tasksCreated).toBe(0);
  });

  it('a ModelScope account refused with 403: the key was taken, the account fails', async () => {
    fake.modelscopeAccount = 'unverified';
    const run = await doctor(tmp(), fakeEnv(fake));
    expect(run.one('modelscope.auth')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(run.one('modelscope.account')).toMatchObject({ status: 'failure', kind: 'quota' });
    expect(run.one('modelscope.account').hint).toContain('real-name');
  });

  it("ModelScope's rate-limit headers, when a query carries them, tell the day's allowance", async () => {
    fake.modelscopeQuotaOnQuery = true;
    const left = await doctor(tmp(), fakeEnv(fake));
    expect(left.one('modelscope.account')).toMatchObject({ status: 'ok', certainty: 'certain' });
    expect(left.one('modelscope.account').message).toContain('1999 calls left today, 199 for this model');
    fake.modelscopeHeaders['modelscope-ratelimit-requests-remaining'] = '0';
    const spent = await doctor(tmp(), fakeEnv(fake));
    expect(spent.one('modelscope.account')).toMatchObject({ status: 'failure', kind: 'quota' });
    expect(spent.error).toMatchObject({ kind: 'quota' });
  });

  it('an unreachable host fails as network, and nothing more is asked of it', async () => {
    const port = await closedPort();
    const run = await doctor(tmp(), fakeEnv(fake, { IMAGEGEN_DASHSCOPE_BASE_URL: `http://127.0.0.1:${port}` }));
    expect(run.one('dashscope.host')).toMatchObject({ status: 'failure', kind: 'network' });
    expect(run.one('dashscope.host').message).toContain(`no answer from 127.0.0.1:${port}`);
    expect(run.has('dashscope.auth')).toBe(false);
    expect(run.one('modelscope.auth')).toMatchObject({ status: 'ok' });
    expect(run.error).toMatchObject({ kind: 'network' });
  });

  it('--offline sends nothing', async () => {
    const run = await doctor(tmp(), fakeEnv(fake), { offline: true });
    expect(run.error).toBeUndefined();
    expect(fake.requests).toEqual([]);
    expect(run.records.some((r) => /\.(host|auth|account)$/.test(r.check))).toBe(false);
  });

  it('a key with a trailing newline in a file fails offline and is never sent', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { apiKey: `${DASHSCOPE_KEY}\n` } } }),
    );
    const env = fakeEnv(fake);
    delete (env as Record<string, string | undefined>).DASHSCOPE_API_KEY;
    const run = await doctor(dir, env);
    expect(run.one('dashscope.key')).toMatchObject({ status: 'failure', kind: 'auth', certainty: 'certain' });
    expect(run.one('dashscope.key').message).toBe(
      `…6666 from ${path.join(dir, '.imagegenrc.json')} ends or starts with a line break or a space, and would be sent so`,
    );
    expect(run.one('dashscope.auth')).toMatchObject({ status: 'warning' });
    expect(run.one('dashscope.auth').message).toBe('not checked online: the key failed its offline check');
    expect(fake.requests.filter((r) => r.path.startsWith('/api/'))).toEqual([]);
    expect(run.error).toMatchObject({ kind: 'auth' });
  });

  it('a key with a trailing newline in the env is a warning: imagegen trims it', async () => {
    const run = await doctor(tmp(), fakeEnv(fake, { DASHSCOPE_API_KEY: `${DASHSCOPE_KEY}\n` }));
    expect(run.one('dashscope.key')).toMatchObject({ status: 'warning' });
    expect(run.one('dashscope.key').message).toContain('imagegen trims it');
    expect(run.one('dashscope.auth')).toMatchObject({ status: 'ok' });
    expect(run.error).toBeUndefined();
  });

  it('a key with a space inside, or of the other provider, fails offline', async () => {
    const inside = await doctor(tmp(), fakeEnv(fake, { DASHSCOPE_API_KEY: 'sk-test-fake key-6666' }), {
      offline: true,
    });
    expect(inside.one('dashscope.key')).toMatchObject({ status: 'failure', kind: 'auth' });
    expect(inside.one('dashscope.key').message).toContain('has a space, a line break');
    const swapped = await doctor(tmp(), fakeEnv(fake, { DASHSCOPE_API_KEY: MODELSCOPE_KEY }), { offline: true });
    expect(swapped.one('dashscope.key')).toMatchObject({ status: 'failure', certainty: 'inferred', kind: 'auth' });
    expect(swapped.one('dashscope.key').message).toBe(
      '…4444 from env DASHSCOPE_API_KEY looks like a ModelScope key (ms-…), not a DashScope one',
    );
    const odd = await doctor(tmp(), fakeEnv(fake, { MODELSCOPE_API_KEY: '0b8f6d2e-1111-4c4c-9a9a-123456789abc' }), {
      offline: true,
    });
    expect(odd.one('modelscope.key')).toMatchObject({ status: 'warning', certainty: 'inferred' });
    expect(odd.error).toBeUndefined();
  });

  it('a key in a config file is a warning', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { modelscope: { apiKey: MODELSCOPE_KEY } } }),
    );
    const env = fakeEnv(fake);
    delete (env as Record<string, string | undefined>).MODELSCOPE_API_KEY;
    const run = await doctor(dir, env, { offline: true });
    expect(run.one('modelscope.key')).toMatchObject({ status: 'warning' });
    expect(run.one('modelscope.key').message).toContain('sits in a file');
    expect(run.one('modelscope.key').hint).toContain('MODELSCOPE_API_KEY');
  });

  it('an http:// base URL to another machine fails as config, and the key is not sent there', async () => {
    const sent: string[] = [];
    const { services } = testServices(tmp());
    const recording: HttpClient = {
      request: (req) => {
        sent.push(req.url);
        return services.http.request(req);
      },
      download: (url, o) => services.http.download(url, o),
    };
    const run = await doctor(tmp(), fakeEnv(fake, { IMAGEGEN_DASHSCOPE_BASE_URL: 'http://dashscope.example.com' }), {
      http: recording,
    });
    expect(run.one('dashscope.baseUrl')).toMatchObject({ status: 'failure', kind: 'usage', certainty: 'certain' });
    expect(run.one('dashscope.baseUrl').message).toContain('plain http to another machine');
    expect(run.one('dashscope.baseUrl').hint).toBe('use https://dashscope.example.com');
    expect(run.one('dashscope.auth').message).toBe('not checked online: the base URL failed its offline check');
    expect(sent.filter((u) => u.includes('example.com'))).toEqual([]);
    expect(run.error).toMatchObject({ kind: 'usage' });
  });

  it('a base URL with the API path, a documented host of the wrong region, an unknown model', async () => {
    const doubled = await doctor(
      tmp(),
      fakeEnv(fake, { IMAGEGEN_DASHSCOPE_BASE_URL: 'https://dashscope.aliyuncs.com/api/v1' }),
      { offline: true },
    );
    // The SDKs' base URL variable ends with /api/v1: taken as the host, which imagegen adds the path to.
    expect(doubled.one('dashscope.baseUrl')).toMatchObject({ status: 'ok' });
    expect(doubled.one('dashscope.baseUrl').message).toContain(
      'https://dashscope.aliyuncs.com (from env IMAGEGEN_DASHSCOPE_BASE_URL): the documented host of China (Beijing)',
    );

    const intl = await doctor(
      tmp(),
      fakeEnv(fake, { IMAGEGEN_DASHSCOPE_BASE_URL: 'https://dashscope-intl.aliyuncs.com' }),
      { offline: true },
    );
    expect(intl.one('dashscope.baseUrl')).toMatchObject({ status: 'ok' });
    expect(intl.one('dashscope.baseUrl').message).toContain('the documented host of Singapore');
    expect(intl.one('dashscope.model')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(intl.one('dashscope.model').message).toBe(
      'wanx2.1-imageedit is not offered in Singapore; it is offered in China (Beijing)',
    );
    expect(intl.error).toMatchObject({ kind: 'usage' });

    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { modelscope: { model: 'someone/some-model', editModel: 'Qwen/Qwen-Image' } } }),
    );
    const unknown = await doctor(dir, fakeEnv(fake), { offline: true });
    expect(unknown.one('modelscope.model')).toMatchObject({ status: 'warning', certainty: 'inferred' });
    expect(unknown.one('modelscope.model').hint).toContain('Qwen/Qwen-Image');
    // `edit` refuses an edit model it cannot send: so does doctor.
    expect(unknown.one('modelscope.editModel')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(unknown.one('modelscope.editModel').hint).toContain('Qwen/Qwen-Image-Edit-2509');
  });

  it('knows the newer DashScope models, their snapshots, and the regions that offer them', async () => {
    const dir = tmp();
    const env = fakeEnv(fake);
    delete (env as Record<string, string | undefined>).IMAGEGEN_DASHSCOPE_BASE_URL;
    const write = (dashscope: unknown) =>
      writeFileSync(path.join(dir, '.imagegenrc.json'), JSON.stringify({ providers: { dashscope } }));
    write({ region: 'singapore', model: 'qwen-image-edit-plus-2025-10-30' });
    const sg = await doctor(dir, env, { offline: true });
    expect(sg.one('dashscope.baseUrl').message).toContain(
      `https://dashscope-intl.aliyuncs.com (from ${path.join(dir, '.imagegenrc.json')})`,
    );
    expect(sg.one('dashscope.baseUrl').message).toContain('the documented host of Singapore');
    expect(sg.one('dashscope.model')).toMatchObject({ status: 'ok' });
    expect(sg.one('dashscope.model').message).toBe('qwen-image-edit-plus-2025-10-30: offered in Singapore');
    write({ region: 'virginia', model: 'wan2.5-i2i-preview' });
    const us = await doctor(dir, env, { offline: true });
    expect(us.one('dashscope.model')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(us.one('dashscope.model').message).toBe(
      'wan2.5-i2i-preview is not offered in US (Virginia); it is offered in China (Beijing), Singapore',
    );
    write({ model: 'qwen-image-edit-turbo' });
    const unknown = await doctor(dir, env, { offline: true });
    expect(unknown.one('dashscope.model')).toMatchObject({ status: 'warning' });
    expect(unknown.one('dashscope.model').hint).toContain('wan2.5-i2i-preview');
  });

  it('recognises workspace domains: of a listed region by its name, of another region as unlisted', async () => {
    const offline = (url: string) =>
      doctor(tmp(), fakeEnv(fake, { IMAGEGEN_DASHSCOPE_BASE_URL: url }), { offline: true });
    const frankfurt = await offline('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com');
    expect(frankfurt.one('dashscope.baseUrl')).toMatchObject({ status: 'ok' });
    expect(frankfurt.one('dashscope.baseUrl').message).toBe(
      'https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com (from env IMAGEGEN_DASHSCOPE_BASE_URL): a workspace domain of Germany (Frankfurt)',
    );
    expect(frankfurt.one('dashscope.model').message).toBe(
      'wanx2.1-imageedit is not offered in Germany (Frankfurt); it is offered in China (Beijing)',
    );
    for (const [id, label] of [
      ['cn-beijing', 'China (Beijing)'],
      ['ap-southeast-1', 'Singapore'],
      ['us-east-1', 'US (Virginia)'],
      ['cn-hongkong', 'China (Hong Kong)'],
    ]) {
      const run = await offline(`https://ws-a1b2c3.${id}.maas.aliyuncs.com/api/v1`);
      expect(run.one('dashscope.baseUrl')).toMatchObject({ status: 'ok' });
      expect(run.one('dashscope.baseUrl').message).toContain(`: a workspace domain of ${label}`);
    }
    const japan = await offline('https://ws-a1b2c3.ap-northeast-1.maas.aliyuncs.com');
    expect(japan.one('dashscope.baseUrl')).toMatchObject({ status: 'warning', certainty: 'inferred' });
    expect(japan.one('dashscope.baseUrl').message).toContain(
      'a Model Studio workspace domain of region ap-northeast-1, which imagegen does not list',
    );
    const withPath = await offline('https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com/compatible-mode/v1');
    expect(withPath.one('dashscope.baseUrl')).toMatchObject({ status: 'warning' });
    expect(withPath.one('dashscope.baseUrl').hint).toBe(
      'the documented base URL is https://ws-a1b2c3.eu-central-1.maas.aliyuncs.com',
    );
  });

  it('names the config file read, and one that is there but not read', async () => {
    const home = tmp();
    const project = path.join(home, 'project');
    mkdirSync(project);
    writeFileSync(path.join(home, '.imagegenrc.json'), JSON.stringify({ loom: { colors: 4 } }));
    writeFileSync(path.join(project, '.imagegenrc.json'), JSON.stringify({ loom: { width: 320 }, surprise: 1 }));
    const run = await doctor(project, {}, { offline: true, home });
    const [read, shadowed] = run.records.filter((r) => r.check === 'config.file');
    expect(read).toMatchObject({ status: 'ok' });
    expect(read.message).toContain(path.join(project, '.imagegenrc.json'));
    expect(shadowed).toMatchObject({ status: 'warning' });
    expect(shadowed.message).toBe(
      `${path.join(home, '.imagegenrc.json')} is there too, and is not read: only the first file found is`,
    );
    const values = run.records.filter((r) => r.check === 'config.values');
    expect(values[0].message).toBe('loom.width from the file; the rest are defaults');
    expect(values[1]).toMatchObject({ status: 'warning' });
    expect(values[1].message).toContain('unknown key surprise');
    expect(run.one('loom').message).toMatch(/^320 ends, 8 colours/);
  });

  it('warns of a folder the config search could not look into', async () => {
    const dir = tmp();
    const locked = path.join(dir, 'locked');
    const fs: Fs = {
      ...nodeFs,
      stat: async (file) => {
        if (path.dirname(file) === locked) throw Object.assign(new Error(`EACCES: ${file}`), { code: 'EACCES' });
        return nodeFs.stat(file);
      },
    };
    mkdirSync(locked);
    const run = await doctor(locked, fakeEnv(fake), { offline: true, home: dir, fs });
    expect(run.one('config.search')).toMatchObject({ status: 'warning' });
    expect(run.one('config.search').message).toContain(`${locked}: cannot look for a config file here (EACCES)`);
  });

  it('a config file named by --config is read, and said to be', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'loom.json'), JSON.stringify({ loom: { colors: 5 } }));
    const run = await doctor(dir, {}, { offline: true, spec: { configFile: { path: 'loom.json', from: '--config' } } });
    expect(run.one('config.file').message).toBe(`${path.join(dir, 'loom.json')} (named by --config)`);
    expect(run.one('loom').message).toMatch(/^600 ends, 5 colours/);
    const missing = await doctor(
      dir,
      {},
      { offline: true, spec: { configFile: { path: 'nope.json', from: '--config' } } },
    );
    expect(missing.one('config.file')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(missing.one('config.file').message).toBe(`${path.join(dir, 'nope.json')}: no such file`);
  });

  it('a malformed config file fails as config and stops there', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{"loom": {"colors": }');
    const run = await doctor(dir, fakeEnv(fake));
    expect(run.records).toHaveLength(1);
    expect(run.one('config.file')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(run.one('config.file').message).toContain(path.join(dir, '.imagegenrc.json'));
    expect(fake.requests).toEqual([]);
    expect(run.error).toMatchObject({ kind: 'usage' });
  });

  it('an output folder that is a file, and a style whose palette file is missing, fail as config', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'woven'), 'not a folder');
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ output: { dir: 'woven' }, styles: { wool: { loom: { palette: 'missing.gpl' } } } }),
    );
    const run = await doctor(dir, {}, { offline: true });
    expect(run.one('output.dir')).toMatchObject({ status: 'failure', kind: 'usage' });
    // Doctor says what edit would refuse with, and where the folder was set.
    const refusal = await checkTargets(
      { dir: path.join(dir, 'woven'), stem: 'cat', force: false, report: true },
      nodeFs,
    ).catch((err: ImagegenError) => err);
    expect(refusal).toMatchObject({ kind: 'usage' });
    expect(run.one('output.dir')).toMatchObject({
      message: `the output folder ${path.join(dir, 'woven')}: is a file, not a folder (output.dir from ${path.join(dir, '.imagegenrc.json')})`,
      hint: (refusal as ImagegenError).hint,
    });
    expect(run.one('output.dir').message).toBe(
      `${(refusal as ImagegenError).message} (output.dir from ${path.join(dir, '.imagegenrc.json')})`,
    );
    expect(run.one('loom')).toMatchObject({ status: 'failure', kind: 'usage' });
    expect(run.one('loom').message).toMatch(/^style wool: /);
    // A missing output folder is fine: edit makes it.
    const later = await doctor(
      dir,
      {},
      { offline: true, spec: { flags: { 'output.dir': { value: 'a/b', flag: '--out-dir' } } } },
    );
    expect(later.one('output.dir')).toMatchObject({ status: 'ok' });
    expect(later.one('output.dir').message).toBe(
      `${path.join(dir, 'a/b')} does not exist yet; ${dir} is writable, and edit creates the rest`,
    );
  });

  it('the local pipeline check runs in-process', async () => {
    const run = await doctor(tmp(), {}, { offline: true });
    expect(run.one('local')).toMatchObject({ status: 'ok' });
    expect(run.one('local').message).toContain('nothing outside imagegen is needed');
  });

  it('the most serious failure decides: a rejected key over a refused account', async () => {
    fake.modelscopeAccount = 'unverified';
    const run = await doctor(tmp(), fakeEnv(fake, { DASHSCOPE_API_KEY: 'sk-wrong-key-00000000' }));
    expect(run.records.filter((r) => r.status === 'failure').map((r) => r.kind)).toEqual(['auth', 'quota']);
    expect(run.error).toMatchObject({ kind: 'auth' });
    expect(run.error!.message).toContain('(and 1 more failed check)');
  });

  it('should an empty submit ever make a task, it is canceled at once and reported', async () => {
    const { services } = testServices(tmp());
    const canceled: string[] = [];
    const http: HttpClient = {
      async request(req) {
        if (req.method === 'POST' && req.url.endsWith(SUBMIT))
          return {
            status: 200,
            headers: {},
            body: JSON.stringify({ output: { task_id: 'made-1', task_status: 'PENDING' } }),
          };
        if (req.method === 'POST' && req.url.endsWith('/cancel')) {
          canceled.push(req.url);
          return { status: 200, headers: {}, body: '{}' };
        }
        return services.http.request(req);
      },
      download: (url, o) => services.http.download(url, o),
    };
    const run = await doctor(tmp(), fakeEnv(fake), { http });
    expect(canceled).toEqual([`${fake.url}/api/v1/tasks/made-1/cancel`]);
    expect(run.one('dashscope.account')).toMatchObject({ status: 'failure', kind: 'failure' });
    expect(run.one('dashscope.account').message).toBe('DashScope made task made-1 of an empty submit; it was canceled');
  });
});
