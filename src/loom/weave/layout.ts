/**
 * The loom's layout: which hook weaves what across the lift plan. From the left: the selector hooks if they are
 * on that side, a selvedge, the design's repeats side by side, a selvedge, the selector hooks if on the right.
 * The repeats copy one design repeat as a harness tie would: a straight tie repeats it as it is, a point tie
 * mirrors every other one (its twills then run the other way, as in a point-tied cloth).
 */
import type { IndexedImage } from '../types.js';
import { edgeEnd, type Seams } from './floats.js';
import type { LiftPlan } from './plan.js';
import type { Structure } from './structures.js';

type Tie = 'straight' | 'point';

export interface LoomLayout {
  /** Ends of one design repeat. */
  unit: number;
  repeats: number;
  tie: Tie;
  /** Selvedge ends at the left and at the right. */
  selvedge: [number, number];
  /** One hook per weft at this side, outside the selvedge, raised on that weft's picks. */
  selector?: { side: 'left' | 'right'; ends: number };
  /** Hooks in all: the lift plan's width. */
  hooks: number;
}

/** A layout that cannot be: the message says why, in the options' words. */
export class LayoutError extends Error {}

export interface LayoutRequest {
  /** The loom's hooks in all, when given. */
  hooks?: number;
  /** Ends of one repeat, when given (else the hooks left for the design, shared by the repeats). */
  unit?: number;
  repeats?: number;
  tie: Tie;
  selvedge: number;
  selector?: { side: 'left' | 'right'; ends: number };
}

/**
 * Lays out the loom. With `hooks`, what the selvedges and selector hooks leave goes to the repeats, and the
 * hooks a whole number of repeats cannot use widen the selvedges (the right one takes the odd hook).
 */
export function layoutLoom(req: LayoutRequest): LoomLayout & { spare: number } {
  const selectorEnds = req.selector?.ends ?? 0;
  const edges = 2 * req.selvedge + selectorEnds;
  let unit: number;
  let repeats: number;
  let spare = 0;
  if (req.hooks === undefined) {
    unit = req.unit ?? 1;
    repeats = req.repeats ?? 1;
  } else {
    const inner = req.hooks - edges;
    const sides = `two selvedges of ${req.selvedge} ends${selectorEnds ? ` and ${selectorEnds} selector hooks` : ''}`;
    if (inner < 1) throw new LayoutError(`--hooks ${req.hooks}: ${sides} leave no hook for the design`);
    if (req.unit !== undefined) {
      unit = req.unit;
      repeats = req.repeats ?? Math.floor(inner / unit);
      if (repeats < 1 || repeats * unit > inner) {
        throw new LayoutError(
          `--hooks ${req.hooks}: ${Math.max(repeats, 1)} repeat${repeats > 1 ? 's' : ''} of ${unit} ends need ${Math.max(repeats, 1) * unit} hooks, and ${sides} leave ${inner}`,
        );
      }
    } else {
      repeats = req.repeats ?? 1;
      unit = Math.floor(inner / repeats);
      if (unit < 1) throw new LayoutError(`--hooks ${req.hooks}: ${inner} hooks cannot hold ${repeats} repeats`);
    }
    spare = inner - unit * repeats;
  }
  const left = req.selvedge + Math.floor(spare / 2);
  const right = req.selvedge + Math.ceil(spare / 2);
  return {
    unit,
    repeats,
    tie: req.tie,
    selvedge: [left, right],
    ...(req.selector ? { selector: req.selector } : {}),
    hooks: unit * repeats + left + right + selectorEnds,
    spare,
  };
}

/** The first hook of the design (0-based). */
export function designStart(layout: LoomLayout): number {
  return (layout.selector?.side === 'left' ? layout.selector.ends : 0) + layout.selvedge[0];
}

/** Whether repeat r (0-based) is the mirror image of the design. */
const isMirrored = (layout: LoomLayout, r: number) => layout.tie === 'point' && r % 2 === 1;

/** One stretch of the hook map: 1-based, inclusive. */
export interface HookRange {
  from: number;
  to: number;
  role: 'design' | 'selvedge' | 'selector';
  /** The design repeat (1-based), for role design. */
  repeat?: number;
  mirrored?: boolean;
}

/** Every hook once, left to right. */
export function hookMap(layout: LoomLayout): HookRange[] {
  const out: HookRange[] = [];
  let next = 1;
  const add = (ends: number, range: Omit<HookRange, 'from' | 'to'>) => {
    if (ends <= 0) return;
    out.push({ from: next, to: next + ends - 1, ...range });
    next += ends;
  };
  if (layout.selector?.side === 'left') add(layout.selector.ends, { role: 'selector' });
  add(layout.selvedge[0], { role: 'selvedge' });
  for (let r = 0; r < layout.repeats; r++) {
    add(layout.unit, { role: 'design', repeat: r + 1, mirrored: isMirrored(layout, r) });
  }
  add(layout.selvedge[1], { role: 'selvedge' });
  if (layout.selector?.side === 'right') add(layout.selector.ends, { role: 'selector' });
  return out;
}

