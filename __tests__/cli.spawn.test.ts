import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ANSI = /\x1b\[/;

describe('imagegen binary', () => {
  const setup = tempDirsPerTest();

  it('prints help with examples and exit codes on stdout', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: imagegen');
    expect(r.stdout).toContain('imagegen edit photo.jpg --local');
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
    const key = 'sk-test-key-0123456789-cdef';
    const r = await runCli(['config', '--json', '--width', '900'], { cwd: dir, env: { DASHSCOPE_API_KEY: key } });
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const row = (k: string) => rows.find((x) => x.key === k);
    expect(row('loom.colors')).toEqual({
      key: 'loom.colors',
      value: 5,
      source: `file ${path.join(dir, '.imagegenrc.json')}`,
    });
    expect(row('loom.width')).toEqual({ key: 'loom.width', value: 900, source: 'flag --width' });
    expect(row('providers.dashscope.apiKey')).toEqual({
      key: 'providers.dashscope.apiKey',
      value: 'sk-…cdef',
      source: 'env DASHSCOPE_API_KEY',
    });
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
    const r = await runCli(['--json', 'edit', SAMPLE, '--local', '--width', '100', '--colors', '4', '--quiet'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual(
      expect.objectContaining({
        input: SAMPLE,
        output: path.join(dir, 'grace-hopper.loom.png'),
        style: 'loom',
        source: 'local',
        width: 100,
        height: 117,
        colors: 4,
      }),
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
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).name);
    expect(names).toEqual(expect.arrayContaining(['loom', 'silhouette', 'poster']));
  });

  it('init refuses to wait for answers without a terminal', async () => {
    const dir = setup();
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init needs a terminal');
    expect(readdirSync(dir)).toEqual([]);
    // The flags it names are the ones init has.
    expect(r.stderr).toContain('give --model dashscope=<id>, --model modelscope=<id>');
    const ok = await runCli(['init', '--yes'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(path.join(dir, '.imagegenrc.json'));
    // It ends with what to run next: without a key, where to put one.
    expect(ok.stderr).toContain('next: set DASHSCOPE_API_KEY or MODELSCOPE_API_KEY and run imagegen doctor');
    const keyed = await runCli(['init', '--yes', '--force'], { cwd: dir, env: { MODELSCOPE_API_KEY: 'ms-test-0000' } });
    expect(keyed.stderr).toContain('next: imagegen doctor');
    // A file already there: --force is the way, and no -o (init has none) is named.
    const again = await runCli(['init', '--yes'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('.imagegenrc.json already exists\n  hint: pass --force to replace it\n');
    const unknown = await runCli(['init', '--yes', '--force', '--model', 'dashscope=foo'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--model dashscope=foo: not a DashScope model imagegen can call');
    expect(readFileSync(path.join(dir, '.imagegenrc.json'), 'utf8')).not.toContain('foo');
  });
});

describe('bad input to the loom pipeline', () => {
  const setup = tempDirsPerTest();

  /** A PNG signature and an IHDR that claims `width` × `height`, with no pixel data after it. */
  function claimedPng(width: number, height: number): Buffer {
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(width, 8);
    ihdr.writeUInt32BE(height, 12);
    ihdr.set([8, 6, 0, 0, 0], 16);
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
  }

  it.each([
    ['a zero-byte file', (dir: string) => writeFileSync(path.join(dir, 'in.png'), ''), [], 1, 'in.png: is empty'],
    [
      'a header claiming 50000 × 50000',
      (dir: string) => writeFileSync(path.join(dir, 'in.png'), claimedPng(50000, 50000)),
      [],
      1,
      '50000 × 50000 pixels',
    ],
    [
      'an image over --max-pixels',
      (dir: string) => writeFileSync(path.join(dir, 'in.png'), readFileSync(SAMPLE)),
      ['--max-pixels', '0.1'],
      1,
      'more than the limit of 100000 pixels',
    ],
    [
      'a missing palette file',
      (dir: string) => writeFileSync(path.join(dir, 'in.png'), readFileSync(SAMPLE)),
      ['--palette', 'yarns.gpl'],
      1,
      'palette file yarns.gpl: no such file',
    ],
    [
      'a width of 0',
      (dir: string) => writeFileSync(path.join(dir, 'in.png'), readFileSync(SAMPLE)),
      ['--width', '0'],
      2,
      '--width: expected an integer from 1 to',
    ],
    [
      'a bad density',
      (dir: string) => writeFileSync(path.join(dir, 'in.png'), readFileSync(SAMPLE)),
      ['--density', '20by30'],
      2,
      '--density: expected <ends>x<picks>',
    ],
  ])('refuses %s with one line, the right exit code and no output', async (_name, make, args, code, message) => {
    const dir = setup();
    make(dir);
    const r = await runCli(['edit', 'in.png', '--local', ...(args as string[])], { cwd: dir });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stderr).not.toContain('    at ');
    expect(readdirSync(dir)).toEqual(['in.png']);
  });

  it('never replaces an existing --report file without --force, and writes no image then', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'mine.json'), 'KEEP');
    const r = await runCli(['edit', SAMPLE, '--local', '--report', 'mine.json', '--width', '40'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mine.json already exists');
    expect(readFileSync(path.join(dir, 'mine.json'), 'utf8')).toBe('KEEP');
    expect(readdirSync(dir)).toEqual(['mine.json']);
    const forced = await runCli(['edit', SAMPLE, '--local', '--report', 'mine.json', '--width', '40', '--force'], {
      cwd: dir,
    });
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'mine.json'), 'utf8')).grid.ends).toBe(40);
  });

  it('takes a GIMP palette file and reports the woven size for a density', async () => {
    const dir = setup();
    writeFileSync(
      path.join(dir, 'yarns.gpl'),
      'GIMP Palette\nName: yarns\n#\n 20  20  20\tblack\n240 235 220\tcream\n170  40  40\tred\n',
    );
    const r = await runCli(
      ['edit', SAMPLE, '--local', '--palette', 'yarns.gpl', '--width', '120', '--density', '24x30', '--format', 'bmp'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(dir, 'grace-hopper.loom.json'), 'utf8'));
    expect(report.grid).toEqual({ ends: 120, picks: 176 }); // 120 × 600/512 × 30/24
    expect(report.woven).toEqual({ width: 5, length: 5.87, unit: 'cm' });
    expect(report.palette.map((p: { hex: string }) => p.hex)).toEqual(['#141414', '#f0ebdc', '#aa2828']);
    const bmp = readFileSync(path.join(dir, 'grace-hopper.loom.bmp'));
    expect(bmp.readUInt16LE(28)).toBe(8);
    expect(bmp.readUInt32LE(46)).toBe(3);
  });
});
