/**
 * Floats in a lift plan, and binding points that hold them to a limit. A warp end floats on the face over a
 * run of picks where it is raised, and on the back over a run where it is down; a weft pick floats on the
 * face over a run of ends that are down, and on the back over a run that are raised.
 *
 * The plan may be one repeat of a wider or longer cloth: `Seams` says how its threads go on past its edges,
 * so that runs are counted, and bound, as the loom weaves them. A line is walked as a list of cells; a pick
 * across a point tie goes out over the ends and back over them mirrored, so a point placed in one repeat is in
 * every repeat at once.
 */
import type { LiftPlan } from './plan.js';

export interface LongestFloats {
  /** Runs of raised cells in a column. */
  warpFace: number;
  /** Runs of lowered cells in a column. */
  warpBack: number;
  /** Runs of lowered cells in a row. */
  weftFace: number;
  /** Runs of raised cells in a row. */
  weftBack: number;
}

/** In `Seams.across`: the j-th of a pick's selvedge ends (the left selvedge's first, then the right's). */
export const edgeEnd = (j: number) => -1 - j;

/** How the plan's threads continue past its edges. */
export interface Seams {
  /**
   * The ends a pick crosses in turn, by x: 0…w-1, or every repeat (a point tie's mirrored ones backwards), and
   * edgeEnd(j) for the selvedge ends it runs on into: counted, never moved.
   */
  across: Int32Array;
  /** Selvedge ends per pick in `across`. */
  edgeEnds?: number;
  /** The pick goes on from the last of `across` into the first (repeats side by side). */
  acrossCyclic: boolean;
  /** An end goes on from the last pick into the first (the design repeats down the cloth). */
  alongCyclic: boolean;
}

/** Each pick crosses the ends once; `cyclic` both ways (a tile), or neither. */
export function plainSeams(width: number, cyclic: boolean): Seams {
  return { across: Int32Array.from({ length: width }, (_, x) => x), acrossCyclic: cyclic, alongCyclic: cyclic };
}

const seamsOf = (plan: LiftPlan, seams: Seams | boolean) =>
  typeof seams === 'boolean' ? plainSeams(plan.width, seams) : seams;

/**
 * The cells the lines walk: the plan's, then the selvedge ends (`edgeEnds` per pick) when the seams run into
 * them. Those come after the plan's cells, from `fixedFrom` on.
 */
function workCells(plan: LiftPlan, s: Seams, edges: Uint8Array | undefined): Uint8Array {
  if (!s.edgeEnds) return plan.cells;
  if (edges?.length !== s.edgeEnds * plan.height) throw new Error('the selvedge ends are needed');
  const cells = new Uint8Array(plan.cells.length + edges.length);
  cells.set(plan.cells);
  cells.set(edges, plan.cells.length);
  return cells;
}

/**
 * Longest runs of 1s and 0s along the cells at `line[0..len)` into out; a cyclic line that never changes is a
 * float that never ends.
 */
