/**
 * Where the config is looked for, and what is refused: files above the project root or the home folder, files
 * other users can write or own, files that cannot be read, and plain-http base URLs to other machines.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../src/cli/context.js';
import { loadConfig, nodeFs, type CliServices } from '../src/cli/services.js';
import { loadConfigFile } from '../src/config/load.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { openGate, providerContext, taskLimits } from '../src/jobs/providers.js';
import { findProvider } from '../src/providers/registry.js';
import { UsageError } from '../src/kernel/errors.js';
import type { Fs } from '../src/kernel/ports.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

/** A config that proves it ran by leaving a file next to itself. */
function plantJs(dir: string, name = '.imagegenrc.cjs'): { file: string; ran: () => boolean } {
  const marker = path.join(dir, `ran-${name}`);
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = { loom: { colors: 3 } };`,
  );
  return { file, ran: () => existsSync(marker) };
}

function failure(code: string, file: string): Error {
  return Object.assign(new Error(`${code}: permission denied, open '${file}'`), { code });
}

describe('where the config is searched', () => {
  const newDir = tempDirsPerTest();

  function setup() {
    const root = newDir();
    const home = path.join(root, 'home');
    const work = path.join(root, 'work');
    const project = path.join(work, 'project');
    const sub = path.join(project, 'sub');
    mkdirSync(home, { recursive: true });
    mkdirSync(sub, { recursive: true });
    return { root, home, work, project, sub };
  }

  it('stops at the nearest folder with package.json, and never runs a config above it', async () => {
    const { home, work, project, sub } = setup();
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'p' }));
    const planted = plantJs(work);
    expect(await loadConfigFile({ cwd: sub, home })).toBeUndefined();
    expect(planted.ran()).toBe(false);
    // The project root itself is searched.
    writeFileSync(path.join(project, '.imagegenrc.json'), '{"loom":{"width":40}}');
    expect((await loadConfigFile({ cwd: sub, home }))?.path).toBe(path.join(project, '.imagegenrc.json'));
  });

  it('stops at the nearest folder with .git (a folder, or a file as in a worktree)', async () => {
    const { home, work, project, sub } = setup();
    writeFileSync(path.join(work, '.imagegenrc.json'), '{"loom":{"colors":5}}');
    mkdirSync(path.join(project, '.git'));
    expect(await loadConfigFile({ cwd: sub, home })).toBeUndefined();
    const worktree = path.join(sub, 'wt');
    mkdirSync(worktree);
    writeFileSync(path.join(worktree, '.git'), 'gitdir: /elsewhere\n');
    writeFileSync(path.join(sub, '.imagegenrc.json'), '{"loom":{"colors":6}}');
    expect(await loadConfigFile({ cwd: worktree, home })).toBeUndefined();
  });

  it('outside the home folder and any project, looks in the current folder only', async () => {
    const { root, home, work } = setup();
    const planted = plantJs(root);
    expect(await loadConfigFile({ cwd: work, home })).toBeUndefined();
    expect(planted.ran()).toBe(false);
    writeFileSync(path.join(work, '.imagegenrc.json'), '{"loom":{"colors":4}}');
    expect(await loadConfigFile({ cwd: work, home })).toEqual({
      path: path.join(work, '.imagegenrc.json'),
      data: { loom: { colors: 4 } },
    });
  });

  it('inside the home folder, walks up to it and never above it', async () => {
    const { root, home } = setup();
    const deep = path.join(home, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const planted = plantJs(root);
    expect(await loadConfigFile({ cwd: deep, home })).toBeUndefined();
    expect(planted.ran()).toBe(false);
    writeFileSync(path.join(home, 'a', '.imagegenrc.yaml'), 'loom:\n  colors: 7\n');
    expect((await loadConfigFile({ cwd: deep, home }))?.data).toEqual({ loom: { colors: 7 } });
  });

  it('then reads the global config: ~/.imagegenrc*, then ~/.config/imagegen/config*', async () => {
    const { home, project } = setup();
    mkdirSync(path.join(home, '.config', 'imagegen'), { recursive: true });
    writeFileSync(path.join(home, '.config', 'imagegen', 'config.json'), '{"loom":{"colors":9}}');
    expect(await loadConfigFile({ cwd: project, home })).toEqual({
      path: path.join(home, '.config', 'imagegen', 'config.json'),
      data: { loom: { colors: 9 } },
    });
    writeFileSync(path.join(home, '.imagegenrc.json'), '{"loom":{"colors":10}}');
    expect((await loadConfigFile({ cwd: project, home }))?.path).toBe(path.join(home, '.imagegenrc.json'));
  });
});

describe('which config files are refused', () => {
  const newDir = tempDirsPerTest();

  it('refuses a file that group or others can write, without running it', async () => {
    const dir = newDir();
    const json = path.join(dir, '.imagegenrc.json');
    writeFileSync(json, '{"loom":{"colors":5}}');
    chmodSync(json, 0o664);
    const search = loadConfigFile({ cwd: dir, home: dir });
    await expect(search).rejects.toThrow(UsageError);
    await expect(loadConfigFile({ cwd: dir, home: dir })).rejects.toThrow(`${json}: writable by its group (mode 664)`);
    chmodSync(json, 0o644);
    expect((await loadConfigFile({ cwd: dir, home: dir }))?.data).toEqual({ loom: { colors: 5 } });

    const other = newDir();
    const planted = plantJs(other);
    chmodSync(planted.file, 0o666);
    await expect(loadConfigFile({ cwd: other, home: other })).rejects.toThrow('writable by its group and others');
    expect(planted.ran()).toBe(false);
  });

  it('checks a file named with --config too', async () => {
    const dir = newDir();
    const file = path.join(dir, 'custom.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o602);
    await expect(loadConfigFile({ cwd: dir, home: dir, explicitPath: 'custom.json' })).rejects.toThrow(
      `${file}: writable by others (mode 602)`,
    );
  });

  it('refuses a file owned by another user (root-owned files are accepted, as ssh does)', async () => {
    const dir = newDir();
    const planted = plantJs(dir);
    const fs: Fs = { ...nodeFs, stat: async (file) => Object.assign(await nodeFs.stat(file), { uid: 4242 }) };
    const me = 1000;
    const error = await loadConfigFile({ cwd: dir, home: dir, fs, uid: me }).then(
      () => undefined,
      (err: unknown) => err as UsageError,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.kind).toBe('usage');
    expect(error?.message).toBe(`${planted.file}: owned by user 4242, not by you (user ${me}): not read`);
    expect(error?.hint).toMatch(/chown|remove it/);
    expect(planted.ran()).toBe(false);
    const rootOwned: Fs = { ...nodeFs, stat: async (file) => Object.assign(await nodeFs.stat(file), { uid: 0 }) };
    expect((await loadConfigFile({ cwd: dir, home: dir, fs: rootOwned, uid: me }))?.data).toEqual({
      loom: { colors: 3 },
    });
  });

  it('refuses a config file that is there but cannot be read, naming the cause', async () => {
    const dir = newDir();
    const file = path.join(dir, '.imagegenrc.json');
    writeFileSync(file, '{"loom":{"colors":5}}');
    const fs: Fs = {
      ...nodeFs,
      readFile: async (f, options) => {
        if (f === file) throw failure('EACCES', f);
        return nodeFs.readFile(f, options);
      },
    };
    await expect(loadConfigFile({ cwd: dir, home: dir, fs })).rejects.toThrow(
      `${file}: cannot be read (EACCES: permission denied)`,
    );
  });

  it('refuses a pipe or an oversized file where a config file is looked for, without waiting', async () => {
    const dir = newDir();
    const fifo = path.join(dir, '.imagegenrc.json');
    execFileSync('mkfifo', [fifo]);
    await expect(loadConfigFile({ cwd: dir, home: dir })).rejects.toThrow(
      `${fifo}: is not a regular file (a pipe, a socket or a device): not read`,
    );
    await expect(loadConfigFile({ cwd: dir, home: dir, explicitPath: fifo })).rejects.toThrow('not a regular file');
    const big = path.join(newDir(), '.imagegenrc.json');
    writeFileSync(big, `{"loom":{"colors":5},"pad":"${'x'.repeat(1024 * 1024)}"}`);
    await expect(loadConfigFile({ cwd: path.dirname(big), home: path.dirname(big) })).rejects.toThrow(
      'is larger than 1 MB',
    );
  });

  it('warns about a folder it cannot look into, and goes on', async () => {
    const dir = newDir();
    const home = path.join(dir, 'home');
    const locked = path.join(home, 'locked');
    mkdirSync(locked, { recursive: true });
    writeFileSync(path.join(home, '.imagegenrc.json'), '{"loom":{"colors":5}}');
    const fs: Fs = {
      ...nodeFs,
      stat: async (f) => {
        if (path.dirname(f) === locked) throw failure('EACCES', f);
        return nodeFs.stat(f);
      },
    };
    const warnings: string[] = [];
    const found = await loadConfigFile({ cwd: locked, home, fs, onWarning: (w) => warnings.push(w) });
    expect(found?.path).toBe(path.join(home, '.imagegenrc.json'));
    expect(warnings).toEqual([`${locked}: cannot look for a config file here (EACCES); skipped`]);
  });
});

describe('loadConfig in the CLI', () => {
  const newDir = tempDirsPerTest();

  function load(env: Record<string, string>, fs: Fs = nodeFs) {
    const dir = newDir();
    const h = testServices(dir, { fs });
    const ctx = { cwd: dir, home: dir, env } as unknown as CliContext;
    const run = loadConfig(ctx, {}, {}, h.services as unknown as CliServices);
    return { run, rec: h.rec, dir };
  }

  it('loads a plain-http base URL to another machine: only calling that provider is refused', async () => {
    await expect(load({ IMAGEGEN_DASHSCOPE_BASE_URL: 'http://proxy.example.com:8080' }).run).resolves.toBeDefined();
  });

  it('reads through the services file system and shows the search warnings', async () => {
    const fs: Fs = {
      ...nodeFs,
      stat: async (f) => {
        if (path.basename(f) === '.imagegenrc.json') throw failure('EACCES', f);
        return nodeFs.stat(f);
      },
    };
    const { run, rec, dir } = load({}, fs);
    await run;
    expect(rec.lines.warn).toEqual([`${dir}: cannot look for a config file here (EACCES); skipped`]);
  });
});

describe('the base URL notice', () => {
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  const newDir = tempDirsPerTest();

  it('names a base URL that is not the default once per run, only when the provider is used', async () => {
    const dir = newDir();
    const h = providerHarness(fake, dir);
    const spec: EditSpec = {
      inputs: [SAMPLE, SAMPLE],
      style: 'loom',
      local: false,
      fallback: true,
      dryRun: false,
      force: false,
      report: false,
      instruction: {},
    };
    await runEdit(spec, h.resolved, h.services);
    const notices = h.rec.lines.info.filter((l) => l.includes('requests to'));
    expect(notices).toEqual([
      `sending DashScope requests to ${fake.url} (not the default https://dashscope.aliyuncs.com)`,
    ]);

    const local = providerHarness(fake, dir);
    await runEdit({ ...spec, inputs: [SAMPLE], local: true, force: true }, local.resolved, local.services);
    expect(local.rec.lines.info.filter((l) => l.includes('requests to'))).toEqual([]);
  });

  it('refuses to call a provider whose base URL is plain http to another machine (exit 2), naming its source', async () => {
    const h = providerHarness(fake, newDir(), { IMAGEGEN_DASHSCOPE_BASE_URL: 'http://proxy.example.com:8080' });
    const before = fake.requests.length;
    const ctx = providerContext(findProvider('dashscope')!, h.resolved, h.services, taskLimits(h.resolved));
    const error = await openGate(ctx, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err as UsageError,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toBe(
      'providers.dashscope.baseUrl (env IMAGEGEN_DASHSCOPE_BASE_URL): http://proxy.example.com:8080 would send the key unencrypted; use https',
    );
    expect(fake.requests.length).toBe(before);
  });

  it('calls a provider over https anywhere and over plain http to this machine', async () => {
    for (const url of [
      'https://proxy.example.com',
      'http://127.0.0.1:9',
      'http://127.1.2.3',
      'http://localhost:8080',
      'http://[::1]:3000',
    ]) {
      const h = providerHarness(fake, newDir(), { IMAGEGEN_MODELSCOPE_BASE_URL: url });
      const ctx = providerContext(findProvider('modelscope')!, h.resolved, h.services, taskLimits(h.resolved));
      await expect(openGate(ctx, h.resolved, h.services)).resolves.toBeDefined();
    }
  });

  it("says nothing of a region's own documented host", async () => {
    const h = providerHarness(
      fake,
      newDir(),
      { IMAGEGEN_DASHSCOPE_BASE_URL: '' },
      {
        providers: { dashscope: { region: 'singapore' } },
      },
    );
    const provider = findProvider('dashscope')!;
    const ctx = providerContext(provider, h.resolved, h.services, taskLimits(h.resolved));
    expect(ctx.settings.baseUrl).toBe('https://dashscope-intl.aliyuncs.com');
    await openGate(ctx, h.resolved, h.services);
    expect(h.rec.lines.info.filter((l) => l.includes('requests to'))).toEqual([]);
  });
});
