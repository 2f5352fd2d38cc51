/**
 * The PNG output format. Indexed-colour PNG encoder (colour type 3) over node:zlib: the smallest bit depth that holds the palette,
 * a PLTE chunk with exactly the palette, optional iTXt chunks (UTF-8, so any prompt survives) and the resolution
 * in a pHYs chunk.
 */
import * as zlib from 'node:zlib';
import { deflateSync } from 'node:zlib';
import type { IndexedImage, RgbImage } from '../loom/types.js';
import { packRow } from './pack.js';
import { pixelsPerMetre } from './resolution.js';
import type { EncodeOptions, OutputFormat, Resolution, TextEntry } from './types.js';

const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}

/** zlib's own CRC-32 (Node 20.15 and later): many times faster than the loop below on big chunks. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 && end - start > 64) return nativeCrc32(bytes.subarray(start, end)) >>> 0;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data and the CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/** The smallest PNG bit depth (1, 2, 4 or 8) that can index `colors` entries. */
export function pngBitDepth(colors: number): 1 | 2 | 4 | 8 {
  if (colors <= 2) return 1;
  if (colors <= 4) return 2;
  if (colors <= 16) return 4;
  return 8;
}

function itxt({ keyword, text }: TextEntry): Buffer {
  // keyword \0 compression-flag compression-method language-tag \0 translated-keyword \0 text
  return pngChunk(
    'iTXt',
    Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]),
  );
}

/** pHYs: pixels per metre across and down, unit 1 (the metre). */
function phys(resolution: Resolution): Buffer {
  const data = Buffer.alloc(9);
  data.writeUInt32BE(pixelsPerMetre(resolution.x), 0);
  data.writeUInt32BE(pixelsPerMetre(resolution.y), 4);
  data[8] = 1;
  return pngChunk('pHYs', data);
}

/**
 * Truecolour (colour type 2, 8-bit) PNG with the Paeth filter on every row: what photos compress best with.
 * Used to send pictures to a provider; loom outputs are always indexed.
 */
export function encodeRgbPng(image: RgbImage): Buffer {
  const { width, height, data } = image;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const stride = width * 3;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const out = y * (stride + 1);
    const row = y * stride;
    const prev = row - stride;
    raw[out] = 4; // Paeth
    for (let i = 0; i < stride; i++) {
      const a = i >= 3 ? data[row + i - 3] : 0;
      const b = y > 0 ? data[prev + i] : 0;
      const c = y > 0 && i >= 3 ? data[prev + i - 3] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      raw[out + 1 + i] = (data[row + i] - predictor) & 0xff;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 6 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Raw image data up to this size is deflated at level 9; larger data at zlib's default level 6. On loom
 * images level 9 takes about ten times as long for files a few per cent smaller: worth it only where the
 * time is too small to matter, and a batch of 600-end images would otherwise spend more on deflate than on
 * weaving.
 */
const DEFLATE_BEST_LIMIT = 32 * 1024;

export interface PngOptions extends EncodeOptions {
  /**
   * The deflate level, when speed matters more than size (a large picture for the eye, such as a cloth preview:
   * level 1 takes a quarter of level 6's time for files twice as large).
   */
  level?: number;
}

/** Without a resolution there is no pHYs: readers take their own default. */
export function encodeIndexedPng(
  image: IndexedImage,
  text: readonly TextEntry[] = [],
  { level, resolution }: PngOptions = {},
): Buffer {
  const { width, height, indices, palette } = image;
  const colors = palette.length / 3;
  if (colors < 1 || colors > 256) throw new RangeError(`a PNG palette holds 1 to 256 colours, not ${colors}`);
  const depth = pngBitDepth(colors);

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = 3; // colour type: palette
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace

  // Filter type 0 (none) on every row: the PNG spec's advice for palette images.
  const rowBytes = Math.ceil((width * depth) / 8);
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) packRow(indices, y * width, width, depth, raw, y * (rowBytes + 1) + 1);

  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', palette),
    ...(resolution ? [phys(resolution)] : []),
    ...text.map(itxt),
    pngChunk('IDAT', deflateSync(raw, { level: level ?? (raw.length <= DEFLATE_BEST_LIMIT ? 9 : 6) })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

export const png: OutputFormat = {
  id: 'png',
  ext: 'png',
  description: 'palette PNG at the smallest bit depth, with the settings and prompt in iTXt chunks',
  maxColors: 256,
  encode: (image, text, options) => encodeIndexedPng(image, text, { resolution: options?.resolution }),
};
