import { describe, expect, it, afterEach } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../src/config/load.js';
import { configRows, redactSecret, resolveConfig } from '../src/config/resolve.js';
import { ConfigError } from '../src/kernel/errors.js';
import { tempDir } from './helpers/tmp.js';

describe('resolveConfig', () => {
  it('uses defaults when nothing is given', () => {
    const { config, sources } = resolveConfig({ env: {} });
    expect(config.loom).toEqual({ colors: 8, width: 600, minRegion: 4, dither: 'none', background: '#ffffff' });
    expect(config.providers.modelscope.baseUrl).toBe('https://api-inference.modelscope.cn');
    expect(config.providers.dashscope.model).toBe('wanx2.1-imageedit');
    expect(config.polling.timeoutMs).toBe(300_000);
    expect(sources['loom.colors']).toEqual({ kind: 'default' });
  });

  it('applies flags over env over file over defaults, recording each source', () => {
    const { config, sources } = resolveConfig({
      file: {
        path: '/p/.imagegenrc.json',
        data: { loom: { colors: 6, width: 1320 }, providers: { dashscope: { baseUrl: 'https://file.example' } } },
      },
      env: { IMAGEGEN_DASHSCOPE_BASE_URL: 'http://127.0.0.1:9/', DASHSCOPE_API_KEY: 'sk-envkey0000000000' },
      flags: { 'loom.colors': { value: '4', flag: '--colors' } },
    });
    expect(config.loom.colors).toBe(4);
    expect(sources['loom.colors']).toEqual({ kind: 'flag', name: '--colors' });
    expect(config.loom.width).toBe(1320);
    expect(sources['loom.width']).toEqual({ kind: 'file', path: '/p/.imagegenrc.json' });
    expect(config.providers.dashscope.baseUrl).toBe('http://127.0.0.1:9');
    expect(sources['providers.dashscope.baseUrl']).toEqual({ kind: 'env', name: 'IMAGEGEN_DASHSCOPE_BASE_URL' });
    expect(config.providers.dashscope.apiKey).toBe('sk-envkey0000000000');
  });

  it('accepts TONGYI_API_KEY as an older name, with DASHSCOPE_API_KEY preferred', () => {
    expect(resolveConfig({ env: { TONGYI_API_KEY: 'sk-old' } }).config.providers.dashscope.apiKey).toBe('sk-old');
    const both = resolveConfig({ env: { TONGYI_API_KEY: 'sk-old', DASHSCOPE_API_KEY: 'sk-new' } });
    expect(both.config.providers.dashscope.apiKey).toBe('sk-new');
    expect(both.sources['providers.dashscope.apiKey']).toEqual({ kind: 'env', name: 'DASHSCOPE_API_KEY' });
  });

  it('names the file, the key path and what was expected for a wrong value', () => {
    const call = () => resolveConfig({ file: { path: '/x/.imagegenrc', data: { loom: { colors: 1 } } }, env: {} });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow('/x/.imagegenrc: loom.colors: expected an integer from 2 to 256, got 1');
  });

  it('rejects a section that is not an object, and a top level that is not an object', () => {
    expect(() => resolveConfig({ file: { path: 'f', data: { loom: 'big' } }, env: {} })).toThrow(
      'f: loom: expected an object',
    );
    expect(() => resolveConfig({ file: { path: 'f', data: [1, 2] }, env: {} })).toThrow(
      'expected an object at the top level',
    );
  });

  it('warns about unknown keys instead of failing', () => {
    const { warnings, config } = resolveConfig({
      file: { path: 'f', data: { loom: { colours: 5 }, extra: true } },
      env: {},
    });
    expect(warnings).toEqual(['f: unknown key loom.colours (ignored)', 'f: unknown key extra (ignored)']);
    expect(config.loom.colors).toBe(8);
  });

  it('validates env vars and flags with the same rules, never echoing a key', () => {
    expect(() => resolveConfig({ env: { IMAGEGEN_MODELSCOPE_BASE_URL: 'ftp://x' } })).toThrow(
      'IMAGEGEN_MODELSCOPE_BASE_URL: expected an http(s) URL',
    );
    expect(() => resolveConfig({ env: {}, flags: { 'loom.dither': { value: 'lots', flag: '--dither' } } })).toThrow(
      '--dither: expected one of none, ordered, fs, got "lots"',
    );
    let message = '';
    try {
      resolveConfig({ file: { path: 'f', data: { providers: { modelscope: { apiKey: 42 } } } }, env: {} });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('f: providers.modelscope.apiKey: expected a non-empty string');
  });

  it('reads user styles and checks their fields', () => {
    const { config } = resolveConfig({
      file: { path: 'f', data: { styles: { tapestry: { description: 'd', strength: 0.3, loom: { colors: 5 } } } } },
      env: {},
    });
    expect(config.styles.tapestry).toEqual({ description: 'd', strength: 0.3, loom: { colors: 5 } });
    expect(() =>
      resolveConfig({ file: { path: 'f', data: { styles: { t: { function: 'paint' } } } }, env: {} }),
    ).toThrow('f: styles.t.function: expected one of');
    expect(() => resolveConfig({ file: { path: 'f', data: { styles: { t: { strength: 2 } } } }, env: {} })).toThrow(
      'from 0 to 1',
    );
  });

  it('lists every value with its source and redacts keys', () => {
    const resolved = resolveConfig({ env: { MODELSCOPE_API_KEY: 'ms-test-token-1234-90ab' } });
    const rows = configRows(resolved);
    const key = rows.find((r) => r.key === 'providers.modelscope.apiKey');
    expect(key).toEqual({ key: 'providers.modelscope.apiKey', value: 'ms-…90ab', source: 'env MODELSCOPE_API_KEY' });
    expect(JSON.stringify(rows)).not.toContain('test-token');
    expect(rows.find((r) => r.key === 'loom.width')).toEqual({ key: 'loom.width', value: 600, source: 'default' });
  });

  it('redacts short secrets completely', () => {
    expect(redactSecret('sk-abc')).toBe('…');
    expect(redactSecret('sk-abcdefghijklmnop')).toBe('sk-…mnop');
  });
});

describe('loadConfigFile', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  function setup() {
    const t = tempDir();
    cleanup = t.cleanup;
    const home = path.join(t.dir, 'home');
    const project = path.join(t.dir, 'work', 'project', 'sub');
    mkdirSync(home, { recursive: true });
    mkdirSync(project, { recursive: true });
    return { root: t.dir, home, project };
  }

  it('finds an rc file in a parent folder, up to the project root', async () => {
    const { root, home, project } = setup();
    mkdirSync(path.join(root, 'work', '.git'));
    writeFileSync(path.join(root, 'work', '.imagegenrc.json'), '{"loom":{"colors":5}}');
    const found = await loadConfigFile({ cwd: project, home });
    expect(found).toEqual({ path: path.join(root, 'work', '.imagegenrc.json'), data: { loom: { colors: 5 } } });
  });

  it('reads YAML in .imagegenrc and package.json#imagegen, package.json first', async () => {
    const { root, home, project } = setup();
    writeFileSync(path.join(root, 'work', 'project', '.imagegenrc'), 'loom:\n  colors: 3\n');
    writeFileSync(
      path.join(root, 'work', 'project', 'package.json'),
      JSON.stringify({ name: 'x', imagegen: { loom: { width: 400 } } }),
    );
    const found = await loadConfigFile({ cwd: project, home });
    expect(found?.data).toEqual({ loom: { width: 400 } });
    writeFileSync(path.join(root, 'work', 'project', 'package.json'), JSON.stringify({ name: 'x' }));
    expect((await loadConfigFile({ cwd: project, home }))?.data).toEqual({ loom: { colors: 3 } });
  });

  it('reads an .mjs config', async () => {
    const { home, project } = setup();
    writeFileSync(path.join(project, 'imagegen.config.mjs'), 'export default { output: { format: "bmp" } };');
    expect((await loadConfigFile({ cwd: project, home }))?.data).toEqual({ output: { format: 'bmp' } });
  });

  it('falls back to the home folder when cwd is outside it', async () => {
    const { home, project } = setup();
    writeFileSync(path.join(home, '.imagegenrc.json'), '{"loom":{"minRegion":9}}');
    const found = await loadConfigFile({ cwd: project, home });
    expect(found?.path).toBe(path.join(home, '.imagegenrc.json'));
  });

  it('returns undefined when there is no file', async () => {
    const { home, project } = setup();
    expect(await loadConfigFile({ cwd: project, home })).toBeUndefined();
  });

  it('reports a malformed file as a config error naming it', async () => {
    const { home, project } = setup();
    const file = path.join(project, '.imagegenrc.json');
    writeFileSync(file, '{"loom": {"colors": 5,,}}');
    await expect(loadConfigFile({ cwd: project, home })).rejects.toThrow(ConfigError);
    await expect(loadConfigFile({ cwd: project, home })).rejects.toThrow(file);
  });

  it('reads an explicit path and reports a missing one', async () => {
    const { home, project } = setup();
    const file = path.join(project, 'custom.yml');
    writeFileSync(file, 'output:\n  format: bmp\n');
    expect((await loadConfigFile({ cwd: project, home, explicitPath: 'custom.yml' }))?.data).toEqual({
      output: { format: 'bmp' },
    });
    await expect(loadConfigFile({ cwd: project, home, explicitPath: 'nope.json' })).rejects.toThrow(
      `${path.join(project, 'nope.json')}: no such file`,
    );
  });
});
