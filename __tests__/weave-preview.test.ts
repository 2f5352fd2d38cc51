/** The single-weft cloth preview: thread edges by default, the cloth's proportions to a pixel, a bounded size. */
import { describe, expect, it } from '@jest/globals';
import { Jimp } from 'jimp';
import type { WeaveSettings } from '../src/config/weave.js';
import { UsageError } from '../src/kernel/errors.js';
import type { LoomSettings, RgbaImage } from '../src/loom/types.js';
import {
  PREVIEW_MAX_PIXELS,
  largestPreviewScale,
  previewScale,
  previewSize,
  renderCloth,
} from '../src/loom/weave/cloth.js';
import type { LiftPlan } from '../src/loom/weave/plan.js';
import { finishLoom } from '../src/stages/finish.js';
import { weaveStage } from '../src/stages/weave.js';

const BW = { warp: [0, 0, 0] as const, weft: [255, 255, 255] as const };

/** A plan with no structure to it, so that a misplaced row or column would show. */
function randomPlan(width: number, height: number, seed = 7): LiftPlan {
  const cells = new Uint8Array(width * height);
  let s = seed;
  for (let i = 0; i < cells.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    cells[i] = s >>> 31;
  }
  return { width, height, cells };
}

describe('the default preview scale', () => {
  it.each([
    [48, 32, 1],
    [400, 500, 24 / 30],
    [600, 700, 1],
    [1320, 1650, 24 / 30],
    [1320, 800, 30 / 24],
    [3000, 3000, 1],
  ])(
    '%i ends × %i picks, a pick %f of an end: 3 px or more per end and per pick, 1200 px or more across',
    (ends, picks, aspect) => {
      const s = previewScale(ends, picks, aspect);
      const size = previewSize(ends, picks, s, aspect);
      expect(s).toBeGreaterThanOrEqual(3);
      expect(Math.floor(s * aspect)).toBeGreaterThanOrEqual(3);
      expect(size.width).toBeGreaterThanOrEqual(1200);
      expect(size.width * size.height).toBeLessThanOrEqual(PREVIEW_MAX_PIXELS);
    },
  );

  it('a huge cloth gets a smaller scale, within 100 megapixels and 32768 pixels a side', () => {
    for (const [ends, picks] of [
      [6000, 6000],
      [12000, 3000],
      [20000, 20000],
    ]) {
      const s = previewScale(ends, picks);
      const size = previewSize(ends, picks, s);
      expect(size.width * size.height).toBeLessThanOrEqual(PREVIEW_MAX_PIXELS);
      expect(Math.max(size.width, size.height)).toBeLessThanOrEqual(32_768);
      expect(size.width * size.height).toBeGreaterThan(PREVIEW_MAX_PIXELS / 5);
    }
    // 6000 × 6000 at 3 px would be 324 megapixels: 1 px a end is the most that fits.
    expect(previewScale(6000, 6000)).toBe(1);
    // 20000 × 20000 does not fit at a pixel an end: a fraction, the threads sampled.
    expect(previewScale(20000, 20000)).toBeLessThan(1);
    const small = renderCloth(randomPlan(10, 10), BW, 0.5);
    expect([small.width, small.height]).toEqual([5, 5]);
    expect(largestPreviewScale(6000, 6000)).toBe(1);
    expect(largestPreviewScale(400, 500, 0.8)).toBe(25);
  });
});

