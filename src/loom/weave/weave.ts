/** From a design and one structure per colour to a lift plan whose floats are held, with what it took. */
import { toHex } from '../color.js';
import type { IndexedImage } from '../types.js';
import { bindFloats, longestFloats, longestWarpWeft } from './floats.js';
import { coverByColor, laySelvedges, layStructures, type LiftPlan } from './plan.js';
import { warpCover, type Structure } from './structures.js';

export interface WeaveParams {
  /** structures[i] for palette index i. */
  structures: readonly Structure[];
  maxFloat: number;
  /** The design repeats: floats are counted, and bound, across the seams. */
  tile: boolean;
  /** Ends of plain weave at each side. */
  selvedge: number;
}

interface WovenStructure {
  index: number;
  hex: string;
  structure: string;
  /** Ends × picks of the repeat. */
  repeat: string;
  /** The structure's own warp cover. */
  warpCover: number;
  /** The warp cover the colour's crossings have in the lift plan (binding points and selvedges included). */
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

export function weaveDesign(design: IndexedImage, params: WeaveParams): WeaveResult {
  const plan = layStructures(design, params.structures);
  laySelvedges(plan, params.selvedge);
  const before = longestWarpWeft(longestFloats(plan, params.tile));
  const within = before.warp <= params.maxFloat && before.weft <= params.maxFloat;
  const bindingPoints = within ? 0 : bindFloats(plan, params.maxFloat, params.tile);
  const after = bindingPoints ? longestWarpWeft(longestFloats(plan, params.tile)) : before;
  const cover = coverByColor(plan, design);
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
    floats: { before, after, maxFloat: params.maxFloat, acrossSeams: params.tile },
    bindingPoints,
    selvedge: params.selvedge,
  };
}
