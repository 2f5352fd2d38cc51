/**
 * Floats in a lift plan, and binding points that hold them to a limit. A warp end floats on the face over a
 * run of picks where it is raised, and on the back over a run where it is down; a weft pick floats on the
 * face over a run of ends that are down, and on the back over a run that are raised. With `cyclic` (a design
 * that repeats), runs continue across the repeat's seams.
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

/** Longest runs of 1s and 0s along one line; a cyclic line that never changes is one run of its length. */
function lineRuns(
  cells: Uint8Array,
  base: number,
  stride: number,
  len: number,
  cyclic: boolean,
  out: [number, number],
): void {
  let start = 0;
  if (cyclic) {
    const first = cells[base];
    let k = 1;
    while (k < len && cells[base + k * stride] === first) k++;
    if (k === len) {
      if (len > out[first]) out[first] = len;
      return;
    }
    // Start where a run starts, so that the run over the seam is counted whole.
    start = k;
  }
  let value = cells[base + start * stride];
  let run = 0;
  for (let k = 0; k < len; k++) {
    let p = start + k;
    if (p >= len) p -= len;
    const v = cells[base + p * stride];
    if (v === value) run++;
    else {
      if (run > out[value]) out[value] = run;
      value = v;
      run = 1;
    }
  }
  if (run > out[value]) out[value] = run;
}

export function longestFloats(plan: LiftPlan, cyclic = false): LongestFloats {
  const { width, height, cells } = plan;
  const row: [number, number] = [0, 0];
  const column: [number, number] = [0, 0];
  for (let y = 0; y < height; y++) lineRuns(cells, y * width, 1, width, cyclic, row);
  for (let x = 0; x < width; x++) lineRuns(cells, x, width, height, cyclic, column);
  return { warpFace: column[1], warpBack: column[0], weftFace: row[0], weftBack: row[1] };
}

/** The longest float of the warp and of the weft, either face. */
export function longestWarpWeft(f: LongestFloats): { warp: number; weft: number } {
  return { warp: Math.max(f.warpFace, f.warpBack), weft: Math.max(f.weftFace, f.weftBack) };
}

/** Whether a line has a run longer than `max` (across its ends too when cyclic): a quick look, no division. */
function hasLongRun(
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
  // The last run continues into the first across the seam; a line that never changes is one endless run.
  if (first < 0) return len > max;
  return cells[base] === cells[end - stride] && run + first > max;
}

interface Line {
  base: number;
  stride: number;
  len: number;
  /** The crossing line through each cell: its stride and length, and where along it this line lies. */
  crossStride: number;
  crossLen: number;
  crossPos: number;
}

/**
 * How long the run of `value` through cell `index` would be along the crossing line if the cell took that
 * value (counted up to `cap`).
 */
function crossRun(
  cells: Uint8Array,
  index: number,
  pos: number,
  stride: number,
  len: number,
  cyclic: boolean,
  value: number,
  cap: number,
): number {
  let n = 1;
  let i = index;
  let p = pos;
  for (let k = 1; k < len && n <= cap; k++) {
    p++;
    i += stride;
    if (p === len) {
      if (!cyclic) break;
      p = 0;
      i -= stride * len;
    }
    if (cells[i] !== value) break;
    n++;
  }
  i = index;
  p = pos;
  for (let k = 1; k < len && n <= cap; k++) {
    p--;
    i -= stride;
    if (p < 0) {
      if (!cyclic) break;
      p = len - 1;
      i += stride * len;
    }
    if (cells[i] !== value) break;
    n++;
  }
  return n;
}

/**
 * Breaks every run longer than `max` on one line by flipping cells. Each point goes where the thread it
 * crosses stays shortest (ideally an isolated interlacing, as a satin's own binding points are), and among
 * those as near the middle of the float as possible, so that the pieces are even. Returns the points added.
 */
function bindLine(cells: Uint8Array, line: Line, max: number, cyclic: boolean): number {
  const { base, stride, len } = line;
  if (!hasLongRun(cells, base, stride, len, cyclic, max)) return 0;
  const at = (p: number) => base + (p % len) * stride;
  let start = 0;
  let uniform = false;
  if (cyclic) {
    const first = cells[base];
    let k = 1;
    while (k < len && cells[base + k * stride] === first) k++;
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
      const p = bestPoint(cells, line, s, 0, r - 1, flipped, max, cyclic, (r - 1) / 2);
      cells[at(s + p)] = flipped;
      added++;
      s = s + p + 1;
      r = r - 1;
    }
    while (r > max) {
      // One point can split the run into two pieces of at most `max`; a longer run takes a point `max` in,
      // or nearer where the crossing thread is free.
      const single = r - 1 <= 2 * max;
      // Never at the run's own ends: a point there would lengthen the neighbouring run instead.
      const lo = single ? Math.max(1, r - 1 - max) : 1;
      const hi = Math.min(max, r - 2);
      const p = bestPoint(cells, line, s, lo, hi, flipped, max, cyclic, single ? (r - 1) / 2 : hi);
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
  cyclic: boolean,
  aim: number,
): number {
  const { base, stride, len, crossStride, crossLen, crossPos } = line;
  let best = lo;
  let bestScore = Infinity;
  for (let i = lo; i <= hi; i++) {
    const p = (s + i) % len;
    const index = base + p * stride;
    // The crossing line of this cell: its position along that line is this line's place in it.
    const cross = crossRun(cells, index, crossPos, crossStride, crossLen, cyclic, flipped, max + 1);
    const score = (cross > max ? 1e6 : 0) + cross * 1000 + Math.abs(i - aim);
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/**
 * Binds every float longer than `max` on both faces, warp and weft (across the seams too when `cyclic`).
 * Rows and columns are passed over in turn until neither needs a point. Returns the points added.
 */
export function bindFloats(plan: LiftPlan, max: number, cyclic = false): number {
  const { width, height, cells } = plan;
  let total = 0;
  for (let pass = 0; pass < 16; pass++) {
    let added = 0;
    for (let y = 0; y < height; y++) {
      added += bindLine(
        cells,
        { base: y * width, stride: 1, len: width, crossStride: width, crossLen: height, crossPos: y },
        max,
        cyclic,
      );
    }
    for (let x = 0; x < width; x++) {
      added += bindLine(
        cells,
        { base: x, stride: width, len: height, crossStride: 1, crossLen: width, crossPos: x },
        max,
        cyclic,
      );
    }
    total += added;
    if (added === 0) break;
  }
  return total;
}
