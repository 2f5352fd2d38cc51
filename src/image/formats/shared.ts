/**
 * What the input format modules share: numbers read out of bytes, the frames a header declares, the general
 * decoders a format leaves its files to, and the words for a corrupt file.
 *
 * The general decoders (src/image/wasm-codecs.ts): JPEG, PNG and WebP through WebAssembly; BMP, GIF and TIFF
 * through jimp's own, on a thread of their own (src/image/js-thread.ts), under a time limit that grows with
 * the picture's size, and stopped when the run is interrupted.
 */
import { InputError } from '../../kernel/errors.js';
import { decodeOnThread } from '../js-thread.js';
import { formatFor, type Bitmap } from '../wasm-codecs.js';
import type { DecodeRequest, ImageHeader, InputFormatId } from './types.js';

export function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export function i32le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

/** Collects declared frame sizes and builds the header. */
export class Frames {
  width = 0;
  height = 0;
  pixels = 0;
  count = 0;

  constructor(private readonly format: InputFormatId) {}

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

/** A file whose data is missing or corrupt, in the format's name; `lenientHelps` when --lenient would take it. */
export function corrupt(label: string, format: string, problem: string, lenientHelps: boolean): InputError {
  return new InputError(
    `${label}: corrupt or truncated ${format} (${problem})`,
    lenientHelps ? { hint: 'with --lenient, whatever can still be read is used' } : {},
  );
}

/** The WebAssembly decoder for `mime` (mozjpeg, Rust png, libwebp, each with jimp's as a second try). */
export function decodeWasm(mime: string, bytes: Uint8Array, request: DecodeRequest): Promise<Bitmap> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return formatFor(mime)!.decode(buffer, { lenient: request.options.lenient === true, warnings: request.warnings });
}

/**
 * Time a decode on the JS thread is given: a fixed allowance and a little for each pixel the header declares,
 * several times what the decoders take on sound data, so that only data that keeps them busy runs into it.
 */
const JS_DECODE_BASE_MS = 2000;
const JS_DECODE_MS_PER_MEGAPIXEL = 500;

/** jimp's decoder for the file's type (BMP, GIF, TIFF), on the decode thread, as stored (not turned upright). */
export async function decodeOnJsThread(bytes: Uint8Array, request: DecodeRequest): Promise<Bitmap> {
  const { header, options } = request;
  const ms = JS_DECODE_BASE_MS + (header.pixels / 1e6) * JS_DECODE_MS_PER_MEGAPIXEL;
  const decoded = await decodeOnThread(bytes, options.lenient === true, {
    ms,
    signal: options.signal,
    widestRow: header.widestRow,
  });
  request.warnings.push(...decoded.warnings);
  return decoded.bitmap;
}
