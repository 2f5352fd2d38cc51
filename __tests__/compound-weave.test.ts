/**
 * Colour jacquard kernels: the effects a set of yarns can weave and their colours, a palette chosen among them,
 * the compound lift plan (picks in shuttle order, back wefts lifted and stitched out of sight, floats held per
 * layer), reading the face wefts back from the plan, and the pictures of face and back.
 */
import { describe, expect, it } from '@jest/globals';
import { chooseAmong } from '../src/loom/choose-among.js';
import { runLoomPipeline } from '../src/loom/pipeline.js';
import type { IndexedImage, RgbImage } from '../src/loom/types.js';
import { compoundScale, renderCompoundBack, renderCompoundFace } from '../src/loom/weave/cloth.js';
import { breakRaisedRuns, readFaceWefts, weaveCompound, type CompoundParams } from '../src/loom/weave/compound.js';
import {
  effectColors,
  effectName,
  effectsOfPalette,
  faceCover,
  mixColor,
  nearestEffects,
  weftEffects,
  type Effect,
  type Rgb,
} from '../src/loom/weave/effects.js';

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];
const RED: Rgb = [255, 0, 0];
const BLUE: Rgb = [20, 40, 160];

function design(width: number, height: number, effects: number, index: (x: number, y: number) => number): IndexedImage {
  const indices = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) indices[y * width + x] = index(x, y);
  return { width, height, indices, palette: new Uint8Array(effects * 3) };
}

const hexOf = (rgb: readonly number[]) => rgb.map((v) => v.toString(16).padStart(2, '0')).join('');

