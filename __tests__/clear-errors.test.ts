/** Errors that must be one line naming the file or setting and the cause, with the right exit code. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { loadConfigFile } from '../src/config/load.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { runGenerate, type GenerateSpec } from '../src/jobs/generate.js';
import { configuredKeys } from '../src/jobs/providers.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, startFake } from './helpers/provider-setup.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

describe('a config file that cannot be parsed', () => {
  const newDir = tempDirsPerTest();

  async function parseFailure(name: string, text: string): Promise<{ message: string; code: number }> {
    const dir = newDir();
    writeFileSync(path.join(dir, name), text);
    const err = await loadConfigFile({ explicitPath: name, cwd: dir, home: dir }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    return { message: err!.message.replace(dir + path.sep, ''), code: exitCodeFor(err) };
  }

  it('JSON: the parser reason with its line and column, and no quoted text (it may hold a key)', async () => {
    expect(await parseFailure('c.json', '{\n  "loom": {"width": 40,}\n}')).toEqual({
      message:
        'c.json: cannot be parsed: Expected double-quoted property name in JSON at position 25 (line 2, column 24)',
      code: 2,
    });
    const leaky = await parseFailure('k.json', '{"providers": {"dashscope": {"apiKey": sk-test-secret-1234}}}');
    expect(leaky.message).toBe("k.json: cannot be parsed: Unexpected token 's' (not valid JSON)");
  });

  it('YAML: the reason with its line and column', async () => {
    expect(await parseFailure('c.yaml', 'loom:\n  width: [40\n')).toEqual({
      message: 'c.yaml: cannot be parsed: unexpected end of the stream within a flow collection (line 3, column 1)',
      code: 2,
    });
  });

  it('JavaScript: the syntax error (with its line where node gives one), or what the module threw', async () => {
    expect((await parseFailure('c.mjs', 'export default { loom: { width: 40 ')).message).toBe(
      'c.mjs: cannot be parsed: SyntaxError: Unexpected end of input',
    );
    // Node names the line in the stack of a CommonJS syntax error (not under the test runner's loader).
    expect((await parseFailure('c.cjs', '\nmodule.exports = {loom: {width: 40},}}')).message).toMatch(
      /^c\.cjs: cannot be parsed: SyntaxError: Unexpected token '\}'( \(line 2\))?$/,
    );
    expect((await parseFailure('t.mjs', 'throw new Error("no config today")')).message).toBe(
      't.mjs: cannot be parsed: no config today',
    );
  });
});

describe('a key that cannot be sent as it is', () => {
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  const newDir = tempDirsPerTest();

  function setup(file: Record<string, unknown>, env: Record<string, string>) {
    const dir = newDir();
    const resolved = resolveConfig({
      file: {
        path: path.join(dir, '.imagegenrc.json'),
        data: { retry: { retries: 0, minTimeoutMs: 1 }, polling: { intervalMs: 5, maxIntervalMs: 10 }, ...file },
      },
      env: { IMAGEGEN_DASHSCOPE_BASE_URL: fake.url, IMAGEGEN_MODELSCOPE_BASE_URL: fake.url, ...env },
    });
    const h = testServices(dir, { env });
    h.services.redactor.add(configuredKeys(resolved));
    return { dir, resolved, ...h };
  }

  const edit = (dir: string): EditSpec => ({
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    fallback: true,
    dryRun: false,
    force: false,
    report: false,
    instruction: {},
    output: path.join(dir, 'out.png'),
  });

  it('is refused before any request (exit 2, naming the variable or the config key), with no fallback', async () => {
    for (const [file, env, where] of [
      [{}, { DASHSCOPE_API_KEY: `${DASHSCOPE_KEY.slice(0, 8)}\n${DASHSCOPE_KEY.slice(8)}` }, 'DASHSCOPE_API_KEY'],
      [{}, { DASHSCOPE_API_KEY: `${DASHSCOPE_KEY}\u0007` }, 'DASHSCOPE_API_KEY'],
      [{ providers: { dashscope: { apiKey: `${DASHSCOPE_KEY}\n` } } }, {}, 'providers.dashscope.apiKey in '],
    ] as const) {
      fake.requests = [];
      const h = setup(file, env);
      const err = await runEdit(edit(h.dir), h.resolved, h.services).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(new RegExp(`^${where.replace(/\./g, '\\.')}.*: the DashScope key`));
      expect(err?.message).not.toContain('\n');
      expect(exitCodeFor(err)).toBe(2);
      expect(fake.requests).toEqual([]);
      expect(h.rec.lines.warn).toEqual([]);
    }
  });

  it('a trailing line break in the environment is trimmed and the key works', async () => {
    fake.requests = [];
    const h = setup({}, { DASHSCOPE_API_KEY: `${DASHSCOPE_KEY}\n` });
    await runEdit({ ...edit(h.dir), fallback: false }, h.resolved, h.services);
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  it('generate is refused the same way', async () => {
    fake.requests = [];
    const h = setup({}, { MODELSCOPE_API_KEY: `ms-test\t${MODELSCOPE_KEY}` });
    const spec = {
      prompt: 'a fox',
      force: false,
      report: false,
      options: {},
      dryRun: false,
    } as unknown as GenerateSpec;
    await expect(runGenerate(spec, h.resolved, h.services)).rejects.toMatchObject({
      kind: 'usage',
      message:
        'MODELSCOPE_API_KEY: the ModelScope key has a space, a line break or another character a key cannot have',
    });
    expect(fake.requests).toEqual([]);
  });
});
