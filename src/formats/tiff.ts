/**
 * The TIFF output format: baseline, little-endian, uncompressed, one strip. A black-and-white image (a lift
 * plan) is bilevel, 1 bit per pixel, with PhotometricInterpretation saying which bit value is black
 * (WhiteIsZero when index 0 is white, BlackIsZero when it is black), as the TC2 and other loom software
 * read it; any other palette is a palette-colour TIFF (4 or 8 bits).
 */
import type { IndexedImage } from '../loom/types.js';
import { packRow } from './pack.js';
import type { OutputFormat, TextEntry } from './types.js';

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const RATIONAL = 5;

const WHITE_IS_ZERO = 0;
const BLACK_IS_ZERO = 1;
const PALETTE = 3;

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

function isGrey(palette: Uint8Array, i: number, v: number): boolean {
  return palette[i * 3] === v && palette[i * 3 + 1] === v && palette[i * 3 + 2] === v;
}

/** Bilevel photometric for a two-colour black-and-white palette, else undefined. */
function bilevel(palette: Uint8Array): number | undefined {
  if (palette.length !== 6) return undefined;
  if (isGrey(palette, 0, 255) && isGrey(palette, 1, 0)) return WHITE_IS_ZERO;
  if (isGrey(palette, 0, 0) && isGrey(palette, 1, 255)) return BLACK_IS_ZERO;
  return undefined;
}

export function encodeTiff(image: IndexedImage, text: readonly TextEntry[] = []): Buffer {
  const { width, height, indices, palette } = image;
  const colors = palette.length / 3;
  if (colors < 1 || colors > 256) throw new RangeError(`a TIFF palette holds 1 to 256 colours, not ${colors}`);
  const photometric = bilevel(palette) ?? PALETTE;
  const depth = photometric === PALETTE ? (colors <= 16 ? 4 : 8) : 1;
  const rowBytes = Math.ceil((width * depth) / 8);
  const pixels = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) packRow(indices, y * width, width, depth, pixels, y * rowBytes);

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
    { tag: 277, type: SHORT, values: [1] },
    { tag: 278, type: LONG, values: [height] },
    { tag: 279, type: LONG, values: [pixels.length] },
    { tag: 282, type: RATIONAL, values: [72, 1] },
    { tag: 283, type: RATIONAL, values: [72, 1] },
    { tag: 296, type: SHORT, values: [2] }, // inch
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
  description: 'uncompressed baseline TIFF: 1-bit bilevel for black and white (photometric set to match), else palette',
  maxColors: 256,
  encode: encodeTiff,
};