/** Longest runs of `value` along each pick, over the design's ends. */
function longestOnPicks(
  plan: { width: number; height: number; cells: Uint8Array },
  value: number,
  from = 0,
  to = plan.width,
) {
  let longest = 0;
  for (let p = 0; p < plan.height; p++) {
    let run = 0;
    for (let x = from; x < to; x++) {
      run = plan.cells[p * plan.width + x] === value ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
  }
  return longest;
}

describe('effects of a set of yarns', () => {
  it('each weft in four shades toward the warp, then each pair sharing the face 1:1, 2:1 and 3:1, colours mixed in linear light', () => {
    const effects = weftEffects(BLACK, [WHITE, RED], 8, { mixes: true });
    expect(effects.map((e) => [e.weft, e.weft2, e.weft2 === undefined ? e.up : e.every])).toEqual([
      [0, undefined, 1],
      [0, undefined, 2],
      [0, undefined, 3],
      [0, undefined, 4],
      [1, undefined, 1],
      [1, undefined, 2],
      [1, undefined, 3],
      [1, undefined, 4],
      [0, 1, 2],
      [0, 1, 3],
      [1, 0, 3],
      [0, 1, 4],
      [1, 0, 4],
    ]);
    // The weft satin shows the weft alone; each step adds a seventh of warp.
    expect(effects[0].rgb).toEqual([255, 255, 255]);
    expect(effects.map((e) => e.cover).slice(0, 4)).toEqual([0, 1 / 7, 2 / 7, 3 / 7]);
    // 3/7 black over white, in linear light: 4/7 = 0.571 → sRGB 199.
    expect(effects[3].rgb).toEqual([199, 199, 199]);
    expect(effects[4].rgb).toEqual([255, 0, 0]);
    // White and red end by end: green and blue at half light, 0.5 → sRGB 188; red with a third of white, 1/3 → 156.
    expect(effects[8].rgb).toEqual([255, 188, 188]);
    expect(effects[10].rgb).toEqual([255, 156, 156]);
    expect(effectName(effects[10])).toBe('two wefts end by end, 2:1');
    expect(effects[3].structure.name).toBe('shade:4/4:3');
    expect(faceCover(1, 8)).toBe(0);
    expect(mixColor(BLACK, WHITE, 1)).toEqual([0, 0, 0]);
  });

  it('a colour two effects would share names the first; a palette colour that is no effect is refused', () => {
    const effects = weftEffects(WHITE, [WHITE, RED], 8);
    // White weft under a white warp: every shade is white, so one effect stands for them.
    expect(effects.filter((e) => e.weft === 0)).toHaveLength(1);
    expect(() => effectsOfPalette(Uint8Array.of(1, 2, 3), effects)).toThrow('#010203 is not an effect');
  });

  it('a weft keeps its own colour even when a shade of an earlier weft comes to the same', () => {
    // #eeeeee is (nearly) white with a seventh of black: weft 2's own colour must still be weft 2's satin.
    const effects = weftEffects(BLACK, [WHITE, [238, 238, 238], [192, 0, 0]], 8);
    const own = effects.find((e) => e.rgb.join() === '238,238,238');
    expect(own).toMatchObject({ weft: 1, up: 1 });
  });

  it('a fixed palette goes to its nearest effects, and yarn colours asked for are exact', () => {
    const effects = weftEffects(BLACK, [WHITE, RED, BLUE], 8, { mixes: true });
    const nearest = nearestEffects(Uint8Array.of(...RED, ...BLUE, ...WHITE, 250, 190, 190), effects);
    expect(nearest.map((n) => [n.asked, n.effect.weft, n.effect.weft2, n.effect.up])).toEqual([
      ['#ff0000', 1, undefined, 1],
      ['#1428a0', 2, undefined, 1],
      ['#ffffff', 0, undefined, 1],
      ['#fabebe', 0, 1, 1],
    ]);
    expect(nearest.slice(0, 3).map((n) => n.deltaE)).toEqual([0, 0, 0]);
    expect(nearest[3].deltaE).toBeGreaterThan(0);
    expect(nearest[3].deltaE).toBeLessThan(3);
  });
});

describe('a palette chosen among given colours', () => {
  it('takes the colours that fit the picture best, in candidate order', () => {
    // Three flat areas: red, a dark blue and a mid grey; candidates include near misses.
    const width = 30;
    const data = new Uint8Array(width * 10 * 3);
    for (let i = 0; i < width * 10; i++) {
      const x = i % width;
      data.set(x < 10 ? [250, 5, 5] : x < 20 ? [20, 40, 160] : [128, 128, 128], i * 3);
    }
    const grid: RgbImage = { width, height: 10, data };
    const candidates = Uint8Array.of(0, 0, 0, 255, 0, 0, 20, 40, 160, 255, 255, 255, 130, 128, 126, 200, 0, 0);
    expect(chooseAmong(grid, candidates, 3)).toEqual([1, 2, 4]);
    expect(chooseAmong(grid, candidates, 10)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('the loom pipeline with candidates maps every pixel to one of them, by CIEDE2000', () => {
    const effects = weftEffects(BLACK, [WHITE, RED, BLUE], 8, { mixes: true });
    const width = 40;
    const data = new Uint8Array(width * 20 * 3);
    for (let i = 0; i < width * 20; i++) data.set(i % width < 20 ? RED : WHITE, i * 3);
    const result = runLoomPipeline(
      { grid: { width, height: 20, data } },
      { width, height: 20, colors: 4, dither: 'none', minRegion: 1, candidates: effectColors(effects) },
    );
    // Only the colours the picture uses stay: the two wefts, exactly.
    expect(result.stats.palette.map((p) => p.hex)).toEqual(['#ffffff', '#ff0000']);
  });
});

describe('the compound lift plan', () => {
  const two = weftEffects(BLACK, [WHITE, RED], 8, { mixes: true });
  const white = two[0];
  const red = two[4];
  const params = (effects: Effect[], more: Partial<CompoundParams> = {}): CompoundParams => ({
    effects,
    wefts: 2,
    maxFloat: 8,
    maxBackFloat: 16,
    tile: false,
    selvedge: 0,
    ...more,
  });

  it('weaves each design row as one pick per weft in shuttle order: the face weft in its satin, the other lifted', () => {
    // Left half white, right half red, 32 ends by 8 rows: no back float over 20 ends, so nothing is stitched.
    const woven = weaveCompound(
      design(32, 8, 2, (x) => (x < 16 ? 0 : 1)),
      params([white, red], { maxBackFloat: 20 }),
    );
    const { plan } = woven;
    expect([plan.width, plan.height]).toEqual([32, 16]);
    for (let yb = 0; yb < 8; yb++) {
      for (let x = 0; x < 32; x++) {
        const face = x < 16 ? 0 : 1;
        const back = 1 - face;
        // The weft satin 1/7 in global phase: raised where (x - 3·yb) mod 8 = 0.
        expect(plan.cells[(yb * 2 + face) * 32 + x]).toBe((((x - 3 * yb) % 8) + 8) % 8 === 0 ? 1 : 0);
        expect(plan.cells[(yb * 2 + back) * 32 + x]).toBe(1);
      }
    }
    expect(woven.stitches).toEqual({ points: 0, hidden: 0 });
    // Behind the other half, plus the binding point beside it at most.
    expect(woven.floats.after).toEqual({ weftFace: 7, weftBack: 17, warpFace: 1 });
  });

  it('stitches a back weft within --max-back-float, each point where the face weft floats over the end', () => {
    const woven = weaveCompound(
      design(64, 16, 2, (x) => (x < 32 ? 0 : 1)),
      params([white, red], { maxBackFloat: 6 }),
    );
    const { plan } = woven;
    expect(woven.floats.before.weftBack).toBeGreaterThanOrEqual(32);
    expect(woven.floats.after.weftBack).toBeLessThanOrEqual(6);
    expect(longestOnPicks(plan, 1)).toBeLessThanOrEqual(6);
    expect(longestOnPicks(plan, 0)).toBeLessThanOrEqual(8);
    expect(woven.stitches.points).toBeGreaterThan(0);
    for (let yb = 0; yb < 16; yb++) {
      for (let x = 0; x < 64; x++) {
        const face = x < 32 ? 0 : 1;
        const back = 1 - face;
        if (plan.cells[(yb * 2 + back) * 64 + x] !== 0) continue;
        // Every stitch is hidden, and in the middle of the face weft's float, not beside its binding point.
        for (const dx of [-1, 0, 1]) {
          const xx = x + dx;
          if (xx < 0 || xx >= 64 || (xx < 32 ? 0 : 1) !== face) continue;
          expect([yb, x, dx, plan.cells[(yb * 2 + face) * 64 + xx]]).toEqual([yb, x, dx, 0]);
        }
      }
    }
    expect(woven.stitches.hidden).toBe(woven.stitches.points);
  });

  it('holds the face weft and the warp over the face picks to --max-float', () => {
    // A 10-end weft satin floats 9 ends: over a limit of 6 it gets binding points on its own picks.
    const ten = weftEffects(BLACK, [WHITE, RED], 10);
    const woven = weaveCompound(
      design(40, 20, 2, (x) => (x < 20 ? 0 : 1)),
      params([ten[0], ten[5]], { maxFloat: 6 }),
    );
    expect(woven.floats.before.weftFace).toBe(9);
    expect(woven.floats.after.weftFace).toBeLessThanOrEqual(6);
    expect(woven.floats.after.warpFace).toBeLessThanOrEqual(6);
    expect(woven.bindingPoints).toBeGreaterThan(0);
  });

  it('with --tile, floats are held across the seams of the repeat', () => {
    const woven = weaveCompound(
      design(24, 8, 2, () => 0),
      params([white, red], { tile: true, maxBackFloat: 10 }),
    );
    // Red never shows: its picks are one lifted float round the repeat, with no end, until stitched.
    expect(woven.floats.before.weftBack).toBe(Infinity);
    expect(woven.floats.after.weftBack).toBeLessThanOrEqual(10);
    const { plan } = woven;
    for (let yb = 0; yb < 8; yb++) {
      // Twice round the cyclic pick of the red weft: no run longer than 10.
      let run = 0;
      for (let i = 0; i < 48; i++) {
        run = plan.cells[(yb * 2 + 1) * 24 + (i % 24)] === 1 ? run + 1 : 0;
        expect(run).toBeLessThanOrEqual(10);
      }
    }
  });

  it('with --tile, a weft that never shows in the repeat is still stitched: its float would never end', () => {
    // 12 ends all white face: the red weft's picks are raised all along, a float round the repeat for ever.
    const woven = weaveCompound(
      design(12, 4, 2, () => 0),
      params([white, red], { tile: true }),
    );
    expect(woven.floats.before.weftBack).toBe(Infinity);
    expect(woven.floats.after.weftBack).toBeLessThanOrEqual(16);
    for (let yb = 0; yb < 4; yb++) expect(woven.plan.cells.subarray((yb * 2 + 1) * 12, (yb * 2 + 2) * 12)).toContain(0);
  });

  it('round the seam, a pick whose only lowered end is its last is read from its first end', () => {
    const cells = Uint8Array.of(1, 1, 1, 1, 0);
    const none = new Uint8Array(5);
    const line = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
    expect(breakRaisedRuns(cells, line(5), 5, true, 4, 0, none, none)).toBe(0);
    expect(Array.from(cells)).toEqual([1, 1, 1, 1, 0]);
    const long = Uint8Array.of(1, 1, 1, 1, 1, 0);
    expect(breakRaisedRuns(long, line(6), 6, true, 4, 0, new Uint8Array(6), new Uint8Array(6))).toBe(1);
  });

  it("selvedges, outside the design, are plain on each weft's picks and never float the edge end over a row's picks", () => {
    const eight = weftEffects(
      BLACK,
      [WHITE, RED, BLUE, [0, 128, 0], [128, 0, 128], [0, 128, 128], [200, 200, 0], [90, 90, 90]],
      8,
    );
    const woven = weaveCompound(
      design(24, 6, 1, () => 0),
      { ...params([eight[0]]), wefts: 8, selvedge: 2 },
    );
    const { plan } = woven;
    expect([plan.width, woven.offset, woven.designWidth]).toEqual([28, 2, 24]);
    for (const x of [0, 1, 26, 27]) {
      let run = 0;
      let longest = 0;
      for (let p = 0; p < plan.height; p++) {
        run = plan.cells[p * 28 + x] === 1 ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      expect([x, longest]).toEqual([x, 2]);
      // Each weft, along its own picks at this end: up, down, up, …
      for (let k = 0; k < 8; k++) {
        const own = Array.from({ length: 6 }, (_, yb) => plan.cells[(yb * 8 + k) * 28 + x]);
        expect(own.every((v, i) => i === 0 || v !== own[i - 1])).toBe(true);
      }
    }
    expect(woven.floats.after.warpFace).toBeLessThanOrEqual(8);
  });

  it('floats that cannot be held are an error, never a plan that breaks its limits', () => {
    const shades = weftEffects(BLACK, [WHITE, RED], 8);
    expect(() =>
      weaveCompound(
        design(40, 20, 2, (x, y) => ((x >> 2) + (y >> 2)) % 2),
        params([shades[3], shades[7]], { maxFloat: 2, maxBackFloat: 2 }),
      ),
    ).toThrow('could not be held');
  });

  it('two wefts sharing the face alternate end by end and hide the warp', () => {
    const mix = two[8];
    const woven = weaveCompound(
      design(8, 4, 1, () => 0),
      params([mix]),
    );
    const { plan } = woven;
    for (let yb = 0; yb < 4; yb++) {
      for (let x = 0; x < 8; x++) {
        const a = plan.cells[yb * 2 * 8 + x];
        const b = plan.cells[(yb * 2 + 1) * 8 + x];
        expect(a + b).toBe(1);
        expect(woven.face[yb * 8 + x]).toBe(a === 0 ? 0 : 1);
        expect(woven.shared[yb * 8 + x]).toBe(a === 0 ? 1 : 0);
      }
    }
  });

  it("selector hooks: one end per weft at the chosen edge, raised on that weft's picks only", () => {
    const three = weftEffects(BLACK, [WHITE, RED, BLUE], 8);
    for (const side of ['left', 'right'] as const) {
      const woven = weaveCompound(
        design(16, 4, 3, (x) => Math.floor(x / 6)),
        { ...params([three[0], three[4], three[8]]), wefts: 3, selectorHooks: side },
      );
      const { plan } = woven;
      expect(plan.width).toBe(19);
      const first = side === 'left' ? 0 : 16;
      expect(woven.offset).toBe(side === 'left' ? 3 : 0);
      for (let p = 0; p < plan.height; p++) {
        const hooks = [0, 1, 2].map((k) => plan.cells[p * 19 + first + k]);
        expect(hooks).toEqual([0, 1, 2].map((k) => (p % 3 === k ? 1 : 0)));
      }
    }
  });

  it("a reader of the plan alone finds each cell's face weft", () => {
    const three = weftEffects(BLACK, [WHITE, RED, BLUE], 8, { mixes: true });
    const effects = [three[0], three[3], three[4], three[9], three[three.length - 1]];
    const d = design(60, 30, effects.length, (x, y) => Math.floor(x / 12 + y / 15) % effects.length);
    const woven = weaveCompound(d, { ...params(effects), wefts: 3 });
    const read = readFaceWefts(woven.plan, { offset: 0, designWidth: 60, wefts: 3, selvedge: 0 }, 8);
    let agree = 0;
    for (let i = 0; i < read.length; i++) if (read[i] === woven.face[i] || read[i] === woven.shared[i]) agree++;
    expect(agree / read.length).toBeGreaterThanOrEqual(0.98);
  });
});

describe('pictures of a compound cloth', () => {
  it('the face shows the warp where the face pick raises it, else the face weft; the back is mirrored, pick by pick', () => {
    const two = weftEffects(BLACK, [WHITE, RED], 8);
    const woven = weaveCompound(
      design(8, 2, 2, (x) => (x < 4 ? 0 : 1)),
      {
        effects: [two[0], two[4]],
        wefts: 2,
        maxFloat: 8,
        maxBackFloat: 16,
        tile: false,
        selvedge: 0,
      },
    );
    const cloth = { plan: woven.plan, offset: 0, designWidth: 8, wefts: 2, face: woven.face };
    const yarns = { warp: BLACK, wefts: [WHITE, RED] };
    const scale = compoundScale(8, 2, 1, 4);
    expect(scale).toEqual({ scale: 4, rowHeight: 4, pickHeight: 2 });
    const face = renderCompoundFace(cloth, yarns, scale);
    const back = renderCompoundBack(cloth, yarns, scale);
    expect([face.width, face.height, back.width, back.height]).toEqual([32, 8, 32, 8]);
    const colour = (img: IndexedImage, x: number, y: number) =>
      hexOf(
        Array.from(img.palette.subarray(img.indices[y * img.width + x] * 3, img.indices[y * img.width + x] * 3 + 3)),
      );
    // Bottom design row (pick 1 and 2): end 0 is the satin's binding point (warp up), end 1 is white weft.
    expect(colour(face, 1, 5)).toBe('000000');
    expect(colour(face, 5, 5)).toBe('ffffff');
    expect(colour(face, 2 * 4 + 1, 5)).toBe('ffffff');
    expect(colour(face, 5 * 4 + 1, 5)).toBe('ff0000');
    // The back, mirrored: the red weft's pick (pick 2, rows 4-5) shows red behind the white half (now on the right).
    expect(colour(back, 32 - 1 - 1, 4)).toBe('ff0000');
    // Its white pick (pick 1, rows 6-7) behind the red half (now on the left) shows white.
    expect(colour(back, 1, 7)).toBe('ffffff');
  });

  it('the default scale is at least 3 pixels an end and 1200 pixels across', () => {
    expect(compoundScale(600, 4)).toEqual({ scale: 3, rowHeight: 3, pickHeight: 1 });
    expect(compoundScale(100, 3)).toEqual({ scale: 12, rowHeight: 12, pickHeight: 4 });
    expect(compoundScale(300, 2, 1.25)).toEqual({ scale: 4, rowHeight: 5, pickHeight: 3 });
  });
});
