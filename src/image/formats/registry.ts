/** The input formats: one line per format. A file is the format whose signature it begins with. */
import { bmp } from './bmp.js';
import { gif } from './gif.js';
import { jpeg } from './jpeg.js';
import { png } from './png.js';
import { tiff } from './tiff.js';
import type { ImageHeader, InputFormat, InputFormatId } from './types.js';
import { webp } from './webp.js';

const FORMATS: readonly InputFormat[] = [png, jpeg, webp, bmp, gif, tiff];

/** The format a file's first bytes name, or `undefined`. */
export function sniffInputFormat(bytes: Uint8Array): InputFormat | undefined {
  return FORMATS.find((format) => format.sniff(bytes));
}

/** The format and size an image file declares, or `undefined` when it is none of the formats. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  return sniffInputFormat(bytes)?.readHeader(bytes);
}

/** The format with this id (a header's). */
export function inputFormat(id: InputFormatId): InputFormat {
  return FORMATS.find((format) => format.id === id)!;
}

/** The formats' names, for messages: 'PNG, JPEG, WebP, BMP, GIF or TIFF'. */
export function inputFormatNames(): string {
  const names = FORMATS.map((format) => format.name);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}
