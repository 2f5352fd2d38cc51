/**
 * The BMP output format: uncompressed indexed BMP (BITMAPINFOHEADER, bottom-up): 1-bit for two colours, 8-bit otherwise. This is
 * the form jacquard CAD and loom controllers read. Rows are padded to four bytes. The palette keeps the image's
 * order, so an index means what the report says it means; a lift plan comes with [black, white], the order
 * image editors write for monochrome BMPs.
 */
import type { IndexedImage } from '../loom/types.js';
import { packRow } from './pack.js';
import { pixelsPerMetre } from './resolution.js';
import type { EncodeOptions, OutputFormat } from './types.js';

const FILE_HEADER = 14;
const INFO_HEADER = 40;

function bmpBitDepth(colors: number): 1 | 8 {
  return colors <= 2 ? 1 : 8;
}

/** `resolution`: biXPelsPerMeter and biYPelsPerMeter; without it both are 0 (not stated). */
export function encodeIndexedBmp(image: IndexedImage, options: EncodeOptions = {}): Buffer {
  const { width, height, indices, palette } = image;
  const colors = palette.length / 3;
  if (colors < 1 || colors > 256) throw new RangeError(`a BMP palette holds 1 to 256 colours, not ${colors}`);
  const depth = bmpBitDepth(colors);
  const tableEntries = depth === 1 ? 2 : colors;
  const rowBytes = Math.ceil((width * depth) / 32) * 4;
  const pixelOffset = FILE_HEADER + INFO_HEADER + tableEntries * 4;
  const size = pixelOffset + rowBytes * height;
  const out = Buffer.alloc(size);

  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(size, 2);
  out.writeUInt32LE(pixelOffset, 10);
  out.writeUInt32LE(INFO_HEADER, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22); // positive: bottom-up rows
  out.writeUInt16LE(1, 26); // planes
  out.writeUInt16LE(depth, 28);
  out.writeUInt32LE(0, 30); // BI_RGB, uncompressed
  out.writeUInt32LE(rowBytes * height, 34);
  out.writeInt32LE(pixelsPerMetre(options.resolution?.x), 38);
  out.writeInt32LE(pixelsPerMetre(options.resolution?.y), 42);
  out.writeUInt32LE(tableEntries, 46); // colours used
  out.writeUInt32LE(tableEntries, 50); // all important

  for (let i = 0; i < tableEntries; i++) {
    const o = FILE_HEADER + INFO_HEADER + i * 4;
    // A one-colour image still needs two table entries at 1 bit; repeat the colour.
    const c = Math.min(i, colors - 1);
    out[o] = palette[c * 3 + 2];
    out[o + 1] = palette[c * 3 + 1];
    out[o + 2] = palette[c * 3];
    out[o + 3] = 0;
  }
  for (let y = 0; y < height; y++) {
    const dest = pixelOffset + (height - 1 - y) * rowBytes;
    packRow(indices, y * width, width, depth, out, dest);
  }
  return out;
}

/** BMP has no place for text; the report beside it carries the settings. */
export const bmp: OutputFormat = {
  id: 'bmp',
  ext: 'bmp',
  description:
    'uncompressed indexed BMP, bottom-up (1-bit for two colours, darker first: [black, white]; else 8-bit), as loom controllers read',
  maxColors: 256,
  encode: (image, _text, options) => encodeIndexedBmp(image, options),
};
