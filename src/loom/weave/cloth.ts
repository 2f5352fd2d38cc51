/**
 * A picture of the woven cloth: each crossing drawn in the colour of the yarn on top, warp where it is
 * raised and weft where it is down. From three pixels a crossing up, the thread's edges are shaded along
 * its length (warp edges run up the cloth, weft edges across), so floats and twill lines read as they do in
 * cloth.
 */
import type { IndexedImage } from '../types.js';
import type { Yarns } from './assign.js';
import type { LiftPlan } from './plan.js';

function edgeShade(rgb: readonly number[]): number[] {
  const light = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  // A dark yarn's edge catches the light; a light yarn's edge is in shadow.
  return rgb.map((v) => (light < 64 ? Math.min(255, v + 48) : Math.round(v * 0.72)));
}

/** The most pixels a single-weft cloth preview has, by default and with --preview-scale. */
export const PREVIEW_MAX_PIXELS = 100e6;

/** The longest side a default preview has: wider pictures no image viewer opens whole. */
const PREVIEW_MAX_SIDE = 32_768;

/** A preview's size: `scale` pixels per end, and picks as tall as the cloth has them (`pickHeight` on average). */
export interface PreviewSize {
  scale: number;
  width: number;
  height: number;
  pickHeight: number;
}

/**
 * The size of the preview of `ends` × `picks` at `scale` pixels per end, a pick `aspect` times an end's width:
 * the height is rounded once for the whole cloth, not per pick, so the picture keeps the cloth's proportions
 * to a pixel.
 */
export function previewSize(ends: number, picks: number, scale: number, aspect = 1): PreviewSize {
  return {
    scale,
    width: Math.max(1, Math.round(ends * scale)),
    height: Math.max(1, Math.round(picks * scale * aspect)),
    pickHeight: scale * aspect,
  };
}

function fits(size: PreviewSize, maxSide: number): boolean {
  return size.width * size.height <= PREVIEW_MAX_PIXELS && size.width <= maxSide && size.height <= maxSide;
}

/** The largest whole scale whose preview has at most PREVIEW_MAX_PIXELS; 0 when not even one pixel an end does. */
export function largestPreviewScale(ends: number, picks: number, aspect = 1): number {
  const within = (scale: number) => fits(previewSize(ends, picks, scale, aspect), Infinity);
  // The square root's scale, give or take the height's rounding.
  let s = Math.floor(Math.sqrt(PREVIEW_MAX_PIXELS / (ends * picks * aspect)));
  while (within(s + 1)) s++;
  while (s >= 1 && !within(s)) s--;
  return s;
}

/**
 * The default preview scale: at least 3 pixels an end and a pick, so that every thread's edges show, and
 * `minWidth` pixels across. A huge cloth gets less, down to a fraction of a pixel an end (threads then
 * sampled), so that the picture stays within PREVIEW_MAX_PIXELS and a side an image viewer opens.
 */
export function previewScale(ends: number, picks: number, aspect = 1, minWidth = 1200): number {
  let s = Math.max(3, Math.ceil(3 / aspect), Math.ceil(minWidth / ends));
  const within = (scale: number) => fits(previewSize(ends, picks, scale, aspect), PREVIEW_MAX_SIDE);
  if (within(s)) return s;
  s = Math.min(s, largestPreviewScale(ends, picks, aspect), Math.floor(PREVIEW_MAX_SIDE / ends));
  while (s >= 1 && !within(s)) s--;
  if (s >= 1) return s;
  let f = Math.min(
    Math.sqrt(PREVIEW_MAX_PIXELS / (ends * picks * aspect)),
    PREVIEW_MAX_SIDE / ends,
    PREVIEW_MAX_SIDE / (picks * aspect),
  );
  f = Math.floor(f * 1000) / 1000;
  while (f > 0.001 && !within(f)) f -= 0.001;
  return f;
}

/**
 * Renders the plan at `scale` pixels per end; `aspect` (pick height over end width, from the density) keeps
 * the cloth's proportions. Ends and picks share out the picture's columns and rows as evenly as whole pixels
 * allow (each pick floor or ceil of its exact height), so the total is exact. Palette: warp, warp edge, weft,
 * weft edge.
 */
export function renderCloth(plan: LiftPlan, yarns: Yarns, scale: number, aspect = 1): IndexedImage {
  const { width, height, cells } = plan;
  const { width: outW, height: outH } = previewSize(width, height, scale, aspect);
  const indices = new Uint8Array(outW * outH);
  const palette = Uint8Array.from([...yarns.warp, ...edgeShade(yarns.warp), ...yarns.weft, ...edgeShade(yarns.weft)]);
  // Band k of n over `total` pixels starts at ceil(k × total / n), in integers.
  const start = (k: number, total: number, n: number) => Math.floor((k * total + n - 1) / n);
  const endOf = new Int32Array(outW);
  const warpEdge = new Uint8Array(outW);
  for (let x = 0; x < width; x++) {
    const a = start(x, outW, width);
    const b = start(x + 1, outW, width);
    for (let i = a; i < b; i++) endOf[i] = x;
    if (b - a >= 3) warpEdge[a] = warpEdge[b - 1] = 1;
  }
  const body = new Uint8Array(outW);
  const edge = new Uint8Array(outW);
  for (let y = 0; y < height; y++) {
    // Rows counted from the bottom: pick 1 is the bottom band.
    const a = start(y, outH, height);
    const b = start(y + 1, outH, height);
    if (a === b) continue;
    const row = y * width;
    for (let i = 0; i < outW; i++) {
      const up = cells[row + endOf[i]] === 1;
      body[i] = up ? warpEdge[i] : 2;
      edge[i] = up ? warpEdge[i] : 3;
    }
    const top = outH - b;
    const bottom = outH - 1 - a;
    const edges = b - a >= 3;
    for (let r = top; r <= bottom; r++) indices.set(edges && (r === top || r === bottom) ? edge : body, r * outW);
  }
  return { width: outW, height: outH, indices, palette };
}

