/** `edit --weave --wefts`: a compound cloth of several wefts, through the built binary. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeRgbPng } from '../src/formats/png.js';
import { rgbImage } from './helpers/images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const NAVY = [27, 42, 74] as const;
const GOLD = [200, 162, 122] as const;
const CREAM = [232, 228, 216] as const;
const YARNS = '#1b2a4a,#c8a27a,#e8e4d8';

/** A flat three-colour logo, 60×30: navy ground, a gold disc, a cream band. */
function logo(dir: string): string {
  const file = path.join(dir, 'logo.png');
  const img = rgbImage(60, 30, (x, y) =>
    y >= 24 ? [...CREAM] : (x - 30) ** 2 + (y - 12) ** 2 < 64 ? [...GOLD] : [...NAVY],
  );
  writeFileSync(file, encodeRgbPng(img));
  return file;
}

describe('edit --weave --wefts', () => {
  const tmp = tempDirsPerTest();

  it('a logo woven with its own colours as wefts: exact colours, one pick per weft per row, files as a set', async () => {
    const dir = tmp();
    const input = logo(dir);
    const r = await runCli(
      ['edit', input, '--local', '--width', '60', '--palette', YARNS, '--weave', '--wefts', YARNS, '--json', '-q'],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout.trim());
    expect(record).toMatchObject({
      status: 'ok',
      lift: path.join(dir, 'logo.loom.lift.bmp'),
      cloth: path.join(dir, 'logo.loom.cloth.png'),
      back: path.join(dir, 'logo.loom.back.png'),
      wefts: path.join(dir, 'logo.loom.wefts.csv'),
    });
    expect(readdirSync(dir).sort()).toEqual([
      'logo.loom.back.png',
      'logo.loom.cloth.png',
      'logo.loom.json',
      'logo.loom.lift.bmp',
      'logo.loom.png',
      'logo.loom.wefts.csv',
      'logo.png',
    ]);
    const report = JSON.parse(readFileSync(path.join(dir, 'logo.loom.json'), 'utf8'));
    const weave = report.weave;
    // Every colour asked for is a weft's own satin, at ΔE00 0.
    expect(weave.structures.map((s: Record<string, unknown>) => [s.hex, s.weft, s.structure, s.deltaE])).toEqual([
      ['#1b2a4a', 1, 'shade:1/7:3', 0],
      ['#c8a27a', 2, 'shade:1/7:3', 0],
      ['#e8e4d8', 3, 'shade:1/7:3', 0],
    ]);
    expect(report.palette.map((p: { hex: string }) => p.hex)).toEqual(['#1b2a4a', '#c8a27a', '#e8e4d8']);
    expect(weave.wefts).toMatchObject({ picksPerRow: 3, picks: 90, file: 'logo.loom.wefts.csv' });
    expect(weave.lift).toMatchObject({ ends: 60, picks: 90, file: 'logo.loom.lift.bmp' });
    expect(weave.floats.after.weftFace).toBeLessThanOrEqual(8);
    expect(weave.floats.after.weftBack).toBeLessThanOrEqual(16);
    expect(weave.stitching.hiddenShare).toBeGreaterThanOrEqual(0.98);
    expect(weave.readBack).toBeGreaterThanOrEqual(0.98);
    expect(weave.preview).toMatchObject({
      file: 'logo.loom.cloth.png',
      width: 1200,
      back: { file: 'logo.loom.back.png' },
    });
    const csv = readFileSync(path.join(dir, 'logo.loom.wefts.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(0, 5)).toEqual(['pick,weft,colour', '1,1,#1b2a4a', '2,2,#c8a27a', '3,3,#e8e4d8', '4,1,#1b2a4a']);
    expect(csv).toHaveLength(91);
    // The lift plan and the pictures read back with ImageMagick: 60 ends × 90 picks, 1-bit; the face in yarn colours.
    const size = (file: string) =>
      execFileSync('identify', ['-format', '%w %h', path.join(dir, file)], { encoding: 'utf8' });
    expect(size('logo.loom.lift.bmp')).toBe('60 90');
    expect(size('logo.loom.cloth.png')).toBe('1200 600');
    expect(size('logo.loom.back.png')).toBe('1200 630');
  });

  it('selector hooks add one end per weft beside the design', async () => {
    const dir = tmp();
    const input = logo(dir);
    const r = await runCli(
      [
        'edit',
        input,
        '--local',
        '--width',
        '60',
        '--colors',
        '5',
        '--weave',
        '--wefts',
        YARNS,
        '--selector-hooks',
        'right',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const weave = JSON.parse(readFileSync(path.join(dir, 'logo.loom.json'), 'utf8')).weave;
    expect(weave.lift).toMatchObject({ ends: 63, picks: 90 });
    expect(weave.wefts.selectorHooks).toBe('right');
  });

  it.each([
    [['--wefts', '#1b2a4a'], '--wefts: needs 2 to 8 colours, got 1'],
    [['--wefts', Array.from({ length: 9 }, (_, i) => `#0${i}0000`).join(',')], '--wefts: needs 2 to 8 colours, got 9'],
    [['--wefts', '#1b2a4a,navy'], '--wefts: "navy" is not a #rrggbb colour'],
    [['--wefts', 'missing.gpl'], '--wefts file missing.gpl: no such file'],
    [['--weave', '0=plain,*=twill:2/2', '--wefts', YARNS], 'the map can only be auto or auto:N'],
    [['--max-back-float', '20'], '--max-back-float applies to the lift plan: add --weave'],
    [['--weave', '--selector-hooks', 'left'], '--selector-hooks applies to several wefts: add --wefts'],
    [['--wefts', '#1b2a4a,#c8a27a,#1b2a4a'], '--wefts: weft 3 (#1b2a4a) is the same colour as weft 1'],
    [
      ['--wefts', YARNS, '--max-float', '3'],
      '--max-float 3: with several wefts on 8-end satins the face weft floats at least 4',
    ],
    [['--wefts', YARNS, '--palette', '#1b2a4a,#1c2a4a'], '--palette: its colours all come to one effect of the yarns'],
    [['--wefts', YARNS, '--width', '1100', '--preview-scale', '64'], '--preview-scale 64: 1100 ends at 64 pixels each'],
  ])('a bad yarn list or option %j is exit 2, naming it, with nothing written', async (args, message) => {
    const dir = tmp();
    const input = logo(dir);
    const weave = args.includes('--weave') || args.includes('--max-back-float') ? [] : ['--weave'];
    const r = await runCli(['edit', input, '--local', '--width', '60', ...weave, ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(readdirSync(dir)).toEqual(['logo.png']);
  });

  it('imagegen weaves --wefts lists the effects of the yarns, as text and as JSON', async () => {
    const dir = tmp();
    const text = await runCli(['weaves', '--wefts', YARNS, '--warp', '#202020'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('#1b2a4a  weft 1     shade:1/7:3');
    expect(text.stdout).toMatch(/wefts 2\+3 {2}two wefts end by end, 1:1/);
    const json = await runCli(['weaves', '--wefts', YARNS, '--warp', '#202020', '--json'], { cwd: dir });
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Three wefts in four shades each, three pairs half and half, and six ordered pairs 2:1 and 3:1.
    expect(records).toHaveLength(27);
    expect(records[0]).toEqual({ hex: '#1b2a4a', weft: 1, structure: 'shade:1/7:3', warpCover: 0 });
    // From the config: its wefts, and the satin of its map.
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ weave: { wefts: ['#1b2a4a', '#c8a27a'], map: 'auto:10' } }),
    );
    const configured = await runCli(['weaves'], { cwd: dir });
    expect(configured.stdout).toContain('shaded 10-end satin');
    expect(configured.stdout).toMatch(/#c8a27a {2}weft 2 {5}shade:1\/9:/);
    const bad = await runCli(['weaves', '--wefts', '#1b2a4a'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--wefts: needs 2 to 8 colours, got 1');
  });

  it('a batch with a journal weaves every picture with its back and shuttle file; --resume sends nothing again', async () => {
    const dir = tmp();
    const first = logo(dir);
    mkdirSync(path.join(dir, 'in'));
    renameSync(first, path.join(dir, 'in', 'a.png'));
    copyFileSync(path.join(dir, 'in', 'a.png'), path.join(dir, 'in', 'b.png'));
    const args = ['edit', 'in', '--local', '--width', '60', '--weave', '--wefts', YARNS, '--out-dir', 'out'];
    const r = await runCli([...args, '--journal', 'j.jsonl', '--json', '--jobs', '2'], { cwd: dir });
    expect(r.code).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      records
        .filter((x) => x.status === 'ok')
        .map((x) => path.basename(x.wefts))
        .sort(),
    ).toEqual(['a.loom.wefts.csv', 'b.loom.wefts.csv']);
    expect(readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.back.png'))).toHaveLength(2);
    const again = await runCli([...args, '--journal', 'j.jsonl', '--resume', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"status":"skipped"');
  });

  it('pictures too large for a --preview-scale are exit 2, named, with nothing written', async () => {
    const dir = tmp();
    const input = logo(dir);
    const r = await runCli(
      [
        'edit',
        input,
        '--local',
        '--width',
        '400',
        '--height',
        '900',
        '--weave',
        '--wefts',
        YARNS,
        '--preview-scale',
        '40',
        '-q',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--preview-scale 40: the pictures of face and back would have');
    expect(readdirSync(dir)).toEqual(['logo.png']);
  });

  it('--wefts without --weave is exit 2', async () => {
    const dir = tmp();
    const input = logo(dir);
    const r = await runCli(['edit', input, '--local', '--wefts', YARNS], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--wefts applies to the lift plan: add --weave');
    expect(readdirSync(dir)).toEqual(['logo.png']);
  });

  it('a style or the config may carry the wefts; --dry-run sends and writes nothing', async () => {
    const dir = tmp();
    const input = logo(dir);
    writeFileSync(
      path.join(dir, '.imagegenrc.json'),
      JSON.stringify({ styles: { brocade: { wefts: ['#1b2a4a', '#c8a27a', '#e8e4d8'], weave: 'auto' } } }),
    );
    const r = await runCli(['edit', input, '--local', '--width', '60', '--style', 'brocade', '--weave', '-q'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const weave = JSON.parse(readFileSync(path.join(dir, 'logo.brocade.json'), 'utf8')).weave;
    expect(weave.wefts.yarns.map((y: { hex: string }) => y.hex)).toEqual(['#1b2a4a', '#c8a27a', '#e8e4d8']);
    const dry = await runCli(['edit', input, '--local', '--style', 'brocade', '--weave', '--dry-run', '-o', 'x.png'], {
      cwd: dir,
    });
    expect(dry.code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('x.'))).toEqual([]);
  });
});
