/**
 * Small valid pictures in every supported format, and hand-built hostile ones: headers that claim huge
 * sizes in each form a decoder reads, and PNGs with damaged data.
 */
import { deflateSync } from 'node:zlib';
import { Jimp } from 'jimp';
import { pngChunk } from '../../src/formats/png.js';
import { noisyGradient } from './images.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Made with ImageMagick 6.9.11 (libwebp 1.2.4): 6×4 lossless (left half red, right half blue), and two 4×4
// frames (red, blue) of an animation.
const WEBP_LOSSLESS = 'UklGRh4AAABXRUJQVlA4TBIAAAAvBcAAAA8Q87//8x8OehDR/wA=';
export const WEBP_ANIMATED =
  'UklGRoQAAABXRUJQVlA4WAoAAAACAAAAAwAAAwAAQU5JTQYAAAD/////AABBTk1GKAAAAAAAAAAAAAMAAAMAAGQAAAJWUDhMDwAAAC8DwAAABxD9j/4HIqL/AQBBTk1GKAAAAAAAAAAAAAMAAAMAAGQAAABWUDhMDwAAAC8DwAAABxDR//4HIqL/AQBSSUZGHAAAAFdFQlBWUDhMDwAAAC8DwAAABxD9j/4HIqL/AQA=';

/** A small picture in each supported format, by file name. */
export async function smallImages(width = 24, height = 16): Promise<Record<string, Buffer>> {
  const photo = noisyGradient(width, height, 7);
  const image = new Jimp({ width, height, data: Buffer.from(photo.data) });
  return {
    'small.png': await image.getBuffer('image/png'),
    'small.jpg': await image.getBuffer('image/jpeg', { quality: 90 }),
    'small.bmp': await image.getBuffer('image/bmp'),
    'small.gif': await image.getBuffer('image/gif'),
    'small.tif': await image.getBuffer('image/tiff'),
    'small.webp': Buffer.from(WEBP_LOSSLESS, 'base64'),
  };
}

/** Raw RGB rows of a PNG, each with filter byte 0. */
function rgbRows(width: number, height: number): Buffer {
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) rows.set([x * 9, y * 7, (x + y) * 3], y * (1 + width * 3) + 1 + x * 3);
  return rows;
}

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return data;
}

/** Flips the lowest bit of a chunk's CRC (the chunk starting at `at`). */
function breakCrc(png: Buffer, at: number): Buffer {
  const out = Buffer.from(png);
  const crcAt = at + 8 + out.readUInt32BE(at);
  out[crcAt + 3] ^= 1;
  return out;
}

/** A PNG built from its parts; `zlib` replaces the compressed image data. */
export function pngOf(width: number, height: number, zlib = deflateSync(rgbRows(width, height))): Buffer {
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr(width, height)),
    pngChunk('IDAT', zlib),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Damaged PNGs of 32 × 24 pixels: the three of Go's image/png tests rebuilt (a bad zlib checksum, a bad
 * CRC, cut short), image data for too few rows, and a bad IHDR CRC. `readable` says whether the decoder can
 * still make pixels of it (so --lenient accepts it).
 */
export function damagedPngs(): Array<{ name: string; bytes: Buffer; cause: string; readable: boolean }> {
  const good = pngOf(32, 24);
  const zlib = Buffer.from(deflateSync(rgbRows(32, 24)));
  zlib[zlib.length - 1] ^= 0xff; // the Adler-32 checksum
  const idatAt = 8 + 12 + 13;
  return [
    { name: 'invalid-zlib.png', bytes: pngOf(32, 24, zlib), cause: 'the image data is corrupt', readable: true },
    {
      name: 'invalid-crc32.png',
      bytes: breakCrc(good, idatAt),
      cause: "the IDAT chunk's CRC is wrong",
      readable: true,
    },
    {
      name: 'invalid-trunc.png',
      bytes: good.subarray(0, good.length - 40),
      cause: 'the file is cut short inside its IDAT chunk',
      readable: false,
    },
    {
      name: 'short-idat.png',
      bytes: pngOf(32, 24, deflateSync(rgbRows(32, 24).subarray(0, 5 * (1 + 32 * 3)))),
      cause: 'the image data is short: 485 of 2328 bytes',
      readable: false,
    },
    { name: 'bad-ihdr-crc.png', bytes: breakCrc(good, 8), cause: "the IHDR chunk's CRC is wrong", readable: true },
  ];
}

/** A TIFF entry: tag, type, count and the value (inline when it fits). */
type TiffEntry = [tag: number, type: number, count: number, value: number];

/**
 * A little-endian TIFF of one or more pages (IFDs), each a list of entries, with its pixel data (8 grey
 * bytes unless given) at offset 8.
 */
