/**
 * Resampling to the loom grid in linear light. Downscaling averages the source area each output pixel
 * covers (a box filter with fractional edges); upscaling interpolates linearly. Alpha is flattened onto the
 * background first, in linear light, so transparent edges do not darken.
 */
import { linearToSrgb, SRGB_TO_LINEAR } from './color.js';
import type { RgbaImage, RgbImage } from './types.js';

interface AxisWeights {
  /** Taps per output sample. */
  taps: number;
  /** index[o * taps + t]: source sample of tap t for output o. */
  index: Int32Array;
  /** weight[o * taps + t]; unused taps have weight 0. */
  weight: Float32Array;
}

/** Weights that map `srcLen` samples onto `dstLen`: area coverage when shrinking, linear when enlarging. */
export function axisWeights(srcLen: number, dstLen: number): AxisWeights {
  if (dstLen <= srcLen) {
    const scale = srcLen / dstLen;
    const taps = Math.ceil(scale) + 1;
    const index = new Int32Array(dstLen * taps);
    const weight = new Float32Array(dstLen * taps);
    for (let o = 0; o < dstLen; o++) {
      const left = o * scale;
      const right = Math.min(srcLen, (o + 1) * scale);
      let t = 0;
      for (let s = Math.floor(left); s < right && t < taps; s++, t++) {
        const overlap = Math.min(right, s + 1) - Math.max(left, s);
        index[o * taps + t] = s;
        weight[o * taps + t] = overlap / scale;
      }
    }
    return { taps, index, weight };
  }
  const taps = 2;
  const index = new Int32Array(dstLen * taps);
  const weight = new Float32Array(dstLen * taps);
  const scale = srcLen / dstLen;
  for (let o = 0; o < dstLen; o++) {
    const center = Math.min(srcLen - 1, Math.max(0, (o + 0.5) * scale - 0.5));
    const s0 = Math.floor(center);
    const s1 = Math.min(srcLen - 1, s0 + 1);
    const f = center - s0;
    index[o * 2] = s0;
    weight[o * 2] = 1 - f;
    index[o * 2 + 1] = s1;
    weight[o * 2 + 1] = f;
  }
  return { taps, index, weight };
}

/**
 * Resizes an RGBA image to `width` × `height`, flattening alpha onto `background` (sRGB bytes).
 * Returns 3-byte sRGB pixels.
 */
export function resizeToGrid(
  src: RgbaImage,
  width: number,
  height: number,
  background: readonly [number, number, number] = [255, 255, 255],
): RgbImage {
  const sw = src.width;
  const sh = src.height;
  const data = src.data;
  const bgR = SRGB_TO_LINEAR[background[0]];
  const bgG = SRGB_TO_LINEAR[background[1]];
  const bgB = SRGB_TO_LINEAR[background[2]];
  const hw = axisWeights(sw, width);
  const vw = axisWeights(sh, height);

  // Pass 1: each source row -> linear light, alpha flattened, resampled horizontally.
  const row = new Float32Array(sw * 3);
  const mid = new Float32Array(sh * width * 3);
  const hTaps = hw.taps;
  for (let y = 0; y < sh; y++) {
    let p = y * sw * 4;
    for (let x = 0, q = 0; x < sw; x++, p += 4, q += 3) {
      const a = data[p + 3];
      if (a === 255) {
        row[q] = SRGB_TO_LINEAR[data[p]];
        row[q + 1] = SRGB_TO_LINEAR[data[p + 1]];
        row[q + 2] = SRGB_TO_LINEAR[data[p + 2]];
      } else {
        const af = a / 255;
        const bf = 1 - af;
        row[q] = SRGB_TO_LINEAR[data[p]] * af + bgR * bf;
        row[q + 1] = SRGB_TO_LINEAR[data[p + 1]] * af + bgG * bf;
        row[q + 2] = SRGB_TO_LINEAR[data[p + 2]] * af + bgB * bf;
      }
    }
    let m = y * width * 3;
    for (let o = 0; o < width; o++, m += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = o * hTaps;
      for (let t = 0; t < hTaps; t++) {
        const w = hw.weight[base + t];
        if (w === 0) continue;
        const s = hw.index[base + t] * 3;
        r += row[s] * w;
        g += row[s + 1] * w;
        b += row[s + 2] * w;
      }
      mid[m] = r;
      mid[m + 1] = g;
      mid[m + 2] = b;
    }
  }

  // Pass 2: vertical resampling, back to sRGB bytes.
  const out = new Uint8Array(width * height * 3);
  const acc = new Float32Array(width * 3);
  const vTaps = vw.taps;
  const stride = width * 3;
  for (let o = 0; o < height; o++) {
    acc.fill(0);
    const base = o * vTaps;
    for (let t = 0; t < vTaps; t++) {
      const w = vw.weight[base + t];
      if (w === 0) continue;
      const rowStart = vw.index[base + t] * stride;
      for (let i = 0; i < stride; i++) acc[i] += mid[rowStart + i] * w;
    }
    const outStart = o * stride;
    for (let i = 0; i < stride; i++) out[outStart + i] = linearToSrgb(acc[i]);
  }
  return { width, height, data: out };
}

/** Picks = ends × (source height / source width) × (picks density / ends density), at least 1. */
export function gridHeight(
  ends: number,
  srcWidth: number,
  srcHeight: number,
  density: { ends: number; picks: number } = { ends: 1, picks: 1 },
): number {
  return Math.max(1, Math.round(((ends * srcHeight) / srcWidth) * (density.picks / density.ends)));
}