export function lineRuns(cells: Uint8Array, line: Int32Array, len: number, cyclic: boolean, out: number[]): void {
  if (len === 0) return;
  const first = cells[line[0]];
  let k = 1;
  while (k < len && cells[line[k]] === first) k++;
  if (k === len) {
    const run = cyclic ? Infinity : len;
    if (run > out[first]) out[first] = run;
    return;
  }
  // Cyclic: start where a run starts, so that the run over the seam is counted whole.
  const start = cyclic ? k : 0;
  let value = cells[line[start]];
  let run = 0;
  for (let j = 0; j < len; j++) {
    let p = start + j;
    if (p >= len) {
      if (!cyclic) break;
      p -= len;
    }
    const v = cells[line[p]];
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
 * lineRuns along `len` cells from `base`, `stride` apart: a column, or a pick that crosses the ends once in
 * order. Most lines are these, and walking them needs no list.
 */
function stridedRuns(
  cells: Uint8Array,
  base: number,
  stride: number,
  len: number,
  cyclic: boolean,
  out: [number, number],
): void {
  const end = base + len * stride;
  let run = 1;
  let first = -1;
  const firstValue = cells[base];
  for (let i = base + stride; i < end; i += stride) {
    if (cells[i] === cells[i - stride]) run++;
    else {
      if (first < 0) first = run;
      const v = cells[i - stride];
      if (run > out[v]) out[v] = run;
      run = 1;
    }
  }
  const last = cells[end - stride];
  if (first < 0) {
    const whole = cyclic ? Infinity : len;
    if (whole > out[firstValue]) out[firstValue] = whole;
    return;
  }
  if (cyclic && last === firstValue) run += first;
  if (run > out[last]) out[last] = run;
}

/** Whether a line of `len` cells from `base`, `stride` apart, has a run longer than `max` (quick look). */
function stridedLongRun(
  cells: Uint8Array,
  base: number,
  stride: number,
  len: number,
  cyclic: boolean,
  max: number,
): boolean {
  const end = base + len * stride;
  let run = 1;
  let first = -1;
  for (let i = base + stride; i < end; i += stride) {
    if (cells[i] === cells[i - stride]) {
      if (++run > max) return true;
    } else {
      if (first < 0) first = run;
      run = 1;
    }
  }
  if (!cyclic) return false;
  if (first < 0) return true;
  return cells[base] === cells[end - stride] && run + first > max;
}

/** Whether each pick crosses the plan's ends once, in order, and nothing else. */
const inOrder = (plan: LiftPlan, s: Seams) =>
  !s.edgeEnds && s.across.length === plan.width && s.across.every((x, p) => x === p);

/** The cells of pick y, in the order the pick crosses them. */
function rowLine(plan: LiftPlan, seams: Seams, y: number, out: Int32Array): Int32Array {
  const base = y * plan.width;
  for (let p = 0; p < seams.across.length; p++) out[p] = cellAcross(plan, seams, seams.across[p], y, base);
  return out;
}

function cellAcross(plan: LiftPlan, seams: Seams, x: number, y: number, base = y * plan.width): number {
  return x >= 0 ? base + x : plan.cells.length + y * (seams.edgeEnds ?? 0) + (-1 - x);
}

function columnLine(plan: LiftPlan, x: number, out: Int32Array): Int32Array {
  for (let y = 0; y < plan.height; y++) out[y] = y * plan.width + x;
  return out;
}

export function longestFloats(plan: LiftPlan, seams: Seams | boolean = false, edges?: Uint8Array): LongestFloats {
  const s = seamsOf(plan, seams);
  const { width, height } = plan;
  const cells = workCells(plan, s, edges);
  const row: [number, number] = [0, 0];
  const column: [number, number] = [0, 0];
  if (inOrder(plan, s)) {
    for (let y = 0; y < height; y++) stridedRuns(cells, y * width, 1, width, s.acrossCyclic, row);
  } else {
    const line = new Int32Array(s.across.length);
    for (let y = 0; y < height; y++) lineRuns(cells, rowLine(plan, s, y, line), s.across.length, s.acrossCyclic, row);
  }
  for (let x = 0; x < width; x++) stridedRuns(cells, x, width, height, s.alongCyclic, column);
  return { warpFace: column[1], warpBack: column[0], weftFace: row[0], weftBack: row[1] };
}

/** The longest float of the warp and of the weft, either face. */
export function longestWarpWeft(f: LongestFloats): { warp: number; weft: number } {
  return { warp: Math.max(f.warpFace, f.warpBack), weft: Math.max(f.weftFace, f.weftBack) };
}

/** Whether a line has a run longer than `max` (across its ends too when cyclic): a quick look. */
function hasLongRun(cells: Uint8Array, line: Int32Array, len: number, cyclic: boolean, max: number): boolean {
  let run = 1;
  let first = -1;
  for (let p = 1; p < len; p++) {
    if (cells[line[p]] === cells[line[p - 1]]) {
      if (++run > max) return true;
    } else {
      if (first < 0) first = run;
      run = 1;
    }
  }
  if (!cyclic) return false;
  // The last run continues into the first across the seam; a line that never changes is an endless float.
  if (first < 0) return true;
  return cells[line[0]] === cells[line[len - 1]] && run + first > max;
}

/** A line being bound, and for each of its cells the crossing line through it and where the cell lies on it. */
interface Line {
  cells: Int32Array;
  len: number;
  cyclic: boolean;
  /** Cells from this index on are counted, never moved. */
  fixedFrom: number;
  cross: (p: number) => Crossing;
}

/** A crossing line, walked cell by cell from its position `pos` (no list built: most points look a few cells). */
interface Crossing {
  at: (q: number) => number;
  len: number;
  pos: number;
  cyclic: boolean;
}

/** How long the run of `value` through position `pos` of a line would be if that cell took it (up to `cap`). */
function runThrough(cells: Uint8Array, crossing: Crossing, value: number, cap: number): number {
  const { at, len, pos, cyclic } = crossing;
  let n = 1;
  for (let d = 1; d < len && n <= cap; d++) {
    let p = pos + d;
    if (p >= len) {
      if (!cyclic) break;
      p -= len;
    }
    if (cells[at(p)] !== value) break;
    n++;
  }
  for (let d = 1; d < len && n <= cap; d++) {
    let p = pos - d;
    if (p < 0) {
      if (!cyclic) break;
      p += len;
    }
    if (cells[at(p)] !== value) break;
    n++;
  }
  return n;
}

/**
 * Breaks every run longer than `max` on one line by flipping cells. Each point goes where the thread it
 * crosses stays shortest (ideally an isolated interlacing, as a satin's own binding points are), and among
 * those as near the middle of the float as possible, so that the pieces are even. Returns the points added.
 */
function bindLine(cells: Uint8Array, line: Line, max: number): number {
  const { len, cyclic } = line;
  const at = (p: number) => line.cells[p % len];
  if (!hasLongRun(cells, line.cells, len, cyclic, max)) return 0;
  let start = 0;
  let uniform = false;
  if (cyclic) {
    const first = cells[at(0)];
    let k = 1;
    while (k < len && cells[at(k)] === first) k++;
    uniform = k === len;
    start = uniform ? 0 : k;
  }
  let added = 0;
  const runs: Array<[number, number]> = [];
  if (uniform) runs.push([0, len]);
  else {
    let runStart = start;
    let value = cells[at(start)];
    for (let k = 1; k <= len; k++) {
      const p = start + k;
      const end = k === len || (!cyclic && p >= len);
      if (end || cells[at(p)] !== value) {
        const runLen = p - runStart;
        if (runLen > max) runs.push([runStart, runLen]);
        if (end) break;
        runStart = p;
        value = cells[at(p)];
      }
    }
  }
  for (const [runStart, runLength] of runs) {
    const value = cells[at(runStart)];
    const flipped = value ^ 1;
    let s = runStart;
    let r = runLength;
    // A whole cyclic line: the first point only makes it a run with ends; the loop then splits it.
    if (uniform) {
      const p = bestPoint(cells, line, s, 0, r - 1, flipped, max, (r - 1) / 2);
      cells[at(s + p)] = flipped;
      added++;
      s = s + p + 1;
      r = r - 1;
    }
    while (r > max) {
      // A cell met twice along the line (the point of a point tie) may have been flipped from its other side.
      if (cells[at(s)] !== value) break;
      // One point can split the run into two pieces of at most `max`; a longer run takes a point `max` in,
      // or nearer where the crossing thread is free.
      const single = r - 1 <= 2 * max;
      // Never at the run's own ends: a point there would lengthen the neighbouring run instead.
      const lo = single ? Math.max(1, r - 1 - max) : 1;
      const hi = Math.min(max, r - 2);
      const p = bestPoint(cells, line, s, lo, hi, flipped, max, single ? (r - 1) / 2 : hi);
      cells[at(s + p)] = flipped;
      added++;
      s = s + p + 1;
      r = r - p - 1;
    }
  }
  return added;
}

function bestPoint(
  cells: Uint8Array,
  line: Line,
  s: number,
  lo: number,
  hi: number,
  flipped: number,
  max: number,
  aim: number,
): number {
  let best = lo;
  let bestScore = Infinity;
  for (let i = lo; i <= hi; i++) {
    const p = (s + i) % line.len;
    if (line.cells[p] >= line.fixedFrom) continue;
    const run = runThrough(cells, line.cross(p), flipped, max + 1);
    const score = (run > max ? 1e6 : 0) + run * 1000 + Math.abs(i - aim);
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/**
 * Binds every float longer than `max` on both faces, warp and weft, as the seams continue them. Rows and
 * columns are passed over in turn until neither needs a point. Returns the points added.
 */
export function bindFloats(plan: LiftPlan, max: number, seams: Seams | boolean = false, edges?: Uint8Array): number {
  const s = seamsOf(plan, seams);
  const { width, height } = plan;
  const cells = workCells(plan, s, edges);
  const fixedFrom = plan.cells.length;
  const across = s.across.length;
  // Where end x first comes along a pick: a column's crossing line is its pick, entered there.
  const firstAt = new Int32Array(width).fill(-1);
  for (let p = across - 1; p >= 0; p--) if (s.across[p] >= 0) firstAt[s.across[p]] = p;
  const row = new Int32Array(across);
  const column = new Int32Array(height);
  const ordered = inOrder(plan, s);
  let total = 0;
  for (let pass = 0; pass < 16; pass++) {
    let added = 0;
    for (let y = 0; y < height; y++) {
      // Most lines hold already: a quick look along them first, before a list of their cells is made.
      if (ordered && !stridedLongRun(cells, y * width, 1, width, s.acrossCyclic, max)) continue;
      added += bindLine(
        cells,
        {
          cells: rowLine(plan, s, y, row),
          len: across,
          cyclic: s.acrossCyclic,
          fixedFrom,
          cross: (p) => {
            const x = s.across[p];
            return { at: (q) => q * width + x, len: height, pos: y, cyclic: s.alongCyclic };
          },
        },
        max,
      );
    }
    for (let x = 0; x < width; x++) {
      if (!stridedLongRun(cells, x, width, height, s.alongCyclic, max)) continue;
      added += bindLine(
        cells,
        {
          cells: columnLine(plan, x, column),
          len: height,
          cyclic: s.alongCyclic,
          fixedFrom,
          cross: (y) => ({
            at: (q) => cellAcross(plan, s, s.across[q], y),
            len: across,
            pos: firstAt[x],
            cyclic: s.acrossCyclic,
          }),
        },
        max,
      );
    }
    total += added;
    if (added === 0) break;
  }
  if (cells !== plan.cells) plan.cells.set(cells.subarray(0, fixedFrom));
  return total;
}
