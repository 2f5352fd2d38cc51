/**
 * TIFF input. The header: every page of the IFD chain (jimp decodes them all), with width and height in any
 * integer type; the structure is walked as the decoder (utif) walks it, and what would make it loop or
 * allocate without bound is refused: IFD loops and depth, strips past the end of the file, JPEG strips larger
 * than their page. Decoded by sharp (src/image/native.ts), else by jimp's decoder on the JS thread, with rows
 * no wider than the widest declared, once each strip's data is checked too (checkData): strips that unpack
 * to more than their rows (deflate, LZW, PackBits), LZW codes not yet defined.
 */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { decodeNative } from '../native.js';
import { orientBitmap, readTiffOrientation } from '../orient.js';
import { readJpegHeader } from './jpeg.js';
import { Frames, ascii, decodeOnJsThread, u16be, u16le, u32be, u32le } from './shared.js';
import type { ImageHeader, InputFormat } from './types.js';

/** Compressions the TIFF decoder reads without allocating more than the image. */
const TIFF_COMPRESSIONS = new Set([1, 2, 3, 4, 5, 7, 8, 32773, 32946]);
/** Bytes per value of each TIFF field type the decoder reads (1 BYTE ... 13 IFD). */
const TIFF_TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};
/** Tags whose values are offsets of further IFDs that the decoder reads too. */
const TIFF_SUB_IFDS = new Set([330, 34665, 34853, 61440]);
const MAX_TIFF_IFDS = 256;
const MAX_TIFF_VALUES = 4_000_000;

class TiffError extends Error {}

interface TiffEntry {
  type: number;
  count: number;
  /** Where the values are: in the entry, or at the offset it holds. */
  at: number;
}

/** Walks a TIFF's IFDs as the decoder (utif) reads them, refusing what would make it loop or blow up. */
class TiffWalker {
  private readonly b: Uint8Array;
  private readonly u16: (b: Uint8Array, o: number) => number;
  private readonly u32: (b: Uint8Array, o: number) => number;
  private readonly seen = new Set<number>();
  private values = 0;

  constructor(
    readonly bytes: Uint8Array,
    le: boolean,
  ) {
    this.b = bytes;
    this.u16 = le ? u16le : u16be;
    this.u32 = le ? u32le : u32be;
  }

  /** Reads the IFD at `offset`, with the IFDs it points to; its tags by number. */
  ifd(offset: number, depth: number): Map<number, TiffEntry> {
    const { b } = this;
    if (depth > 8) throw new TiffError('its IFDs nest too deep');
    if (this.seen.has(offset)) throw new TiffError('an IFD is reached twice (the file loops)');
    this.seen.add(offset);
    if (this.seen.size > MAX_TIFF_IFDS) throw new TiffError(`more than ${MAX_TIFF_IFDS} IFDs`);
    if (offset < 8 || offset + 2 > b.length) throw new TiffError('an IFD lies outside the file');
    const count = this.u16(b, offset);
    if (offset + 2 + count * 12 + 4 > b.length) throw new TiffError('an IFD runs past the end of the file');
    const tags = new Map<number, TiffEntry>();
    for (let i = 0; i < count; i++) {
      const e = offset + 2 + i * 12;
      const tag = this.u16(b, e);
      const type = this.u16(b, e + 2);
      const n = this.u32(b, e + 4);
      const size = TIFF_TYPE_SIZES[type];
      if (size === undefined) {
        if (i === 0 && n !== 0) break; // the decoder gives up on this IFD
        continue;
      }
      const inline = size * n <= 4 && type !== 5 && type !== 10 && type !== 11 && type !== 12;
      const at = inline ? e + 8 : this.u32(b, e + 8);
      if (!inline && at + size * n > b.length) throw new TiffError(`tag ${tag} runs past the end of the file`);
      this.values += n;
      if (this.values > MAX_TIFF_VALUES) throw new TiffError('its tags hold too many values');
      tags.set(tag, { type, count: n, at });
      if (TIFF_SUB_IFDS.has(tag)) for (const sub of this.numbers({ type, count: n, at })) this.ifd(sub, depth + 1);
      if (tag === 37500) this.makerNote(at, n, depth);
    }
    return tags;
  }

