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
