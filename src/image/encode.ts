/** Encodes a finished loom image in the chosen format. */
import type { OutputFormat } from '../core/config/schema.js';
import { encodeIndexedBmp } from '../loom/bmp.js';
import { encodeIndexedPng, type PngTextEntry } from '../loom/png.js';
import type { IndexedImage } from '../loom/types.js';

/** Metadata goes into PNG iTXt chunks; BMP has no place for it (the report carries it). */
export function encodeLoomImage(image: IndexedImage, format: OutputFormat, text: readonly PngTextEntry[] = []): Buffer {
  return format === 'bmp' ? encodeIndexedBmp(image) : encodeIndexedPng(image, text);
}
