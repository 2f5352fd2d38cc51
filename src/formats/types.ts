import type { IndexedImage } from '../loom/types.js';

/** A text entry stored in the file where the format has room for it (PNG iTXt). */
export interface TextEntry {
  keyword: string;
  text: string;
}

/** Pixels per centimetre across (x) and down (y): what makes a file open at the cloth's size. */
export interface Resolution {
  x: number;
  y: number;
}

/** What an encoder may be told besides the pixels. */
export interface EncodeOptions {
  /** Written in the format's own fields; without it a file states no resolution (TIFF, which must: 72 dpi). */
  resolution?: Resolution;
}

/** An output format for finished loom images. */
export interface OutputFormat {
  /** What --format and output.format take. */
  id: string;
  /** File extension, without the dot. */
  ext: string;
  /** Other extensions that name this format in `-o` (`tif` for TIFF). */
  aliases?: readonly string[];
  description: string;
  maxColors: number;
  encode(image: IndexedImage, text: readonly TextEntry[], options?: EncodeOptions): Buffer;
}