describe('the cloth preview', () => {
  it('keeps the cloth proportions to a pixel: a 16.67 cm square at 24 × 30 per cm is square', () => {
    // 400 ends at 24/cm and 500 picks at 30/cm: 16.67 cm each way.
    const plan = randomPlan(400, 500);
    const aspect = 24 / 30;
    const cloth = renderCloth(plan, BW, previewScale(400, 500, aspect), aspect);
    expect([cloth.width, cloth.height]).toEqual([1600, 1600]);
    for (const [ends, picks, scale, a] of [
      [400, 500, 3, 0.8],
      [37, 53, 5, 0.8],
      [37, 53, 7, 1.25],
      [333, 211, 4, 24 / 31],
      [90, 120, 1, 0.7],
    ]) {
      const c = renderCloth(randomPlan(ends, picks), BW, scale, a);
      expect(c.width).toBe(ends * scale);
      // The cloth's length over its width, (picks / p) / (ends / e), in pixels of the picture's width.
      expect(Math.abs(c.height - (c.width * picks * a) / ends)).toBeLessThanOrEqual(0.5);
    }
  });

  it('every crossing is drawn where it lies: each pick as tall as the cloth has it, floor or ceil', () => {
    const plan = randomPlan(37, 53);
    for (const [scale, aspect] of [
      [4, 0.8],
      [3, 1],
      [5, 1.37],
      [2, 0.8],
    ]) {
      const c = renderCloth(plan, BW, scale, aspect);
      for (let y = 0; y < plan.height; y++) {
        // The first row of the pick's band, counted from the bottom (pick 1 is the bottom band).
        const row = c.height - 1 - Math.ceil((y * c.height) / plan.height);
        for (let x = 0; x < plan.width; x++) {
          const v = c.indices[row * c.width + Math.floor((x + 0.5) * scale)];
          expect(v < 2 ? 1 : 0).toBe(plan.cells[y * plan.width + x]);
        }
      }
    }
    // Picks raised and lowered in turn: down a column, each run of one colour is one pick's band.
    const stripes: LiftPlan = {
      width: 5,
      height: 40,
      cells: Uint8Array.from({ length: 200 }, (_, i) => ((i / 5) & 1) ^ 1),
    };
    for (const [scale, aspect] of [
      [4, 0.8],
      [2, 1.37],
      [3, 24 / 31],
    ]) {
      const c = renderCloth(stripes, BW, scale, aspect);
      const h = scale * aspect;
      const runs: number[] = [];
      let run = 1;
      for (let r = 1; r < c.height; r++) {
        const up = (rr: number) => c.indices[rr * c.width + 2] < 2;
        if (up(r) === up(r - 1)) run++;
        else [runs[runs.length], run] = [run, 1];
      }
      runs.push(run);
      expect(runs).toHaveLength(40);
      for (const band of runs) expect([Math.floor(h), Math.ceil(h)]).toContain(band);
    }
  });

  it('shows thread edges from 3 px: warp edges along the end, weft edges across the pick', () => {
    // A single raised crossing among lowered ones.
    const plan: LiftPlan = { width: 3, height: 3, cells: Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]) };
    const c = renderCloth(plan, BW, 4, 1);
    const at = (x: number, y: number) => c.indices[y * c.width + x];
    // The middle crossing (pixels 4–7 both ways): warp, with its two side columns as edges.
    expect([4, 5, 6, 7].map((x) => at(x, 5))).toEqual([1, 0, 0, 1]);
    // A weft crossing above it: weft, with its top and bottom rows as edges.
    expect([0, 1, 2, 3].map((y) => at(5, y))).toEqual([3, 2, 2, 3]);
    // Palette: the warp, its edge, the weft, its edge.
    expect(Array.from(c.palette)).toHaveLength(12);
    const flat = renderCloth(plan, BW, 2, 1);
    expect(new Set(flat.indices)).toEqual(new Set([0, 2]));
  });
});

describe('the preview of a woven design', () => {
  const settings: WeaveSettings = {
    map: 'auto',
    weaves: {},
    warp: [0, 0, 0],
    weft: [255, 255, 255],
    effectEnds: 8,
    maxFloat: 8,
    maxBackFloat: 16,
    selvedge: 0,
    tile: false,
    invert: false,
    liftFormat: 'bmp',
  };

  async function woven(width: number, height: number, density: LoomSettings['density'], previewScale?: number) {
    const data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const v = (i % width) * 2 < width ? 30 : 220;
      data.set([v, v, v, 255], i * 4);
    }
    const picture: RgbaImage = { width, height, data };
    const loom: LoomSettings = {
      width,
      height,
      colors: 2,
      dither: 'none',
      minRegion: 1,
      ...(density ? { density } : {}),
    };
    const result = weaveStage(await finishLoom(picture, loom), { ...settings, previewScale }, loom);
    if (result.back) throw new Error('a single-weft cloth');
    return result;
  }

  it('by default at 24 × 30 per cm: square cloth, square picture, each end and pick 3 px or more', async () => {
    const w = await woven(400, 500, { ends: 24, picks: 30, unit: 'cm' });
    expect(w.report.preview).toEqual({ scale: 4, width: 1600, height: 1600, pickHeight: 3.2 });
    const png = await Jimp.read(Buffer.from(w.cloth.bytes));
    expect([png.width, png.height]).toEqual([1600, 1600]);
  });

  it('--preview-scale is honoured exactly, and one that would pass 100 megapixels is refused', async () => {
    const w = await woven(120, 90, { ends: 24, picks: 30, unit: 'cm' }, 5);
    expect(w.report.preview).toEqual({ scale: 5, width: 600, height: 360, pickHeight: 4 });
    const png = await Jimp.read(Buffer.from(w.cloth.bytes));
    expect([png.width, png.height]).toEqual([600, 360]);
    const over = woven(400, 400, undefined, 30);
    await expect(over).rejects.toThrow(UsageError);
    await expect(over).rejects.toThrow(
      /^--preview-scale 30: the cloth preview of 400 ends and 400 picks would be 12000 × 12000 pixels, more than 100 megapixels$/,
    );
    await expect(over).rejects.toMatchObject({ hint: 'give --preview-scale 25 or less' });
  });
});
