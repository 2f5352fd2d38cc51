/**
 * Resampling to the loom grid in linear light. Downscaling averages the source area each output pixel
 * covers (a box filter with fractional edges); upscaling interpolates linearly. Alpha is flattened onto the
 * background first, in linear light, so transparent edges do not darken.
 */
import { LINEAR_STEPS, LINEAR_TO_SRGB, SRGB_TO_LINEAR } from './color.js';
import type { RgbaImage, RgbImage } from './types.js';

interface AxisWeights {
  /** Taps per output sample. */
  taps: number;
  /** index[o * taps + t]: source sample of tap t for output o. */
  index: Int32Array;
  /** weight[o * taps + t]; unused taps have weight 0. */
  weight: Float32Array;
}

/**
 * Weights that map `srcLen` samples onto `dstLen`, as taps per output: area coverage when shrinking (the
 * same weights resizeToGrid applies, from spans()), linear interpolation when enlarging.
 */
export function axisWeights(srcLen: number, dstLen: number): AxisWeights {
  if (dstLen <= srcLen) {
    const taps = Math.ceil(srcLen / dstLen) + 1;
    const index = new Int32Array(dstLen * taps);
    const weight = new Float32Array(dstLen * taps);
    const { start, end, left, right, full } = spans(srcLen, dstLen);
    for (let o = 0; o < dstLen; o++) {
      let t = o * taps;
      const add = (s: number, w: number): void => {
        index[t] = s;
        weight[t++] = w;
      };
      if (left[o] !== 0) add(start[o] - 1, left[o]);
      for (let s = start[o]; s < end[o]; s++) add(s, full);
      if (right[o] !== 0) add(end[o], right[o]);
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
 * For shrinking, seen from the output: output o averages the whole source samples [start[o], end[o]) with
 * weight `full` each, plus the samples that straddle its edges: start[o] - 1 with weight left[o] and end[o]
 * with weight right[o] (weights 0 when the edge falls between samples). The weights are the source area
 * each output covers, normalised to sum to 1, computed exactly from integers.
 */
interface Spans {
  start: Int32Array;
  end: Int32Array;
  left: Float64Array;
  right: Float64Array;
  full: number;
}

function spans(srcLen: number, dstLen: number): Spans {
  const start = new Int32Array(dstLen);
  const end = new Int32Array(dstLen);
  const left = new Float64Array(dstLen);
  const right = new Float64Array(dstLen);
  for (let o = 0; o < dstLen; o++) {
    // Output o covers source [o * srcLen / dstLen, (o + 1) * srcLen / dstLen); lo and hi are in 1 / dstLen.
    const lo = o * srcLen;
    const hi = (o + 1) * srcLen;
    const s = Math.ceil(lo / dstLen);
    const e = Math.floor(hi / dstLen);
    start[o] = s;
    end[o] = e;
    left[o] = (s * dstLen - lo) / srcLen; // part of sample s - 1 inside, if any
    right[o] = e < srcLen ? (hi - e * dstLen) / srcLen : 0; // part of sample e inside, if any
  }
  return { start, end, left, right, full: dstLen / srcLen };
}

/** What every row of one resize shares; top-level row functions take it instead of closures. */
interface RowContext {
  data: Uint8Array | Uint8ClampedArray;
  /** The same pixels as 32-bit words (little-endian: r in the low byte), when data is 4-byte aligned. */
  words: Uint32Array | undefined;
  sw: number;
  width: number;
  bgR: number;
  bgG: number;
  bgB: number;
  /** Set when shrinking (or keeping) the width. */
  spans: Spans | undefined;
  /** Set when enlarging the width. */
  gather: AxisWeights | undefined;
  /** Linear-light source row, for enlarging. */
  line: Float64Array;
}

/** The linear-light value of channel c (0..2) of pixel p (byte offset), alpha flattened onto the background. */
function linearAt(ctx: RowContext, p: number, c: number): number {
  const data = ctx.data;
  const v = SRGB_TO_LINEAR[data[p + c]];
  const a = data[p + 3];
  if (a === 255) return v;
  const bg = c === 0 ? ctx.bgR : c === 1 ? ctx.bgG : ctx.bgB;
  const af = a / 255;
  return v * af + bg * (1 - af);
}

/**
 * Source row y, resampled to `width` samples, added into `acc` with weight `wa` and, when `wb` is not 0,
 * into `next` with weight `wb` (a source row straddling two output rows).
 */
function addRow(ctx: RowContext, y: number, acc: Float64Array, wa: number, next: Float64Array, wb: number): void {
  if (ctx.spans) addShrunkRow(ctx, ctx.spans, y, acc, wa, next, wb);
  else addEnlargedRow(ctx, ctx.gather!, y, acc, wa, next, wb);
}

function addShrunkRow(
  ctx: RowContext,
  hs: Spans,
  y: number,
  acc: Float64Array,
  wa: number,
  next: Float64Array,
  wb: number,
): void {
  if (ctx.words && rowOpaque(ctx.words, y * ctx.sw, ctx.sw)) {
    addShrunkOpaqueRow(ctx.words, ctx, hs, y, acc, wa, next, wb);
    return;
  }
  const { data, sw, width, bgR, bgG, bgB } = ctx;
  const { end, left, right, full } = hs;
  const lut = SRGB_TO_LINEAR;
  let carryR = 0;
  let carryG = 0;
  let carryB = 0;
  // Walk the source pixels once, summing into the current output in locals. A pixel that straddles the
  // edge between outputs o and o + 1 gives right[o] to o and the rest of its weight (left[o + 1]) to o + 1.
  let p = y * sw * 4;
  let x = 0;
  let q = 0;
  for (let o = 0; o < width; o++, q += 3) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (const e = end[o]; x < e; x++, p += 4) {
      const a = data[p + 3];
      if (a === 255) {
        r += lut[data[p]];
        g += lut[data[p + 1]];
        b += lut[data[p + 2]];
      } else {
        const af = a / 255;
        const bf = 1 - af;
        r += lut[data[p]] * af + bgR * bf;
        g += lut[data[p + 1]] * af + bgG * bf;
        b += lut[data[p + 2]] * af + bgB * bf;
      }
    }
    r *= full;
    g *= full;
    b *= full;
    // The carried-in part of the previous straddling pixel.
    r += carryR;
    g += carryG;
    b += carryB;
    carryR = carryG = carryB = 0;
    const wr = right[o];
    if (wr !== 0) {
      // Pixel x straddles into the next output.
      const a = data[p + 3];
      let pr = lut[data[p]];
      let pg = lut[data[p + 1]];
      let pb = lut[data[p + 2]];
      if (a !== 255) {
        const af = a / 255;
        const bf = 1 - af;
        pr = pr * af + bgR * bf;
        pg = pg * af + bgG * bf;
        pb = pb * af + bgB * bf;
      }
      r += pr * wr;
      g += pg * wr;
      b += pb * wr;
      const wl = left[o + 1];
      carryR = pr * wl;
      carryG = pg * wl;
      carryB = pb * wl;
      x++;
      p += 4;
    }
    acc[q] += r * wa;
    acc[q + 1] += g * wa;
    acc[q + 2] += b * wa;
    if (wb !== 0) {
      next[q] += r * wb;
      next[q + 1] += g * wb;
      next[q + 2] += b * wb;
    }
  }
}

/** Whether every pixel of the `count` words from `start` has alpha 255. */
function rowOpaque(words: Uint32Array, start: number, count: number): boolean {
  for (let i = start, end = start + count; i < end; i++) if (words[i] < 0xff000000) return false;
  return true;
}

/**
 * addShrunkRow for a row with no transparency: one 32-bit read per pixel and no alpha test. The sums are
 * the same operations in the same order, so the result is identical.
 */
function addShrunkOpaqueRow(
  words: Uint32Array,
  ctx: RowContext,
  hs: Spans,
  y: number,
  acc: Float64Array,
  wa: number,
  next: Float64Array,
  wb: number,
): void {
  const { sw, width } = ctx;
  const { end, left, right, full } = hs;
  const lut = SRGB_TO_LINEAR;
  let carryR = 0;
  let carryG = 0;
  let carryB = 0;
  let p = y * sw;
  let x = 0;
  let q = 0;
  for (let o = 0; o < width; o++, q += 3) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (const e = end[o]; x < e; x++, p++) {
      const w = words[p];
      r += lut[w & 0xff];
      g += lut[(w >>> 8) & 0xff];
      b += lut[(w >>> 16) & 0xff];
    }
    r *= full;
    g *= full;
    b *= full;
    r += carryR;
    g += carryG;
    b += carryB;
    carryR = carryG = carryB = 0;
    const wr = right[o];
    if (wr !== 0) {
      const w = words[p];
      const pr = lut[w & 0xff];
      const pg = lut[(w >>> 8) & 0xff];
      const pb = lut[(w >>> 16) & 0xff];
      r += pr * wr;
      g += pg * wr;
      b += pb * wr;
      const wl = left[o + 1];
      carryR = pr * wl;
      carryG = pg * wl;
      carryB = pb * wl;
      x++;
      p++;
    }
    acc[q] += r * wa;
    acc[q + 1] += g * wa;
    acc[q + 2] += b * wa;
    if (wb !== 0) {
      next[q] += r * wb;
      next[q + 1] += g * wb;
      next[q + 2] += b * wb;
    }
  }
}

function addEnlargedRow(
  ctx: RowContext,
  hg: AxisWeights,
  y: number,
  acc: Float64Array,
  wa: number,
  next: Float64Array,
  wb: number,
): void {
  const { sw, width, line: row } = ctx;
  for (let x = 0, p = y * sw * 4, q = 0; x < sw; x++, p += 4, q += 3) {
    row[q] = linearAt(ctx, p, 0);
    row[q + 1] = linearAt(ctx, p, 1);
    row[q + 2] = linearAt(ctx, p, 2);
  }
  const { index, weight } = hg;
  for (let o = 0, m = 0; o < width; o++, m += 3) {
    const s0 = index[o * 2] * 3;
    const s1 = index[o * 2 + 1] * 3;
    const f0 = weight[o * 2];
    const f1 = weight[o * 2 + 1];
    const r = row[s0] * f0 + row[s1] * f1;
    const g = row[s0 + 1] * f0 + row[s1 + 1] * f1;
    const b = row[s0 + 2] * f0 + row[s1 + 2] * f1;
    acc[m] += r * wa;
    acc[m + 1] += g * wa;
    acc[m + 2] += b * wa;
    if (wb !== 0) {
      next[m] += r * wb;
      next[m + 1] += g * wb;
      next[m + 2] += b * wb;
    }
  }
}

function emitRow(out: Uint8Array, start: number, acc: Float64Array, length: number): void {
  // linearToSrgb, written out: clamp, then the table.
  const table = LINEAR_TO_SRGB;
  const steps = LINEAR_STEPS;
  for (let i = 0; i < length; i++) {
    const v = acc[i];
    out[start + i] = v <= 0 ? 0 : v >= 1 ? 255 : table[(v * steps + 0.5) | 0];
  }
}

/** emitRow of the blend `upper` × f0 + `lower` × f1, without storing the blend. */
function emitBlend(
  out: Uint8Array,
  start: number,
  upper: Float64Array,
  f0: number,
  lower: Float64Array,
  f1: number,
  length: number,
): void {
  const table = LINEAR_TO_SRGB;
  const steps = LINEAR_STEPS;
  for (let i = 0; i < length; i++) {
    const v = upper[i] * f0 + lower[i] * f1;
    out[start + i] = v <= 0 ? 0 : v >= 1 ? 255 : table[(v * steps + 0.5) | 0];
  }
}

/** Source rows resampled to the output width, the last two asked for kept (rows are asked for in rising order). */
class EnlargedRows {
  private readonly rows: [Float64Array, Float64Array];
  private readonly keys = [-1, -1];
  private readonly none = new Float64Array(0);

  constructor(
    private readonly ctx: RowContext,
    stride: number,
  ) {
    this.rows = [new Float64Array(stride), new Float64Array(stride)];
  }

  row(y: number): Float64Array {
    const { keys } = this;
    let slot = keys[0] === y ? 0 : keys[1] === y ? 1 : -1;
    if (slot < 0) {
      // The smaller key is the one no longer needed.
      slot = keys[0] < keys[1] ? 0 : 1;
      keys[slot] = y;
      this.rows[slot].fill(0);
      addRow(this.ctx, y, this.rows[slot], 1, this.none, 0);
    }
    return this.rows[slot];
  }
}

function rowContext(
  data: Uint8Array | Uint8ClampedArray,
  words: Uint32Array | undefined,
  sw: number,
  width: number,
  background: readonly [number, number, number],
): RowContext {
  const hShrink = width <= sw;
  return {
    data,
    words,
    sw,
    width,
    bgR: SRGB_TO_LINEAR[background[0]],
    bgG: SRGB_TO_LINEAR[background[1]],
    bgB: SRGB_TO_LINEAR[background[2]],
    spans: hShrink ? spans(sw, width) : undefined,
    gather: hShrink ? undefined : axisWeights(sw, width),
    line: new Float64Array(hShrink ? 0 : sw * 3),
  };
}

/**
 * The vertical shrink, fed the source rows in order: each adds into the output row it starts in and,
 * straddling, the next; an output row is written out once no later source row adds to it.
 */
class VerticalShrink {
  private acc: Float64Array;
  private next: Float64Array;
  private readonly none = new Float64Array(0);
  private readonly vs: Spans;
  private readonly out: Uint8Array;
  private readonly stride: number;
  private current = 0;
  private y = 0;

  constructor(
    private readonly ctx: RowContext,
    private readonly sh: number,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.stride = width * 3;
    this.out = new Uint8Array(width * height * 3);
    this.acc = new Float64Array(this.stride);
    this.next = new Float64Array(this.stride);
    this.vs = spans(sh, height);
  }

  /** Adds the next source row, which is row `at` of the context's pixels. */
  add(at: number): void {
    const { vs, height, stride } = this;
    const y = this.y++;
    // Source row y lies in output row o, or straddles the edge between o and o + 1.
    const o = Math.min(height - 1, Math.floor((y * height) / this.sh));
    if (o !== this.current) {
      emitRow(this.out, this.current * stride, this.acc, stride);
      const done = this.acc;
      this.acc = this.next;
      this.next = done;
      this.next.fill(0);
      this.current = o;
    }
    const straddles = vs.end[o] === y && vs.right[o] !== 0;
    if (straddles) addRow(this.ctx, at, this.acc, vs.right[o], this.next, vs.left[o + 1]);
    else addRow(this.ctx, at, this.acc, vs.full, this.none, 0);
  }

  finish(): RgbImage {
    emitRow(this.out, this.current * this.stride, this.acc, this.stride);
    return { width: this.width, height: this.height, data: this.out };
  }
}

/** A resize fed one source row at a time, for a decoder that streams rows (see gridFromRows). */
export interface RowsToGrid {
  /** Where the next source row goes: RGBA bytes, the source's width × 4. */
  readonly row: Uint8Array;
  /** Adds the row now in `row`. */
  push(): void;
  /** The grid, once every source row has been pushed. */
  finish(): RgbImage;
}

/**
 * resizeToGrid for a source that arrives a row at a time, never held whole; the same sums in the same
 * order, so the grid is identical. Only for grids no taller than the source (`undefined` otherwise).
 */
export function gridFromRows(
  srcWidth: number,
  srcHeight: number,
  width: number,
  height: number,
  background: readonly [number, number, number] = [255, 255, 255],
): RowsToGrid | undefined {
  if (height > srcHeight) return undefined;
  const row = new Uint8Array(srcWidth * 4);
  const ctx = rowContext(row, littleEndianWords(row, srcWidth), srcWidth, width, background);
  const shrink = new VerticalShrink(ctx, srcHeight, width, height);
  let pushed = 0;
  return {
    row,
    push: () => {
      if (pushed++ >= srcHeight) throw new Error('more rows than the source has');
      shrink.add(0);
    },
    finish: () => {
      if (pushed !== srcHeight) throw new Error(`${pushed} of ${srcHeight} rows pushed`);
      return shrink.finish();
    },
  };
}

/**
 * Resizes an RGBA image to `width` × `height`, flattening alpha onto `background` (sRGB bytes).
 * Returns 3-byte sRGB pixels.
 *
 * Rows stream through: each source row is taken to linear light and resampled horizontally, then added into
 * the one or two output rows it covers (shrinking), or into the two output rows it lies between
 * (enlarging). Memory beyond the output is a few rows.
 */
export function resizeToGrid(
  src: RgbaImage,
  width: number,
  height: number,
  background: readonly [number, number, number] = [255, 255, 255],
): RgbImage {
  const sw = src.width;
  const sh = src.height;
  const stride = width * 3;
  const ctx = rowContext(src.data, littleEndianWords(src.data, sw * sh), sw, width, background);

  if (height <= sh) {
    const shrink = new VerticalShrink(ctx, sh, width, height);
    for (let y = 0; y < sh; y++) shrink.add(y);
    return shrink.finish();
  }

  const out = new Uint8Array(width * height * 3);
  // Vertical enlarge: each output row interpolates two source rows, and each source row feeds the few output
  // rows around it; gather instead, resampling each needed source row into one of two cached rows.
  const vw = axisWeights(sh, height);
  const rows = new EnlargedRows(ctx, stride);
  for (let o = 0; o < height; o++) {
    const upper = rows.row(vw.index[o * 2]);
    const lower = rows.row(vw.index[o * 2 + 1]);
    emitBlend(out, o * stride, upper, vw.weight[o * 2], lower, vw.weight[o * 2 + 1], stride);
  }
  return { width, height, data: out };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** `count` pixels of `data` as 32-bit words, when the platform and the alignment allow it. */
function littleEndianWords(data: Uint8Array | Uint8ClampedArray, count: number): Uint32Array | undefined {
  if (!LITTLE_ENDIAN || data.byteOffset % 4 !== 0 || data.length < count * 4) return undefined;
  return new Uint32Array(data.buffer, data.byteOffset, count);
}

/** Picks = ends × (source height / source width) × (picks density / ends density), at least 1. */
/** The picks of a loom's grid: given, or from the picture's aspect ratio (rounded to `heightStep` when set). */
export function loomHeight(
  loom: { width: number; height?: number; density?: { ends: number; picks: number }; heightStep?: number },
  srcWidth: number,
  srcHeight: number,
): number {
  if (loom.height !== undefined) return loom.height;
  const picks = gridHeight(loom.width, srcWidth, srcHeight, loom.density);
  const step = loom.heightStep ?? 1;
  return Math.max(step, Math.round(picks / step) * step);
}

export function gridHeight(
  ends: number,
  srcWidth: number,
  srcHeight: number,
  density: { ends: number; picks: number } = { ends: 1, picks: 1 },
): number {
  return Math.max(1, Math.round(((ends * srcHeight) / srcWidth) * (density.picks / density.ends)));
}