/** Pixels per end, per design row (the face) and per pick (the back) of a compound cloth's pictures. */
export interface CompoundScale {
  scale: number;
  rowHeight: number;
  pickHeight: number;
}

/**
 * The scale of a compound cloth's pictures: at least 3 pixels an end (so that thread edges show) and
 * `minWidth` pixels across, unless `scale` is given. A design row is as tall as the cloth has it (`aspect`: a
 * row's height over an end's width); on the back it is cut into one band per pick, at least a pixel each.
 */
export function compoundScale(ends: number, wefts: number, aspect = 1, scale?: number, minWidth = 1200): CompoundScale {
  const s = scale ?? Math.max(3, Math.ceil(minWidth / ends));
  const rowHeight = Math.max(1, Math.round(s * aspect));
  return { scale: s, rowHeight, pickHeight: Math.max(1, Math.round(rowHeight / wefts)) };
}

/** Pixels of both pictures, face and back, of `rows` design rows at a scale. */
export function compoundPixels(ends: number, rows: number, wefts: number, scale: CompoundScale): number {
  return ends * scale.scale * rows * (scale.rowHeight + wefts * scale.pickHeight);
}

/** What the compound pictures are drawn from: the plan, where the design lies in it, and each cell's face weft. */
export interface CompoundCloth {
  plan: LiftPlan;
  offset: number;
  designWidth: number;
  wefts: number;
  face: Uint8Array;
}

/** Palette of a compound picture: warp and its edge, then each weft and its edge. */
function compoundPalette(warp: readonly number[], wefts: readonly (readonly number[])[]): Uint8Array {
  return Uint8Array.from([...warp, ...edgeShade(warp), ...wefts.flatMap((w) => [...w, ...edgeShade(w)])]);
}

/**
 * Draws one band of `height` pixels across the picture: `shown[x]` says, for each design end, whether the warp
 * (-1) or which weft is on top; `mirror` draws the ends right to left. Warp edges run up the cloth, weft edges
 * across (the band's first and last rows, when it has three). The band's first row is built, then copied.
 */
function drawBand(
  indices: Uint8Array,
  outW: number,
  top: number,
  height: number,
  scale: number,
  shown: Int8Array,
  mirror: boolean,
): void {
  const start = top * outW;
  const edges = scale >= 3;
  const ends = shown.length;
  for (let x = 0; x < ends; x++) {
    const v = shown[x];
    const o = start + (mirror ? ends - 1 - x : x) * scale;
    // A loop, not fill(): a few pixels a call, millions of calls.
    const colour = v < 0 ? 0 : 2 + 2 * v;
    for (let i = 0; i < scale; i++) indices[o + i] = colour;
    if (v < 0 && edges) {
      indices[o] = 1;
      indices[o + scale - 1] = 1;
    }
  }
  const row = indices.subarray(start, start + outW);
  for (let j = 1; j < height; j++) indices.set(row, (top + j) * outW);
  if (height < 3) return;
  for (const j of [0, height - 1]) {
    const o = (top + j) * outW;
    for (let i = 0; i < outW; i++) if (indices[o + i] >= 2) indices[o + i] |= 1;
  }
}

/**
 * The face of a compound cloth in its yarn colours. A design row's picks are packed under its face weft, which
 * covers the back picks: each cell shows what the face pick shows there (the warp where it is raised, else the
 * face weft), a design row as tall as in the cloth.
 */
export function renderCompoundFace(
  c: CompoundCloth,
  yarns: { warp: readonly number[]; wefts: readonly (readonly number[])[] },
  scale: CompoundScale,
): IndexedImage {
  const { designWidth: dw, wefts: W, plan, offset, face } = c;
  const rows = plan.height / W;
  const outW = dw * scale.scale;
  const outH = rows * scale.rowHeight;
  const indices = new Uint8Array(outW * outH);
  const shown = new Int8Array(dw);
  for (let yb = 0; yb < rows; yb++) {
    for (let x = 0; x < dw; x++) {
      const f = face[yb * dw + x];
      shown[x] = plan.cells[(yb * W + f) * plan.width + offset + x] === 1 ? -1 : f;
    }
    drawBand(indices, outW, outH - (yb + 1) * scale.rowHeight, scale.rowHeight, scale.scale, shown, false);
  }
  return { width: outW, height: outH, indices, palette: compoundPalette(yarns.warp, yarns.wefts) };
}

/**
 * The back of a compound cloth, as seen when the cloth is turned over (left and right swap): each pick in its
 * own band, its weft where the ends are raised over it, the warp where an end is lowered (a stitching point,
 * or the face weft's own binding).
 */
export function renderCompoundBack(
  c: CompoundCloth,
  yarns: { warp: readonly number[]; wefts: readonly (readonly number[])[] },
  scale: CompoundScale,
): IndexedImage {
  const { designWidth: dw, wefts: W, plan, offset } = c;
  const outW = dw * scale.scale;
  const outH = plan.height * scale.pickHeight;
  const indices = new Uint8Array(outW * outH);
  const shown = new Int8Array(dw);
  for (let p = 0; p < plan.height; p++) {
    const k = p % W;
    const base = p * plan.width + offset;
    for (let x = 0; x < dw; x++) shown[x] = plan.cells[base + x] === 0 ? -1 : k;
    drawBand(indices, outW, outH - (p + 1) * scale.pickHeight, scale.pickHeight, scale.scale, shown, true);
  }
  return { width: outW, height: outH, indices, palette: compoundPalette(yarns.warp, yarns.wefts) };
}
