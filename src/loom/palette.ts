/**
 * Palette choice by weighted k-means in CIELAB. Pixels are first gathered into a colour histogram (bins of
 * 5 or 6 bits per channel, each holding the mean of its pixels), so the cost depends on the number of distinct
 * colours, not on the image size. Seeding is k-means++ with a fixed-seed generator: the same image and
 * colour count always give the same palette.
 */
import { labToSrgb, srgbToLab } from './color.js';
import type { RgbImage } from './types.js';

interface Histogram {
  count: number;
  lab: Float32Array;
  weight: Float64Array;
}

function buildHistogram(image: RgbImage, bits: number): Histogram {
  const shift = 8 - bits;
  const size = 1 << (bits * 3);
  const n = new Uint32Array(size);
  const sr = new Float64Array(size);
  const sg = new Float64Array(size);
  const sb = new Float64Array(size);
  const d = image.data;
  for (let p = 0; p < d.length; p += 3) {
    const r = d[p];
    const g = d[p + 1];
    const b = d[p + 2];
    const key = ((r >> shift) << (2 * bits)) | ((g >> shift) << bits) | (b >> shift);
    n[key]++;
    sr[key] += r;
    sg[key] += g;
    sb[key] += b;
  }
  let count = 0;
  for (let k = 0; k < size; k++) if (n[k]) count++;
  const lab = new Float32Array(count * 3);
  const weight = new Float64Array(count);
  for (let k = 0, i = 0; k < size; k++) {
    if (!n[k]) continue;
    const c = n[k];
    srgbToLab(Math.round(sr[k] / c), Math.round(sg[k] / c), Math.round(sb[k] / c), lab, i * 3);
    weight[i] = c;
    i++;
  }
  return { count, lab, weight };
}

/** mulberry32: a tiny deterministic generator for seeding. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dist2(lab: Float32Array, i: number, centres: Float64Array, c: number): number {
  const dl = lab[i * 3] - centres[c * 3];
  const da = lab[i * 3 + 1] - centres[c * 3 + 1];
  const db = lab[i * 3 + 2] - centres[c * 3 + 2];
  return dl * dl + da * da + db * db;
}

export interface PaletteOptions {
  /** Lloyd iterations at most. */
  maxIterations?: number;
}

/**
 * Chooses up to `colors` palette entries (fewer when the image has fewer distinct colours), sorted from dark
 * to light so that index 0 is the darkest yarn. Returns r,g,b triplets.
 */
export function choosePalette(image: RgbImage, colors: number, options: PaletteOptions = {}): Uint8Array {
  const hist = buildHistogram(image, colors <= 32 ? 6 : 5);
  const { count, lab, weight } = hist;
  const k = Math.min(colors, count);
  const centres = new Float64Array(k * 3);

  // k-means++ seeding, weighted by pixel count.
  const random = generator(0x1005e);
  const nearest = new Float64Array(count).fill(Infinity);
  let total = 0;
  for (let i = 0; i < count; i++) total += weight[i];
  let pick = 0;
  let target = random() * total;
  for (let i = 0; i < count; i++) {
    target -= weight[i];
    if (target <= 0) {
      pick = i;
      break;
    }
  }
  for (let c = 0; c < k; c++) {
    centres[c * 3] = lab[pick * 3];
    centres[c * 3 + 1] = lab[pick * 3 + 1];
    centres[c * 3 + 2] = lab[pick * 3 + 2];
    if (c === k - 1) break;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const d = dist2(lab, i, centres, c);
      if (d < nearest[i]) nearest[i] = d;
      sum += nearest[i] * weight[i];
    }
    if (sum === 0) break;
    target = random() * sum;
    pick = count - 1;
    for (let i = 0; i < count; i++) {
      target -= nearest[i] * weight[i];
      if (target <= 0) {
        pick = i;
        break;
      }
    }
  }

  // Lloyd iterations.
  const assign = new Int32Array(count).fill(-1);
  const sums = new Float64Array(k * 4);
  const maxIterations = options.maxIterations ?? 40;
  for (let iter = 0; iter < maxIterations; iter++) {
    let changed = 0;
    sums.fill(0);
    for (let i = 0; i < count; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = dist2(lab, i, centres, c);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (assign[i] !== best) {
        assign[i] = best;
        changed++;
      }
      const w = weight[i];
      sums[best * 4] += lab[i * 3] * w;
      sums[best * 4 + 1] += lab[i * 3 + 1] * w;
      sums[best * 4 + 2] += lab[i * 3 + 2] * w;
      sums[best * 4 + 3] += w;
    }
    for (let c = 0; c < k; c++) {
      const w = sums[c * 4 + 3];
      if (w > 0) {
        centres[c * 3] = sums[c * 4] / w;
        centres[c * 3 + 1] = sums[c * 4 + 1] / w;
        centres[c * 3 + 2] = sums[c * 4 + 2] / w;
      } else {
        // An empty cluster takes the point that is worst served now.
        let worst = 0;
        let worstD = -1;
        for (let i = 0; i < count; i++) {
          const d = dist2(lab, i, centres, assign[i]) * weight[i];
          if (d > worstD) {
            worstD = d;
            worst = i;
          }
        }
        centres[c * 3] = lab[worst * 3];
        centres[c * 3 + 1] = lab[worst * 3 + 1];
        centres[c * 3 + 2] = lab[worst * 3 + 2];
        changed++;
      }
    }
    if (changed === 0) break;
  }

  const entries: Array<[number, number, number, number]> = [];
  for (let c = 0; c < k; c++) {
    const [r, g, b] = labToSrgb(centres[c * 3], centres[c * 3 + 1], centres[c * 3 + 2]);
    entries.push([centres[c * 3], r, g, b]);
  }
  entries.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3]);
  // Gamut clamping can make two centres the same colour; keep each colour once.
  const seen = new Set<number>();
  const out: number[] = [];
  for (const [, r, g, b] of entries) {
    const key = (r << 16) | (g << 8) | b;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r, g, b);
  }
  return Uint8Array.from(out);
}