  /** The values of an integer or floating-point entry. */
  numbers(entry: TiffEntry): number[] {
    const { b, u16, u32 } = this;
    const out: number[] = [];
    for (let i = 0; i < entry.count; i++) {
      const o = entry.at + i * TIFF_TYPE_SIZES[entry.type];
      switch (entry.type) {
        case 1:
        case 6:
        case 7:
          out.push(b[o]);
          break;
        case 3:
          out.push(u16(b, o));
          break;
        case 8:
          out.push((u16(b, o) << 16) >> 16);
          break;
        case 4:
        case 13:
          out.push(u32(b, o));
          break;
        case 9:
          out.push(u32(b, o) | 0);
          break;
        case 11:
          out.push(new DataView(b.buffer, b.byteOffset + o, 4).getFloat32(0, u16 === u16le));
          break;
        case 12:
          out.push(new DataView(b.buffer, b.byteOffset + o, 8).getFloat64(0, u16 === u16le));
          break;
        default:
          throw new TiffError(`a size or offset is stored as type ${entry.type}`);
      }
    }
    return out;
  }

  /** The decoder reads a maker note as a nested TIFF (Nikon), or as an IFD when it looks like one. */
  private makerNote(at: number, length: number, depth: number): void {
    const { b } = this;
    if (ascii(b, at, 5) === 'Nikon') {
      const nested = b.subarray(at + 10, at + length);
      const header = readTiffHeader(nested, true);
      if (header.problem) throw new TiffError(`its maker note: ${header.problem}`);
    } else if (ascii(b, at, 5) === 'OLYMP' || ascii(b, at, 9) === 'OM SYSTEM') {
      throw new TiffError('an Olympus maker note (not supported)');
    } else if (at + 6 <= b.length && this.u16(b, at) < 300 && this.u16(b, at + 4) <= 12) {
      this.ifd(at, depth + 1);
    }
  }
}

/**
 * The header, every page's structure checked; with `strips`, each strip's data too (what jimp's decoder needs
 * before it runs: see checkData).
 */
function readTiffHeader(b: Uint8Array, strips = false): ImageHeader {
  const frames = new Frames('tiff');
  if (b.length < 8) return frames.problem('the file ends inside its header');
  const walker = new TiffWalker(b, b[0] === 0x49);
  const u32 = b[0] === 0x49 ? u32le : u32be;
  const u16 = b[0] === 0x49 ? u16le : u16be;
  // A page that would not decode is named, but the pages after it are still counted.
  let pageProblem: string | undefined;
  let widestRow = 0;
  try {
    let offset = u32(b, 4);
    for (let page = 0; offset !== 0; page++) {
      if (offset + 6 <= b.length) {
        // The decoder stops at an IFD whose first entry has a type it does not know.
        const type = u16(b, offset + 4);
        if (u16(b, offset) !== 0 && (type < 1 || type > 13)) break;
      }
      const tags = walker.ifd(offset, 0);
      offset = u32(b, offset + 2 + u16(b, offset) * 12);
      if (!tags.has(256)) continue; // no width: the decoder skips it
      try {
        widestRow = Math.max(widestRow, checkTiffPage(walker, tags, frames, b.length, strips));
      } catch (err) {
        if (!(err instanceof TiffError)) throw err;
        pageProblem ??= err.message;
      }
    }
  } catch (err) {
    if (err instanceof TiffError) return frames.problem(err.message);
    throw err;
  }
  if (pageProblem) return frames.problem(pageProblem);
  if (frames.count === 0) return frames.problem('no page with a width and height');
  return { ...frames.header(), widestRow };
}

function one(walker: TiffWalker, tags: Map<number, TiffEntry>, tag: number, fallback?: number): number | undefined {
  const entry = tags.get(tag);
  if (!entry || entry.count === 0) return fallback;
  return walker.numbers(entry)[0];
}

function whole(value: number | undefined, what: string): number {
  if (value === undefined || !Number.isInteger(value) || value <= 0)
    throw new TiffError(`${what} is ${value ?? 'missing'}`);
  return value;
}