/**
 * How the threads of one repeat continue past its edges, for the float binders. A pick crosses every repeat
 * (a point tie's mirrored ones backwards) between the selvedges, whose ends it runs on into (`edgeEnd`, in
 * the order of selvedgeEnds). A single repeat with `tile` and no selvedge is a tile both ways, as a design
 * repeated by other software is; `tile` also runs the ends on from the last pick into the first.
 */
export function repeatSeams(layout: LoomLayout, tile: boolean): Seams {
  const ends = layout.unit * layout.repeats;
  const bare = layout.repeats === 1 && layout.selvedge[0] === 0 && layout.selvedge[1] === 0;
  if (bare) return { across: Int32Array.from({ length: ends }, (_, x) => x), acrossCyclic: tile, alongCyclic: tile };
  const [left, right] = layout.selvedge;
  const across = [
    ...Array.from({ length: left }, (_, j) => edgeEnd(j)),
    ...Array.from({ length: ends }, (_, i) => unitX(layout, i)),
    ...Array.from({ length: right }, (_, j) => edgeEnd(left + j)),
  ];
  return { across: Int32Array.from(across), acrossCyclic: false, alongCyclic: tile, edgeEnds: left + right };
}

/**
 * The selvedges' ends on every pick, as layPlan weaves them: per pick the left selvedge's ends left to right,
 * then the right's, for the binders to count the floats that run on into them.
 */
export function selvedgeEnds(layout: LoomLayout, edge: Structure, picks: number, wefts = 1): Uint8Array {
  const start = designStart(layout);
  const right = start + layout.unit * layout.repeats;
  const [sl, sr] = layout.selvedge;
  const hooks = [
    ...Array.from({ length: sl }, (_, j) => start - sl + j),
    ...Array.from({ length: sr }, (_, j) => right + j),
  ];
  const out = new Uint8Array(hooks.length * picks);
  for (let r = 0; r < picks; r++) {
    const row = edgeRow(edge, r, wefts);
    hooks.forEach((x, j) => (out[r * hooks.length + j] = edge.cells[row + (x % edge.width)]));
  }
  return out;
}

/** The selvedge structure's row on pick r: on each weft's own picks the rows in turn, stepping on with the weft. */
function edgeRow(edge: Structure, r: number, wefts: number): number {
  return ((Math.floor(r / wefts) + (r % wefts)) % edge.height) * edge.width;
}

/** The design's x at hook offset `i` of the design stretch (0-based from the first design hook). */
function unitX(layout: LoomLayout, i: number): number {
  const r = Math.floor(i / layout.unit);
  const x = i - r * layout.unit;
  return isMirrored(layout, r) ? layout.unit - 1 - x : x;
}

/** Values per cell of one repeat (`width` × `height`) laid across every repeat, mirrored ones mirrored. */
export function layAcross<T extends Uint8Array>(
  values: T,
  width: number,
  height: number,
  layout: LoomLayout,
): Uint8Array {
  const out = layout.unit * layout.repeats;
  const laid = new Uint8Array(out * height);
  const columns = Int32Array.from({ length: out }, (_, i) => unitX(layout, i));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < out; i++) laid[y * out + i] = values[y * width + columns[i]];
  }
  return laid;
}

/** The design image across every repeat: what the design hooks weave. */
export function layRepeats(design: IndexedImage, layout: LoomLayout): IndexedImage {
  return {
    width: layout.unit * layout.repeats,
    height: design.height,
    indices: layAcross(design.indices, design.width, design.height, layout),
    palette: design.palette,
  };
}

/**
 * The whole lift plan from one repeat's plan (its picks as they are: several wefts' picks included): the
 * repeats, the selvedges woven in `edge` and the selector hooks. On each weft's own picks the selvedge takes
 * the structure's rows in turn, so that every shuttle is caught at the edge; the rows step on with the weft too.
 */
export function layPlan(unit: LiftPlan, layout: LoomLayout, edge: Structure, wefts = 1): LiftPlan {
  const { hooks } = layout;
  const height = unit.height;
  const cells = new Uint8Array(hooks * height);
  const start = designStart(layout);
  const designEnds = layout.unit * layout.repeats;
  const columns = Int32Array.from({ length: designEnds }, (_, i) => unitX(layout, i));
  const rightSelvedge = start + designEnds;
  const selector = layout.selector ? (layout.selector.side === 'left' ? 0 : rightSelvedge + layout.selvedge[1]) : -1;
  for (let r = 0; r < height; r++) {
    const out = r * hooks;
    const from = r * unit.width;
    for (let i = 0; i < designEnds; i++) cells[out + start + i] = unit.cells[from + columns[i]];
    const k = r % wefts;
    const row = edgeRow(edge, r, wefts);
    for (let x = start - layout.selvedge[0]; x < start; x++) cells[out + x] = edge.cells[row + (x % edge.width)];
    for (let x = rightSelvedge; x < rightSelvedge + layout.selvedge[1]; x++) {
      cells[out + x] = edge.cells[row + (x % edge.width)];
    }
    if (selector >= 0) for (let j = 0; j < layout.selector!.ends; j++) cells[out + selector + j] = j === k ? 1 : 0;
  }
  return { width: hooks, height, cells };
}
