/**
 * The lift plan: one bit per warp end per pick, built from the design image by laying each colour's
 * structure in global phase (cell (x, y) takes the structure's (x mod w, y mod h), so a twill's diagonals run
 * straight from one region into the next, as jacquard CAD lays them).
 */
import type { IndexedImage } from '../types.js';
import type { Structure } from './structures.js';

/** cells[y * width + x] = 1 where end x is raised on pick y; y = 0 is pick 1, at the bottom. */
export interface LiftPlan {
  width: number;
  height: number;
  cells: Uint8Array;
}

/** Lays the structures of the design's colours (`structures[i]` for palette index i) in global phase. */
export function layStructures(design: IndexedImage, structures: readonly Structure[]): LiftPlan {
  const { width, height, indices } = design;
  const cells = new Uint8Array(width * height);
  // x mod w for every end, once per repeat width, so that the loop below does no division.
  const columnsOf = new Map<number, Uint16Array>();
  const columns = structures.map((s) => {
    let table = columnsOf.get(s.width);
    if (!table) {
      table = new Uint16Array(width);
      for (let x = 0; x < width; x++) table[x] = x % s.width;
      columnsOf.set(s.width, table);
    }
    return table;
  });
  const rowStart = new Int32Array(structures.length);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < structures.length; i++) rowStart[i] = (y % structures[i].height) * structures[i].width;
    // The design's top row is the last pick.
    const row = (height - 1 - y) * width;
    const out = y * width;
    for (let x = 0; x < width; x++) {
      const c = indices[row + x];
      cells[out + x] = structures[c].cells[rowStart[c] + columns[c][x]];
    }
  }
  return { width, height, cells };
}

/**
 * The plan as a two-colour image, top row = last pick, with the palette [black, white] of image editors'
 * monochrome files: index 0 (black) where the warp is raised, the convention of most loom software. `invert`
 * complements the indices and keeps the palette, so that a reader by colour and a reader by bit both see
 * raised ends as white.
 */
export function liftImage(plan: LiftPlan, invert = false): IndexedImage {
  const { width, height, cells } = plan;
  const indices = new Uint8Array(width * height);
  const flip = invert ? 0 : 1;
  for (let y = 0; y < height; y++) {
    const from = y * width;
    const to = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) indices[to + x] = cells[from + x] ^ flip;
  }
  return { width, height, indices, palette: Uint8Array.of(0, 0, 0, 255, 255, 255) };
}

/** Raised crossings per palette colour of the design, and all crossings: the warp cover each region got. */
export function coverByColor(plan: LiftPlan, design: IndexedImage): { raised: number[]; total: number[] } {
  const colors = design.palette.length / 3;
  const raised = new Array<number>(colors).fill(0);
  const total = new Array<number>(colors).fill(0);
  const { width, height } = plan;
  for (let y = 0; y < height; y++) {
    const row = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) {
      const c = design.indices[row + x];
      total[c]++;
      raised[c] += plan.cells[y * width + x];
    }
  }
  return { raised, total };
}
