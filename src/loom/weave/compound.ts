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
import { lineRuns as longestRuns, type Seams } from './floats.js';
import { designStart, layPlan, layoutLoom, repeatSeams, selvedgeEnds, type LoomLayout } from './layout.js';
import type { LiftPlan } from './plan.js';
import { parseStructure, type Structure } from './structures.js';

export interface CompoundParams {
  /** effects[i] for palette index i of the design. */
  effects: readonly Effect[];
  /** Wefts in the shuttle order: picks per design row. */
  wefts: number;
  maxFloat: number;
  maxBackFloat: number;
  /** The design repeats: floats are counted, and held, across the seams. */
  tile: boolean;
  /** Ends at each side woven plain by every weft on its own picks, outside the design (unless `layout`). */
  selvedge: number;
  /** W extra ends at this edge, end k raised on the picks of weft k, as weft selectors are driven. */
  selectorHooks?: 'left' | 'right';
  /** Hooks, repeats, selvedges and selector hooks; by default one repeat, `selvedge` and `selectorHooks`. */
  layout?: LoomLayout;
  /** The selvedges' structure (default plain), on each weft's own picks. */
  edge?: Structure;
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
  /** The first end of the design in the plan (after the left selector hooks and selvedge). */
  offset: number;
  /** Ends of one repeat of the design. */
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
    /** How the picks and ends go on past the repeat's edges. */
    readonly seams: Seams,
  ) {
    this.width = designWidth;
    this.height = rows * wefts;
    // The plan's cells, then the selvedges' ends of each pick: counted, never moved.
    this.cells = new Uint8Array(this.width * this.height + (seams.edgeEnds ?? 0) * this.height);
    this.face = new Uint8Array(designWidth * rows);
    this.shared = new Uint8Array(designWidth * rows).fill(255);
  }
  /** The cell of design end x on weft k's pick of plan row yb. */
  at(x: number, yb: number, k: number): number {
    return (yb * this.wefts + k) * this.width + x;
  }
  /** The cell of the face weft's pick at design end x of plan row yb. */
  faceAt(x: number, yb: number): number {
    return this.faceCell[yb * this.designWidth + x];
  }
  /** The cell of a pick's position along it (an end of the repeat, or a selvedge end: seams.across). */
  along(pick: number, x: number): number {
    return x >= 0 ? pick * this.width + x : this.fixedFrom + pick * (this.seams.edgeEnds ?? 0) + (-1 - x);
  }
  /** Where the selvedges' ends start. */
  get fixedFrom(): number {
    return this.width * this.height;
  }
  /** The face picks' cells, looked up so often that they are worked out once (by layCompound). */
  faceCell = new Int32Array(0);
}

