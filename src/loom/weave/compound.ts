/**
 * The compound lift plan of a weft-faced cloth with several wefts. Each design row is woven as one pick per
 * weft, in a fixed shuttle order. On the pick of a cell's face weft the ends follow the cell's effect (a
 * shaded satin, in global phase across design rows); on every other weft's pick the ends are raised, so that
 * weft passes behind, except at stitching points that bind it to the back. A stitching point goes where the
 * face weft floats over the end, so that it is hidden.
 *
 * Floats are held per layer, as the cloth has them: the face weft along its own picks (runs of lowered ends,
 * at most `maxFloat`), each weft behind the raised ends along its picks (at most `maxBackFloat`), and the warp
 * over the face picks alone (at most `maxFloat`; a back pick lies under the face weft and does not show).
 */
import type { IndexedImage } from '../types.js';
import type { Effect } from './effects.js';
import type { LiftPlan } from './plan.js';

export interface CompoundParams {
  /** effects[i] for palette index i of the design. */
  effects: readonly Effect[];
  /** Wefts in the shuttle order: picks per design row. */
  wefts: number;
  maxFloat: number;
  maxBackFloat: number;
  /** The design repeats: floats are counted, and held, across the seams. */
  tile: boolean;
  /** Ends at each side woven plain by every weft on its own picks, inside the design's width. */
  selvedge: number;
  /** W extra ends at this edge, end k raised on the picks of weft k, as weft selectors are driven. */
  selectorHooks?: 'left' | 'right';
}

export interface LayerFloats {
  /** The face weft over lowered ends, along its own picks. */
  weftFace: number;
  /** A weft under raised ends along its own picks: behind the cloth, or under warp on the face. */
  weftBack: number;
  /** The warp over consecutive face picks. */
  warpFace: number;
}

export interface CompoundResult {
  plan: LiftPlan;
  /** The first end of the design in the plan (after left selector hooks). */
  offset: number;
  designWidth: number;
  /**
   * Face weft of each design cell, by plan row from the bottom: face[yb * designWidth + x]; where two wefts
   * share the face, the one that covers that end.
   */
  face: Uint8Array;
  /** The other face weft of each cell where two share the face, else 255. */
  shared: Uint8Array;
  floats: {
    before: LayerFloats;
    after: LayerFloats;
    maxFloat: number;
    maxBackFloat: number;
    acrossSeams: boolean;
  };
  /** Lowered ends on a back weft's picks (selvedges aside), and how many of those the face weft covers. */
  stitches: { points: number; hidden: number };
  /** Points added to the face picks to hold the face weft's and the warp's floats. */
  bindingPoints: number;
}

const PASSES = 16;

/** Where things are in the plan: one line of cells (a pick, or the face picks of one end) as indices. */
class Layout {
  readonly width: number;
  readonly height: number;
  readonly cells: Uint8Array;
  readonly face: Uint8Array;
  /** The other face weft where two share the face, else 255. */
  readonly shared: Uint8Array;
  constructor(
    readonly designWidth: number,
    readonly rows: number,
    readonly wefts: number,
    readonly offset: number,
    readonly extraEnds: number,
  ) {
    this.width = designWidth + extraEnds;
    this.height = rows * wefts;
    this.cells = new Uint8Array(this.width * this.height);
    this.face = new Uint8Array(designWidth * rows);
    this.shared = new Uint8Array(designWidth * rows).fill(255);
  }
  /** The cell of design end x on weft k's pick of plan row yb. */
  at(x: number, yb: number, k: number): number {
    return (yb * this.wefts + k) * this.width + this.offset + x;
  }
  /** The cell of the face weft's pick at design end x of plan row yb. */
  faceAt(x: number, yb: number): number {
    return this.at(x, yb, this.face[yb * this.designWidth + x]);
  }
}

