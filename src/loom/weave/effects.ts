/**
 * What a compound, weft-faced cloth can show at one design cell: an effect is a face weft and a shade, the
 * step of a shaded satin on that weft's pick (shade:u/(n−u): u ends raised of n). The other wefts pass behind.
 *
 * Appearance model, used to give each effect its colour:
 * - The back wefts are hidden: in a weft-faced cloth the picks are packed so that the face weft's floats
 *   cover the picks beside them.
 * - The face shows the face weft and the warp, mixed in linear light (the eye averages reflected light over
 *   crossings too small to resolve) in proportion to what each covers.
 * - The warp is set open and the weft packed, so an isolated warp point sinks between the weft's floats: a
 *   raised run of u ends shows u − 1 of them. The weft satin (u = 1) is the weft's own colour, and each step
 *   adds 1/(n − 1) of warp.
 */
import { SRGB_TO_LINEAR, ciede2000, linearToSrgbExact, srgbToLab, toHex } from '../color.js';
import { parseStructure, shadedFamily, structureFromRows, type Structure } from './structures.js';

export type Rgb = readonly [number, number, number];

export interface Effect {
  /** 0-based weft in shuttle order. */
  weft: number;
  /**
   * A second weft sharing the face with `weft`, end by end: it covers one end in `every` (2: every other end,
   * in plain order; 3 or 4: one end in three or four, on a diagonal), `weft` the rest. Their colours mix in that proportion,
   * and the warp does not show.
   */
  weft2?: number;
  every?: 2 | 3 | 4;
  /** Ends raised on the face weft's pick, of `structure.width`. */
  up: number;
  structure: Structure;
  /** The share of the face the warp covers, in the appearance model. */
  cover: number;
  rgb: Rgb;
}

/** The face colour of a weft with the warp covering `cover` of the face. */
export function mixColor(warp: Rgb, weft: Rgb, cover: number): Rgb {
  const mix = (w: number, f: number) => linearToSrgbExact(cover * SRGB_TO_LINEAR[w] + (1 - cover) * SRGB_TO_LINEAR[f]);
  return [mix(warp[0], weft[0]), mix(warp[1], weft[1]), mix(warp[2], weft[2])];
}

/** The share of the face the warp covers when u ends of n are raised on the face pick. */
export function faceCover(up: number, n: number): number {
  return (up - 1) / (n - 1);
}

/**
 * Every effect the yarns can make on an n-end shaded satin family, weft by weft (shuttle order), lightest step
 * of each weft first. The face weft keeps the face: at most half the ends rise on its pick, so that its floats
 * still cover the back picks beside them (and the cell still reads as that weft's in the lift plan). An effect
 * whose colour an earlier one already gives is left out, so that a colour names one effect.
 */
export function weftEffects(
  warp: Rgb,
  wefts: readonly Rgb[],
  n: number,
  options: { move?: number; mixes?: boolean } = {},
): Effect[] {
  const family = shadedFamily(n, options.move);
  const seen = new Set<string>();
  const effects: Effect[] = [];
  // Each weft's own colour first, so that no shade of another weft can take it.
  for (const step of [1, ...family.map((_, i) => i + 1).filter((up) => up > 1 && up <= n / 2)]) {
    wefts.forEach((weft, w) => {
      const cover = faceCover(step, n);
      const rgb = mixColor(warp, weft, cover);
      const hex = toHex(...rgb);
      if (seen.has(hex)) return;
      seen.add(hex);
      effects.push({ weft: w, up: step, structure: family[step - 1], cover, rgb });
    });
  }
  effects.sort((a, b) => a.weft - b.weft || a.up - b.up);
  if (!options.mixes) return effects;
  const shared = (a: number, b: number, every: 2 | 3 | 4) => {
    const rgb = mixColor(wefts[b], wefts[a], 1 / every);
    const hex = toHex(...rgb);
    if (seen.has(hex)) return;
    seen.add(hex);
    effects.push({ weft: a, weft2: b, every, up: 1, structure: SHARED[every], cover: 0, rgb });
  };
  for (let a = 0; a < wefts.length; a++) for (let b = a + 1; b < wefts.length; b++) shared(a, b, 2);
  for (const every of [3, 4] as const) {
    for (let a = 0; a < wefts.length; a++) for (let b = 0; b < wefts.length; b++) if (a !== b) shared(a, b, every);
  }
  return effects;
}

/** The pick of the first of two wefts sharing the face: raised where the second covers the end. */
const SHARED = {
  2: parseStructure('plain'),
  3: structureFromRows('shared-2-1', ['010', '001', '100']),
  4: structureFromRows('shared-3-1', ['0100', '0010', '0001', '1000']),
} as const;

/** An effect's structure as the report and `imagegen weaves` name it. */
export function effectName(e: Effect): string {
  if (e.weft2 === undefined) return e.structure.name;
  return `two wefts end by end, ${(e.every ?? 2) - 1}:1`;
}

/** The effects' colours as palette triplets, in order. */
export function effectColors(effects: readonly Effect[]): Uint8Array {
  const out = new Uint8Array(effects.length * 3);
  effects.forEach((e, i) => out.set(e.rgb, i * 3));
  return out;
}

/** The effect each palette colour is, by exact colour; a colour that is none of them is an error. */
export function effectsOfPalette(palette: Uint8Array, effects: readonly Effect[]): Effect[] {
  const byHex = new Map(effects.map((e) => [toHex(...e.rgb), e]));
  const out: Effect[] = [];
  for (let i = 0; i < palette.length; i += 3) {
    const hex = toHex(palette[i], palette[i + 1], palette[i + 2]);
    const effect = byHex.get(hex);
    if (!effect) throw new Error(`palette colour ${hex} is not an effect of these yarns`);
    out.push(effect);
  }
  return out;
}

export interface NearestEffect {
  /** The colour asked for. */
  asked: string;
  effect: Effect;
  deltaE: number;
}

/** The effect nearest each asked colour by CIEDE2000 (ties: the earlier effect). */
export function nearestEffects(palette: Uint8Array, effects: readonly Effect[]): NearestEffect[] {
  const lab = new Float32Array(3);
  const effectLab = effects.map((e) => {
    const out = new Float32Array(3);
    srgbToLab(e.rgb[0], e.rgb[1], e.rgb[2], out);
    return out;
  });
  const out: NearestEffect[] = [];
  for (let i = 0; i < palette.length; i += 3) {
    srgbToLab(palette[i], palette[i + 1], palette[i + 2], lab);
    let best = 0;
    let bestE = Infinity;
    effectLab.forEach((e, k) => {
      const d = ciede2000(lab[0], lab[1], lab[2], e[0], e[1], e[2]);
      if (d < bestE) {
        bestE = d;
        best = k;
      }
    });
    out.push({ asked: toHex(palette[i], palette[i + 1], palette[i + 2]), effect: effects[best], deltaE: bestE });
  }
  return out;
}
