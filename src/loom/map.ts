/**
 * Maps each pixel to its nearest palette entry by CIEDE2000, the measure the result is judged by.
 *
 * CIEDE2000 costs far more than a CIELAB distance, and for most colours it agrees with it, so for a chosen
 * palette it is computed only for the entries within `reach` times the nearest CIELAB distance (the others
 * are too far for CIEDE2000's rescaling of chroma and hue to bring them first); fixed yarn palettes compare
 * every entry. Each distinct colour is matched at most once, and in a smooth picture most not at all (see
 * NearestMemo).
 */
import { ciede2000, srgbToLab } from './color.js';
import type { RgbImage } from './types.js';

/** 'lab': plain CIELAB distance; 'ciede2000': CIEDE2000 among the entries within reach. */
export type MatchMetric = 'lab' | 'ciede2000';

/**
 * How far past the nearest CIELAB distance an entry may be and still be compared by CIEDE2000, for chosen
 * palettes. Beyond it CIEDE2000 practically never changes the answer.
 */
export const CHOSEN_REACH = 2;

export function paletteLab(palette: Uint8Array): Float32Array {
  const n = palette.length / 3;
  const lab = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) srgbToLab(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2], lab, i * 3);
  return lab;
}

/**
 * Index of the palette entry nearest to (L, A, B): by CIEDE2000 among the entries whose CIELAB distance is at
 * most `reach` times the smallest (all of them when reach is Infinity), or by CIELAB alone for 'lab'. Ties go
 * to the lower index. `scratch` holds one number per entry, and one more if the caller wants the CIEDE2000
 * of the answer: it is left there, or −1 where it was not needed to choose (one candidate, an exact match, or
 * 'lab').
 */
