/**
 * The binary with only a DashScope key (as TONGYI_API_KEY, as most Tongyi users have it): generate goes to
 * DashScope, `config` says so and why, `styles` lists the text-to-image models, and options are checked
 * before anything is sent (exit 2).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeProviders } from './helpers/fake-providers.js';
import { DASHSCOPE_KEY, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDir } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const SYNC = '/api/v1/services/aigc/multimodal-generation/generation';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => fake.close());

let cleanup = () => {};
afterEach(() => {
  cleanup();
  fake.requests = [];
});

/** Runs imagegen with TONGYI_API_KEY only, pointed at the fake. */
async function run(args: string[]) {
  const t = tempDir();
  cleanup = t.cleanup;
  writeFileSync(
    path.join(t.dir, '.imagegenrc.json'),
    JSON.stringify({ polling: { intervalMs: 5, maxIntervalMs: 10, timeoutMs: 3000 }, loom: { width: 40 } }),
  );
  const r = await runCli(args, {
    cwd: t.dir,
    env: { TONGYI_API_KEY: DASHSCOPE_KEY, IMAGEGEN_DASHSCOPE_BASE_URL: fake.url },
  });
  expect(r.stdout + r.stderr).not.toContain(DASHSCOPE_KEY);
  return { ...r, dir: t.dir };
}

describe('imagegen with only a DashScope key', () => {
  it('generate "a fox" --style loom goes to DashScope and writes the loom image', async () => {
    const r = await run(['generate', 'a fox', '--style', 'loom', '--json']);
    expect(r.stderr).not.toMatch(/no ModelScope key/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n')[0])).toEqual(
      expect.objectContaining({ status: 'ok', source: 'dashscope', model: 'qwen-image-plus', width: 40 }),
    );
    expect(fake.requests.filter((q) => q.method === 'POST').map((q) => q.path)).toEqual([SYNC]);
    expect(readdirSync(r.dir)).toContain('a-fox.loom.png');
  });

  it('generate --provider dashscope -m wan2.6-t2i --size 1024x1024 exits 2 naming the range, sending nothing', async () => {
    const r = await run(['generate', 'a fox', '--provider', 'dashscope', '-m', 'wan2.6-t2i', '--size', '1024x1024']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('1280x1280 to 1440x1440 pixels in all, aspect 1:4 to 4:1');
    expect(fake.requests).toEqual([]);
  });

  it('edit with more --ref pictures than the model takes exits 2 before anything is sent', async () => {
    const r = await run([
      'edit',
      SAMPLE,
      '-m',
      'wan2.5-i2i-preview',
      '--ref',
      SAMPLE,
      '--ref',
      SAMPLE,
      '--ref',
      SAMPLE,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('wan2.5-i2i-preview takes at most 3 pictures');
    expect(fake.requests).toEqual([]);
  });

  it('config says which provider generate uses and why; styles lists the text-to-image models', async () => {
    const config = await run(['config']);
    expect(config.code).toBe(0);
    expect(config.stdout).toContain(
      'generate uses: dashscope (the first with a key, in the order modelscope, dashscope)',
    );
    expect(config.stdout).toMatch(/providers\.dashscope\.generateModel\s+qwen-image-plus/);
    const styles = await run(['styles']);
    expect(styles.code).toBe(0);
    expect(styles.stdout).toContain(
      'DashScope text-to-image models (generate -m, or providers.dashscope.generateModel)',
    );
    expect(styles.stdout).toMatch(
      /wan2\.6-t2i {2}text to image, async task.*\n {2}1280x1280 to 1440x1440 pixels in all/,
    );
    expect(styles.stdout).toMatch(/wan2\.6-image {2}instruction edit of 1-4 pictures/);
  });
});
