/**
 * Checks a PNG's structure and image data before it is decoded: the WebAssembly decoder ignores chunk CRCs
 * and the zlib checksum, and turns image data that ends early into black rows, so a damaged file would
 * otherwise come out as a plausible but wrong picture.
 *
 * What is checked: every chunk lies inside the file and its CRC matches; IHDR's fields are ones PNG
 * defines; the file ends with IEND; the image data inflates without error to exactly as many bytes as the
 * header's size, depth and interlacing need. The data is inflated as a stream and counted, never held.
 */
import { createInflate } from 'node:zlib';
import { crc32 } from '../formats/png.js';

/** Bit depths PNG allows for each colour type. */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Samples per pixel of each colour type. */
export const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7: the first pixel and the step of each of the seven passes, across and down. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** The big-endian 32-bit number at `o`. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function chunkType(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

/** Bytes of filtered image data (a filter byte per row) for the header's size, depth and interlacing. */
function expectedDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rowBytes = (w: number) => (w === 0 ? 0 : 1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!interlaced) return height * rowBytes(width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * rowBytes(w);
  }
  return total;
}

/** Inflates `parts` as one zlib stream, counting the output; the count, or the zlib error. */
function inflatedLength(parts: Uint8Array[], limit: number): Promise<{ length: number; error?: string }> {
  return new Promise((resolve) => {
    const inflate = createInflate({ chunkSize: 256 * 1024 });
    let length = 0;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      inflate.destroy();
      resolve({ length, error });
    };
    inflate.on('data', (chunk: Buffer) => {
      length += chunk.length;
      // More data than the image holds is left unread: only a shortfall or corruption matters.
      if (length > limit) finish();
    });
    inflate.on('error', (err: Error) => finish(err.message));
    inflate.on('end', () => finish());
    const write = (i: number): void => {
      if (done) return;
      if (i === parts.length) {
        inflate.end();
        return;
      }
      if (inflate.write(parts[i])) write(i + 1);
      else inflate.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

/**
 * How the problem of image data that ends before the last row begins: no decoder can make those rows (one
 * fills them from whatever its memory held), so --lenient does not take it.
 */
export const SHORT_DATA = 'the image data is short';

interface PngStructure {
  problems: string[];
  /** The image data chunks and the number of bytes they should inflate to; absent when that is not known. */
  data?: { idat: Uint8Array[]; expected: number };
}

/** Everything checkPng checks but the image data's inflating: chunks, CRCs, IEND, IHDR's fields. */
function readStructure(b: Uint8Array): PngStructure {
  const problems: string[] = [];
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | undefined;
  let ended = false;
  let p = 8;
  while (p < b.length) {
    if (p + 12 > b.length) {
      problems.push('the file is cut short inside a chunk header');
      break;
    }
    const length = u32(b, p);
    const type = chunkType(b, p + 4);
    if (length > b.length - p - 12) {
      problems.push(`the file is cut short inside its ${type} chunk`);
      if (type === 'IDAT') idat.push(b.subarray(p + 8));
      break;
    }
    const data = b.subarray(p + 8, p + 8 + length);
    if (crc32(b, p + 4, p + 8 + length) !== u32(b, p + 8 + length)) problems.push(`the ${type} chunk's CRC is wrong`);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    p += 12 + length;
  }
  if (!ended && problems.length === 0) problems.push('the file is cut short (no IEND chunk)');
  if (!ihdr || ihdr.length < 13) return { problems: [...problems, 'the IHDR chunk is too short'] };
  const width = u32(ihdr, 0);
  const height = u32(ihdr, 4);
  const [depth, colorType, compression, filter, interlace] = ihdr.subarray(8, 13);
  if (!DEPTHS[colorType]?.includes(depth))
    return {
      problems: [...problems, `IHDR gives colour type ${colorType} with bit depth ${depth}, which PNG does not define`],
    };
  if (compression !== 0 || filter !== 0 || interlace > 1)
    return { problems: [...problems, 'IHDR names a compression, filter or interlace method PNG does not define'] };
  if (idat.length === 0) return { problems: [...problems, 'there is no image data (IDAT chunk)'] };
  const expected = expectedDataBytes(width, height, depth * CHANNELS[colorType], interlace === 1);
  return { problems, data: { idat, expected } };
}

/**
 * Whether the PNG's structure is sound (chunks, CRCs, IEND, IHDR's fields), its image data left unchecked:
 * a decoder that inflates the data itself, and fails on any fault in it, needs no more before it starts.
 */
export function pngStructureSound(b: Uint8Array): boolean {
  const { problems, data } = readStructure(b);
  return problems.length === 0 && data !== undefined;
}

/**
 * What is wrong with a PNG's structure or image data, most telling first; empty when nothing is. The
 * header's size has already been checked against the pixel limit.
 */
export async function checkPng(b: Uint8Array): Promise<string[]> {
  const { problems, data } = readStructure(b);
  if (!data) return problems;
  const { length, error } = await inflatedLength(data.idat, data.expected);
  if (error) problems.push(`the image data is corrupt (zlib: ${error})`);
  else if (length < data.expected) problems.push(`${SHORT_DATA}: ${length} of ${data.expected} bytes`);
  // A CRC or checksum says less than missing data does: name the shortfall first.
  return problems.sort((a, b) => Number(a.includes('CRC')) - Number(b.includes('CRC')));
}
