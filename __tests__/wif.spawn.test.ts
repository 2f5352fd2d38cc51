/**
 * `--lift-format wif` through the built binary: the WIF read back by a reader written from the specification,
 * against the same run's lift plan as a PNG.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { encodeRgbPng } from '../src/formats/png.js';
import { rgbImage } from './helpers/images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';
import { get, parseIni, readLiftplanDraft } from './helpers/wif-reader.js';

const YARNS = ['#1b2a4a', '#c8a27a', '#e8e4d8'];
const rgbOf = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** A 48×32 picture: a dark disc on a light ground, with a mid-grey band. */
function picture(dir: string): string {
  const file = path.join(dir, 'motif.png');
  const img = rgbImage(48, 32, (x, y) =>
    y > 24 ? [128, 128, 128] : (x - 24) ** 2 + (y - 12) ** 2 < 100 ? [20, 20, 30] : [240, 236, 226],
  );
  writeFileSync(file, encodeRgbPng(img));
  return file;
}

/** The lift plan image as cells[pick * ends + end], pick 1 = the bottom row, black = raised. */
async function planOfImage(file: string): Promise<{ ends: number; picks: number; cells: Uint8Array }> {
  const img = await Jimp.read(file);
  const { width, height } = img;
  const cells = new Uint8Array(width * height);
  for (let p = 0; p < height; p++)
    for (let e = 0; e < width; e++) cells[p * width + e] = img.getPixelColor(e, height - 1 - p) >>> 8 === 0 ? 1 : 0;
  return { ends: width, picks: height, cells };
}

describe('edit --weave --lift-format wif', () => {
  const tmp = tempDirsPerTest();

  async function weave(dir: string, input: string, name: string, args: string[]) {
    const r = await runCli(
      ['edit', input, '--local', '--width', '40', '--weave', ...args, '-o', name, '--json', '-q'],
      {
        cwd: dir,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout.trim());
  }

  it('three wefts: the drawdown of the WIF is the lift plan, each pick in its weft colour, the sett per cm', async () => {
    const dir = tmp();
    const input = picture(dir);
    const common = ['--wefts', YARNS.join(','), '--density', '24x30'];
    const record = await weave(dir, input, 'w.png', [...common, '--lift-format', 'wif']);
    await weave(dir, input, 'p.png', [...common, '--lift-format', 'png']);
    expect(record.lift).toBe(path.join(dir, 'w.lift.wif'));
    expect(readdirSync(dir).filter((f) => f.startsWith('w.'))).toEqual(
      ['w.back.png', 'w.cloth.png', 'w.json', 'w.lift.wif', 'w.png', 'w.wefts.csv'].sort(),
    );
    const report = JSON.parse(readFileSync(path.join(dir, 'w.json'), 'utf8'));
    expect(report.weave.lift).toMatchObject({ format: 'wif', ends: 40, file: 'w.lift.wif' });

    const wif = parseIni(readFileSync(record.lift, 'latin1'));
    const draft = readLiftplanDraft(wif);
    const image = await planOfImage(path.join(dir, 'p.lift.png'));
    expect([draft.ends, draft.picks]).toEqual([image.ends, image.picks]);
    expect(draft.picks).toBe(report.grid.picks * 3);
    expect(draft.shafts).toBe(40);
    draft.threading.forEach((shafts, e) => expect(shafts).toEqual([e + 1]));
    for (let p = 0; p < draft.picks; p++) {
      const raised = [];
      for (let e = 0; e < draft.ends; e++) if (image.cells[p * draft.ends + e]) raised.push(e + 1);
      expect(draft.liftplan[p]).toEqual(raised);
    }
    // Pick p is woven with weft p mod 3, as the shuttle file says.
    const csv = readFileSync(path.join(dir, 'w.wefts.csv'), 'utf8').trim().split('\n').slice(1);
    expect(csv).toHaveLength(draft.picks);
    draft.weftColors.forEach((rgb, p) => {
      expect(rgb).toEqual(rgbOf(YARNS[p % 3]));
      expect(rgb).toEqual(rgbOf(csv[p].split(',')[2]));
    });
    expect(draft.warpColors.every((c) => c.join() === '0,0,0')).toBe(true);
    expect(draft.warp).toEqual({ units: 'Centimeters', spacing: expect.closeTo(1 / 24, 6) });
    // 30 design rows per cm, three picks each.
    expect(draft.weft).toEqual({ units: 'Centimeters', spacing: expect.closeTo(1 / 90, 6) });
  });

  it('one weft: the warp and weft yarns, the sett per inch, and no sett without --density', async () => {
    const dir = tmp();
    const input = picture(dir);
    const yarns = ['--warp', '#202020', '--weft', '#f0e8d8'];
    const record = await weave(dir, input, 'w.png', [...yarns, '--lift-format', 'wif', '--density', '60x80/in']);
    await weave(dir, input, 'p.png', [...yarns, '--density', '60x80/in', '--lift-format', 'png']);
    const bare = await weave(dir, input, 'n.png', [...yarns, '--lift-format', 'wif']);

    const draft = readLiftplanDraft(parseIni(readFileSync(record.lift, 'latin1')));
    const image = await planOfImage(path.join(dir, 'p.lift.png'));
    expect([draft.ends, draft.picks]).toEqual([image.ends, image.picks]);
    expect(Buffer.from(draft.cells).equals(Buffer.from(image.cells))).toBe(true);
    expect(new Set(draft.warpColors.map((c) => c.join()))).toEqual(new Set(['32,32,32']));
    expect(new Set(draft.weftColors.map((c) => c.join()))).toEqual(new Set(['240,232,216']));
    expect(draft.warp).toEqual({ units: 'Inches', spacing: expect.closeTo(1 / 60, 6) });
    expect(draft.weft).toEqual({ units: 'Inches', spacing: expect.closeTo(1 / 80, 6) });

    const plain = parseIni(readFileSync(bare.lift, 'latin1'));
    for (const section of ['WARP', 'WEFT']) {
      expect(get(plain, section, 'Units')).toBeUndefined();
      expect(get(plain, section, 'Spacing')).toBeUndefined();
    }
  });

  it('--invert with a WIF is a usage error (exit 2), before anything is written', async () => {
    const dir = tmp();
    const input = picture(dir);
    const r = await runCli(['edit', input, '--local', '--width', '40', '--weave', '--lift-format', 'wif', '--invert'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--invert applies to image lift plans/);
    expect(readdirSync(dir)).toEqual(['motif.png']);
  });
});
