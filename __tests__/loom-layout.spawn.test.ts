/** --hooks, --repeats, --tie, --selvedge-weave and loom presets through the built binary. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeRgbPng } from '../src/formats/png.js';
import { rgbImage } from './helpers/images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

/** A 40×30 picture: a dark wedge on a light ground, not symmetric, so a mirrored repeat shows. */
function picture(dir: string): string {
  const file = path.join(dir, 'wedge.png');
  writeFileSync(file, encodeRgbPng(rgbImage(40, 30, (x, y) => (x < 8 + y ? [25, 25, 30] : [235, 230, 220]))));
  return file;
}

/** Width and height from a BMP's info header. */
function bmpSize(file: string): [number, number] {
  const bytes = readFileSync(file);
  return [bytes.readInt32LE(18), Math.abs(bytes.readInt32LE(22))];
}

/** Width and height from a PNG's IHDR. */
function pngSize(file: string): [number, number] {
  const bytes = readFileSync(file);
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

describe('the loom layout on the command line', () => {
  const tmp = tempDirsPerTest();

  it('--hooks is the lift plan width: point-tied repeats between selvedges, in the report, the plan and the design', async () => {
    const dir = tmp();
    picture(dir);
    const r = await runCli(
      [
        'edit',
        'wedge.png',
        '--local',
        '--colors',
        '2',
        '--weave',
        '--hooks',
        '100',
        '--repeats',
        '3',
        '--tie',
        'point',
        '--selvedge',
        '4',
        '--selvedge-weave',
        'twill:2/2',
        '-o',
        'w.png',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    // 100 - 8 = 92 = 3 x 30 + 2: the 2 spare hooks widen the selvedges, and the user is told.
    expect(r.stderr).toContain(
      '--hooks 100: 3 repeats of 30 ends leave 2 hooks, woven into the selvedges (5 left, 5 right)',
    );
    const weave = JSON.parse(readFileSync(path.join(dir, 'w.json'), 'utf8')).weave;
    expect(weave.layout).toEqual({
      hooks: 100,
      designEnds: 30,
      repeats: 3,
      tie: 'point',
      selvedge: { left: 5, right: 5, structure: 'twill:2/2/z' },
      selectorHooks: 0,
    });
    expect(weave.hooks).toEqual([
      { from: 1, to: 5, role: 'selvedge' },
      { from: 6, to: 35, role: 'design', repeat: 1, mirrored: false },
      { from: 36, to: 65, role: 'design', repeat: 2, mirrored: true },
      { from: 66, to: 95, role: 'design', repeat: 3, mirrored: false },
      { from: 96, to: 100, role: 'selvedge' },
    ]);
    expect(weave.floats.after.weft).toBeLessThanOrEqual(8);
    expect(bmpSize(path.join(dir, 'w.lift.bmp'))[0]).toBe(100);
    // The design image spans the repeats, the middle one mirrored.
    const [width, height] = pngSize(path.join(dir, 'w.png'));
    expect(width).toBe(90);
    expect(height).toBe(weave.lift.picks);
  });

  it('--hooks without --weave is the design width; layout options without --weave are refused', async () => {
    const dir = tmp();
    picture(dir);
    const plain = await runCli(['edit', 'wedge.png', '--local', '--hooks', '64', '-o', 'd.png', '-q'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(pngSize(path.join(dir, 'd.png'))[0]).toBe(64);
    for (const flags of [
      ['--repeats', '2'],
      ['--tie', 'point'],
      ['--selvedge-weave', 'plain'],
    ]) {
      const r = await runCli(['edit', 'wedge.png', '--local', ...flags, '-o', 'x.png'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flags[0]} applies to the lift plan: add --weave`);
    }
    expect(readdirSync(dir).sort()).toEqual(['d.json', 'd.png', 'wedge.png']);
  });

  it.each([
    [['--selvedge-weave', 'satin:6'], '--selvedge-weave satin:6'],
    [['--selvedge-weave', 'satin:8/weft', '--selvedge', '2'], 'more than --max-float 4'],
    [
      ['--wefts', '#ffffff,#cc2222,#2222cc', '--selvedge', '2', '--selvedge-weave', 'twill:2/2'],
      'does not divide into the shuttle order of 3 wefts',
    ],
    [['--hooks', '20', '--selvedge', '10'], '--hooks 20: two selvedges of 10 ends leave no hook for the design'],
    [['--tie', 'crossed'], '--tie'],
  ])('%j is exit 2 naming the cause, with nothing written', async (flags, message) => {
    const dir = tmp();
    picture(dir);
    const r = await runCli(['edit', 'wedge.png', '--local', '--weave', '--max-float', '4', ...flags, '-o', 'x.png'], {
      cwd: dir,
    });
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual(['wedge.png']);
  });

  it('with three wefts, a selvedge weave whose picks divide into the shuttle order is taken', async () => {
    const dir = tmp();
    picture(dir);
    const r = await runCli(
      [
        'edit',
        'wedge.png',
        '--local',
        '--width',
        '30',
        '--weave',
        '--wefts',
        '#ffffff,#cc2222,#2222cc',
        '--selvedge',
        '3',
        '--selvedge-weave',
        'twill:2/1',
        '--selector-hooks',
        'right',
        '-o',
        'c.png',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const weave = JSON.parse(readFileSync(path.join(dir, 'c.json'), 'utf8')).weave;
    expect(weave.hooks).toEqual([
      { from: 1, to: 3, role: 'selvedge' },
      { from: 4, to: 33, role: 'design', repeat: 1, mirrored: false },
      { from: 34, to: 36, role: 'selvedge' },
      { from: 37, to: 39, role: 'selector' },
    ]);
    expect(bmpSize(path.join(dir, 'c.lift.bmp'))).toEqual([39, weave.wefts.picks]);
  });

  it('a loom preset from the config sets hooks, density and selvedges; flags still win', async () => {
    const dir = tmp();
    picture(dir);
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ looms: { sample: { hooks: 120, density: '20x20', selvedge: 6, tie: 'point', repeats: 2 } } }),
    );
    const r = await runCli(
      ['edit', 'wedge.png', '--local', '--weave', '--loom', 'sample', '--selvedge', '2', '-o', 'p.png', '-q'],
      {
        cwd: dir,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(dir, 'p.json'), 'utf8'));
    expect(report.weave.layout).toMatchObject({
      hooks: 120,
      designEnds: 58,
      repeats: 2,
      tie: 'point',
      selvedge: { left: 2, right: 2 },
    });
    const config = await runCli(['config', '--loom', 'sample'], { cwd: dir });
    expect(config.stdout).toMatch(/loom\.hooks\s+120\s+\(file .*looms\.sample\)/);
    const unknown = await runCli(['edit', 'wedge.png', '--local', '--weave', '--loom', 'nope', '-o', 'q.png'], {
      cwd: dir,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no loom named "nope" (looms: tc2-1320, tc2-2640, sample)');
  });

  it('--tile fit on --hooks takes the largest design that closes and fits, the rest going to the selvedges', async () => {
    const dir = tmp();
    picture(dir);
    const r = await runCli(
      [
        'edit',
        'wedge.png',
        '--local',
        '--colors',
        '2',
        '--weave',
        '--hooks',
        '100',
        '--repeats',
        '2',
        '--tile',
        'fit',
        '-o',
        'f.png',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(dir, 'f.json'), 'utf8'));
    // Two colours take 8-end satins: 100 / 2 = 50 ends a repeat, and 48 is the largest multiple of 8.
    expect(report.weave.layout).toMatchObject({
      hooks: 100,
      designEnds: 48,
      repeats: 2,
      selvedge: { left: 2, right: 2 },
    });
    expect(report.grid.picks % 8).toBe(0);
    expect(report.weave.warnings.join('\n')).not.toContain('--tile: the repeat');
    expect(bmpSize(path.join(dir, 'f.lift.bmp'))).toEqual([100, report.grid.picks]);
  });

  it("the config file's usual width yields to --hooks; a typed --width does not", async () => {
    const dir = tmp();
    picture(dir);
    writeFileSync(path.join(dir, '.imagegenrc.json'), JSON.stringify({ loom: { width: 600 } }));
    const r = await runCli(['edit', 'wedge.png', '--local', '--weave', '--hooks', '100', '-o', 'h.png', '-q'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'h.json'), 'utf8')).weave.layout).toMatchObject({
      hooks: 100,
      designEnds: 100,
      repeats: 1,
    });
    const typed = await runCli(
      ['edit', 'wedge.png', '--local', '--weave', '--hooks', '100', '--width', '30', '-o', 'w.png', '-q'],
      { cwd: dir },
    );
    expect(typed.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'w.json'), 'utf8')).weave.layout).toMatchObject({
      designEnds: 30,
      repeats: 3,
    });
  });

  it('a built-in TC2 preset sets the hooks', async () => {
    const dir = tmp();
    picture(dir);
    const r = await runCli(
      ['edit', 'wedge.png', '--local', '--weave', '--loom', 'tc2-1320', '--selvedge', '8', '-o', 't.png', '-q'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect(bmpSize(path.join(dir, 't.lift.bmp'))[0]).toBe(1320);
    expect(pngSize(path.join(dir, 't.png'))[0]).toBe(1304);
  });
});