/** Lays the face structures and lifts the back wefts, in global phase; selvedges plain on each weft's picks. */
function layCompound(design: IndexedImage, params: CompoundParams): Layout {
  const { width: dw, height: rows, indices } = design;
  const W = params.wefts;
  const extra = params.selectorHooks ? W : 0;
  const layout = new Layout(dw, rows, W, params.selectorHooks === 'left' ? W : 0, extra);
  const { cells, face, shared } = layout;
  for (let yb = 0; yb < rows; yb++) {
    // The design's top row is the last pick.
    const row = (rows - 1 - yb) * dw;
    for (let x = 0; x < dw; x++) {
      const e = params.effects[indices[row + x]];
      if (e.weft2 !== undefined) {
        // Two wefts share the face end by end: each is down where the other is up.
        const second = (x + yb) % 2;
        face[yb * dw + x] = second ? e.weft2 : e.weft;
        shared[yb * dw + x] = second ? e.weft : e.weft2;
        for (let k = 0; k < W; k++) {
          cells[layout.at(x, yb, k)] = k === e.weft ? second : k === e.weft2 ? second ^ 1 : 1;
        }
        continue;
      }
      face[yb * dw + x] = e.weft;
      const s = e.structure;
      const value = s.cells[(yb % s.height) * s.width + (x % s.width)];
      for (let k = 0; k < W; k++) cells[layout.at(x, yb, k)] = k === e.weft ? value : 1;
    }
  }
  const sel = Math.min(params.selvedge, Math.floor(dw / 2));
  for (let yb = 0; yb < rows; yb++) {
    for (let i = 0; i < sel; i++) {
      for (const x of [i, dw - 1 - i]) {
        for (let k = 0; k < W; k++) cells[layout.at(x, yb, k)] = (x + yb) % 2 === 0 ? 1 : 0;
      }
    }
  }
  return layout;
}

/** Longest runs of 0 and of 1 along the cells at `line[0..len)`, across the ends too when cyclic. */
function longestRuns(cells: Uint8Array, line: Int32Array, len: number, cyclic: boolean, out: number[]): void {
  if (len === 0) return;
  const first = cells[line[0]];
  let k = 1;
  while (k < len && cells[line[k]] === first) k++;
  if (k === len) {
    if (len > out[first]) out[first] = len;
    return;
  }
  // Cyclic: start where a run starts, so that the run over the seam is counted whole.
  const start = cyclic ? k : 0;
  let value = cells[line[start]];
  let run = 0;
  for (let j = 0; j < len; j++) {
    const p = start + j;
    if (p >= len && !cyclic) break;
    const v = cells[line[p < len ? p : p - len]];
    if (v === value) run++;
    else {
      if (run > out[value]) out[value] = run;
      value = v;
      run = 1;
    }
  }
  if (run > out[value]) out[value] = run;
}

/** Whether a line has a run of `value` longer than `max` (across its ends too when cyclic). */
function hasLongRun(cells: Uint8Array, line: Int32Array, len: number, cyclic: boolean, value: number, max: number) {
  let run = 0;
  let first = -1;
  for (let i = 0; i < len; i++) {
    if (cells[line[i]] === value) {
      if (++run > max) return true;
    } else {
      if (first < 0) first = run;
      run = 0;
    }
  }
  if (!cyclic) return false;
  if (first < 0) return len > max;
  return run + first > max;
}

/** Length of the run of `value` through position `pos` of a line if that cell took `value`, up to `cap`. */
function runThrough(
  cells: Uint8Array,
  line: Int32Array,
  len: number,
  pos: number,
  value: number,
  cyclic: boolean,
  cap: number,
): number {
  let n = 1;
  for (let d = 1; d < len && n <= cap; d++) {
    const p = pos + d;
    if (p >= len && !cyclic) break;
    if (cells[line[p % len]] !== value) break;
    n++;
  }
  for (let d = 1; d < len && n <= cap; d++) {
    const p = pos - d;
    if (p < 0 && !cyclic) break;
    if (cells[line[(p + len) % len]] !== value) break;
    n++;
  }
  return n;
}

/**
 * Breaks every run of `value` longer than `max` along a line by flipping cells, each where `cost` is lowest
 * (then nearest the run's middle, or `max` in for a run that needs several points). Returns the flips.
 */
