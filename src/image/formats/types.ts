/**
 * What an input format is to the pipeline (src/image/decode.ts): how its files begin, what their header
 * declares, and how they are decoded. Each format is one module of this folder and one line of registry.ts.
 */
import type { RgbImage, RgbaImage } from '../../loom/types.js';
import type { Bitmap } from '../wasm-codecs.js';

/** A format's id ('png', 'jpeg', …), as its module gives it: a new format needs no change here. */
export type InputFormatId = string;

export interface ImageHeader {
  format: InputFormatId;
  /** The largest frame, page or canvas declared (by area). */
  width: number;
  height: number;
  /** Pixels over every frame or page that is decoded (at least width × height). */
  pixels: number;
  /** Why the header cannot be used: the file is corrupt or cut short. */
  problem?: string;
  /** Set when the file is a valid form that is not read here, saying what it is and what to do. */
  unsupported?: string;
  /** A JPEG whose data ends before its end-of-image marker. */
  cutShort?: true;
  /** A TIFF: the widest row of any strip or tile, in pixels. */
  widestRow?: number;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default: the pipeline's). */
  maxPixels?: number;
  /**
   * Accept a picture whose data is missing or corrupt when a decoder can still read it (--lenient); what was
   * wrong is in the result's `warnings`. Without it such a picture is an InputError.
   */
  lenient?: boolean;
  /** A PNG with more pixels than this is decoded at reduced size, to at most this many (default REDUCE_ABOVE_PIXELS). */
  reduceAbovePixels?: number;
  /**
   * The smallest size the caller needs, given the picture's upright size: a JPEG may then be decoded reduced,
   * but never below this.
   */
  reduceFor?: (width: number, height: number) => { width: number; height: number };
  /**
   * Stops a decode on the JS thread (BMP, GIF, TIFF), or the wait for sharp's; the decode then fails with the
   * signal's reason.
   */
  signal?: AbortSignal;
  /** `false`: the formats' own decoders only, never sharp (see src/image/native.ts). */
  native?: boolean;
}

/**
 * Decoded pixels, upright; the size of the picture in the file (larger when it was decoded reduced); and what
 * was wrong with the data when `lenient` let it through.
 */
export interface DecodedImage extends RgbaImage {
  fullWidth: number;
  fullHeight: number;
  warnings: string[];
  /**
   * Present when `data` lies in a decoder's memory (decodeForGrid's JPEGs, not copied out): call it once `data`
   * is no longer read, so that the next decode reuses that memory instead of paging in more. Such pixels
   * cannot go to a worker thread.
   */
  release?: () => void;
}

/** A picture resized to its loom grid while it was decoded, so never held whole; and its size in the file. */
export interface GridDecoded {
  grid: RgbImage;
  fullWidth: number;
  fullHeight: number;
  warnings: string[];
}

/** The loom grid's size for a picture of this full size. */
export type GridSize = (width: number, height: number) => { width: number; height: number };

/** One decode of one file whose header has passed the pipeline's checks. */
export interface DecodeRequest {
  header: ImageHeader;
  /** Names the file in errors (a path, or 'download'). */
  label: string;
  options: DecodeOptions;
  /** A JPEG's pixels may stay in the decoder's memory (the result then has a `release`). */
  lend: boolean;
  /**
   * What was found wrong with the data and let through (lenient): a format adds to it, and the pipeline reports
   * it with the pixels, or names its first line when the decoder then fails.
   */
  warnings: string[];
}

export interface InputFormat {
  id: InputFormatId;
  /** The format's name in messages. */
  name: string;
  /** Whether a file's first bytes are this format's signature. */
  sniff(bytes: Uint8Array): boolean;
  /** Decoded by sharp where it loads (src/image/native.ts). */
  native?: boolean;
  /** The size the file declares, read without decoding, and what in its header makes it unusable. */
  readHeader(bytes: Uint8Array): ImageHeader;
  /**
   * The format's own decoding (checks on the data included): the picture, or `undefined` to leave the file to
   * `decodeBitmap`. A refusal is an InputError; any other error is worded by the pipeline.
   */
  decode?(bytes: Uint8Array, request: DecodeRequest): Promise<DecodedImage | undefined>;
  /**
   * The picture straight into the loom grid, never held whole, where the format can; `undefined` to decode it
   * as `decode` does (then shrunk to the grid by the caller).
   */
  decodeToGrid?(
    bytes: Uint8Array,
    request: DecodeRequest,
    grid: GridSize,
    background?: readonly [number, number, number],
  ): Promise<GridDecoded | undefined>;
  /**
   * What is wrong in the data itself for the general decoder, beyond what the header says: checks that only
   * `decodeBitmap` needs (costly ones, made only when a file comes to it), worded as a header's problem.
   */
  checkData?(bytes: Uint8Array): string | undefined;
  /** The general decoder's reading of the file, upright; its errors are worded by the pipeline. */
  decodeBitmap(bytes: Uint8Array, request: DecodeRequest): Promise<Bitmap>;
}
