/** Flat typed-array images shared by the loom kernels. */

/** 4 bytes per pixel, sRGB, straight alpha, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** 3 bytes per pixel, sRGB, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One palette index per pixel; `palette` holds r,g,b triplets (palette.length / 3 colours). */
export interface IndexedImage {
  width: number;
  height: number;
  indices: Uint8Array;
  palette: Uint8Array;
}

type DitherMode = 'none' | 'ordered' | 'fs';

/** Ends and picks per unit length of the cloth. */
interface Density {
  ends: number;
  picks: number;
  unit: 'cm' | 'in';
}

/** Everything the loom pipeline is told: the one description of loom settings. */
export interface LoomSettings {
  /** Warp ends: the output width. */
  width: number;
  /** Weft picks; derived from the aspect ratio and density when absent. */
  height?: number;
  /** Only the ratio of picks to ends matters for the grid; the report gives the woven size from it. */
  density?: Density;
  colors: number;
  dither: DitherMode;
  minRegion: number;
  /** Fixed yarn colours (r,g,b triplets); replaces the chosen palette. */
  palette?: Uint8Array;
  /**
   * The only colours the palette may take (r,g,b triplets: the effects a set of yarns can weave); the
   * `colors` of them that fit the picture best are chosen. Ignored with a fixed palette.
   */
  candidates?: Uint8Array;
  /** When set, the picks derived from the aspect ratio are rounded to a multiple of this (a repeat that closes). */
  heightStep?: number;
  /** The colour under transparent pixels. */
  background?: readonly [number, number, number];
}

/** Largest number of ends or picks accepted; far above any loom (AdaCAD caps at 10,000). */
export const MAX_GRID_SIDE = 20_000;