function breakRuns(
  cells: Uint8Array,
  line: Int32Array,
  len: number,
  cyclic: boolean,
  value: number,
  max: number,
  cost: (i: number) => number,
): number {
  if (!hasLongRun(cells, line, len, cyclic, value, max)) return 0;
  const runs: Array<[number, number]> = [];
  let k = 1;
  const first = cells[line[0]];
  while (k < len && cells[line[k]] === first) k++;
  if (k === len) {
    if (!cyclic) runs.push([0, len]);
    else {
      // A whole cyclic line of one value: one point makes it a run with ends.
      cells[line[cheapest(0, len - 1, (len - 1) / 2, cost)]] = value ^ 1;
      return 1 + breakRuns(cells, line, len, cyclic, value, max, cost);
    }
  } else {
    const start = cyclic ? k : 0;
    let runStart = start;
    let v = cells[line[start]];
    for (let j = 1; j <= len; j++) {
      const end = j === len || (!cyclic && start + j >= len);
      const p = start + j;
      if (end || cells[line[p % len]] !== v) {
        if (v === value && p - runStart > max) runs.push([runStart, p - runStart]);
        if (end) break;
        runStart = p;
        v = cells[line[p % len]];
      }
    }
  }
  let flips = 0;
  for (const [runStart, runLength] of runs) {
    let s = runStart;
    let r = runLength;
    while (r > max) {
      const single = r - 1 <= 2 * max;
      const lo = single ? Math.max(1, r - 1 - max) : 1;
      const hi = Math.min(max, r - 2);
      const at = (i: number) => cost((s + i) % len);
      let p = cheapest(lo, hi, single ? (r - 1) / 2 : hi, at);
      // One point that must split the run in two may fall on a poor spot; a better one nearer the start, with
      // another point after it, is worth the extra point.
      if (single && lo > 1) {
        const nearer = cheapest(1, hi, hi, at);
        if (at(nearer) < at(p)) p = nearer;
      }
      cells[line[(s + p) % len]] = value ^ 1;
      flips++;
      s += p + 1;
      r -= p + 1;
    }
  }
  return flips;
}

