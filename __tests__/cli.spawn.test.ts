import { afterEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/spawn.js';
import { tempDir } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ANSI = /\x1b\[/;

describe('imagegen binary', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());
  const setup = () => {
    const t = tempDir();
    cleanup = t.cleanup;
    return t.dir;
  };

  it('prints help with examples and exit codes on stdout', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: imagegen');
    expect(r.stdout).toContain('imagegen edit samples/grace-hopper.jpg --local');
    expect(r.stdout).toMatch(/6\s+rate limited after retries/);
    expect(r.stderr).toBe('');
  });

  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('exits 2 on an unknown option or command, with a one-line reason on stderr', async () => {
    const r = await runCli(['edit', SAMPLE, '--colrs', '3']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown option '--colrs'");
    expect((await runCli(['weave'])).code).toBe(2);
  });

  it('exits 2 on an out-of-range option and on a missing argument without a terminal', async () => {
    const r = await runCli(['edit', SAMPLE, '--local', '--colors', '300']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--colors: expected an integer from 2 to 256, got "300"');
    expect(r.stderr).not.toContain('    at ');
    const missing = await runCli(['edit']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('edit needs at least one input image');
  });

  it('exits 2 on a malformed config file, naming it', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{"loom": {"colors": }');
    const r = await runCli(['config'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(dir, '.imagegenrc.json'));
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{"loom": {"dither": "heavy"}}');
    const wrong = await runCli(['config'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('loom.dither: expected one of none, ordered, fs, got "heavy"');
  });

  it('shows the resolved config with sources, keys redacted', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{"loom": {"colors": 5}, "surprise": 1}');
    const key = 'sk-0123456789abcdef0123456789abcdef';
    const r = await runCli(['config', '--json', '--width', '900'], { cwd: dir, env: { DASHSCOPE_API_KEY: key } });
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const row = (k: string) => rows.find((x) => x.key === k);
    expect(row('loom.colors')).toEqual({ key: 'loom.colors', value: 5, source: `file ${path.join(dir, '.imagegenrc.json')}` });
    expect(row('loom.width')).toEqual({ key: 'loom.width', value: 900, source: 'flag --width' });
    expect(row('providers.dashscope.apiKey')).toEqual({ key: 'providers.dashscope.apiKey', value: 'sk-…cdef', source: 'env DASHSCOPE_API_KEY' });
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(r.stderr).toContain('unknown key surprise');
  });

  it('runs edit --local on the sample: path on stdout, progress on stderr, no colour', async () => {
    const dir = setup();
    const r = await runCli(['edit', SAMPLE, '--local', '--width', '200'], { cwd: dir, env: { FORCE_COLOR: '0' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(path.join(dir, 'grace-hopper.loom.png') + '\n');
    expect(r.stderr).toContain('running the local loom pipeline');
    expect(r.stderr).not.toMatch(ANSI);
    expect(readdirSync(dir).sort()).toEqual(['grace-hopper.loom.json', 'grace-hopper.loom.png']);
  });

  it('prints NDJSON with --json and nothing but results on stdout', async () => {
    const dir = setup();
    const r = await runCli(['--json', 'edit', SAMPLE, '--local', '--width', '100', '--colors', '4', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual(
      expect.objectContaining({ input: SAMPLE, output: path.join(dir, 'grace-hopper.loom.png'), style: 'loom', source: 'local', width: 100, height: 117, colors: 4 }),
    );
    expect(r.stderr).toBe('');
  });

  it('honours NO_COLOR and --no-color in error messages', async () => {
    const cases: Array<{ env: Record<string, string>; args: string[] }> = [
      { env: { NO_COLOR: '1' }, args: [] },
      { env: {}, args: ['--no-color'] },
    ];
    for (const extra of cases) {
      const r = await runCli(['edit', 'missing.png', '--local', ...extra.args], { env: extra.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: missing.png: no such file');
      expect(r.stderr).not.toMatch(ANSI);
    }
  });

  it('refuses to overwrite with -o, exits 1, and keeps the file', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'out.png'), 'mine');
    const r = await runCli(['edit', SAMPLE, '--local', '-o', 'out.png', '--width', '50'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exists');
    expect(r.stderr).toContain('--force');
    expect(readFileSync(path.join(dir, 'out.png'), 'utf8')).toBe('mine');
  });

  it('rejects a corrupt image with one line and no output file', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'cut.jpg'), readFileSync(SAMPLE).subarray(0, 2000));
    const r = await runCli(['edit', 'cut.jpg', '--local'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: cut\.jpg: (corrupt|not a supported)/);
    expect(r.stderr).not.toContain('    at ');
    expect(readdirSync(dir)).toEqual(['cut.jpg']);
  });

  it('lists the styles', async () => {
    const r = await runCli(['styles', '--json']);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => JSON.parse(l).name);
    expect(names).toEqual(expect.arrayContaining(['loom', 'silhouette', 'poster']));
  });

  it('init refuses to wait for answers without a terminal', async () => {
    const dir = setup();
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init needs a terminal');
    expect(readdirSync(dir)).toEqual([]);
    const ok = await runCli(['init', '--yes'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(path.join(dir, '.imagegenrc.json'));
  });
});