/** Lays the face structures and lifts the back wefts of one repeat, in global phase. */
function layCompound(design: IndexedImage, params: CompoundParams, seams: Seams, edges: Uint8Array): Layout {
  const { width: dw, height: rows, indices } = design;
  const W = params.wefts;
  const layout = new Layout(dw, rows, W, seams);
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
  cells.set(edges, layout.fixedFrom);
  for (let yb = 0; yb < rows; yb++) {
    // The design's top row is the last pick.
    const row = (rows - 1 - yb) * dw;
    const pick0 = yb * W * width;
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
  return layout;
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
 * Breaks every run of raised ends longer than `max` along weft k's pick (its cells in `line`, in the order the
 * pick crosses them; `faceRow` and `cover` by the same positions) by
 * lowering ends, each as late in the run as it can be and where it costs least (ties: the later): the fewest
 * points, each on the best spot it has. The cost of an end: 20 where k is the face weft (a binding point in
 * the face), else `cover` there. Across the ends too when cyclic. Returns the points added.
 */
export function breakRaisedRuns(
  cells: Uint8Array,
  line: Int32Array,
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
      if (cells[line[i]] === 0) {
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
      cells[line[best]] = 0;
      flips++;
      z = best;
    }
    first = (z + 1) % len;
  }
  const steps = cyclic ? len : len - first;
  let start = 0;
  // Walk position j is end `at` (first + j, round the seam).
  for (let j = 0, at = first; j < steps; j++, at = at + 1 < len ? at + 1 : 0) {
    if (cells[line[at]] === 0) {
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
    // A cell met twice along the pick (the point of a point tie) may be lowered from its other side already.
    cells[line[bestAt]] = 0;
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

/** The cells of weft k's pick of plan row yb, in the order the pick crosses the repeat's ends. */
function pickLine(layout: Layout, yb: number, k: number, out: Int32Array): Int32Array {
  const pick = yb * layout.wefts + k;
  const { across } = layout.seams;
  for (let p = 0; p < across.length; p++) out[p] = layout.along(pick, across[p]);
  return out;
}

/** The cells of the face picks of design end x, one per plan row. */
function faceLine(layout: Layout, x: number, out: Int32Array): Int32Array {
  for (let yb = 0; yb < layout.rows; yb++) out[yb] = layout.faceAt(x, yb);
  return out;
}

/** The longest floats of each layer, as the seams continue them. */
function measure(layout: Layout): LayerFloats {
  const { cells, designWidth: dw, rows, wefts: W, seams } = layout;
  const across = seams.across.length;
  const row = [0, 0];
  const pick = new Int32Array(across);
  for (let yb = 0; yb < rows; yb++) {
    for (let k = 0; k < W; k++) longestRuns(cells, pickLine(layout, yb, k, pick), across, seams.acrossCyclic, row);
  }
  const column = [0, 0];
  const ends = new Int32Array(rows);
  for (let x = 0; x < dw; x++) longestRuns(cells, faceLine(layout, x, ends), rows, seams.alongCyclic, column);
  return { weftFace: row[0], weftBack: row[1], warpFace: column[1] };
}

/** One pass over every pick and every end's face picks; returns the cells it flipped. */
function holdPass(layout: Layout, params: CompoundParams): number {
  const { cells, designWidth: dw, rows, wefts: W, face, seams } = layout;
  const { maxFloat: N, maxBackFloat: M } = params;
  const { across, acrossCyclic, alongCyclic } = seams;
  const L = across.length;
  const pick = new Int32Array(L);
  const ends = new Int32Array(rows);
  const other = new Int32Array(Math.max(L, rows));
  // Along the pick, by position: the face weft, whether its pick is down, and where a stitching point would be
  // hidden: 0 in the middle of a face weft's float, 1 at its end, 100 where the face pick is raised (it shows).
  const faceRow = new Uint8Array(L);
  const down = new Uint8Array(L);
  const cover = new Uint8Array(L);
  const runs = [0, 0];
  const beside = (p: number, d: number) => {
    const q = p + d;
    return q >= 0 && q < L ? q : acrossCyclic ? (q + L) % L : -1;
  };
  // Where end x first comes along a pick, to enter the pick there.
  const firstAt = new Int32Array(dw);
  for (let p = L - 1; p >= 0; p--) if (across[p] >= 0) firstAt[across[p]] = p;
  let flips = 0;
  for (let yb = 0; yb < rows; yb++) {
    for (let p = 0; p < L; p++) {
      const x = across[p];
      // A selvedge end is nobody's face and never takes a point: it costs the most.
      faceRow[p] = x >= 0 ? face[yb * dw + x] : 255;
      down[p] = x >= 0 && cells[layout.faceAt(x, yb)] === 0 ? 1 : 0;
    }
    for (let p = 0; p < L; p++) {
      const left = beside(p, -1);
      const right = beside(p, 1);
      // A stitch between two ends of the same face weft lies inside one float, and a reader of the plan who looks
      // one end each side still finds that weft.
      const inside =
        left >= 0 &&
        right >= 0 &&
        down[left] &&
        down[right] &&
        faceRow[left] === faceRow[p] &&
        faceRow[right] === faceRow[p];
      cover[p] = across[p] < 0 ? 255 : !down[p] ? 100 : inside ? 0 : 1;
    }
    for (let k = 0; k < W; k++) {
      pickLine(layout, yb, k, pick);
      // Most picks hold already: a look along the pick, before anything is moved.
      runs[0] = 0;
      runs[1] = 0;
      longestRuns(cells, pick, L, acrossCyclic, runs);
      if (runs[0] <= N && runs[1] <= M) continue;
      // The face weft floats too far: raise an end, where the warp's own float over the face stays short.
      if (runs[0] > N) {
        flips += breakRuns(cells, pick, L, acrossCyclic, 0, N, (p) => {
          if (across[p] < 0) return 1e6;
          if (faceRow[p] !== k) return 1e4;
          const warp = runThrough(cells, faceLine(layout, across[p], other), rows, yb, 1, alongCyclic, N + 1);
          return (warp > N ? 1e3 : 0) + warp;
        });
      }
      // A weft behind the raised ends floats too far: lower an end, best where the face weft covers it. (The
      // row's cover was taken before its face picks got any binding point; a stale one costs only a worse spot.)
      if (runs[1] > M) flips += breakRaisedRuns(cells, pick, L, acrossCyclic, M, k, faceRow, cover);
    }
  }
  for (let x = 0; x < dw; x++) {
    faceLine(layout, x, ends);
    // The warp floats over too many face picks: lower it on one, where the face weft's float stays short. The
    // pick is entered at x, where it first crosses that end.
    flips += breakRuns(cells, ends, rows, alongCyclic, 1, N, (yb) => {
      const weft = runThrough(
        cells,
        pickLine(layout, yb, face[yb * dw + x], other),
        L,
        firstAt[x],
        0,
        acrossCyclic,
        N + 1,
      );
      return (weft > N ? 1e3 : 0) + weft;
    });
  }
  return flips;
}

/**
 * Lowered ends on back wefts' picks and how many the face weft covers; and the face picks'
 * cells that differ from `laid`, their values as laid: the binding points.
 */
function countPoints(
  layout: Layout,
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

/**
 * Weaves one repeat with its floats held as the loom continues them (across the repeats, and down the cloth
 * with `tile`), then lays the repeats, selvedges and selector hooks across the hooks.
 */
export function weaveCompound(design: IndexedImage, params: CompoundParams): CompoundResult {
  const loom =
    params.layout ??
    layoutLoom({
      unit: design.width,
      tie: 'straight',
      selvedge: params.selvedge,
      ...(params.selectorHooks ? { selector: { side: params.selectorHooks, ends: params.wefts } } : {}),
    });
  const edge = params.edge ?? parseStructure('plain');
  const layout = layCompound(
    design,
    params,
    repeatSeams(loom, params.tile),
    selvedgeEnds(loom, edge, design.height * params.wefts, params.wefts),
  );
  const before = measure(layout);
  const laid = new Uint8Array(layout.faceCell.length);
  for (let i = 0; i < laid.length; i++) laid[i] = layout.cells[layout.faceCell[i]];
  let after = before;
  for (let pass = 0; pass < PASSES && !within(after, params); pass++) {
    if (holdPass(layout, params) === 0) break;
    after = measure(layout);
  }
  const { stitches, bindingPoints } = countPoints(layout, laid);
  const plan = layPlan(
    { width: layout.width, height: layout.height, cells: layout.cells.subarray(0, layout.fixedFrom) },
    loom,
    edge,
    params.wefts,
  );
  // A selvedge end has no face weft to hide the others: its float is counted over every pick.
  after = { ...after, warpFace: Math.max(after.warpFace, selvedgeWarpFloat(plan, loom, params.tile)) };
  if (!within(after, params)) {
    // Never a plan that breaks the limits it was asked to keep, and says nothing.
    throw new FloatsNotHeldError(
      `the floats could not be held to ${params.maxFloat} (face) and ${params.maxBackFloat} (back): ` +
        `the longest left are ${after.weftFace} (face weft), ${after.weftBack} (back weft), ${after.warpFace} (warp)`,
    );
  }
  return {
    plan,
    offset: designStart(loom),
    designWidth: layout.designWidth,
    face: layout.face,
    shared: layout.shared,
    floats: {
      before,
      after,
      maxFloat: params.maxFloat,
      maxBackFloat: params.maxBackFloat,
      acrossSeams: params.tile || loom.repeats > 1,
    },
    stitches,
    bindingPoints,
  };
}

/** The longest run of raised picks on a selvedge end: the warp over the face (its back is not held). */
function selvedgeWarpFloat(plan: LiftPlan, loom: LoomLayout, tile: boolean): number {
  const start = designStart(loom);
  const end = start + loom.unit * loom.repeats;
  const column = [0, 0];
  const picks = new Int32Array(plan.height);
  for (const x of [
    ...Array.from({ length: loom.selvedge[0] }, (_, i) => start - 1 - i),
    ...Array.from({ length: loom.selvedge[1] }, (_, i) => end + i),
  ]) {
    for (let p = 0; p < plan.height; p++) picks[p] = p * plan.width + x;
    longestRuns(plan.cells, picks, plan.height, tile, column);
  }
  return column[1];
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
