/** `--weave auto` keeps distinct colours distinct: one structure each, darker colours more of the darker yarn. */
import { describe, expect, it } from '@jest/globals';
import type { WeaveSettings } from '../src/config/weave.js';
import { srgbToLab } from '../src/loom/color.js';
import type { RgbaImage } from '../src/loom/types.js';
import { assignWeave, autoMapping, autoStructures, parseWeaveMap, type Yarns } from '../src/loom/weave/assign.js';
import { satinMoves } from '../src/loom/weave/structures.js';
import { finishLoom } from '../src/stages/finish.js';
import { weaveStage } from '../src/stages/weave.js';

const BW: Yarns = { warp: [0, 0, 0], weft: [255, 255, 255] };
/** A light warp and a dark weft: the darker yarn is the weft. */
const LIGHT_WARP: Yarns = { warp: [240, 230, 200], weft: [30, 20, 60] };

/** The sRGB grey whose CIE L* is `l`. */
function greyOfL(l: number): number {
  const y = l > 8 ? ((l + 16) / 116) ** 3 : l / (24389 / 27);
  const v = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.round(v * 255);
}

const greys = (values: readonly number[]) => Uint8Array.from(values.flatMap((v) => [v, v, v]));

function lightnessOf(palette: Uint8Array, i: number): number {
  const lab = [0, 0, 0];
  srgbToLab(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2], lab);
  return lab[0];
}

/** The share of the darker yarn each colour's structure shows. */
function darkShare(structures: readonly { cells: Uint8Array }[], yarns: Yarns): number[] {
  const warpDarker = yarns.warp[0] + yarns.warp[1] + yarns.warp[2] < yarns.weft[0] + yarns.weft[1] + yarns.weft[2];
  return structures.map((s) => {
    const c = s.cells.reduce((a, b) => a + b, 0) / s.cells.length;
    return warpDarker ? c : 1 - c;
  });
}

/** Colours ordered lightest first; each next one must show strictly more of the darker yarn. */
function expectStrictlyDarker(palette: Uint8Array, shares: number[]): void {
  const order = shares.map((_, i) => i).sort((a, b) => lightnessOf(palette, b) - lightnessOf(palette, a));
  for (let k = 1; k < order.length; k++) expect(shares[order[k]]).toBeGreaterThan(shares[order[k - 1]]);
}

describe('auto keeps distinct colours distinct', () => {
  it("the portrait's face (L* 66) and sky (L* 59) no longer share a structure", () => {
    // The 8 colours of the portrait at 1200 ends, as greys: 8-end satins have only 7 steps.
    const palette = greys([4.5, 9.3, 25.2, 37.6, 46.0, 59.1, 66.0, 90.5].map(greyOfL));
    const auto = autoMapping(palette, BW);
    const names = auto.structures.map((s) => s!.name);
    expect(new Set(names).size).toBe(8);
    expect(names[5]).not.toBe(names[6]);
    expect(auto).toMatchObject({ ends: 9, asked: 8, why: '8 colours need 8 steps: the 8-end satin has 7', shared: [] });
    expectStrictlyDarker(palette, darkShare(auto.structures as { cells: Uint8Array }[], BW));
  });

  it('8 close greys get 8 structures, strictly more of the darker yarn as they darken, with either yarn darker', () => {
    const palette = greys([118, 120, 122, 124, 126, 128, 130, 132]);
    for (const yarns of [BW, LIGHT_WARP]) {
      const auto = autoMapping(palette, yarns);
      expect(new Set(auto.structures.map((s) => s!.name)).size).toBe(8);
      expectStrictlyDarker(palette, darkShare(auto.structures as { cells: Uint8Array }[], yarns));
      expect(auto.ends).toBeGreaterThanOrEqual(9);
      expect(auto.ends).toBeLessThanOrEqual(16);
      expect(satinMoves(auto.ends).length).toBeGreaterThan(0);
      expect(auto.shared).toEqual([]);
    }
  });

  it('the same colour gets the same structure whatever its place in the palette', () => {
    const values = [30, 118, 120, 200, 122, 90, 124, 60];
    const forward = autoStructures(greys(values), BW).map((s) => s.name);
    const reversed = autoStructures(greys([...values].reverse()), BW).map((s) => s.name);
    expect(reversed).toEqual([...forward].reverse());
    expect(autoStructures(greys(values), BW).map((s) => s.name)).toEqual(forward);
  });

  it('a 12-colour palette takes a larger satin, the smallest regular one with 12 steps or more', () => {
    const palette = greys(Array.from({ length: 12 }, (_, i) => 12 + i * 21));
    const auto = autoMapping(palette, BW, 8);
    expect(auto.ends).toBe(13);
    expect(auto.why).toBe('12 colours need 12 steps: the 8-end satin has 7');
    expect(new Set(auto.structures.map((s) => s!.name)).size).toBe(12);
    for (const s of auto.structures) expect(s!.name).toMatch(/^shade:\d+\/\d+:\d+$/);
    expectStrictlyDarker(palette, darkShare(auto.structures as { cells: Uint8Array }[], BW));
    // 10 ends (9 steps) already hold 9 colours; the family asked for is kept when it has the steps.
    expect(autoMapping(palette.subarray(0, 27), BW, 10).ends).toBe(10);
  });

  it('colours kept apart on too coarse a family, far from their tones, take a finer one', () => {
    // Five light colours and two dark: on 8 ends, the fifth light one would be woven as a dark mid-tone.
    const palette = greys([250, 242, 234, 226, 218, 40, 20]);
    const auto = autoMapping(palette, BW, 8);
    expect(auto.ends).toBeGreaterThan(8);
    expect(auto.why).toMatch(/^kept apart on the 8-end satin, colours would stray up to [\d.]+ L\* from their tones/);
    expect(new Set(auto.structures.map((s) => s!.name)).size).toBe(7);
  });

  it('is monotone on a ramp: a darker grey never gets less of the darker yarn', () => {
    const ramp = new Uint8Array(256 * 3);
    for (let v = 0; v < 256; v++) ramp.set([255 - v, 255 - v, 255 - v], v * 3); // light to dark
    const ten = greys(Array.from({ length: 10 }, (_, i) => 250 - i * 25));
    for (const yarns of [BW, LIGHT_WARP]) {
      const dark = darkShare(autoStructures(ramp, yarns), yarns);
      for (let i = 1; i < dark.length; i++) expect(dark[i]).toBeGreaterThanOrEqual(dark[i - 1]);
      // 256 colours: the whole 16-end family, lightest to darkest.
      expect(dark[0]).toBeCloseTo(1 / 16, 10);
      expect(dark[255]).toBeCloseTo(15 / 16, 10);
      expect(new Set(dark).size).toBe(15);
      expectStrictlyDarker(ten, darkShare(autoStructures(ten, yarns), yarns));
    }
  });

  it('only the colours auto covers are counted; named ones keep their structure', () => {
    const palette = greys([10, 20, 35, 50, 62, 75, 88, 95].map(greyOfL));
    const { structures, auto } = assignWeave(parseWeaveMap('auto,0=plain'), palette, BW);
    expect(structures[0].name).toBe('plain');
    // Seven colours left: the 8-end family's 7 steps hold them.
    expect(auto).toMatchObject({ ends: 8, asked: 8, shared: [] });
    expect(new Set(structures.slice(1).map((s) => s.name)).size).toBe(7);
  });
});

