/**
 * BMP input. The header: the info headers jimp's decoder reads (40, 52, 56, 108 or 124 bytes; width unsigned,
 * height signed), its colour table and pixel data inside the file. Decoded by jimp's decoder on the JS thread.
 */
import { Frames, ascii, decodeOnJsThread, i32le, u16le, u32le } from './shared.js';
import type { ImageHeader, InputFormat } from './types.js';

/** The info header sizes jimp's BMP decoder reads. */
const BMP_INFO_HEADERS = new Set([40, 52, 56, 108, 124]);

function readBmpHeader(b: Uint8Array): ImageHeader {
  const frames = new Frames('bmp');
  if (b.length < 18) return frames.problem('the file ends inside its header');
  const dib = u32le(b, 14);
  if (!BMP_INFO_HEADERS.has(dib))
    return frames.unsupported(
      `a BMP with a ${dib}-byte header (OS/2 or early Windows) is not supported; save it as PNG`,
    );
  if (b.length < 14 + dib) return frames.problem('the file ends inside its header');
  // The width is read unsigned; a negative height stores rows top-down.
  const width = u32le(b, 18);
  const height = Math.abs(i32le(b, 22));
  frames.add(width, height);
  if (width === 0 || height === 0) return frames.problem(`the header declares ${width} × ${height} pixels`);
  const bits = u16le(b, 28);
  const compression = u32le(b, 30);
  const colors = u32le(b, 46);
  const masks = dib === 40 && compression === 3 ? 12 : dib === 40 && compression === 6 ? 16 : 0;
  const paletteEnd = 14 + dib + masks + (bits <= 8 || colors > 0 ? 4 * (colors === 0 ? 2 ** bits : colors) : 0);
  if (paletteEnd > b.length) return frames.problem('the colour table runs past the end of the file');
  if (compression !== 1 && compression !== 2 && width * height <= Number.MAX_SAFE_INTEGER / 32) {
    // Uncompressed rows are padded to 4 bytes.
    const stride = Math.ceil((width * (bits === 0 ? 32 : bits)) / 32) * 4;
    if (u32le(b, 10) + stride * height > b.length) return frames.problem('the pixel data is cut short');
  }
  return frames.header();
}
export const bmp: InputFormat = {
  id: 'bmp',
  name: 'BMP',
  sniff: (b) => ascii(b, 0, 2) === 'BM',
  readHeader: readBmpHeader,
  decodeBitmap: decodeOnJsThread,
};
