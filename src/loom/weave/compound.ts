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

interface LayerFloats {
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
    return this.faceCell[yb * this.designWidth + x];
  }
  /** The face picks' cells, looked up so often that they are worked out once (by layCompound). */
  faceCell = new Int32Array(0);
}

/** Lays the face structures and lifts the back wefts, in global phase; selvedges plain on each weft's picks. */
function layCompound(design: IndexedImage, params: CompoundParams): Layout {
  const { width: dw, height: rows, indices } = design;
  const W = params.wefts;
  const extra = params.selectorHooks ? W : 0;
  const layout = new Layout(dw, rows, W, params.selectorHooks === 'left' ? W : 0, extra);
  const { cells, face, shared, width } = layout;
  // Each colour's effect as plain numbers: the loop below runs once per cell.
  const n = params.effects.length;
  const weftOf = new Uint8Array(n);
  const secondOf = new Uint8Array(n).fill(255);
  const everyOf = new Uint8Array(n);
  params.effects.forEach((e, i) => {
    weftOf[i] = e.weft;
    if (e.weft2 !== undefined) {
      secondOf[i] = e.weft2;
      everyOf[i] = e.every ?? 2;
    }
  });
  const structures = params.effects.map((e) => e.structure);
  layout.faceCell = new Int32Array(dw * rows);
  const { faceCell } = layout;
  // Every weft lifted (behind), then each cell's face picks laid.
  cells.fill(1);
  for (let yb = 0; yb < rows; yb++) {
    // The design's top row is the last pick.
    const row = (rows - 1 - yb) * dw;
    const pick0 = yb * W * width + layout.offset;
    for (let x = 0; x < dw; x++) {
      const c = indices[row + x];
      const a = weftOf[c];
      const i = yb * dw + x;
      const b = secondOf[c];
      if (b !== 255) {
        // Two wefts share the face end by end: each is down where the other is up; the second covers every
        // other end, or one end in three or four on a diagonal.
        const every = everyOf[c];
        const second = every === 2 ? (x + yb) % 2 : (x + yb) % every === 0 ? 1 : 0;
        face[i] = second ? b : a;
        shared[i] = second ? a : b;
        cells[pick0 + a * width + x] = second;
        cells[pick0 + b * width + x] = second ^ 1;
        faceCell[i] = pick0 + face[i] * width + x;
        continue;
      }
      face[i] = a;
      const s = structures[c];
      cells[pick0 + a * width + x] = s.cells[(yb % s.height) * s.width + (x % s.width)];
      faceCell[i] = pick0 + a * width + x;
    }
  }
  const sel = Math.min(params.selvedge, Math.floor(dw / 2));
  for (let yb = 0; yb < rows; yb++) {
    for (let i = 0; i < sel; i++) {
      for (const x of [i, dw - 1 - i]) {
        // Plain on each weft's own picks, and alternating from pick to pick so that the edge end never
        // floats over a row's picks.
        for (let k = 0; k < W; k++) cells[layout.at(x, yb, k)] = (x + yb + k) % 2 === 0 ? 1 : 0;
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
    // One value all along: in a repeat, a float that never ends.
    const run = cyclic ? Infinity : len;
    if (run > out[first]) out[first] = run;
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

/**
 * Longest runs of 0 and of 1 along `len` cells from `base` (one pick: its cells lie side by side), across the
 * ends too when cyclic; into out[0] and out[1].
 */
function longestRunsAlong(cells: Uint8Array, base: number, len: number, cyclic: boolean, out: number[]): void {
  const end = base + len;
  let run = 1;
  let first = -1;
  const firstValue = cells[base];
  for (let i = base + 1; i < end; i++) {
    if (cells[i] === cells[i - 1]) run++;
    else {
      if (first < 0) first = run;
      const v = cells[i - 1];
      if (run > out[v]) out[v] = run;
      run = 1;
    }
  }
  const last = cells[end - 1];
  if (first < 0) {
    // One value all along: in a repeat, a float that never ends.
    const endless = cyclic ? Infinity : len;
    if (endless > out[firstValue]) out[firstValue] = endless;
    return;
  }
  if (cyclic && last === firstValue) run += first;
  if (run > out[last]) out[last] = run;
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
  // The value all along: in a repeat, a float that never ends.
  if (first < 0) return true;
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

/**
 * Breaks every run of raised ends longer than `max` along weft k's pick (cells side by side from `base`) by
 * lowering ends, each as late in the run as it can be and where it costs least (ties: the later): the fewest
 * points, each on the best spot it has. The cost of an end: 20 where k is the face weft (a binding point in
 * the face), else `cover` there. Across the ends too when cyclic. Returns the points added.
 */
export function breakRaisedRuns(
  cells: Uint8Array,
  base: number,
  len: number,
  cyclic: boolean,
  max: number,
  k: number,
  faceRow: Uint8Array,
  cover: Uint8Array,
): number {
  let first = 0;
  let flips = 0;
  if (cyclic) {
    // Start after a lowered end, so that no run is cut by the seam; a pick raised all along gets one point first.
    let z = -1;
    for (let i = 0; i < len; i++) {
      if (cells[base + i] === 0) {
        z = i;
        break;
      }
    }
    if (z < 0) {
      let best = 0;
      let bestCost = 255;
      for (let i = 0; i < len; i++) {
        const c = faceRow[i] === k ? 20 : cover[i];
        if (c < bestCost) {
          bestCost = c;
          best = i;
        }
      }
      cells[base + best] = 0;
      flips++;
      z = best;
    }
    first = (z + 1) % len;
  }
  const steps = cyclic ? len : len - first;
  let start = 0;
  // Walk position j is end `at` (first + j, round the seam).
  for (let j = 0, at = first; j < steps; j++, at = at + 1 < len ? at + 1 : 0) {
    if (cells[base + at] === 0) {
      start = j + 1;
      continue;
    }
    if (j - start + 1 <= max) continue;
    // The run [start, j] is one too long: lower the least costly of its ends, the latest among equals.
    let best = j;
    let bestAt = at;
    let bestCost = faceRow[at] === k ? 20 : cover[at];
    for (let q = j - 1, e = at > 0 ? at - 1 : len - 1; q >= start && bestCost > 0; q--, e = e > 0 ? e - 1 : len - 1) {
      const c = faceRow[e] === k ? 20 : cover[e];
      if (c < bestCost) {
        best = q;
        bestAt = e;
        bestCost = c;
      }
    }
    cells[base + bestAt] = 0;
    flips++;
    start = best + 1;
    j = best;
    at = bestAt;
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

/**
 * The longest floats of each layer. A selvedge end, woven plain by every weft, is counted over all picks: it
 * has no face weft to hide the others.
 */
function measure(layout: Layout, cyclic: boolean, selvedge: number): LayerFloats {
  const { cells, designWidth: dw, rows, wefts: W, width, height } = layout;
  const row = [0, 0];
  for (let yb = 0; yb < rows; yb++) {
    for (let k = 0; k < W; k++) longestRunsAlong(cells, layout.at(0, yb, k), dw, cyclic, row);
  }
  const column = [0, 0];
  const ends = new Int32Array(rows);
  const picks = new Int32Array(height);
  for (let x = 0; x < dw; x++) {
    if (x < selvedge || x >= dw - selvedge) {
      for (let p = 0; p < height; p++) picks[p] = p * width + layout.offset + x;
      longestRuns(cells, picks, height, cyclic, column);
    } else longestRuns(cells, faceLine(layout, x, ends), rows, cyclic, column);
  }
  return { weftFace: row[0], weftBack: row[1], warpFace: column[1] };
}

/**
 * Whether the ends beside x have x's face weft: a stitch there lies inside one float, and a reader of the plan
 * who looks one end each side still finds that weft.
 */
function faceWeftAround(face: Uint8Array, row: number, x: number, dw: number, tile: boolean): boolean {
  const f = face[row + x];
  const left = x > 0 ? x - 1 : tile ? dw - 1 : -1;
  const right = x < dw - 1 ? x + 1 : tile ? 0 : -1;
  return left >= 0 && right >= 0 && face[row + left] === f && face[row + right] === f;
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
  const down = new Uint8Array(dw);
  const runs = [0, 0];
  let flips = 0;
  for (let yb = 0; yb < rows; yb++) {
    for (let x = 0; x < dw; x++) down[x] = cells[layout.faceAt(x, yb)] === 0 ? 1 : 0;
    for (let x = 0; x < dw; x++) {
      const left = x > 0 ? down[x - 1] : tile ? down[dw - 1] : 0;
      const right = x < dw - 1 ? down[x + 1] : tile ? down[0] : 0;
      cover[x] = !down[x] ? 100 : left && right && faceWeftAround(face, yb * dw, x, dw, tile) ? 0 : 1;
    }
    for (let k = 0; k < W; k++) {
      // Most picks hold already: a look along the pick's own cells, before any line is built.
      runs[0] = 0;
      runs[1] = 0;
      longestRunsAlong(cells, layout.at(0, yb, k), dw, tile, runs);
      if (runs[0] <= N && runs[1] <= M) continue;
      const faceOf = (x: number) => face[yb * dw + x];
      // The face weft floats too far: raise an end, where the warp's own float over the face stays short.
      if (runs[0] > N) {
        flips += breakRuns(cells, pickLine(layout, yb, k, pick), dw, tile, 0, N, (x) => {
          if (faceOf(x) !== k) return 1e4;
          const warp = runThrough(cells, faceLine(layout, x, other), rows, yb, 1, tile, N + 1);
          return (warp > N ? 1e3 : 0) + warp;
        });
      }
      // A weft behind the raised ends floats too far: lower an end, best where the face weft covers it. (The
      // row's cover was taken before its face picks got any binding point; a stale one costs only a worse spot.)
      if (runs[1] > M) {
        flips += breakRaisedRuns(
          cells,
          layout.at(0, yb, k),
          dw,
          tile,
          M,
          k,
          face.subarray(yb * dw, (yb + 1) * dw),
          cover,
        );
      }
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

/**
 * Lowered ends on back wefts' picks (selvedges aside) and how many the face weft covers; and the face picks'
 * cells that differ from `laid`, their values as laid: the binding points.
 */
function countPoints(
  layout: Layout,
  selvedge: number,
  laid: Uint8Array,
): { stitches: { points: number; hidden: number }; bindingPoints: number } {
  const { cells, designWidth: dw, rows, wefts: W, face } = layout;
  let points = 0;
  let hidden = 0;
  let bindingPoints = 0;
  for (let yb = 0; yb < rows; yb++) {
    for (let x = 0; x < dw; x++) {
      const i = yb * dw + x;
      const own = layout.faceAt(x, yb);
      if (cells[own] !== laid[i]) bindingPoints++;
      if (x < selvedge || x >= dw - selvedge) continue;
      const f = face[i];
      for (let k = 0; k < W; k++) {
        if (k === f || cells[layout.at(x, yb, k)] !== 0) continue;
        points++;
        if (cells[own] === 0) hidden++;
      }
    }
  }
  return { stitches: { points, hidden }, bindingPoints };
}

function within(floats: LayerFloats, params: CompoundParams): boolean {
  return (
    floats.weftFace <= params.maxFloat && floats.warpFace <= params.maxFloat && floats.weftBack <= params.maxBackFloat
  );
}

/** Floats a plan could not be held to: the limits asked for are too short for the structures. */
export class FloatsNotHeldError extends Error {}

export function weaveCompound(design: IndexedImage, params: CompoundParams): CompoundResult {
  const layout = layCompound(design, params);
  const selvedge = Math.min(params.selvedge, Math.floor(layout.designWidth / 2));
  const before = measure(layout, params.tile, selvedge);
  const laid = new Uint8Array(layout.faceCell.length);
  for (let i = 0; i < laid.length; i++) laid[i] = layout.cells[layout.faceCell[i]];
  let after = before;
  for (let pass = 0; pass < PASSES && !within(after, params); pass++) {
    if (holdPass(layout, params) === 0) break;
    after = measure(layout, params.tile, selvedge);
  }
  if (!within(after, params)) {
    // Never a plan that breaks the limits it was asked to keep, and says nothing.
    throw new FloatsNotHeldError(
      `the floats could not be held to ${params.maxFloat} (face) and ${params.maxBackFloat} (back): ` +
        `the longest left are ${after.weftFace} (face weft), ${after.weftBack} (back weft), ${after.warpFace} (warp)`,
    );
  }
  const { stitches, bindingPoints } = countPoints(layout, selvedge, laid);
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
  const counts = new Int32Array(W);
  const { cells, width } = plan;
  for (let yb = 0; yb < rows; yb++) {
    const row = yb * W * width + offset;
    for (let x = selvedge; x < dw - selvedge; x++) {
      for (let k = 0; k < W; k++) counts[k] = 0;
      // Widen the window an end each side at a time, until one pick has more lowered ends than every other.
      for (let half = 0; 2 * half + 1 <= window; half++) {
        const left = x - half;
        const right = x + half;
        for (let k = 0; k < W; k++) {
          const pick = row + k * width;
          if (left >= 0 && cells[pick + left] === 0) counts[k]++;
          if (half > 0 && right < dw && cells[pick + right] === 0) counts[k]++;
        }
        let best = 0;
        let tie = false;
        for (let k = 1; k < W; k++) {
          if (counts[k] > counts[best]) {
            best = k;
            tie = false;
          } else if (counts[k] === counts[best]) tie = true;
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
