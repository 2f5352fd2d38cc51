/**
 * Reads the size an encoded image declares, without decoding any pixels, so that a file that claims an
 * enormous image is refused before a decoder allocates memory for it.
 *
 * Every header form the decoders accept is read, and every frame or page they would allocate for is
 * counted, the way the decoders themselves read them:
 * - PNG: IHDR, and the frame of every APNG fcTL chunk.
 * - JPEG: every SOFn frame header, found the way libjpeg finds markers (skipping junk bytes between
 *   segments and the entropy-coded data of every scan); the scans are counted, with the samples each one
 *   passes over, and too many is refused: each is a pass of the decoder over the whole picture.
 * - GIF: the logical screen and every image descriptor.
 * - BMP: the info headers jimp's decoder reads (40, 52, 56, 108 or 124 bytes; width unsigned, height signed).
 * - WebP: the VP8X canvas and every VP8 and VP8L bitstream.
 * - TIFF: every page of the IFD chain (jimp decodes them all), with width and height in any integer type;
 *   the structure is walked as the decoder walks it, and what would make it loop or allocate without bound
 *   is refused.
 * A header that cannot be read is a `problem`; a form no decoder here reads is `unsupported`.
 */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';

export type HeaderFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'tiff';

export interface ImageHeader {
  format: HeaderFormat;
  /** The largest frame, page or canvas declared (by area). */
  width: number;
  height: number;
  /** Pixels over every frame or page that is decoded (at least width × height). */
  pixels: number;
  /** Why the header cannot be used: the file is corrupt or cut short. */
  problem?: string;
  /** Set when the file is a valid form that is not read here, saying what it is and what to do. */
  unsupported?: string;
  /** A JPEG whose data ends before its end-of-image marker. */
  cutShort?: true;
  /** A TIFF: the widest row of any strip or tile, in pixels. */
  widestRow?: number;
}

const FORMAT_NAMES: Record<HeaderFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  bmp: 'BMP',
  webp: 'WebP',
  tiff: 'TIFF',
};

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function i32le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

/** Collects declared frame sizes and builds the header. */
class Frames {
  width = 0;
  height = 0;
  pixels = 0;
  count = 0;

  constructor(private readonly format: HeaderFormat) {}

  /** A frame the decoder allocates for; `decoded` false for one that is declared but not decoded. */
  add(width: number, height: number, decoded = true): void {
    this.count++;
    if (width * height >= this.width * this.height) {
      this.width = width;
      this.height = height;
    }
    if (decoded) this.pixels += width * height;
  }

  header(): ImageHeader {
    return { format: this.format, width: this.width, height: this.height, pixels: this.pixels };
  }

  problem(problem: string): ImageHeader {
    return { ...this.header(), problem };
  }

  unsupported(unsupported: string): ImageHeader {
    return { ...this.header(), unsupported };
  }
}

// --- PNG -----------------------------------------------------------------------------------------------------