function cheapest(lo: number, hi: number, aim: number, cost: (i: number) => number): number {
  let best = lo;
  let bestScore = Infinity;
  for (let i = lo; i <= hi; i++) {
    const score = cost(i) * 1000 + Math.abs(i - aim);
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/** The cells of weft k's pick of plan row yb, over the design's ends. */
function pickLine(layout: Layout, yb: number, k: number, out: Int32Array): Int32Array {
  const base = layout.at(0, yb, k);
  for (let x = 0; x < layout.designWidth; x++) out[x] = base + x;
  return out;
}

/** The cells of the face picks of design end x, one per plan row. */
function faceLine(layout: Layout, x: number, out: Int32Array): Int32Array {
  for (let yb = 0; yb < layout.rows; yb++) out[yb] = layout.faceAt(x, yb);
  return out;
}

function measure(layout: Layout, cyclic: boolean): LayerFloats {
  const { cells, designWidth: dw, rows, wefts: W } = layout;
  const row = [0, 0];
  const pick = new Int32Array(dw);
  for (let yb = 0; yb < rows; yb++) {
    for (let k = 0; k < W; k++) longestRuns(cells, pickLine(layout, yb, k, pick), dw, cyclic, row);
  }
  const column = [0, 0];
  const ends = new Int32Array(rows);
  for (let x = 0; x < dw; x++) longestRuns(cells, faceLine(layout, x, ends), rows, cyclic, column);
  return { weftFace: row[0], weftBack: row[1], warpFace: column[1] };
}

/** One pass over every pick and every end's face picks; returns the cells it flipped. */
function holdPass(layout: Layout, params: CompoundParams): number {
  const { cells, designWidth: dw, rows, wefts: W, face } = layout;
  const { maxFloat: N, maxBackFloat: M, tile } = params;
  const pick = new Int32Array(dw);
  const ends = new Int32Array(rows);
  const other = new Int32Array(Math.max(dw, rows));
  // Where a stitching point would be hidden, per end of the row: 0 in the middle of a face weft's float, 1 at
  // its end, 100 where the face pick is raised (the stitch would show).
  const cover = new Uint8Array(dw);
  let flips = 0;
  for (let yb = 0; yb < rows; yb++) {
    const lowered = (x: number) => x >= 0 && x < dw && cells[layout.faceAt(x, yb)] === 0;
    for (let x = 0; x < dw; x++) {
      const xl = tile ? (x + dw - 1) % dw : x - 1;
      const xr = tile ? (x + 1) % dw : x + 1;
      cover[x] = !lowered(x) ? 100 : lowered(xl) && lowered(xr) ? 0 : 1;
    }
    for (let k = 0; k < W; k++) {
      pickLine(layout, yb, k, pick);
      const faceOf = (x: number) => face[yb * dw + x];
      // The face weft floats too far: raise an end, where the warp's own float over the face stays short.
      flips += breakRuns(cells, pick, dw, tile, 0, N, (x) => {
        if (faceOf(x) !== k) return 1e4;
        const warp = runThrough(cells, faceLine(layout, x, other), rows, yb, 1, tile, N + 1);
        return (warp > N ? 1e3 : 0) + warp;
      });
      // A weft behind the raised ends floats too far: lower an end, best where the face weft covers it. (The
      // row's cover was taken before its face picks got any binding point; a stale one costs only a worse spot.)
      flips += breakRuns(cells, pick, dw, tile, 1, M, (x) => (faceOf(x) === k ? 20 : cover[x]));
    }
  }
  for (let x = 0; x < dw; x++) {
    faceLine(layout, x, ends);
    // The warp floats over too many face picks: lower it on one, where the face weft's float stays short.
    flips += breakRuns(cells, ends, rows, tile, 1, N, (yb) => {
      const weft = runThrough(cells, pickLine(layout, yb, face[yb * dw + x], other), dw, x, 0, tile, N + 1);
      return (weft > N ? 1e3 : 0) + weft;
    });
  }
  return flips;
}

function countStitches(layout: Layout, selvedge: number): { points: number; hidden: number } {
  const { cells, designWidth: dw, rows, wefts: W, face } = layout;
  let points = 0;
  let hidden = 0;
  for (let yb = 0; yb < rows; yb++) {
    for (let x = selvedge; x < dw - selvedge; x++) {
      const f = face[yb * dw + x];
      for (let k = 0; k < W; k++) {
        if (k === f || cells[layout.at(x, yb, k)] !== 0) continue;
        points++;
        if (cells[layout.at(x, yb, f)] === 0) hidden++;
      }
    }
  }
  return { points, hidden };
}

export function weaveCompound(design: IndexedImage, params: CompoundParams): CompoundResult {
  const layout = layCompound(design, params);
  const before = measure(layout, params.tile);
  const laid = layout.cells.slice();
  for (let pass = 0; pass < PASSES; pass++) if (holdPass(layout, params) === 0) break;
  const after = measure(layout, params.tile);
  let bindingPoints = 0;
  for (let yb = 0; yb < layout.rows; yb++) {
    for (let x = 0; x < layout.designWidth; x++) {
      const i = layout.faceAt(x, yb);
      if (laid[i] !== layout.cells[i]) bindingPoints++;
    }
  }
  const stitches = countStitches(layout, Math.min(params.selvedge, Math.floor(layout.designWidth / 2)));
  const { cells, width, height, wefts: W } = layout;
  if (params.selectorHooks) {
    const first = params.selectorHooks === 'left' ? 0 : layout.designWidth;
    for (let r = 0; r < height; r++) for (let k = 0; k < W; k++) cells[r * width + first + k] = r % W === k ? 1 : 0;
  }
  return {
    plan: { width, height, cells },
    offset: layout.offset,
    designWidth: layout.designWidth,
    face: layout.face,
    shared: layout.shared,
    floats: {
      before,
      after,
      maxFloat: params.maxFloat,
      maxBackFloat: params.maxBackFloat,
      acrossSeams: params.tile,
    },
    stitches,
    bindingPoints,
  };
}

/**
 * Reads the face weft of each design cell back from a plan, as a reader of the plan alone would: the weft
 * whose pick of the cell's row has the most lowered ends around the cell, in the narrowest window (1, 3, 5,
 * … up to `window` ends, centred) where one pick has more than every other. A cell no window decides reads
 * as 255, and so do selvedge ends. A check that the plan says what the design asked.
 */
export function readFaceWefts(
  plan: LiftPlan,
  geometry: { offset: number; designWidth: number; wefts: number; selvedge: number },
  window: number,
): Uint8Array {
  const { offset, designWidth: dw, wefts: W, selvedge } = geometry;
  const rows = plan.height / W;
  const out = new Uint8Array(dw * rows).fill(255);
  // prefix[k * (dw + 1) + x]: lowered ends of weft k's pick before end x.
  const prefix = new Int32Array(W * (dw + 1));
  for (let yb = 0; yb < rows; yb++) {
    for (let k = 0; k < W; k++) {
      const base = (yb * W + k) * plan.width + offset;
      const p = k * (dw + 1);
      for (let x = 0; x < dw; x++) prefix[p + x + 1] = prefix[p + x] + (plan.cells[base + x] === 0 ? 1 : 0);
    }
    for (let x = selvedge; x < dw - selvedge; x++) {
      for (let half = 0; 2 * half + 1 <= window; half++) {
        const lo = Math.max(0, x - half);
        const hi = Math.min(dw, x + half + 1);
        let best = -1;
        let bestCount = -1;
        let tie = false;
        for (let k = 0; k < W; k++) {
          const c = prefix[k * (dw + 1) + hi] - prefix[k * (dw + 1) + lo];
          if (c > bestCount) {
            bestCount = c;
            best = k;
            tie = false;
          } else if (c === bestCount) tie = true;
        }
        if (!tie) {
          out[yb * dw + x] = best;
          break;
        }
      }
    }
  }
  return out;
}
