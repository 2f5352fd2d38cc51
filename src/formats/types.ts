import type { IndexedImage } from '../loom/types.js';

/** A text entry stored in the file where the format has room for it (PNG iTXt). */
export interface TextEntry {
  keyword: string;
  text: string;
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
  encode(image: IndexedImage, text: readonly TextEntry[]): Buffer;
}
