/** `edit --weave` and `imagegen weaves` through the built binary. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { encodeRgbPng } from '../src/formats/png.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { rgbImage } from './helpers/images.js';
import { fakeEnv, startFake } from './helpers/provider-setup.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest, writtenIn } from './helpers/tmp.js';

/** A 48×32 picture: a dark figure on a light ground, with a mid-grey band. */
function picture(dir: string): string {
  const file = path.join(dir, 'motif.png');
  const img = rgbImage(48, 32, (x, y) =>
    y > 24 ? [128, 128, 128] : (x - 24) ** 2 + (y - 12) ** 2 < 100 ? [20, 20, 30] : [240, 236, 226],
  );
  writeFileSync(file, encodeRgbPng(img));
  return file;
}

describe('edit --weave', () => {
  const tmp = tempDirsPerTest();

  it('writes the design, its report, the lift plan and the cloth preview as a set', async () => {
    const dir = tmp();
    const input = picture(dir);
    const r = await runCli(
      [
        'edit',
        input,
        '--local',
        '--width',
        '48',
        '--colors',
        '3',
        '--weave',
        '--selvedge',
        '2',
        '--json',
        '-q',
        '--out-dir',
        'out',
      ],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout.trim());
    const out = path.join(dir, 'out');
    expect(record).toMatchObject({
      status: 'ok',
      output: path.join(out, 'motif.loom.png'),
      report: path.join(out, 'motif.loom.json'),
      lift: path.join(out, 'motif.loom.lift.bmp'),
      cloth: path.join(out, 'motif.loom.cloth.png'),
    });
    expect(readdirSync(out).sort()).toEqual([
      'motif.loom.cloth.png',
      'motif.loom.json',
      'motif.loom.lift.bmp',
      'motif.loom.png',
    ]);
    const report = JSON.parse(readFileSync(record.report, 'utf8'));
    const weave = report.weave;
    expect(weave.map).toBe('auto');
    expect(weave.structures).toHaveLength(3);
    for (const s of weave.structures) expect(s.structure).toMatch(/^shade:\d\/\d:3$/);
    expect(weave.floats.after.warp).toBeLessThanOrEqual(8);
    expect(weave.floats.after.weft).toBeLessThanOrEqual(8);
    expect(weave.selvedge).toBe(2);
    // The selvedges are outside the design's 48 ends.
    expect(weave.lift).toMatchObject({ format: 'bmp', ends: 52, raised: 'black', file: 'motif.loom.lift.bmp' });
    expect(weave.hooks).toEqual([
      { from: 1, to: 2, role: 'selvedge' },
      { from: 3, to: 50, role: 'design', repeat: 1, mirrored: false },
      { from: 51, to: 52, role: 'selvedge' },
    ]);
    expect(weave.preview).toMatchObject({ scale: 24, width: 1248, file: 'motif.loom.cloth.png' });

    const lift = await Jimp.read(record.lift);
    expect([lift.width, lift.height]).toEqual([52, report.grid.picks]);
    // The selvedge is plain weave: the bottom pick (pick 1) starts raised on end 1, then alternates.
    const bottom = lift.height - 1;
    const black = (x: number, y: number) => lift.getPixelColor(x, y) >>> 8 === 0;
    expect([black(0, bottom), black(1, bottom), black(0, bottom - 1)]).toEqual([true, false, false]);
    // The dark figure is mostly warp (black), the light ground mostly weft.
    const share = (x0: number, y0: number, n: number) => {
      let up = 0;
      for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) up += black(x, y) ? 1 : 0;
      return up / (n * n);
    };
    const figure = Math.round(12 * (report.grid.picks / 32));
    expect(share(22, figure - 4, 8)).toBeGreaterThan(0.6);
    expect(share(6, 2, 8)).toBeLessThan(0.4);
  });

  it('--invert, --lift-format tiff and an explicit map', async () => {
    const dir = tmp();
    const input = picture(dir);
    const r = await runCli(
      [
        'edit',
        input,
        '--local',
        '--width',
        '48',
        '--palette',
        '#141414,#f0ece2,#808080',
        '--weave',
        '#141414=satin:8/warp,1=twill:2/2,*=plain',
        '--lift-format',
        'tiff',
        '--invert',
        '-o',
        'woven.png',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'motif.png',
      'woven.cloth.png',
      'woven.json',
      'woven.lift.tiff',
      'woven.png',
    ]);
    const weave = JSON.parse(readFileSync(path.join(dir, 'woven.json'), 'utf8')).weave;
    expect(weave.structures.map((s: { structure: string }) => s.structure)).toEqual([
      'satin:8:3/warp',
      'twill:2/2/z',
      'plain',
    ]);
    expect(weave.lift.raised).toBe('white');
    // Inverted: the warp-faced satin of the dark figure is mostly white.
    const lift = await Jimp.read(path.join(dir, 'woven.lift.tiff'));
    let white = 0;
    for (let y = 6; y < 14; y++) for (let x = 20; x < 28; x++) if (lift.getPixelColor(x, y) >>> 8 === 0xffffff) white++;
    expect(white / 64).toBeGreaterThan(0.8);
  });

  it.each([
    [['--weave', '0=satin:6'], /--weave: "satin:6": no regular satin has 6 ends/],
    [['--weave', '0=herringbone,*=plain'], /--weave: unknown structure "herringbone"/],
    [['--weave', '#123456=plain', '--palette', '#000000,#ffffff'], /--weave: #123456 is not in the palette/],
    [['--weave', '5=plain,auto', '--colors', '3'], /--weave: colour 5 is not in the palette/],
    [['--weave', '0=plain', '--colors', '2'], /--weave: colour 1 has no structure/],
    [['--weave', '--warp', '#777777', '--weft', '#777777'], /equally light/],
    [['--weave', '--hooks', '40', '--selvedge', '20'], /--hooks 40: two selvedges of 20 ends leave no hook/],
    [['--tile'], /--tile applies to the lift plan: add --weave/],
    [['--weave', '-o', '-'], /-o -/],
    [['--weave', 'x.jpg'], /if "x\.jpg" is an input, write --weave auto/],
  ])('refuses %j with exit 2, naming the culprit, and writes nothing', async (args, message) => {
    const dir = tmp();
    const input = picture(dir);
    const r = await runCli(['edit', input, '--local', '--width', '48', ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(dir)).toEqual(['motif.png']);
  });

  it('the outputs are a set: a lift plan already there stops the item before anything is written', async () => {
    const dir = tmp();
    const input = picture(dir);
    writeFileSync(path.join(dir, 'woven.lift.bmp'), 'an earlier plan');
    const r = await runCli(['edit', input, '--local', '--width', '48', '--weave', '-o', 'woven.png'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/woven\.lift\.bmp already exists/);
    expect(readdirSync(dir).sort()).toEqual(['motif.png', 'woven.lift.bmp']);
    expect(readFileSync(path.join(dir, 'woven.lift.bmp'), 'utf8')).toBe('an earlier plan');
  });

  it('derived names: a preview already there moves the whole set to the next free name', async () => {
    const dir = tmp();
    const input = picture(dir);
    writeFileSync(path.join(dir, 'motif.loom.cloth.png'), 'an earlier preview');
    const r = await runCli(['edit', input, '--local', '--width', '48', '--weave', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'motif.loom-2.cloth.png',
      'motif.loom-2.json',
      'motif.loom-2.lift.bmp',
      'motif.loom-2.png',
      'motif.loom.cloth.png',
      'motif.png',
    ]);
    const weave = JSON.parse(readFileSync(path.join(dir, 'motif.loom-2.json'), 'utf8')).weave;
    expect([weave.lift.file, weave.preview.file]).toEqual(['motif.loom-2.lift.bmp', 'motif.loom-2.cloth.png']);
  });

  it('the preview keeps the cloth proportions by default and takes --preview-scale as given', async () => {
    const dir = tmp();
    const input = picture(dir);
    const run = (...args: string[]) =>
      runCli(['edit', input, '--local', '--width', '400', '--density', '24x30', '--weave', '-q', ...args], {
        cwd: dir,
      });
    let r = await run('-o', 'a.png');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    let report = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8'));
    // 48 × 32 at 24 × 30 per cm: 333 picks; a pick is 0.8 of an end, so 4 px an end keeps picks 3 px or more.
    expect(report.grid.picks).toBe(333);
    expect(report.weave.preview).toMatchObject({ scale: 4, width: 1600, height: 1066, pickHeight: 3.2 });
    let png = await Jimp.read(path.join(dir, 'a.cloth.png'));
    expect([png.width, png.height]).toEqual([1600, 1066]);
    r = await run('--preview-scale', '7', '-o', 'b.png');
    expect(r.code).toBe(0);
    report = JSON.parse(readFileSync(path.join(dir, 'b.json'), 'utf8'));
    expect(report.weave.preview).toMatchObject({ scale: 7, width: 2800, height: 1865 });
    png = await Jimp.read(path.join(dir, 'b.cloth.png'));
    expect([png.width, png.height]).toEqual([2800, 1865]);
    // 512 ends and 341 picks at 64 px: 32768 × 21824 pixels, 715 megapixels. Exit 2, nothing written.
    r = await runCli(['edit', input, '--local', '--width', '512', '--weave', '--preview-scale', '64', '-o', 'c.png'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--preview-scale 64: .* 32768 × 21824 pixels, more than 100 megapixels[^]*--preview-scale 23 or less/,
    );
    expect(readdirSync(dir).filter((f) => f.startsWith('c.'))).toEqual([]);
  });

  it('auto: colours that must share a structure are named in the report and in a warning', async () => {
    const dir = tmp();
    const input = picture(dir);
    const palette = Array.from({ length: 20 }, (_, i) => `#${(8 + i * 12).toString(16).padStart(2, '0').repeat(3)}`);
    const r = await runCli(
      ['edit', input, '--local', '--width', '48', '--palette', palette.join(','), '--weave', '-o', 'w.png'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: .*motif\.png: --weave auto: 20 colours, and the 16-end satin, the largest auto takes, has 15 steps: colours \d+, \d+ \(L\* /,
    );
    const weave = JSON.parse(readFileSync(path.join(dir, 'w.json'), 'utf8')).weave;
    expect(weave.auto).toEqual({ ends: 16, asked: 8, why: '20 colours need 20 steps: the 8-end satin has 7' });
    expect(weave.shared.flatMap((g: { colors: number[] }) => g.colors).length - weave.shared.length).toBe(5);
    expect(new Set(weave.structures.map((s: { structure: string }) => s.structure)).size).toBe(15);
  });

  it('a malformed matrix in the rc file is exit 2, naming it, with nothing written', async () => {
    const dir = tmp();
    const input = picture(dir);
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ weaves: { good: ['1100', '0110', '0011', '1001'], crooked: ['110', '01'] } }),
    );
    const r = await runCli(['edit', input, '--local', '--width', '48', '--weave'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weaves\.crooked: row 2 has 2 crossings, row 1 has 3/);
    expect(readdirSync(dir).sort()).toEqual(['.imagegenrc.json', 'motif.png']);
  });

  it('a style may carry a weave map, and configured structures can be used in it', async () => {
    const dir = tmp();
    const input = picture(dir);
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({
        weaves: { broken: ['1100', '0110', '0011', '1001'] },
        styles: { damask: { loom: { colors: 2 }, weave: '0=broken,1=satin:5/weft' } },
      }),
    );
    const r = await runCli(['edit', input, '--local', '--width', '48', '--style', 'damask', '--weave', '-q'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const weave = JSON.parse(readFileSync(path.join(dir, 'motif.damask.json'), 'utf8')).weave;
    expect(weave.map).toBe('0=broken,1=satin:5/weft');
    expect(weave.structures.map((s: { structure: string }) => s.structure)).toEqual(['broken', 'satin:5:2/weft']);
  });
});

describe('--weave with a provider', () => {
  const tmp = tempDirsPerTest();
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());

  it('a bad map stops the run before any request is sent', async () => {
    const dir = tmp();
    const input = picture(dir);
    fake.requests = [];
    const r = await runCli(['edit', input, '--weave', '0=satin:6', '--width', '48'], { cwd: dir, env: fakeEnv(fake) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no regular satin has 6 ends/);
    expect(fake.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual(['motif.png']);
    const g = await runCli(['generate', 'a fox', '--weave'], { cwd: dir, env: fakeEnv(fake) });
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--weave: weaving needs a loom design: add --style');
    // --tile and --invert alone are not passed over either.
    const t = await runCli(['generate', 'a fox', '--tile', '--invert'], { cwd: dir, env: fakeEnv(fake) });
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--tile, --invert: weaving needs a loom design: add --style');
    expect(fake.requests).toEqual([]);
  });

  it('a remote edit is woven too', async () => {
    const dir = tmp();
    const input = picture(dir);
    const r = await runCli(['edit', input, '--weave', '--width', '48', '--json', '-q'], {
      cwd: dir,
      env: fakeEnv(fake),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout.trim());
    expect(record.source).toBe('dashscope');
    expect(writtenIn(dir).sort()).toEqual([
      'motif.loom.cloth.png',
      'motif.loom.json',
      'motif.loom.lift.bmp',
      'motif.loom.png',
      'motif.png',
    ]);
  });
});

describe('imagegen weaves', () => {
  const tmp = tempDirsPerTest();

  it('lists the built-in and configured structures with a picture of each', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ weaves: { broken: ['1100', '0110', '0011', '1001'] } }),
    );
    const r = await runCli(['weaves'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plain  2×2, warp cover 0.5\n    .#\n    #.\n');
    expect(r.stdout).toContain(
      'satin:5:2/weft  5×5, warp cover 0.2\n    ...#.\n    .#...\n    ....#\n    ..#..\n    #....\n',
    );
    expect(r.stdout).toContain('broken (config)  4×4, warp cover 0.5\n    ##..\n    .##.\n    ..##\n    #..#\n');
    const json = await runCli(['weaves', '--json'], { cwd: dir });
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.find((x) => x.name === 'shade:3/5:3')).toMatchObject({ ends: 8, picks: 8, warpCover: 0.375 });
    expect(records.find((x) => x.name === 'broken')).toMatchObject({
      source: 'config',
      rows: ['1100', '0110', '0011', '1001'],
    });
  });
});