/**
 * Counts a page and checks that decoding it stays within its size: samples, tiles, strips, compression; with
 * `strips`, what each strip unpacks to. Returns the width of its rows as the decoder unpacks them (a tile's or
 * the page's).
 */
function checkTiffPage(
  walker: TiffWalker,
  tags: Map<number, TiffEntry>,
  frames: Frames,
  fileLength: number,
  strips: boolean,
): number {
  const width = whole(one(walker, tags, 256), 'the width');
  const height = whole(one(walker, tags, 257), 'the height');
  frames.add(width, height);
  const compression = one(walker, tags, 259, 1)!;
  if (!TIFF_COMPRESSIONS.has(compression)) throw new TiffError(`compression ${compression} is not supported`);
  const samples = whole(one(walker, tags, 277, 1), 'samples per pixel');
  const bits = whole(one(walker, tags, 258, 1), 'bits per sample');
  if (samples * bits > 64) throw new TiffError(`${samples} samples of ${bits} bits per pixel`);
  const tileWidth = one(walker, tags, 322);
  if (tileWidth !== undefined) {
    const tileHeight = whole(one(walker, tags, 323), 'the tile height');
    if (whole(tileWidth, 'the tile width') * tileHeight > Math.max(width * height, 1 << 20))
      throw new TiffError(`a ${tileWidth} × ${tileHeight} tile is larger than the page`);
  }
  // Strip or tile offsets and byte counts must lie in the file: the decoder copies as many bytes as a
  // count says.
  const offsets = tags.get(tileWidth !== undefined ? 324 : 273);
  const counts = tags.get(tileWidth !== undefined ? 325 : 279);
  if (offsets && counts) {
    const o = walker.numbers(offsets);
    const c = walker.numbers(counts);
    for (let i = 0; i < o.length; i++) {
      if (c[i] !== undefined && o[i] + c[i] > fileLength) throw new TiffError('a strip runs past the end of the file');
    }
    if (compression === 1 && tileWidth === undefined) {
      // Uncompressed strips are copied row by row whatever their byte counts say.
      const rowsPerStrip = Math.min(height, one(walker, tags, 278, height)!);
      const rowBytes = Math.ceil((width * samples * bits) / 8);
      for (let i = 0; i < o.length; i++) {
        const rows = Math.min(rowsPerStrip, height - i * rowsPerStrip);
        if (rows > 0 && o[i] + rows * rowBytes > fileLength) throw new TiffError('the pixel data is cut short');
      }
    }
    if (compression === 7) {
      // Each strip or tile is a JPEG, decoded at the size its own frame header declares.
      for (let i = 0; i < o.length; i++) {
        const strip = walker.bytes.subarray(o[i], o[i] + (c[i] ?? 0));
        if (strip[0] !== 0xff || strip[1] !== 0xd8) continue;
        const frame = readJpegHeader(strip);
        if (frame.unsupported) throw new TiffError(`a JPEG strip: ${frame.unsupported}`);
        if (frame.width * frame.height > (width + 16) * (height + 16))
          throw new TiffError(`a JPEG strip declares ${frame.width} × ${frame.height} pixels, more than its page`);
      }
    }
    if (!strips) return tileWidth ?? width;
    // What one strip or tile unpacks to: the decoder places it there, and work past it is work for nothing.
    const rows = Math.min(height, one(walker, tags, 278, height)!);
    const stripBytes =
      tileWidth !== undefined
        ? Math.ceil((tileWidth * samples * bits) / 8) * one(walker, tags, 323)!
        : rows * Math.ceil((width * samples * bits) / 8);
    if (compression === 8 || compression === 32946) {
      // The decoder inflates each strip whole before it looks at the size: a few bytes can unpack to gigabytes.
      for (let i = 0; i < o.length; i++) {
        if (!c[i] || c[i] < 6) continue;
        try {
          inflateRawSync(walker.bytes.subarray(o[i] + 2, o[i] + c[i] - 4), {
            maxOutputLength: stripBytes + 1,
            finishFlush: zlibConstants.Z_SYNC_FLUSH,
          });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
            throw new TiffError('a compressed strip unpacks to more than its rows');
        }
      }
    }
    if (compression === 5 || compression === 32773) {
      for (let i = 0; i < o.length; i++) {
        if (!c[i]) continue;
        const problem =
          compression === 5
            ? tiffLzwProblem(walker.bytes, o[i], c[i], stripBytes)
            : packBitsProblem(walker.bytes, o[i], c[i], stripBytes);
        if (problem) throw new TiffError(problem);
      }
    }
  }
  return tileWidth ?? width;
}