export function tiffOf(
  pages: TiffEntry[][],
  { loopBack = false, pixels = Buffer.alloc(8, 0x80) as Buffer } = {},
): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8 + pixels.length, 4);
  parts.push(header, pixels);
  const first = 8 + pixels.length;
  let offset = first;
  pages.forEach((entries, i) => {
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], j) => {
      const e = 2 + j * 12;
      ifd.writeUInt16LE(tag, e);
      ifd.writeUInt16LE(type, e + 2);
      ifd.writeUInt32LE(count, e + 4);
      if (type === 3) ifd.writeUInt16LE(value, e + 8);
      else if (type === 8) ifd.writeInt16LE(value, e + 8);
      else if (type === 9) ifd.writeInt32LE(value, e + 8);
      else if (type === 11) ifd.writeFloatLE(value, e + 8);
      else if (type === 1) ifd.writeUInt8(value, e + 8);
      else ifd.writeUInt32LE(value >>> 0, e + 8);
    });
    const next = i < pages.length - 1 ? offset + ifd.length : loopBack ? first : 0;
    ifd.writeUInt32LE(next, ifd.length - 4);
    parts.push(ifd);
    offset += ifd.length;
  });
  return Buffer.concat(parts);
}

/** A one-strip, uncompressed, 8-bit grey TIFF page whose width and height are stored as `type`. */
export function tiffPage(width: number, height: number, type = 4): TiffEntry[] {
  return [
    [256, type, 1, width],
    [257, type, 1, height],
    [258, 3, 1, 8],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    [273, 4, 1, 8],
    [277, 3, 1, 1],
    [278, 4, 1, height],
    [279, 4, 1, 8],
  ];
}

