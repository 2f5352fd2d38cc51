/**
 * PNG input.
 *
 * The header: IHDR, and the frame of every APNG fcTL chunk.
 *
 * The checks on the rest: every chunk lies inside the file and its CRC matches; IHDR's fields are ones PNG
 * defines; the file ends with IEND; the image data inflates without error to exactly as many bytes as the
 * header's size, depth and interlacing need. The WebAssembly decoder ignores chunk CRCs and the zlib
 * checksum, and turns image data that ends early into black rows, so a damaged file would otherwise come out
 * as a plausible but wrong picture. What is found is an error, or with `lenient` (unless the data is short)
 * a warning, and the file then goes to the WebAssembly decoder.
 *
 * Decoding: a PNG of 8- or 16-bit samples, not interlaced, is decoded a row at a time (png-rows.ts), and that
 * pass over the image data is the check of it too: the data is inflated once. Above REDUCE_ABOVE_PIXELS it is
 * decoded at reduced size, so that its full-size pixels are never held; a caller that wants the loom grid has
 * its rows go straight into the grid's resize instead, whatever its size. Any other PNG, or one whose
 * structure is damaged, has its data inflated and counted on its own first, then goes to the WebAssembly
 * decoder (Rust png), as does data the row decoder fails on when the check finds nothing wrong.
 */
import { createInflate } from 'node:zlib';
import { crc32 } from '../../formats/png.js';
import {
  CHANNELS,
  REDUCE_ABOVE_PIXELS,
  SHORT_DATA,
  readLayout,
  readReduced,
  readToGrid,
  readWhole,
} from './png-rows.js';
import { Frames, ascii, corrupt, decodeWasm, u32be } from './shared.js';
import type { DecodeRequest, DecodedImage, ImageHeader, InputFormat } from './types.js';

function readPngHeader(b: Uint8Array): ImageHeader {
  const frames = new Frames('png');
  // Signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4), ...
  if (b.length < 33) return frames.problem('the file ends inside its header');
  if (ascii(b, 12, 4) !== 'IHDR') return frames.problem('the first chunk is not IHDR');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  frames.add(width, height);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff)
    return frames.problem(`the header declares ${width} × ${height} pixels`);
  // APNG frame controls: sequence (4), width (4), height (4), ...
  for (let p = 8; p + 12 <= b.length;) {
    const length = u32be(b, p);
    const type = ascii(b, p + 4, 4);
    if (type === 'fcTL' && length >= 12 && p + 20 <= b.length) frames.add(u32be(b, p + 12), u32be(b, p + 16), false);
    if (type === 'IEND') break;
    p += 12 + length;
  }
  return frames.header();
}

// --- The structure and data checks ---------------------------------------------------------------------------

/** Bit depths PNG allows for each colour type. */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
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

interface PngStructure {
  problems: string[];
  /** The image data chunks and the number of bytes they should inflate to; absent when that is not known. */
  data?: { idat: Uint8Array[]; expected: number };
}

/** Every check but the image data's inflating: chunks, CRCs, IEND, IHDR's fields. */
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
    const length = u32be(b, p);
    const type = chunkType(b, p + 4);
    if (length > b.length - p - 12) {
      problems.push(`the file is cut short inside its ${type} chunk`);
      if (type === 'IDAT') idat.push(b.subarray(p + 8));
      break;
    }
    const data = b.subarray(p + 8, p + 8 + length);
    if (crc32(b, p + 4, p + 8 + length) !== u32be(b, p + 8 + length)) problems.push(`the ${type} chunk's CRC is wrong`);
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
  const width = u32be(ihdr, 0);
  const height = u32be(ihdr, 4);
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
 * What is wrong with the image data, added to what `structure` found, most telling first; empty when nothing
 * is. For a PNG the row decoder does not read, or whose structure is damaged: the data is inflated and
 * counted here, never held.
 */
async function checkData({ problems, data }: PngStructure): Promise<string[]> {
  if (!data) return problems;
  const { length, error } = await inflatedLength(data.idat, data.expected);
  if (error) problems.push(`the image data is corrupt (zlib: ${error})`);
  else if (length < data.expected) problems.push(`${SHORT_DATA}: ${length} of ${data.expected} bytes`);
  // A CRC or checksum says less than missing data does: name the shortfall first.
  return problems.sort((a, b) => Number(a.includes('CRC')) - Number(b.includes('CRC')));
}

/** Refuses the file for what the checks found; with `lenient` (unless the data is short) keeps it as warnings. */
function refuseOrWarn(problems: string[], { label, options, warnings }: DecodeRequest): void {
  if (problems.length === 0) return;
  const short = problems.some((w) => w.startsWith(SHORT_DATA));
  if (!options.lenient || short) throw corrupt(label, 'PNG', problems[0], !short);
  warnings.push(...problems);
}

// --- Decoding ------------------------------------------------------------------------------------------------

async function decodePng(bytes: Uint8Array, request: DecodeRequest): Promise<DecodedImage | undefined> {
  // Data that decodeToGrid found damaged and let through goes to the WebAssembly decoder, whose reading counts.
  if (request.warnings.length > 0) return undefined;
  const structure = readStructure(bytes);
  const layout = structure.data && structure.problems.length === 0 ? readLayout(bytes) : undefined;
  if (!layout) {
    refuseOrWarn(await checkData(structure), request);
    return undefined;
  }
  const { header, options, warnings } = request;
  const abovePixels = options.reduceAbovePixels ?? REDUCE_ABOVE_PIXELS;
  // A big PNG is reduced while it is decoded: its full-size pixels would cost several times the file.
  const big = layout.width * layout.height > abovePixels;
  const { image, pass } = big ? await readReduced(layout, abovePixels) : await readWhole(layout);
  if (pass.problem) {
    refuseOrWarn([pass.problem], request);
    return undefined;
  }
  if (pass.error) {
    if (big) throw pass.error;
    // Data the row decoder fails on is left to the WebAssembly decoder, whose reading of it counts.
    return undefined;
  }
  return { ...image, fullWidth: header.width, fullHeight: header.height, warnings };
}

export const png: InputFormat = {
  id: 'png',
  name: 'PNG',
  sniff: (b) =>
    b.length >= 8 &&
    b[0] === 0x89 &&
    ascii(b, 1, 3) === 'PNG' &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a,
  readHeader: readPngHeader,
  decode: decodePng,
  async decodeToGrid(bytes, request, grid, background) {
    const structure = readStructure(bytes);
    const layout = structure.data && structure.problems.length === 0 ? readLayout(bytes) : undefined;
    const read = layout && (await readToGrid(layout, grid, background));
    if (!read) return undefined;
    if (read.grid) return { grid: read.grid, fullWidth: layout.width, fullHeight: layout.height, warnings: [] };
    // Refused, or left to the WebAssembly decoder, for what the pass found; otherwise decoded whole.
    if (read.pass.problem) refuseOrWarn([read.pass.problem], request);
    return undefined;
  },
  decodeBitmap: (bytes, request) => decodeWasm('image/png', bytes, request),
};