/** What every TIFF LZW strip checked says when it unpacks to more bytes than the decoder has room for. */
const UNPACKS_TOO_FAR = 'a compressed strip unpacks to more than its rows';

/**
 * What is wrong with a TIFF LZW strip (`length` bytes at `start`), if anything: a code that refers to an
 * entry not yet defined, or more than `limit` bytes unpacked. The decoder (utif) follows each code's chain
 * of prefixes through a table it keeps from one strip to the next: a code right after a Clear that is not a
 * byte, or one past the next free entry, reads an entry left over from other data or makes an entry its own
 * prefix, and the chain then never ends. The codes are read exactly as the decoder reads them (9 to 12
 * bits, most significant bit first, one code early to widen, up to End of Information or the end of the
 * strip); only the lengths of the entries are kept, so the check costs one step a code.
 */
function tiffLzwProblem(b: Uint8Array, start: number, length: number, limit: number): string | undefined {
  const CLEAR = 256;
  const END = 257;
  const lengths = new Uint16Array(4096);
  const end = (start + length) * 8;
  let bit = start * 8;
  let width = 9;
  let next = 258;
  // Before any Clear the decoder takes entry 0 as the previous code.
  let prev = 0;
  let out = 0;
  const read = () => {
    const at = bit >>> 3;
    const word = ((b[at] ?? 0) << 16) | ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0);
    const code = (word >>> (24 - (bit & 7) - width)) & ((1 << width) - 1);
    bit += width;
    return code;
  };
  const add = (prefix: number) => {
    if (next < 4096) lengths[next] = lengths[prefix] + 1;
    next++;
    if (next + 1 === 1 << width && width !== 12) width++;
  };
  lengths.fill(1, 0, 258);
  while (bit < end) {
    let code = read();
    if (code === END) break;
    if (code === CLEAR) {
      width = 9;
      next = 258;
      code = read();
      if (code === END) break;
      if (code >= CLEAR) return `an LZW strip has code ${code} right after a Clear code`;
      out += 1;
    } else if (code < next) {
      out += lengths[code];
      add(prev);
    } else if (code === next) {
      // The entry being defined: the previous code's string and its first byte.
      add(prev);
      out += lengths[prev] + 1;
    } else {
      return `an LZW strip refers to code ${code} before it is defined`;
    }
    if (out > limit) return UNPACKS_TOO_FAR;
    prev = code;
  }
  return undefined;
}

/**
 * What is wrong with a PackBits strip, if anything: more than `limit` bytes unpacked. The decoder writes
 * every run, past the end of its buffer too, so a strip of runs costs up to 128 steps a byte.
 */
function packBitsProblem(b: Uint8Array, start: number, length: number, limit: number): string | undefined {
  let out = 0;
  for (let p = start; p < start + length;) {
    const n = (b[p] << 24) >> 24;
    if (n >= 0) {
      out += n + 1;
      p += n + 2;
    } else {
      if (n !== -128) out += 1 - n;
      p += n === -128 ? 1 : 2;
    }
    if (out > limit) return UNPACKS_TOO_FAR;
  }
  return undefined;
}
export const tiff: InputFormat = {
  id: 'tiff',
  name: 'TIFF',
  sniff: (b) =>
    (b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42),
  native: true,
  readHeader: (bytes) => readTiffHeader(bytes),
  decode: (bytes, request) => decodeNative(bytes, request, { autoOrient: true }),
  // libtiff needs no guard against what each strip unpacks to; utif does.
  checkData: (bytes) => readTiffHeader(bytes, true).problem,
  // utif does not turn a page by its orientation (jimp looks for it in JPEG Exif only).
  decodeBitmap: async (bytes, request) =>
    orientBitmap(await decodeOnJsThread(bytes, request), readTiffOrientation(bytes) ?? 1),
};
