/**
 * The TIFF output format: baseline, little-endian, uncompressed, one strip, Orientation 1 (row 0 at the top,
 * so a lift plan's top row is its last pick). A black-and-white image (a lift plan) is bilevel, 1 bit per
 * pixel, WhiteIsZero (a set bit is black) whatever the order of its palette: the TIFF 6.0 convention for
 * bilevel images, and what readers that ignore PhotometricInterpretation assume. Any other palette is a
 * palette-colour TIFF (4 or 8 bits). Resolution in pixels per centimetre (ResolutionUnit 3) when given, else
 * 72 dpi, since a baseline TIFF must state one.
 */
import type { IndexedImage } from '../loom/types.js';
import { packRow } from './pack.js';
import type { EncodeOptions, OutputFormat, TextEntry } from './types.js';

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const RATIONAL = 5;

const WHITE_IS_ZERO = 0;
const PALETTE = 3;

const INCH = 2;
const CENTIMETRE = 3;
const TOP_LEFT = 1;

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

function isGrey(palette: Uint8Array, i: number, v: number): boolean {
  return palette[i * 3] === v && palette[i * 3 + 1] === v && palette[i * 3 + 2] === v;
}

/**
 * For a two-colour black-and-white palette, the index whose pixels are written as set bits (black's), else
 * undefined.
 */
function blackIndex(palette: Uint8Array): 0 | 1 | undefined {
  if (palette.length !== 6) return undefined;
  if (isGrey(palette, 0, 255) && isGrey(palette, 1, 0)) return 1;
  if (isGrey(palette, 0, 0) && isGrey(palette, 1, 255)) return 0;
  return undefined;
}

/** A RATIONAL near `value`, as precise as 32-bit numerator and denominator allow. */
function rational(value: number): [number, number] {
  let den = 10_000;
  while (den > 1 && value * den > 0xffffffff) den /= 10;
  return [Math.min(0xffffffff, Math.max(1, Math.round(value * den))), den];
}

export function encodeTiff(image: IndexedImage, text: readonly TextEntry[] = [], options: EncodeOptions = {}): Buffer {
  const { width, height, indices, palette } = image;
  const colors = palette.length / 3;
  if (colors < 1 || colors > 256) throw new RangeError(`a TIFF palette holds 1 to 256 colours, not ${colors}`);
  const black = blackIndex(palette);
  const photometric = black === undefined ? PALETTE : WHITE_IS_ZERO;
  const depth = photometric === PALETTE ? (colors <= 16 ? 4 : 8) : 1;
  const rowBytes = Math.ceil((width * depth) / 8);
  const pixels = Buffer.alloc(rowBytes * height);
  // Black on index 0: the bits are the indices complemented.
  const row = black === 0 ? new Uint8Array(width) : indices;
  for (let y = 0; y < height; y++) {
    if (black === 0) {
      for (let x = 0; x < width; x++) row[x] = indices[y * width + x] ^ 1;
      packRow(row, 0, width, depth, pixels, y * rowBytes);
    } else packRow(indices, y * width, width, depth, pixels, y * rowBytes);
  }
  const { resolution } = options;

  const software = text.find((t) => t.keyword === 'Software')?.text ?? 'imagegen';
  const description = text
    .filter((t) => t.keyword !== 'Software')
    .map((t) => `${t.keyword}: ${t.text}`)
    .join('\n');
  const entries: Entry[] = [
    { tag: 256, type: LONG, values: [width] },
    { tag: 257, type: LONG, values: [height] },
    { tag: 258, type: SHORT, values: [depth] },
    { tag: 259, type: SHORT, values: [1] }, // no compression
    { tag: 262, type: SHORT, values: [photometric] },
    ...(description ? [{ tag: 270, type: ASCII, values: description }] : []),
    { tag: 273, type: LONG, values: [0] }, // strip offset, filled in below
    { tag: 274, type: SHORT, values: [TOP_LEFT] }, // Orientation
    { tag: 277, type: SHORT, values: [1] },
    { tag: 278, type: LONG, values: [height] },
    { tag: 279, type: LONG, values: [pixels.length] },
    { tag: 282, type: RATIONAL, values: resolution ? rational(resolution.x) : [72, 1] },
    { tag: 283, type: RATIONAL, values: resolution ? rational(resolution.y) : [72, 1] },
    { tag: 296, type: SHORT, values: [resolution ? CENTIMETRE : INCH] },
    { tag: 305, type: ASCII, values: software },
  ];
  if (photometric === PALETTE) {
    const size = 1 << depth;
    const map = new Array<number>(size * 3).fill(0);
    for (let i = 0; i < colors; i++) {
      for (let c = 0; c < 3; c++) map[c * size + i] = palette[i * 3 + c] * 257;
    }
    entries.push({ tag: 320, type: SHORT, values: map });
  }

  // Header, IFD, then the values that do not fit in an entry, then the pixels.
  const ifdOffset = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  const extra: Buffer[] = [];
  let extraOffset = ifdOffset + ifdSize;
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(entries.length, 0);
  let stripEntry = 0;
  entries.forEach((entry, n) => {
    const o = 2 + n * 12;
    const data = valueBytes(entry);
    const count = entry.type === ASCII ? data.length : entry.type === RATIONAL ? 1 : (entry.values as number[]).length;
    ifd.writeUInt16LE(entry.tag, o);
    ifd.writeUInt16LE(entry.type, o + 2);
    ifd.writeUInt32LE(count, o + 4);
    if (entry.tag === 273) stripEntry = o + 8;
    if (data.length <= 4) data.copy(ifd, o + 8);
    else {
      ifd.writeUInt32LE(extraOffset, o + 8);
      const padded = data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data;
      extra.push(padded);
      extraOffset += padded.length;
    }
  });
  ifd.writeUInt32LE(0, ifdSize - 4); // no next IFD
  ifd.writeUInt32LE(extraOffset, stripEntry);
  const header = Buffer.from([0x49, 0x49, 42, 0, ifdOffset, 0, 0, 0]);
  return Buffer.concat([header, ifd, ...extra, pixels]);
}

function valueBytes(entry: Entry): Buffer {
  if (entry.type === ASCII)
    return Buffer.from(`${(entry.values as string).replace(/[^\x20-\x7e\n]/g, '?')}\0`, 'latin1');
  const values = entry.values as number[];
  const size = entry.type === SHORT ? 2 : 4;
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => (size === 2 ? out.writeUInt16LE(v, i * 2) : out.writeUInt32LE(v, i * 4)));
  return out;
}

export const tiff: OutputFormat = {
  id: 'tiff',
  ext: 'tiff',
  aliases: ['tif'],
  description: 'uncompressed baseline TIFF: 1-bit bilevel WhiteIsZero for black and white, else palette',
  maxColors: 256,
  encode: encodeTiff,
};
