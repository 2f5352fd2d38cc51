/**
 * Maps each pixel to its nearest palette entry. Chosen palettes are matched in CIELAB (the space k-means
 * minimised); fixed yarn palettes by CIEDE2000. Results are cached per distinct colour.
 */
import { ciede2000, SRGB_TO_LINEAR, srgbToLab } from './color.js';
import type { RgbImage } from './types.js';

export type MatchMetric = 'lab' | 'ciede2000';

export function paletteLab(palette: Uint8Array): Float32Array {
  const n = palette.length / 3;
  const lab = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) srgbToLab(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2], lab, i * 3);
  return lab;
}

/** Index of the palette entry nearest to `lab` (CIELAB); ties go to the lower index. */
function nearestInLab(lab: ArrayLike<number>, plab: Float32Array, metric: MatchMetric): number {
  const n = plab.length / 3;
  const L = lab[0];
  const A = lab[1];
  const B = lab[2];
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < n; i++) {
    let d: number;
    if (metric === 'lab') {
      const dl = L - plab[i * 3];
      const da = A - plab[i * 3 + 1];
      const db = B - plab[i * 3 + 2];
      d = dl * dl + da * da + db * db;
    } else {
      d = ciede2000(L, A, B, plab[i * 3], plab[i * 3 + 1], plab[i * 3 + 2]);
    }
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * A per-colour memo of nearest palette indices: one slot per 24-bit colour holding index + 1 (0 = not yet
 * known). The typed array is allocated zeroed and only the pages of colours that occur are ever touched.
 */
class NearestCache {
  readonly plab: Float32Array;
  private readonly slots: Uint8Array | Uint16Array;
  private readonly lab = new Float32Array(3);

  constructor(
    palette: Uint8Array,
    readonly metric: MatchMetric,
  ) {
    this.plab = paletteLab(palette);
    this.slots = palette.length / 3 < 255 ? new Uint8Array(1 << 24) : new Uint16Array(1 << 24);
  }

  index(r: number, g: number, b: number): number {
    const key = (r << 16) | (g << 8) | b;
    const hit = this.slots[key];
    if (hit !== 0) return hit - 1;
    srgbToLab(r, g, b, this.lab);
    const best = nearestInLab(this.lab, this.plab, this.metric);
    this.slots[key] = best + 1;
    return best;
  }
}

/** Returns a function from one sRGB colour to its palette index, with a per-colour cache. */
function nearestIndexer(palette: Uint8Array, metric: MatchMetric): (r: number, g: number, b: number) => number {
  const cache = new NearestCache(palette, metric);
  return (r, g, b) => cache.index(r, g, b);
}

/** Nearest-colour mapping without dithering. */
export function mapToPalette(image: RgbImage, palette: Uint8Array, metric: MatchMetric = 'lab'): Uint8Array {
  return metric === 'lab' ? mapLab(image, palette) : mapWith(image, palette, metric);
}

/** Any metric, through the per-colour memo. */
function mapWith(image: RgbImage, palette: Uint8Array, metric: MatchMetric): Uint8Array {
  const cache = new NearestCache(palette, metric);
  const d = image.data;
  const out = new Uint8Array(image.width * image.height);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) out[i] = cache.index(d[p], d[p + 1], d[p + 2]);
  return out;
}

const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

/**
 * Squared CIELAB distance, specialised: the memo is inline (index + 1 per 24-bit colour, 0 = unknown) and
 * the sRGB -> CIELAB conversion of a new colour is written out (the same arithmetic as srgbToLab).
 */
function mapLab(image: RgbImage, palette: Uint8Array): Uint8Array {
  const plab = paletteLab(palette);
  const k = palette.length / 3;
  const d = image.data;
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  const slots = k < 255 ? new Uint8Array(1 << 24) : new Uint16Array(1 << 24);
  const lin = SRGB_TO_LINEAR;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = d[p];
    const g = d[p + 1];
    const b = d[p + 2];
    const key = (r << 16) | (g << 8) | b;
    let hit = slots[key];
    if (hit === 0) {
      const lr = lin[r];
      const lg = lin[g];
      const lb = lin[b];
      const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
      const y = 0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb;
      const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / 1.08883;
      const fx = x > EPS ? Math.cbrt(x) : (KAPPA * x + 16) / 116;
      const fy = y > EPS ? Math.cbrt(y) : (KAPPA * y + 16) / 116;
      const fz = z > EPS ? Math.cbrt(z) : (KAPPA * z + 16) / 116;
      // Rounded to float32 like srgbToLab's output, so both paths pick the same entry.
      const L = Math.fround(116 * fy - 16);
      const A = Math.fround(500 * (fx - fy));
      const B = Math.fround(200 * (fy - fz));
      let best = 0;
      let bestD = Infinity;
      for (let c = 0, q = 0; c < k; c++, q += 3) {
        const dl = L - plab[q];
        const da = A - plab[q + 1];
        const db = B - plab[q + 2];
        const dd = dl * dl + da * da + db * db;
        if (dd < bestD) {
          bestD = dd;
          best = c;
        }
      }
      hit = best + 1;
      slots[key] = hit;
    }
    out[i] = hit - 1;
  }
  return out;
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
export function mapOrdered(image: RgbImage, palette: Uint8Array, metric: MatchMetric = 'lab'): Uint8Array {
  const indexOf = nearestIndexer(palette, metric);
  const n = palette.length / 3;
  const spread = 255 / Math.max(1, Math.cbrt(n));
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const t = ((BAYER8[(y & 7) * 8 + (x & 7)] + 0.5) / 64 - 0.5) * spread;
      const p = i * 3;
      out[i] = indexOf(clampByte(data[p] + t), clampByte(data[p + 1] + t), clampByte(data[p + 2] + t));
    }
  }
  return out;
}

/** Floyd–Steinberg error diffusion in sRGB, serpentine. */
export function mapFloydSteinberg(image: RgbImage, palette: Uint8Array, metric: MatchMetric = 'lab'): Uint8Array {
  const indexOf = nearestIndexer(palette, metric);
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
      const idx = indexOf(r, g, b);
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
  return out;
}