function png(b: Uint8Array): ImageHeader {
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

// --- JPEG ----------------------------------------------------------------------------------------------------

/** SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Scans a JPEG may have. Each scan is a pass of the decoders over every block of its components, however
 * little data it holds, so a file of one small scan repeated keeps them busy for minutes; real files have a
 * handful. libjpeg-turbo stops its own fuzzers at this many.
 */
const MAX_JPEG_SCANS = 500;

/**
 * Samples all scans together may pass over: as many passes over a picture at the default pixel limit as the
 * usual progressive scripts need at full chroma, with room to spare. It ties the decoding time to the pixels,
 * which a count of scans alone does not.
 */
const MAX_JPEG_SCAN_SAMPLES = 30 * 100_000_000;

function jpeg(b: Uint8Array): ImageHeader {
  const frames = new Frames('jpeg');
  let p = 2;
  let ended = false;
  // The last frame header's components (id → samples), which the scans after it name.
  let components = new Map<number, number>();
  let frameSamples = 0;
  let scans = 0;
  let scanSamples = 0;
  while (p < b.length) {
    // Like libjpeg's next_marker: bytes that are not a marker are skipped (libjpeg warns of "extraneous
    // bytes"), then fill bytes (FF FF ...); FF 00 is not a marker.
    if (b[p] !== 0xff) {
      p++;
      continue;
    }
    while (p + 1 < b.length && b[p + 1] === 0xff) p++;
    if (p + 1 >= b.length) break;
    const marker = b[p + 1];
    p += 2;
    if (marker === 0x00 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // standalone
    if (marker === 0xd9) {
      ended = true;
      break;
    }
    if (p + 2 > b.length) break;
    const length = u16be(b, p);
    if (length < 2) return frames.problem(`a segment declares a length of ${length}`);
    if (isSof(marker)) {
      // length (2), precision (1), height (2), width (2)
      if (p + 7 > b.length) break;
      const height = u16be(b, p + 3);
      const width = u16be(b, p + 5);
      frames.add(width, height);
      ({ components, samples: frameSamples } = jpegComponents(b, p, width, height));
    }
    if (marker === 0xda && p + 3 <= b.length) {
      // length (2), component count (1), then an id and its tables for each.
      scans++;
      for (let i = 0; i < b[p + 2] && p + 3 + 2 * i < b.length; i++)
        scanSamples += components.get(b[p + 3 + 2 * i]) ?? frameSamples;
    }
    p += length;
    if (marker === 0xda) {
      // Entropy-coded data: a marker is FF followed by a byte that is neither 00 (a stuffed FF) nor a
      // restart marker. The FF bytes are found by indexOf (native), which matters on files of megabytes.
      while (p + 1 < b.length) {
        const at = b.indexOf(0xff, p);
        if (at < 0 || at + 1 >= b.length) {
          p = b.length - 1;
          break;
        }
        const next = b[at + 1];
        if (next !== 0x00 && (next < 0xd0 || next > 0xd7)) {
          p = at;
          break;
        }
        p = at + 1;
      }
    }
  }
  if (scans > MAX_JPEG_SCANS)
    return frames.unsupported(
      `a JPEG of ${scans} scans is not supported (at most ${MAX_JPEG_SCANS}); save it again as a baseline JPEG`,
    );
  if (scanSamples > MAX_JPEG_SCAN_SAMPLES)
    return frames.unsupported(
      `a JPEG whose ${scans} scans pass over ${Math.round(scanSamples / 1e6)} million samples in all is more ` +
        `decoding work than allowed (${MAX_JPEG_SCAN_SAMPLES / 1e6} million); save it again as a baseline JPEG`,
    );
  if (frames.count === 0)
    return frames.problem(
      ended ? 'no frame header before the end of the image' : 'the file ends before its frame header',
    );
  if (frames.width === 0 || frames.height === 0)
    return frames.problem(`the frame header declares ${frames.width} × ${frames.height} pixels`);
  return { ...frames.header(), ...(ended ? {} : { cutShort: true }) };
}

/**
 * The samples of each component of the frame header at `p` (id → count), from its sampling factors as libjpeg
 * sizes components, and of all components together.
 */
function jpegComponents(
  b: Uint8Array,
  p: number,
  width: number,
  height: number,
): { components: Map<number, number>; samples: number } {
  // length (2), precision (1), height (2), width (2), count (1), then id, sampling (H << 4 | V), table.
  const count = p + 8 <= b.length ? b[p + 7] : 0;
  const factors: Array<[number, number, number]> = [];
  for (let i = 0; i < count && p + 10 + 3 * i < b.length; i++) {
    const sampling = b[p + 9 + 3 * i];
    factors.push([b[p + 8 + 3 * i], Math.max(sampling >> 4, 1), Math.max(sampling & 15, 1)]);
  }
  const hMax = Math.max(1, ...factors.map(([, h]) => h));
  const vMax = Math.max(1, ...factors.map(([, , v]) => v));
  const components = new Map<number, number>();
  let samples = 0;
  for (const [id, h, v] of factors) {
    const n = Math.ceil((width * h) / hMax) * Math.ceil((height * v) / vMax);
    components.set(id, n);
    samples += n;
  }
  return { components, samples: samples || width * height };
}

// --- GIF -----------------------------------------------------------------------------------------------------

/** More frames than this is refused: the decoder keeps a record for each one it reads. */
const MAX_GIF_FRAMES = 10_000;

function gif(b: Uint8Array): ImageHeader {
  const frames = new Frames('gif');
  if (b.length < 13) return frames.problem('the file ends inside its header');
  // The screen is what the first frame is drawn into.
  frames.add(u16le(b, 6), u16le(b, 8));
  const flags = b[10];
  let p = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  const skipSubBlocks = () => {
    while (p < b.length && b[p] !== 0) p += b[p] + 1;
    p++;
  };
  let images = 0;
  while (p < b.length) {
    const block = b[p];
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      p += 2; // introducer, label
      skipSubBlocks();
    } else if (block === 0x2c) {
      // left (2), top (2), width (2), height (2), flags (1)
      if (p + 10 > b.length) break;
      const width = u16le(b, p + 5);
      const height = u16le(b, p + 7);
      // The decoder unpacks the first frame whole, however much of it lies off the screen.
      frames.add(width, height, images === 0);
      if (++images > MAX_GIF_FRAMES)
        return frames.unsupported(`a GIF of more than ${MAX_GIF_FRAMES} frames is not supported`);
      const local = b[p + 9];
      p += 10 + (local & 0x80 ? 3 << ((local & 7) + 1) : 0);
      const dataAt = p;
      const codeSize = b[p++];
      skipSubBlocks();
      // The decoder's LZW loop never ends on data that runs past the end of the file.
      if (images === 1 && p > b.length) return frames.problem("the first frame's data is cut short");
      if (images === 1 && (codeSize < 2 || codeSize > 11))
        return frames.problem(`the first frame's LZW code size is ${codeSize}`);
      if (images === 1 && !gifCodesValid(b, dataAt, width * height))
        return frames.problem("the first frame's LZW data refers to codes not yet defined");
    } else {
      break; // the decoder stops here
    }
  }
  if (images === 0) return frames.problem('no image in the file');
  return frames.header();
}

/**
 * Whether the LZW codes of a GIF frame (at `at`: code size, then sub-blocks) only refer to codes already
 * defined. The decoder (omggif) follows each code's chain of prefixes through its table; a code from past
 * the end of the table can make that chain a cycle, and the decoder then never returns. This reads the
 * codes exactly as it does, without writing pixels.
 */
function gifCodesValid(b: Uint8Array, at: number, pixels: number): boolean {
  let p = at;
  const minCodeSize = b[p++];
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  let next = eoi + 1;
  let size = minCodeSize + 1;
  let mask = (1 << size) - 1;
  let shift = 0;
  let cur = 0;
  let out = 0;
  let block = b[p++];
  const prefix = new Int32Array(4096);
  let prev = -1;
  for (;;) {
    while (shift < 16 && block !== 0 && p < b.length) {
      cur |= b[p++] << shift;
      shift += 8;
      if (block === 1) block = b[p++];
      else block--;
    }
    if (shift < size) return true;
    const code = cur & mask;
    cur >>= size;
    shift -= size;
    if (code === clear) {
      next = eoi + 1;
      size = minCodeSize + 1;
      mask = (1 << size) - 1;
      prev = -1;
      continue;
    }
    if (code === eoi) return true;
    if (code > next || (code === next && prev < 0)) return false;
    let length = 0;
    for (let c = code < next ? code : prev; c > clear; c = prefix[c]) length++;
    out += length + 1 + (code < next ? 0 : 1);
    if (out > pixels) return true; // the decoder stops here
    if (prev >= 0 && next < 4096) {
      prefix[next++] = prev;
      if (next >= mask + 1 && size < 12) {
        size++;
        mask = (mask << 1) | 1;
      }
    }
    prev = code;
  }
}

// --- BMP -----------------------------------------------------------------------------------------------------

/** The info header sizes jimp's BMP decoder reads. */
const BMP_INFO_HEADERS = new Set([40, 52, 56, 108, 124]);

function bmp(b: Uint8Array): ImageHeader {
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

// --- WebP ----------------------------------------------------------------------------------------------------

function webp(b: Uint8Array): ImageHeader {
  const frames = new Frames('webp');
  let bitstreams = 0;
  for (let p = 12; p + 8 <= b.length;) {
    const chunk = ascii(b, p, 4);
    const size = u32le(b, p + 4);
    const d = p + 8;
    if (chunk === 'VP8X') {
      // Flags (1), reserved (3), canvas width - 1 (24 bits), canvas height - 1 (24 bits).
      if (d + 10 > b.length) break;
      frames.add(
        (b[d + 4] | (b[d + 5] << 8) | (b[d + 6] << 16)) + 1,
        (b[d + 7] | (b[d + 8] << 8) | (b[d + 9] << 16)) + 1,
      );
      if (b[d] & 0x02) return frames.unsupported('animated WebP: not supported; export one frame as a still picture');
    } else if (chunk === 'ANIM' || chunk === 'ANMF') {
      return frames.unsupported('animated WebP: not supported; export one frame as a still picture');
    } else if (chunk === 'VP8 ') {
      // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scaling bits above each).
      if (d + 10 > b.length) break;
      if (b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a)
        return frames.problem('the VP8 bitstream has no start code');
      frames.add(u16le(b, d + 6) & 0x3fff, u16le(b, d + 8) & 0x3fff);
      bitstreams++;
    } else if (chunk === 'VP8L') {
      // Signature 0x2f, then width - 1 and height - 1 in 14 bits each, least significant bits first.
      if (d + 5 > b.length) break;
      if (b[d] !== 0x2f) return frames.problem('the VP8L bitstream has no signature');
      const bits = u32le(b, d + 1);
      frames.add((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
      bitstreams++;
    }
    p = d + size + (size & 1);
  }
  if (bitstreams === 0) return frames.problem('no image data (VP8 or VP8L chunk) in the file');
  if (frames.width === 0 || frames.height === 0)
    return frames.problem(`the bitstream declares ${frames.width} × ${frames.height} pixels`);
  return frames.header();
}

// --- TIFF ----------------------------------------------------------------------------------------------------

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
      const header = tiff(nested);
      if (header.problem) throw new TiffError(`its maker note: ${header.problem}`);
    } else if (ascii(b, at, 5) === 'OLYMP' || ascii(b, at, 9) === 'OM SYSTEM') {
      throw new TiffError('an Olympus maker note (not supported)');
    } else if (at + 6 <= b.length && this.u16(b, at) < 300 && this.u16(b, at + 4) <= 12) {
      this.ifd(at, depth + 1);
    }
  }
}

function tiff(b: Uint8Array): ImageHeader {
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
        widestRow = Math.max(widestRow, checkTiffPage(walker, tags, frames, b.length));
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
 * Counts a page and checks that decoding it stays within its size: samples, tiles, strips, compression.
 * Returns the width of its rows as the decoder unpacks them (a tile's or the page's).
 */
function checkTiffPage(walker: TiffWalker, tags: Map<number, TiffEntry>, frames: Frames, fileLength: number): number {
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
        const frame = jpeg(strip);
        if (frame.unsupported) throw new TiffError(`a JPEG strip: ${frame.unsupported}`);
        if (frame.width * frame.height > (width + 16) * (height + 16))
          throw new TiffError(`a JPEG strip declares ${frame.width} × ${frame.height} pixels, more than its page`);
      }
    }
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

/** The format and size an image file declares, or `undefined` when it is not one of the formats above. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const format = sniffFormat(bytes);
  if (!format) return undefined;
  return { png, jpeg, gif, bmp, webp, tiff }[format](bytes);
}

/** The format a file's first bytes name (its signature), or `undefined`. */
function sniffFormat(b: Uint8Array): HeaderFormat | undefined {
  if (
    b.length >= 8 &&
    b[0] === 0x89 &&
    ascii(b, 1, 3) === 'PNG' &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a
  ) {
    return 'png';
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(b, 0, 2) === 'BM') return 'bmp';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (
    (b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42)
  ) {
    return 'tiff';
  }
  return undefined;
}

/** The name of a format, for messages. */
export function formatName(format: HeaderFormat): string {
  return FORMAT_NAMES[format];
}

/**
 * The EXIF Orientation (1..8) of a JPEG: tag 0x0112 of IFD0 in the first APP1 "Exif" segment, as jimp
 * reads it. 1 (as stored) when there is none or it cannot be read.
 */
export function readJpegOrientation(bytes: Uint8Array): number {
  const b = bytes;
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 1;
  let p = 2;
  while (p + 3 < b.length) {
    if (b[p] !== 0xff) return 1;
    const marker = b[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    p += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) return 1;
    const length = u16be(b, p);
    if (length < 2 || p + length > b.length) return 1;
    if (marker === 0xe1 && length >= 8 + 8 && ascii(b, p + 2, 6) === 'Exif\0\0') {
      const orientation = tiffOrientation(b.subarray(p + 8, p + length));
      if (orientation !== undefined) return orientation;
    }
    p += length;
  }
  return 1;
}

/** Orientation from a TIFF structure (an Exif block): IFD0's tag 0x0112, or undefined if not a TIFF. */
function tiffOrientation(t: Uint8Array): number | undefined {
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const u16 = le ? u16le : u16be;
  const u32 = le ? u32le : u32be;
  if (u16(t, 2) !== 42) return undefined;
  const ifd = u32(t, 4);
  if (ifd + 2 > t.length) return 1;
  const entries = u16(t, ifd);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return 1;
    if (u16(t, e) !== 0x0112) continue;
    const value = u16(t, e + 2) === 3 ? u16(t, e + 8) : u16(t, e + 2) === 4 ? u32(t, e + 8) : 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}
