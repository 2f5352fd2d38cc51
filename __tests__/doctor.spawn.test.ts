/**
 * `imagegen doctor` as the built binary runs it against the fake providers: exit codes by the most serious
 * failure, one line (or one --json record) per check with the same fields, no key printed, no task created.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, fakeEnv, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const EXIT: Record<string, number> = { usage: 2, auth: 3, quota: 4, network: 5, failure: 1 };

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

interface Line {
  status: string;
  check: string;
  message: string;
  certainty: string;
  exitCode?: number;
  hint?: string;
}

/** The text output back into fields: `<status> <check>: <message> [inferred, exit N]`, then `hint: …`. */
function parseLines(stdout: string): Line[] {
  const lines: Line[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const hint = /^ {8}hint: (.*)$/.exec(line);
    if (hint) {
      lines[lines.length - 1].hint = hint[1];
      continue;
    }
    const m = /^(ok|warning|failure) +([a-z.]+[a-zA-Z]*): (.*?)(?: \[((?:inferred|exit \d+)(?:, exit \d+)?)\])?$/.exec(
      line,
    );
    if (!m) throw new Error(`not a check line: ${line}`);
    const tags = m[4]?.split(', ') ?? [];
    const exit = tags.find((t) => t.startsWith('exit '));
    lines.push({
      status: m[1],
      check: m[2],
      message: m[3],
      certainty: tags.includes('inferred') ? 'inferred' : 'certain',
      ...(exit ? { exitCode: Number(exit.slice(5)) } : {}),
    });
  }
  return lines;
}

/** Round trips differ from run to run; everything else must not. */
const timeless = (text: string) => text.replace(/\b\d+ ms\b/g, 'N ms');

describe('imagegen doctor (binary)', () => {
  const tmp = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeAccount = 'ok';
  });

  async function doctor(args: string[], env: Record<string, string> = {}, cwd = tmp()) {
    const r = await runCli(['doctor', ...args], { cwd, env: fakeEnv(fake, env) });
    expect(r.stdout + r.stderr).not.toContain(DASHSCOPE_KEY);
    expect(r.stdout + r.stderr).not.toContain(MODELSCOPE_KEY);
    return r;
  }

  it('a valid setup passes, at no cost: exit 0 and no task created', async () => {
    const before = fake.tasksCreated;
    const r = await doctor([]);
    expect(r.code).toBe(0);
    expect(fake.tasksCreated).toBe(before);
    // The key queries of both, and an empty submit each for DashScope's edit and generate models.
    expect(fake.requests.length).toBe(4);
    const lines = parseLines(r.stdout);
    expect(lines.filter((l) => l.status === 'failure')).toEqual([]);
    expect(lines.find((l) => l.check === 'dashscope.auth')).toMatchObject({ status: 'ok', certainty: 'certain' });
    expect(lines.find((l) => l.check === 'dashscope.account')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(lines.find((l) => l.check === 'dashscope.generate')).toMatchObject({ status: 'ok', certainty: 'inferred' });
    expect(r.stdout).toContain(
      'ok      dashscope.key: …6666 from env DASHSCOPE_API_KEY has the DashScope shape (sk-…)',
    );
    expect(r.stderr).toMatch(/^doctor: 1\d ok, \d warnings, 0 failures\n$/);
  });

  it('a wrong DashScope key exits 3, naming DashScope', async () => {
    const r = await doctor([], { DASHSCOPE_API_KEY: 'sk-wrong-key-00000000' });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^failure dashscope\.auth: DashScope HTTP 401 InvalidApiKey: Invalid API-key provided\. \[exit 3\]$/m,
    );
    expect(r.stderr).toContain('error: doctor: dashscope.auth: DashScope HTTP 401 InvalidApiKey');
    expect(r.stderr).toContain('hint: check DASHSCOPE_API_KEY');
    expect(r.stdout).not.toContain('00000000');
  });

  it('an account in arrears exits 4', async () => {
    fake.dashscopeAccount = 'arrearage';
    const r = await doctor([]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^failure dashscope\.account: DashScope HTTP 400 Arrearage: .* \[exit 4\]$/m);
    expect(fake.tasksCreated).toBe(0);
  });

  it('an unreachable host exits 5, at once', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const started = Date.now();
    const r = await doctor([], { IMAGEGEN_MODELSCOPE_BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(
      `failure modelscope.host: no answer from 127.0.0.1:${port}: 127.0.0.1:${port} refused the connection`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a key with a trailing newline is caught offline: exit 3, nothing sent', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { dashscope: { apiKey: `${DASHSCOPE_KEY}\n` } } }),
    );
    const r = await doctor(['--offline'], { DASHSCOPE_API_KEY: '' }, dir);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      `failure dashscope.key: …6666 from ${path.join(dir, '.imagegenrc.json')} ends or starts with a line break or a space, and would be sent so [exit 3]`,
    );
    expect(fake.requests).toEqual([]);
  });

  it('an http:// base URL to another machine is flagged: exit 2', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ providers: { modelscope: { baseUrl: 'http://api-inference.modelscope.cn' } } }),
    );
    const r = await doctor([], { IMAGEGEN_MODELSCOPE_BASE_URL: '' }, dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `failure modelscope.baseUrl: http://api-inference.modelscope.cn (from ${path.join(dir, '.imagegenrc.json')}) is plain http to another machine`,
    );
    expect(r.stdout).toContain('hint: use https://api-inference.modelscope.cn');
  });

  it('--json gives the same checks, field by field, one record per line', async () => {
    fake.dashscopeAccount = 'unpurchased';
    const dir = tmp();
    const text = await doctor([], { MODELSCOPE_API_KEY: 'ms-wrong-token-00000000' }, dir);
    const json = await doctor(['--json'], { MODELSCOPE_API_KEY: 'ms-wrong-token-00000000' }, dir);
    expect(json.code).toBe(text.code);
    expect(json.code).toBe(3);
    const lines = parseLines(timeless(text.stdout));
    const records = timeless(json.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBe(lines.length);
    expect(records.length).toBeGreaterThan(15);
    records.forEach((record, i) => {
      const { check, status, certainty, message, hint, exitCode } = record;
      expect({ check, status, certainty, message, hint, exitCode }).toEqual({
        hint: undefined,
        exitCode: undefined,
        ...lines[i],
      });
      // The JSON-only fields follow from those shown.
      if (record.kind !== undefined) expect(EXIT[record.kind as string]).toBe(exitCode);
      if (String(check).includes('.') && !String(check).startsWith('config.') && check !== 'output.dir')
        expect(record.provider).toBe(String(check).split('.')[0]);
      if (record.ms !== undefined) expect(message).toContain('N ms');
    });
    expect(records.map((r) => `${r.check}:${r.status}`)).toEqual(
      expect.arrayContaining(['dashscope.account:failure', 'modelscope.auth:failure']),
    );
    expect(json.stderr).toContain('error: doctor: modelscope.auth');
  });
});