describe('when even 16 ends have too few steps', () => {
  // 20 greys, two of them the same lightness.
  const values = [...Array.from({ length: 19 }, (_, i) => 8 + i * 13), 99];

  it('the closest colours share, and the result names them and why', () => {
    const palette = greys(values);
    const auto = autoMapping(palette, BW);
    expect(auto.ends).toBe(16);
    const names = auto.structures.map((s) => s!.name);
    expect(new Set(names).size).toBe(15);
    const sharing = auto.shared.flatMap((g) => g.colors);
    expect(sharing.length - auto.shared.length).toBe(5);
    for (const g of auto.shared) {
      expect(new Set(g.colors.map((c) => names[c]))).toEqual(new Set([g.structure]));
      expect(g.hexes).toHaveLength(g.colors.length);
    }
    // The two greys of equal lightness share, and say so.
    const same = auto.shared.find((g) => g.colors.includes(7) && g.colors.includes(19));
    expect(same?.why).toMatch(/^the same lightness \(L\* \d+(\.\d)?\)$/);
    expect(
      auto.shared.some((g) => /20 colours, and the 16-end satin, the largest auto takes, has 15 steps/.test(g.why)),
    ).toBe(true);
    const dark = darkShare(auto.structures as { cells: Uint8Array }[], BW);
    const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
    for (let k = 1; k < order.length; k++) expect(dark[order[k]]).toBeGreaterThanOrEqual(dark[order[k - 1]]);
  });

  /** The design of stripes 4 ends wide, one per grey, woven with that palette. */
  async function stripes(of: readonly number[]) {
    const width = of.length * 4;
    const data = new Uint8Array(width * 8 * 4);
    for (let i = 0; i < width * 8; i++) {
      const v = of[(i % width) >> 2];
      data.set([v, v, v, 255], i * 4);
    }
    const picture: RgbaImage = { width, height: 8, data };
    const loom = { width, height: 8, colors: of.length, dither: 'none' as const, minRegion: 1, palette: greys(of) };
    return { design: await finishLoom(picture, loom), loom };
  }

  it('the weave report carries the shared note and the job gets a warning line', async () => {
    const { design, loom } = await stripes(values);
    expect(design.image.palette.length / 3).toBe(20);
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
    const woven = weaveStage(design, settings, loom);
    if (woven.back) throw new Error('a single-weft cloth');
    expect(woven.report.auto).toEqual({ ends: 16, asked: 8, why: '20 colours need 20 steps: the 8-end satin has 7' });
    expect(woven.report.shared?.length).toBeGreaterThan(0);
    expect(woven.warnings).toHaveLength(1);
    expect(woven.warnings![0]).toMatch(
      /^--weave auto: 20 colours, and the 16-end satin, the largest auto takes, has 15 steps: colours \d+, \d+ \(L\* [\d.]+, [\d.]+\) share shade:\d+\/\d+:\d+(; |$)/,
    );
    // Seven colours with room to spare: no note, no warning.
    const seven = await stripes(values.slice(0, 7));
    const few = weaveStage(seven.design, settings, seven.loom);
    if (few.back) throw new Error('a single-weft cloth');
    expect(few.report.shared).toBeUndefined();
    expect(few.warnings).toBeUndefined();
  });
});
