/** Every place a result goes is checked before anything is sent: a bad one creates no task at all. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, fakeEnv, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

describe('output checks before any request', () => {
  const newDir = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
  });

  function setup() {
    const dir = newDir();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ polling: { intervalMs: 5, maxIntervalMs: 10 }, loom: { width: 40 } }),
    );
    writeFileSync(path.join(dir, 'file'), '');
    mkdirSync(path.join(dir, 'folder'));
    writeFileSync(path.join(dir, 'prompts.txt'), 'a red fox\na blue heron\n');
    return dir;
  }

  const cases: Array<[string, string[], RegExp]> = [
    [
      'edit -o in a missing folder',
      ['edit', SAMPLE, '-o', 'missing/x.png'],
      /the folder of -o \S+missing: does not exist/,
    ],
    ['edit --report in a missing folder', ['edit', SAMPLE, '--report', 'missing/r.json'], /the folder of --report/],
    [
      'edit --out-dir that is a file',
      ['edit', SAMPLE, SAMPLE, '--out-dir', 'file'],
      /the output folder \S+file: is a file/,
    ],
    [
      'edit -o a folder, with --force',
      ['edit', SAMPLE, '-o', 'folder', '--force'],
      /-o \S+folder: is a folder, not a file/,
    ],
    [
      'edit -o below a file',
      ['edit', SAMPLE, '-o', 'file/x.png'],
      /-o \S+: cannot be used \(a part of the path is a file/,
    ],
    [
      'generate -o in a missing folder',
      ['generate', 'a fox', '--style', 'loom', '-o', 'missing/x.png'],
      /does not exist/,
    ],
    [
      'generate --prompts into a file',
      ['generate', '--prompts', 'prompts.txt', '--out-dir', 'file'],
      /is a file, not a folder/,
    ],
    [
      'task wait -o in a missing folder',
      ['task', 'wait', 'dashscope:ds-task-1', '-o', 'missing/x.png'],
      /does not exist/,
    ],
  ];

  it.each(cases)('%s: exit 2, one line naming it, no request', async (_, args, message) => {
    const dir = setup();
    const r = await runCli(args, { cwd: dir, env: fakeEnv(fake) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    // Raw system messages ("ENOENT: no such file…") and temporary names never show.
    expect(r.stderr).not.toMatch(/unexpected|\.tmp|E[A-Z]+: /);
    expect(r.stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(fake.requests).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'file', 'folder', 'prompts.txt']);
  });

  it('a key with a line break inside is refused before any request, naming the variable', async () => {
    const dir = setup();
    const r = await runCli(['edit', SAMPLE], {
      cwd: dir,
      env: fakeEnv(fake, { DASHSCOPE_API_KEY: `${DASHSCOPE_KEY.slice(0, 6)}\n${DASHSCOPE_KEY.slice(6)}` }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DASHSCOPE_API_KEY: the DashScope key has a space, a line break');
    expect(fake.requests).toEqual([]);
  });
});

describe('numeric options are checked whatever path the run takes', () => {
  const newDir = tempDirsPerTest();
  afterEach(() => {
    fake.requests = [];
  });

  const cases: Array<[string[], string]> = [
    [
      ['edit', SAMPLE, '--local', '--max-download', '0.5'],
      '--max-download: expected a number from 1 to 1000, got "0.5"',
    ],
    [['edit', SAMPLE, '--local', '--max-download', '1001'], '--max-download: expected a number from 1 to 1000'],
    [['edit', SAMPLE, '--max-download', '0'], '--max-download: expected a number from 1 to 1000'],
    [['generate', 'a fox', '--max-download', '-1'], '--max-download: expected a number from 1 to 1000'],
    [['task', 'wait', 'dashscope:ds-task-1', '--max-download', '0.9'], '--max-download: expected a number'],
    [['task', 'wait', 'dashscope:ds-task-1', '--width', '0'], '--width: expected an integer from 1 to 20000'],
    // show and cancel take none of them: refused as such, before anything is sent
    [['task', 'show', 'dashscope:ds-task-1', '--max-download', '0.9'], 'task show takes no --max-download'],
    [['task', 'cancel', 'dashscope:ds-task-1', '--width', '0'], 'task cancel takes no --width'],
    [['edit', SAMPLE, '--local', '--strength', '2'], '--strength: expected a number from 0 to 1'],
    [['edit', SAMPLE, '--local', '--seed', '-1'], '--seed: expected an integer from 0 to 2147483647'],
  ];
  it.each(cases.map(([args, message]) => [args.join(' ').replace(SAMPLE, 'sample.jpg'), args, message] as const))(
    '%s: exit 2, no request',
    async (_, args, message) => {
      const dir = newDir();
      const r = await runCli(args, { cwd: dir, env: fakeEnv(fake) });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(fake.requests).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    },
  );
});