export function nearestEntry(
  L: number,
  A: number,
  B: number,
  plab: Float32Array,
  metric: MatchMetric,
  reach: number,
  scratch: Float64Array,
): number {
  const k = plab.length / 3;
  let best = 0;
  let bestD = Infinity;
  for (let c = 0, q = 0; c < k; c++, q += 3) {
    const dl = L - plab[q];
    const da = A - plab[q + 1];
    const db = B - plab[q + 2];
    const d = dl * dl + da * da + db * db;
    scratch[c] = d;
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const wantsE = scratch.length > k;
  if (metric === 'lab' || bestD === 0) {
    if (wantsE) scratch[k] = -1;
    return best;
  }
  const limit = bestD * reach * reach;
  let candidates = 0;
  for (let c = 0; c < k; c++) if (scratch[c] <= limit) candidates++;
  if (candidates === 1) {
    if (wantsE) scratch[k] = -1;
    return best;
  }
  // The CIELAB-nearest first; then each other candidate unless its lightness term alone already exceeds the
  // best CIEDE2000 (the chroma and hue terms together are never negative).
  const labBest = best;
  let bestE = ciede2000(L, A, B, plab[best * 3], plab[best * 3 + 1], plab[best * 3 + 2]);
  for (let c = 0, q = 0; c < k; c++, q += 3) {
    if (c === labBest || scratch[c] > limit) continue;
    const dl = plab[q] - L;
    const lm = ((plab[q] + L) / 2 - 50) ** 2;
    const tl = dl / (1 + (0.015 * lm) / Math.sqrt(20 + lm));
    if (tl * tl > bestE * bestE) continue;
    const e = ciede2000(L, A, B, plab[q], plab[q + 1], plab[q + 2]);
    if (e < bestE || (e === bestE && c < best)) {
      bestE = e;
      best = c;
    }
  }
  if (wantsE) scratch[k] = bestE;
  return best;
}

/** Lattice points per channel: colours 0, 4, 8, …, 252 and 255 (the last one standing in for 256). */
const LATTICE = 65;

/** The colour level of lattice point n. */
function latticeLevel(n: number): number {
  return n === LATTICE - 1 ? 255 : n * 4;
}

/** States in `blocks` below zero: not looked at yet, and corners that disagree. */
const UNSEEN = 0;
const MIXED = -1;

/**
 * The tables of a memo that is done with, for the next one: clearing them costs less than the page faults
 * of fresh ones, picture after picture.
 */
let spareTables:
  { corners: Uint16Array; blocks: Int32Array; values: Uint8Array | Uint16Array; used: number } | undefined;

/**
 * Nearest palette index per 24-bit colour.
 *
 * Nearest regions are large and their borders smooth next to the 4 sRGB levels between lattice points, so
 * a 4×4×4 cube of colours whose eight corners (on a lattice of every 4th level) all have the same nearest
 * entry is given that entry without a search of its own. Only the colours of cubes that straddle a border
 * are searched one by one: a fraction of the colours of a smooth photograph, though noise can make the
 * corners cost more searches than it saves. Every lattice colour gets its own search's answer. A border that
 * enters a cube without passing any of its corners has to curve within a few levels, which happens where
 * entries crowd together, and then mostly where an entry comes within `reach`; a colour there gets the
 * corners' entry instead of the search's.
 *
 * What is found is remembered: corner answers on the lattice; colours in blocks of 4×4×4 that are made only
 * when a colour of theirs is first asked for, so the memory grows with the colours met (not a table of all
 * 16.7 million), and the similar colours of neighbouring pixels share a block and so a cache line or two.
 */
export class NearestMemo {
  /** Palette index + 1 per lattice point; 0 = not matched yet. */
  private readonly corners: Uint16Array;
  /**
   * Per 4×4×4 cube: MIXED − (palette index + 1) when its corners agree, MIXED when not, UNSEEN, or the
   * number + 1 of its block of colours in `values`.
   */
  private readonly blocks: Int32Array;
  /** Palette index + 1 per colour, 64 colours per block; 0 = not matched yet. */
  private values: Uint8Array | Uint16Array;
  private made = 0;
  private matched = 0;
  private released = false;
  private readonly plab: Float32Array;
  private readonly scratch: Float64Array;
  private readonly lab = new Float32Array(3);

  constructor(
    palette: Uint8Array,
    private readonly metric: MatchMetric,
    private readonly reach: number,
  ) {
    const spare = spareTables;
    spareTables = undefined;
    this.corners = spare ? spare.corners.fill(0) : new Uint16Array(LATTICE * LATTICE * LATTICE);
    this.blocks = spare ? spare.blocks.fill(UNSEEN) : new Int32Array(1 << 18);
    this.plab = paletteLab(palette);
    this.scratch = new Float64Array(palette.length / 3);
    const wide = palette.length / 3 >= 256;
    // Spare values are cleared as far as they were used, and keep the room they grew to.
    this.values =
      spare && spare.values instanceof Uint16Array === wide
        ? spare.values.fill(0, 0, spare.used)
        : wide
          ? new Uint16Array(64 * 256)
          : new Uint8Array(64 * 256);
  }

  /** Hands this memo's tables on to the next memo made; this one must not be asked again. */
  release(): void {
    if (this.released) return;
    this.released = true;
    spareTables ??= { corners: this.corners, blocks: this.blocks, values: this.values, used: this.made * 64 };
  }

  /** Colours searched one by one so far. */
  get size(): number {
    return this.matched;
  }

  /** Blocks of 64 colours made so far. */
  get blockCount(): number {
    return this.made;
  }

  private search(r: number, g: number, b: number): number {
    srgbToLab(r, g, b, this.lab);
    return nearestEntry(this.lab[0], this.lab[1], this.lab[2], this.plab, this.metric, this.reach, this.scratch);
  }

  /** Nearest entry + 1 of lattice point (i, j, k). */
  private corner(i: number, j: number, k: number): number {
    const at = (i * LATTICE + j) * LATTICE + k;
    const known = this.corners[at];
    if (known !== 0) return known;
    return (this.corners[at] = this.search(latticeLevel(i), latticeLevel(j), latticeLevel(k)) + 1);
  }

  /** Entry + 1 shared by the eight corners of the cube at lattice point (i, j, k); else MIXED. */
  private agreed(i: number, j: number, k: number): number {
    const first = this.corner(i, j, k);
    for (let m = 1; m < 8; m++) if (this.corner(i + (m & 1), j + ((m >> 1) & 1), k + (m >> 2)) !== first) return MIXED;
    return first;
  }

  index(r: number, g: number, b: number): number {
    const cell = ((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2);
    let block = this.blocks[cell];
    if (block === UNSEEN) {
      const shared = this.agreed(r >> 2, g >> 2, b >> 2);
      if (shared > 0) {
        this.blocks[cell] = MIXED - shared;
        return shared - 1;
      }
      block = MIXED;
    }
    if (block < MIXED) return MIXED - block - 1;
    if (block === MIXED) {
      if ((this.made + 1) * 64 > this.values.length) {
        const grown = new (this.values.constructor as Uint8ArrayConstructor)(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
      block = this.blocks[cell] = ++this.made;
    }
    const slot = (block - 1) * 64 + (((r & 3) << 4) | ((g & 3) << 2) | (b & 3));
    const hit = this.values[slot];
    if (hit !== 0) return hit - 1;
    const best = this.search(r, g, b);
    this.values[slot] = best + 1;
    this.matched++;
    return best;
  }
}

/** Nearest-colour mapping without dithering. */
export function mapToPalette(
  image: RgbImage,
  palette: Uint8Array,
  metric: MatchMetric = 'ciede2000',
  reach = CHOSEN_REACH,
): Uint8Array {
  const memo = new NearestMemo(palette, metric, reach);
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  // Row by row: a short loop called often is optimised early in a fresh thread, where one long loop is not.
  for (let y = 0; y < height; y++) mapRow(memo, data, out, y * width, (y + 1) * width);
  memo.release();
  return out;
}

/** Maps pixels `from` to `to` (exclusive) of `data` into `out`. */
function mapRow(memo: NearestMemo, data: Uint8Array, out: Uint8Array, from: number, to: number): void {
  let lastKey = -1;
  let last = 0;
  for (let i = from, p = from * 3; i < to; i++, p += 3) {
    const key = (data[p] << 16) | (data[p + 1] << 8) | data[p + 2];
    // Neighbouring pixels often repeat a colour.
    if (key !== lastKey) {
      lastKey = key;
      last = memo.index(data[p], data[p + 1], data[p + 2]);
    }
    out[i] = last;
  }
}

// 8×8 Bayer matrix, values 0..63.
const BAYER8 = [
  0, 32, 8, 40, 2, 34, 10, 42, 48, 16, 56, 24, 50, 18, 58, 26, 12, 44, 4, 36, 14, 46, 6, 38, 60, 28, 52, 20, 62, 30, 54,
  22, 3, 35, 11, 43, 1, 33, 9, 41, 51, 19, 59, 27, 49, 17, 57, 25, 15, 47, 7, 39, 13, 45, 5, 37, 63, 31, 55, 23, 61, 29,
  53, 21,
];

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/**
 * Ordered (Bayer) dithering: each pixel is nudged by a fixed threshold pattern before the nearest match, so
 * edges stay hard and the pattern is regular. The nudge scales with the palette's spacing.
 */
export function mapOrdered(
  image: RgbImage,
  palette: Uint8Array,
  metric: MatchMetric = 'ciede2000',
  reach = CHOSEN_REACH,
): Uint8Array {
  const memo = new NearestMemo(palette, metric, reach);
  const n = palette.length / 3;
  const spread = 255 / Math.max(1, Math.cbrt(n));
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const t = ((BAYER8[(y & 7) * 8 + (x & 7)] + 0.5) / 64 - 0.5) * spread;
      const p = i * 3;
      out[i] = memo.index(clampByte(data[p] + t), clampByte(data[p + 1] + t), clampByte(data[p + 2] + t));
    }
  }
  memo.release();
  return out;
}

/** Floyd–Steinberg error diffusion in sRGB, serpentine. */
export function mapFloydSteinberg(
  image: RgbImage,
  palette: Uint8Array,
  metric: MatchMetric = 'ciede2000',
  reach = CHOSEN_REACH,
): Uint8Array {
  const memo = new NearestMemo(palette, metric, reach);
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  let cur = new Float32Array((width + 2) * 3);
  let next = new Float32Array((width + 2) * 3);
  for (let y = 0; y < height; y++) {
    const ltr = (y & 1) === 0;
    for (let k = 0; k < width; k++) {
      const x = ltr ? k : width - 1 - k;
      const i = y * width + x;
      const e = (x + 1) * 3;
      const r = clampByte(data[i * 3] + cur[e]);
      const g = clampByte(data[i * 3 + 1] + cur[e + 1]);
      const b = clampByte(data[i * 3 + 2] + cur[e + 2]);
      const idx = memo.index(r, g, b);
      out[i] = idx;
      const er = r - palette[idx * 3];
      const eg = g - palette[idx * 3 + 1];
      const eb = b - palette[idx * 3 + 2];
      const fwd = ltr ? 3 : -3;
      cur[e + fwd] += (er * 7) / 16;
      cur[e + fwd + 1] += (eg * 7) / 16;
      cur[e + fwd + 2] += (eb * 7) / 16;
      next[e - fwd] += (er * 3) / 16;
      next[e - fwd + 1] += (eg * 3) / 16;
      next[e - fwd + 2] += (eb * 3) / 16;
      next[e] += (er * 5) / 16;
      next[e + 1] += (eg * 5) / 16;
      next[e + 2] += (eb * 5) / 16;
      next[e + fwd] += er / 16;
      next[e + fwd + 1] += eg / 16;
      next[e + fwd + 2] += eb / 16;
    }
    [cur, next] = [next, cur];
    next.fill(0);
  }
  memo.release();
  return out;
}