/** A JPEG of one grey component whose frame header (SOF `marker`) claims width × height, after `junk`. */
export function jpegClaiming(width: number, height: number, { junk = 0, marker = 0xc0 } = {}): Buffer {
  const sof = Buffer.from([0xff, marker, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const dqt = Buffer.concat([Buffer.from([0xff, 0xdb, 0, 67, 0]), Buffer.alloc(64, 1)]);
  const dht = (tableClass: number) => Buffer.from([0xff, 0xc4, 0, 20, tableClass, 1, ...Array<number>(15).fill(0), 0]);
  const sos = Buffer.from([0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0]);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    dqt,
    Buffer.from(Array.from({ length: junk }, (_, i) => i + 1)),
    sof,
    dht(0x00),
    dht(0x10),
    sos,
    Buffer.alloc(32, 0),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** A GIF whose screen is screen × screen pixels, holding frames of the given sizes. */
export function gifOf(screen: number, frames: Array<[number, number]>): Buffer {
  const parts = [
    Buffer.from('GIF89a', 'latin1'),
    Buffer.from([screen & 255, screen >> 8, screen & 255, screen >> 8, 0, 0, 0]),
  ];
  for (const [w, h] of frames) {
    parts.push(
      Buffer.from([0x2c, 0, 0, 0, 0, w & 255, w >> 8, h & 255, h >> 8, 0]),
      Buffer.from([2, 2, 0x4c, 0x01, 0]),
    );
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

/** A WebP whose VP8X canvas is canvas × canvas, holding the small lossless bitstream. */
export function webpCanvas(canvas: number): Buffer {
  const lossless = Buffer.from(WEBP_LOSSLESS, 'base64').subarray(12);
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(canvas - 1, 12, 3);
  vp8x.writeUIntLE(canvas - 1, 15, 3);
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), vp8x, lossless]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** Codes packed most significant bit first, as TIFF LZW stores them, all `width` bits wide. */
export function lzwCodes(codes: number[], width = 9): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc = (acc << width) | code;
    bits += width;
    while (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 255);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (8 - bits)) & 255);
  return Buffer.from(out);
}

/**
 * TIFF LZW (as libtiff writes it): a Clear code first, codes widened one entry early, a Clear again when the
 * table is full, End of Information last.
 */
export function lzwEncode(data: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let width = 9;
  const emit = (code: number) => {
    acc = (acc << width) | code;
    bits += width;
    while (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 255);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  };
  let table = new Map<number, number>();
  let next = 258;
  // The decoder adds an entry for every code but the first after a Clear, and widens when the table's size
  // is one short of a power of two: this side adds one for every code but the last, so widens on the power.
  const grow = () => {
    next++;
    if (next === 1 << width && width < 12) width++;
  };
  emit(256);
  let w = -1;
  for (const byte of data) {
    if (w < 0) {
      w = byte;
      continue;
    }
    const known = table.get(w * 256 + byte);
    if (known !== undefined) {
      w = known;
      continue;
    }
    emit(w);
    table.set(w * 256 + byte, next);
    grow();
    if (next >= 4094) {
      emit(256);
      table = new Map();
      next = 258;
      width = 9;
    }
    w = byte;
  }
  if (w >= 0) {
    emit(w);
    grow();
  }
  emit(257);
  if (bits > 0) out.push((acc << (8 - bits)) & 255);
  return Buffer.from(out);
}

/** A one-strip, 8-bit grey TIFF of the given compression (5 LZW, 32773 PackBits, ...) holding `strip`. */
export function tiffStrip(width: number, height: number, compression: number, strip: Buffer): Buffer {
  return tiffOf(
    [
      [
        [256, 4, 1, width],
        [257, 4, 1, height],
        [258, 3, 1, 8],
        [259, 3, 1, compression],
        [262, 3, 1, 1],
        [273, 4, 1, 8],
        [277, 3, 1, 1],
        [278, 4, 1, height],
        [279, 4, 1, strip.length],
      ],
    ],
    { pixels: strip },
  );
}

/**
 * A progressive JPEG of one grey component, every block flat: a DC scan with the low `first` bits left out,
 * then one refinement scan for each of those bits (which makes a sound file), then `repeats` more copies of
 * the last refinement scan. Each scan's data is one bit a block, or `dataBytes` zero bytes when given (libjpeg
 * then warns that the data ends early, and still passes over every block).
 */
export function progressiveJpeg(
  width: number,
  height: number,
  { first = 1, repeats = 0, dataBytes }: { first?: number; repeats?: number; dataBytes?: number } = {},
): Buffer {
  const segment = (marker: number, body: number[]) =>
    Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body]);
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // DC differences of category 0, coded '0' by a table of that one code; refinement bits 0. Ones pad the end.
  const data = Buffer.alloc(dataBytes ?? Math.ceil(blocks / 8), 0);
  if (dataBytes === undefined && blocks % 8 !== 0) data[data.length - 1] = 0xff >> (blocks % 8);
  const scan = (ah: number, al: number) => [segment(0xda, [1, 1, 0x00, 0, 0, (ah << 4) | al]), data];
  const refinements = [];
  for (let bit = first; bit > 0; bit--) refinements.push(...scan(bit, bit - 1));
  for (let i = 0; i < repeats; i++) refinements.push(...scan(1, 0));
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, [0, ...Array<number>(64).fill(1)]),
    segment(0xc2, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]),
    segment(0xc4, [0x00, 1, ...Array<number>(15).fill(0), 0]),
    ...scan(0, first),
    ...refinements,
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** A one-strip CCITT Group 4 TIFF (bilevel, 0 is white) whose data is `bits`, a string of 0 and 1. */
function g4Tiff(width: number, height: number, bits: string, declaredShortBy = 0): Buffer {
  const strip = Buffer.alloc(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') strip[i >> 3] |= 0x80 >> (i & 7);
  return tiffOf(
    [
      [
        [256, 4, 1, width],
        [257, 4, 1, height],
        [258, 3, 1, 1],
        [259, 3, 1, 4],
        [262, 3, 1, 0],
        [273, 4, 1, 8],
        [277, 3, 1, 1],
        [278, 4, 1, height],
        [279, 4, 1, strip.length - declaredShortBy],
      ],
    ],
    { pixels: strip },
  );
}

/**
 * A Group 4 TIFF of one-pixel stripes, black and white, across `width`: the first row in horizontal mode,
 * every row after it one vertical-mode bit per change of colour. utif's decoder looks up each such bit from
 * the start of the row above, so its work grows with the square of the width: a sound picture that keeps it
 * busy for minutes. libtiff reads it in a moment; with `declaredShortBy`, its strip is declared that many bytes
 * shorter than it is, which libtiff refuses (its last rows are cut short) and utif's decoder reads as slowly.
 */
export function g4Stripes(width: number, height: number, declaredShortBy = 0): Buffer {
  // Horizontal mode (001), a white run of 1 (000111), a black run of 1 (010).
  return g4Tiff(width, height, '001000111010'.repeat(width / 2) + '1'.repeat(width * (height - 1)), declaredShortBy);
}

/**
 * A Group 4 TIFF whose first run is `makeUps` white make-up codes of 1,728 pixels each, then a terminating
 * code: one run far wider than the row, which utif's decoder writes a pixel at a time into a JS array.
 */
export function g4RunawayRow(width: number, height: number, makeUps: number): Buffer {
  // Horizontal mode (001), make-up codes of 1728 (010011011), a white run of 0 (00110101).
  return g4Tiff(width, height, '001' + '010011011'.repeat(makeUps) + '00110101');
}
