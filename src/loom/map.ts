/**
 * Maps each pixel to its nearest palette entry. Chosen palettes are matched in CIELAB (the space k-means
 * minimised); fixed yarn palettes by CIEDE2000. Results are cached per distinct colour.
 */
import { ciede2000, srgbToLab } from './color.js';
import type { RgbImage } from './types.js';

export type MatchMetric = 'lab' | 'ciede2000';

export function paletteLab(palette: Uint8Array): Float32Array {
  const n = palette.length / 3;
  const lab = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) srgbToLab(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2], lab, i * 3);
  return lab;
}

/** Returns a function from one sRGB colour to its palette index, with a per-colour cache. */
export function nearestIndexer(palette: Uint8Array, metric: MatchMetric): (r: number, g: number, b: number) => number {
  const plab = paletteLab(palette);
  const n = palette.length / 3;
  const cache = new Map<number, number>();
  const lab = new Float32Array(3);
  return (r, g, b) => {
    const key = (r << 16) | (g << 8) | b;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    srgbToLab(r, g, b, lab);
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      let d: number;
      if (metric === 'lab') {
        const dl = lab[0] - plab[i * 3];
        const da = lab[1] - plab[i * 3 + 1];
        const db = lab[2] - plab[i * 3 + 2];
        d = dl * dl + da * da + db * db;
      } else {
        d = ciede2000(lab[0], lab[1], lab[2], plab[i * 3], plab[i * 3 + 1], plab[i * 3 + 2]);
      }
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    cache.set(key, best);
    return best;
  };
}

/** Nearest-colour mapping without dithering. */
export function mapToPalette(image: RgbImage, palette: Uint8Array, metric: MatchMetric = 'lab'): Uint8Array {
  const indexOf = nearestIndexer(palette, metric);
  const d = image.data;
  const out = new Uint8Array(image.width * image.height);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) out[i] = indexOf(d[p], d[p + 1], d[p + 2]);
  return out;
}

// 8×8 Bayer matrix, values 0..63.
const BAYER8 = [
  0, 32, 8, 40, 2, 34, 10, 42, 48, 16, 56, 24, 50, 18, 58, 26, 12, 44, 4, 36, 14, 46, 6, 38, 60, 28, 52, 20, 62, 30, 54, 22, 3,
  35, 11, 43, 1, 33, 9, 41, 51, 19, 59, 27, 49, 17, 57, 25, 15, 47, 7, 39, 13, 45, 5, 37, 63, 31, 55, 23, 61, 29, 53, 21,
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
