/** From a design and one structure per colour to a lift plan whose floats are held, with what it took. */
import { toHex } from '../color.js';
import type { IndexedImage } from '../types.js';
import { bindFloats, longestFloats, longestWarpWeft, plainSeams } from './floats.js';
import { layPlan, layoutLoom, repeatSeams, selvedgeEnds, type LoomLayout } from './layout.js';
import { coverByColor, layStructures, type LiftPlan } from './plan.js';
import { parseStructure, warpCover, type Structure } from './structures.js';

export interface WeaveParams {
  /** structures[i] for palette index i. */
  structures: readonly Structure[];
  maxFloat: number;
  /** The design repeats: floats are counted, and bound, across the seams. */
  tile: boolean;
  /** Ends of plain weave at each side, outside the design (`layout` says it otherwise). */
  selvedge: number;
  /** Hooks, repeats and selvedges; by default one repeat with `selvedge` ends each side. */
  layout?: LoomLayout;
  /** The selvedges' structure (default plain). */
  edge?: Structure;
}

interface WovenStructure {
  index: number;
  hex: string;
  structure: string;
  /** Ends × picks of the repeat. */
  repeat: string;
  /** The structure's own warp cover. */
  warpCover: number;
  /** The warp cover the colour's crossings have in one repeat of the lift plan (binding points included). */
  wovenCover: number;
}

export interface WeaveResult {
  plan: LiftPlan;
  structures: WovenStructure[];
  floats: {
    before: { warp: number; weft: number };
    after: { warp: number; weft: number };
    maxFloat: number;
    acrossSeams: boolean;
  };
  bindingPoints: number;
  selvedge: number;
}

const round4 = (n: number) => Math.round(n * 1e4) / 1e4;

/**
 * Weaves one repeat of the design with its floats held as the loom continues them (across the repeats, and down
 * the cloth with `tile`), then lays the repeats, selvedges and selector hooks across the hooks.
 */
export function weaveDesign(design: IndexedImage, params: WeaveParams): WeaveResult {
  const layout = params.layout ?? layoutLoom({ unit: design.width, tie: 'straight', selvedge: params.selvedge });
  const seams = repeatSeams(layout, params.tile);
  const edge = params.edge ?? parseStructure('plain');
  const unit = layStructures(design, params.structures);
  const edges = selvedgeEnds(layout, edge, unit.height);
  const before = longestWarpWeft(longestFloats(unit, seams, edges));
  const within = before.warp <= params.maxFloat && before.weft <= params.maxFloat;
  const bindingPoints = within ? 0 : bindFloats(unit, params.maxFloat, seams, edges);
  const cover = coverByColor(unit, design);
  // One repeat and nothing else is the plan itself.
  const alone = layout.hooks === unit.width;
  const plan = alone ? unit : layPlan(unit, layout, edge);
  // The repeat as the binders saw it, and the whole plan for the selvedges' own floats.
  const inRepeat = bindingPoints ? longestWarpWeft(longestFloats(unit, seams, edges)) : before;
  const whole = alone
    ? inRepeat
    : longestWarpWeft(longestFloats(plan, { ...plainSeams(plan.width, false), alongCyclic: params.tile }));
  const after = { warp: Math.max(inRepeat.warp, whole.warp), weft: Math.max(inRepeat.weft, whole.weft) };
  return {
    plan,
    structures: params.structures.map((s, index) => ({
      index,
      hex: toHex(design.palette[index * 3], design.palette[index * 3 + 1], design.palette[index * 3 + 2]),
      structure: s.name,
      repeat: `${s.width}x${s.height}`,
      warpCover: round4(warpCover(s)),
      wovenCover: cover.total[index] ? round4(cover.raised[index] / cover.total[index]) : 0,
    })),
    floats: { before, after, maxFloat: params.maxFloat, acrossSeams: params.tile || layout.repeats > 1 },
    bindingPoints,
    selvedge: layout.selvedge[0],
  };
}
