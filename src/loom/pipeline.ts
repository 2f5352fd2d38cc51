/**
 * The loom pipeline as pure functions over flat buffers: fit the grid, choose or take the palette, map,
 * clean specks, and count what came out. Decoding and encoding live in src/image; this module never
 * touches files.
 */
import { toHex } from './color.js';
import { CHOSEN_REACH, mapFloydSteinberg, mapOrdered, mapToPalette } from './map.js';
import { chooseAmong } from './choose-among.js';
import { choosePalette } from './palette.js';
import { removeSpecks } from './regions.js';
import { loomHeight, resizeToGrid } from './resize.js';
import type { IndexedImage, LoomSettings, RgbImage, RgbaImage } from './types.js';

interface PaletteEntryStats {
  index: number;
  hex: string;
  pixels: number;
  share: number;
}

interface LoomStats {
  palette: PaletteEntryStats[];
  regions: number;
  smallestRegion: number;
  /** Regions still under minRegion (only possible when one region is the whole image). */
  regionsBelowMin: number;
  specksMerged: number;
  /** Chosen colours that cleaning emptied; they are dropped from the palette. */
  droppedColors: string[];
  /** Fixed-palette colours that no pixel uses. */
  unusedColors: string[];
}

export interface LoomResult {
  image: IndexedImage;
  stats: LoomStats;
}

/** Pixels per index, in an array of at least 256 (only the first `colors` can be non-zero). */
function countIndices(indices: Uint8Array, colors: number): Int32Array {
  const counts = new Int32Array(Math.max(256, colors));
  for (let i = 0; i < indices.length; i++) counts[indices[i]]++;
  return counts;
}

function pickColors(colors: Uint8Array, picked: number[]): Uint8Array {
  const out = new Uint8Array(picked.length * 3);
  picked.forEach((c, i) => out.set(colors.subarray(c * 3, c * 3 + 3), i * 3));
  return out;
}

/** The stages of the pipeline, each named as it ends. */
export type LoomStage = 'resize' | 'palette' | 'map' | 'clean';

/** A picture already resized to its grid (by a decoder that resizes the rows as they come). */
export interface ReadyGrid {
  grid: RgbImage;
}

export function runLoomPipeline(source: RgbaImage | ReadyGrid, params: LoomSettings): LoomResult {
  const stages = loomStages(source, params);
  for (;;) {
    const step = stages.next();
    if (step.done) return step.value;
  }
}

/**
 * The pipeline one stage at a time: it pauses after each, so that a caller can stop it there (on Ctrl-C)
 * instead of running it to the end. Its value is the result.
 */
export function* loomStages(
  source: RgbaImage | ReadyGrid,
  params: LoomSettings,
): Generator<LoomStage, LoomResult, void> {
  let grid: RgbImage;
  if ('grid' in source) grid = source.grid;
  else {
    const height = loomHeight(params, source.width, source.height);
    grid = resizeToGrid(source, params.width, height, params.background);
  }
  const { width, height } = grid;
  yield 'resize';

  const fixed = params.palette !== undefined;
  const among = !fixed && params.candidates !== undefined;
  let palette = fixed
    ? params.palette!
    : among
      ? pickColors(params.candidates!, chooseAmong(grid, params.candidates!, params.colors))
      : choosePalette(grid, params.colors);
  yield 'palette';
  // Every entry of a fixed palette, or of one taken among given colours, is compared by CIEDE2000; a chosen
  // one (k-means centres) only near the CIELAB nearest.
  const reach = fixed || among ? Infinity : CHOSEN_REACH;
  let indices =
    params.dither === 'ordered'
      ? mapOrdered(grid, palette, 'ciede2000', reach)
      : params.dither === 'fs'
        ? mapFloydSteinberg(grid, palette, 'ciede2000', reach)
        : mapToPalette(grid, palette, 'ciede2000', reach);
  yield 'map';

  const cleaned = removeSpecks({ width, height, indices, palette }, params.minRegion, { source: grid });
  indices = cleaned.indices;
  yield 'clean';

  const colorCount = palette.length / 3;
  const counts = Array.from(countIndices(indices, colorCount).subarray(0, colorCount));
  const droppedColors: string[] = [];
  const unusedColors: string[] = [];
  if (!fixed && counts.some((c) => c === 0)) {
    // Reindex so that a chosen palette holds exactly the colours in the image.
    const remap = new Uint8Array(counts.length);
    const kept: number[] = [];
    counts.forEach((count, i) => {
      const hex = toHex(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]);
      if (count === 0) {
        droppedColors.push(hex);
        return;
      }
      remap[i] = kept.length / 3;
      kept.push(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]);
    });
    for (let i = 0; i < indices.length; i++) indices[i] = remap[indices[i]];
    palette = Uint8Array.from(kept);
  }

  const finalCounts = counts.filter((count) => count > 0 || fixed);
  const total = indices.length;
  const stats: LoomStats = {
    palette: finalCounts.map((pixels, index) => ({
      index,
      hex: toHex(palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2]),
      pixels,
      share: Math.round((pixels / total) * 1e4) / 1e4,
    })),
    regions: 0,
    smallestRegion: 0,
    regionsBelowMin: 0,
    specksMerged: cleaned.merged,
    droppedColors,
    unusedColors,
  };
  if (fixed) {
    for (const entry of stats.palette) if (entry.pixels === 0) unusedColors.push(entry.hex);
  }
  // Speck removal counted the regions it left; reindexing keeps every region whole.
  stats.regions = cleaned.regions;
  stats.smallestRegion = cleaned.smallestRegion;
  stats.regionsBelowMin = cleaned.regionsBelowMin;

  return { image: { width, height, indices, palette }, stats };
}
