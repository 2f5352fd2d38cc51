/**
 * Reads an image file into RGBA pixels (EXIF orientation applied). Every way a file can be unusable becomes
 * one InputError line.
 *
 * Decoders (src/image/wasm-codecs.ts): JPEG, PNG and WebP through WebAssembly, BMP, GIF and TIFF through
 * jimp's own, all registered in a jimp instance built with @jimp/core's createJimp and no plugins. Each is
 * loaded on first use, once. jimp's own run on a thread of their own (src/image/js-thread.ts), under a time
 * limit that grows with the picture's size, and are stopped when the run is interrupted.
 *
 * First the file's header is read (src/image/header.ts) and the size it declares, for every frame or page that
 * is decoded, is checked against a pixel limit, so a small file that claims a huge image is refused before any
 * memory is spent on it. A file that is none of the six formats, or whose header cannot be read, never
 * reaches a decoder.
 *
 * A PNG of more than REDUCE_ABOVE_PIXELS is decoded a row at a time at reduced size (src/image/png-reduce.ts),
 * so that its full-size pixels are never held. A caller that wants the loom grid (decodeForGrid) has a PNG's
 * rows go straight into the grid's resize instead, whatever its size: the full-size pixels are never held
 * and the grid is the same.
 *
 * Data that is missing or corrupt (a PNG's CRCs, zlib stream and data length, src/image/png-check.ts; a
 * decoder's warnings) is an error, since the decoders would turn it into plausible but wrong pixels; with
 * `lenient` whatever a decoder can still read is accepted, and what was wrong is returned as warnings.
 *
 * A JPEG, PNG or WebP header also names the decoder, which is then called directly, and a JPEG's EXIF
 * orientation is applied here (src/image/orient.ts, the same eight transforms as jimp). Going through jimp's
 * fromBuffer instead costs two things on a 12-megapixel photo: loading file-type to sniff the MIME type
 * (about 40 ms of a 0.6 s run) and jimp's rotation, which calls a closure per pixel (about 0.35 s for
 * orientation 6, against 0.04 s here). Every other file goes through the jimp instance's fromBuffer on the
 * JS thread (src/image/js-decode.ts), which sniffs the type and applies the orientation itself.
 *
 * A JPEG is first given to libjpeg-turbo (src/image/jpeg-turbo.ts: a smaller module, quicker to load, with
 * the same pixels as mozjpeg at full size). A caller that will shrink the picture anyway can say how small it
 * may be (`reduceFor`); the JPEG is then decoded at half size by the scaled inverse DCT when that is safe: the
 * half-size picture still covers the size asked for, and the data is coded in few bits per pixel. The scaled
 * transform averages pixels before their gamma is undone, where the loom resize averages in linear light, so
 * on fine detail and grain the two differ; the compressed size is what tells how much such detail the data
 * holds. Data libjpeg warns about (missing or corrupt) is refused then, unless `lenient`: another decoder
 * would only take as long again to say so. Everything else libjpeg-turbo does not decode goes to the decoders
 * above, whose errors are the ones given: CMYK, data that libjpeg stops on, any failure.
 */
import { InputError, isImagegenError, throwIfAborted } from '../kernel/errors.js';
import type { RgbImage, RgbaImage } from '../loom/types.js';
import { formatName, readImageHeader, readJpegOrientation, type HeaderFormat } from './header.js';
import { applyOrientation } from './orient.js';
import { JPEG_COLORSPACE, decodeJpegScaled, scaledSide } from './jpeg-turbo.js';
import { SHORT_DATA, checkPng, pngStructureSound } from './png-check.js';
import { decodePngReduced, decodePngToGrid, decodePngWhole } from './png-reduce.js';
import { DecodeOutOfMemory, DecodeTimeout, decodeOnThread } from './js-thread.js';
import { formatFor, type Bitmap } from './wasm-codecs.js';

/** Largest image, in pixels, that decodeImage accepts unless told otherwise (10,000 × 10,000). */
const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /**
   * Accept a picture whose data is missing or corrupt when a decoder can still read it (--lenient); what was
   * wrong is in the result's `warnings`. Without it such a picture is an InputError.
   */
  lenient?: boolean;
  /** A PNG with more pixels than this is decoded at reduced size, to at most this many (default REDUCE_ABOVE_PIXELS). */
  reduceAbovePixels?: number;
  /**
   * The smallest size the caller needs, given the picture's upright size: a JPEG may then be decoded reduced,
   * but never below this.
   */
  reduceFor?: (width: number, height: number) => { width: number; height: number };
  /** Stops a decode on the JS thread (BMP, GIF, TIFF); the decode then fails with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Decoded pixels, upright; the size of the picture in the file (larger when it was decoded reduced); and what
 * was wrong with the data when `lenient` let it through.
 */
export interface DecodedImage extends RgbaImage {
  fullWidth: number;
  fullHeight: number;
  warnings: string[];
  /**
   * Present when `data` lies in a decoder's memory (decodeForGrid's JPEGs, not copied out): call it once `data`
   * is no longer read, so that the next decode reuses that memory instead of paging in more. Such pixels
   * cannot go to a worker thread.
   */
  release?: () => void;
}

/**
 * Half-size decoding only for data coded in at most this many bits per pixel (the file's size over its pixel
 * count); above it, grain and fine detail make the half-size picture's grid measurably different.
 */
const HALF_SIZE_MAX_BITS_PER_PIXEL = 1.25;

/**
 * Time a decode on the JS thread is given: a fixed allowance and a little for each pixel the header declares,
 * several times what the decoders take on sound data, so that only data that keeps them busy runs into it.
 */
const JS_DECODE_BASE_MS = 2000;
const JS_DECODE_MS_PER_MEGAPIXEL = 500;

function megapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return `${mp >= 100 ? Math.round(mp) : Number(mp.toPrecision(3))} megapixels`;
}

function checkSize(label: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new InputError(
      `${label}: ${width} × ${height} pixels (${megapixels(width * height)}) is more than the limit of ${maxPixels} pixels (${megapixels(maxPixels)})`,
      { hint: 'shrink the picture first' },
    );
  }
}

/** Header formats that are decoded directly, by MIME type. */
const DIRECT: Partial<Record<HeaderFormat, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

const SUPPORTED = 'not a supported image (PNG, JPEG, WebP, BMP, GIF or TIFF)';

/** Decoder failures, in words: a library's message is kept only when it names the problem. */
function decodeFailure(label: string, err: unknown): InputError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not find MIME|does not support decoding/i.test(message)) return new InputError(`${label}: ${SUPPORTED}`);
  // Reads past the end of the data (a Node RangeError, pngjs's "waiting on finished stream").
  const cause =
    err instanceof RangeError || /out of range|outside buffer|finished stream|end of (data|buffer)/i.test(message)
      ? 'the data is cut short'
      : message.split('\n')[0];
  return new InputError(`${label}: corrupt or truncated image (${cause})`);
}

function corrupt(label: string, format: HeaderFormat, problem: string, lenientHelps: boolean): InputError {
  return new InputError(
    `${label}: corrupt or truncated ${formatName(format)} (${problem})`,
    lenientHelps ? { hint: 'with --lenient, whatever can still be read is used' } : {},
  );
}

interface CheckedInput {
  header: NonNullable<ReturnType<typeof readImageHeader>>;
  /** What the PNG checks found (lenient only: otherwise it was thrown). */
  warnings: string[];
}

/** The checks of the header alone: format, size, what the header itself says is wrong. */
function checkHeader(bytes: Uint8Array, label: string, options: DecodeOptions): CheckedInput['header'] {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readImageHeader(bytes);
  if (!header) throw new InputError(`${label}: ${SUPPORTED}`);
  if (header.unsupported) throw new InputError(`${label}: ${header.unsupported}`);
  // A size over the limit is named even when the rest of the header is broken: it is the more telling.
  checkSize(label, header.width, header.height, maxPixels);
  if (header.pixels > maxPixels) {
    throw new InputError(
      `${label}: its frames or pages add up to ${megapixels(header.pixels)}, more than the limit of ${megapixels(maxPixels)}`,
      { hint: 'keep one page or frame' },
    );
  }
  if (header.problem) throw corrupt(label, header.format, header.problem, false);
  return header;
}

/** Every check that comes before a decoder: the header's (unless already made), then a PNG's structure and data. */
async function checkInput(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions,
  header = checkHeader(bytes, label, options),
): Promise<CheckedInput> {
  const warnings = header.format === 'png' ? await checkPng(bytes) : [];
  const short = warnings.some((w) => w.startsWith(SHORT_DATA));
  if (warnings.length > 0 && (!options.lenient || short)) throw corrupt(label, header.format, warnings[0], !short);
  return { header, warnings };
}

/** A picture resized to its loom grid while it was decoded, so never held whole; and its size in the file. */
export interface GridDecoded {
  grid: RgbImage;
  fullWidth: number;
  fullHeight: number;
  warnings: string[];
}

/**
 * Decodes a picture for a loom grid of the size `grid` gives for the picture's full size: a sound PNG whose
 * grid is no taller than itself is decoded a row at a time straight into the grid (src/image/png-reduce.ts),
 * which is the same grid as the whole picture resized, at a fraction of the memory; anything else is decoded
 * whole, as decodeImage does (a JPEG at reduced size when that is safe).
 */
export async function decodeForGrid(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions,
  grid: (width: number, height: number) => { width: number; height: number },
  background?: readonly [number, number, number],
): Promise<GridDecoded | DecodedImage> {
  const header = checkHeader(bytes, label, options);
  // The streaming decoder inflates the data itself and fails on any fault in it, so the data is not inflated a
  // first time to check it; when the stream fails, the full checks and decoders below decide, in their words.
  if (header.format === 'png' && pngStructureSound(bytes)) {
    const streamed = await decodePngToGrid(bytes, grid, background).catch(() => undefined);
    if (streamed) return { ...streamed, warnings: [] };
  }
  const checked = await checkInput(bytes, label, options, header);
  return decodeChecked(bytes, label, { ...options, reduceFor: options.reduceFor ?? grid }, checked, true);
}

/** Decodes an encoded image; `label` names it in errors (a path, or 'download'). */
export async function decodeImage(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  return decodeChecked(bytes, label, options, await checkInput(bytes, label, options));
}

/**
 * Decodes a checked input. With `lend`, a JPEG's pixels may stay in the decoder's memory (the result has a
 * `release`); otherwise they are always plain bytes of their own, which can go to a worker thread.
 */
async function decodeChecked(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions,
  { header, warnings }: CheckedInput,
  lend = false,
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (header.format === 'jpeg') {
    const turbo = await decodeJpegTurbo(bytes, header, options.reduceFor, options.lenient === true, lend);
    // Refused without a second decode by another decoder, which would cost as much again only to word it.
    if (turbo === 'warned')
      throw corrupt(
        label,
        'jpeg',
        header.cutShort ? 'the data is cut short' : 'libjpeg reports missing or corrupt data',
        true,
      );
    if (turbo) return turbo;
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (header.format === 'png' && warnings.length === 0) {
    // A big PNG is reduced while it is decoded: its full-size pixels would cost several times the file.
    const reduced = await decodePngReduced(bytes, options.reduceAbovePixels).catch((err: unknown) => {
      throw decodeFailure(label, err);
    });
    if (reduced) return { ...reduced, fullWidth: header.width, fullHeight: header.height, warnings };
    // Data the row decoder fails on is left to the WebAssembly decoder, whose reading of it counts.
    const whole = await decodePngWhole(bytes).catch(() => undefined);
    if (whole) return { ...whole, fullWidth: header.width, fullHeight: header.height, warnings };
  }

  let bitmap: Bitmap;
  try {
    const direct = DIRECT[header.format] ? formatFor(DIRECT[header.format]!) : undefined;
    if (direct) {
      bitmap = await direct.decode(buffer, { lenient: options.lenient === true, warnings });
      if (header.format === 'jpeg') bitmap = orientBitmap(bitmap, readJpegOrientation(bytes));
    } else {
      const ms = JS_DECODE_BASE_MS + (header.pixels / 1e6) * JS_DECODE_MS_PER_MEGAPIXEL;
      const decoded = await decodeOnThread(bytes, options.lenient === true, {
        ms,
        signal: options.signal,
        widestRow: header.widestRow,
      });
      bitmap = decoded.bitmap;
      warnings.push(...decoded.warnings);
    }
  } catch (err) {
    throwIfAborted(options.signal);
    if (isImagegenError(err)) throw err;
    if (err instanceof DecodeTimeout || err instanceof DecodeOutOfMemory)
      throw new InputError(`${label}: the ${formatName(header.format)} decoder was ${err.message}`, {
        hint: 'its data may be made to keep the decoder busy; if the picture is sound, convert it to PNG first',
      });
    // What the checks found says more than what the decoder made of it.
    if (warnings.length > 0) throw corrupt(label, header.format, warnings[0], false);
    throw decodeFailure(label, err);
  }
  const { width, height, data } = bitmap;
  if (!width || !height) throw new InputError(`${label}: image has no pixels`);
  checkSize(label, width, height, maxPixels);
  if (data.length < width * height * 4)
    throw new InputError(`${label}: corrupt or truncated image (too few pixels decoded)`);
  return {
    width,
    height,
    data: new Uint8Array(data.buffer, data.byteOffset, width * height * 4),
    fullWidth: width,
    fullHeight: height,
    warnings,
  };
}

/**
 * The JPEG decoded by libjpeg-turbo, upright; `undefined` when the decoders above are to be used, and 'warned'
 * when libjpeg warned about the data and `lenient` is not set.
 */
async function decodeJpegTurbo(
  bytes: Uint8Array,
  header: { width: number; height: number },
  reduceFor: DecodeOptions['reduceFor'],
  lenient: boolean,
  lend: boolean,
): Promise<DecodedImage | 'warned' | undefined> {
  const { width, height } = header;
  if (!width || !height) return undefined;
  const orientation = readJpegOrientation(bytes);
  const turned = orientation > 4;
  const fullWidth = turned ? height : width;
  const fullHeight = turned ? width : height;
  const needed = reduceFor?.(fullWidth, fullHeight);
  const half =
    needed !== undefined &&
    (bytes.byteLength * 8) / (width * height) <= HALF_SIZE_MAX_BITS_PER_PIXEL &&
    scaledSide(fullWidth, 2) >= needed.width &&
    scaledSide(fullHeight, 2) >= needed.height;
  let decoded;
  try {
    decoded = await decodeJpegScaled(
      bytes,
      half ? 2 : 1,
      (info) =>
        info.width === width &&
        info.height === height &&
        info.colorspace !== JPEG_COLORSPACE.CMYK &&
        info.colorspace !== JPEG_COLORSPACE.YCCK,
    );
  } catch {
    return undefined;
  }
  if (!decoded) return undefined;
  if (decoded.warning && !lenient) {
    decoded.release();
    return 'warned';
  }
  const upright = applyOrientation(decoded, orientation);
  const warnings = decoded.warning ? ['libjpeg reports missing or corrupt data'] : [];
  const image = { width: upright.width, height: upright.height, data: upright.data, fullWidth, fullHeight, warnings };
  if (lend && upright.data === decoded.data) return { ...image, release: decoded.release };
  // A turned picture is a copy already; anything else is copied out, and the decoder's memory given back.
  const own = upright.data === decoded.data ? new Uint8Array(decoded.data) : image.data;
  decoded.release();
  return { ...image, data: own };
}

function orientBitmap(bitmap: Bitmap, orientation: number): Bitmap {
  if (orientation === 1) return bitmap;
  const { width, height, data } = applyOrientation(
    {
      width: bitmap.width,
      height: bitmap.height,
      data: new Uint8Array(bitmap.data.buffer, bitmap.data.byteOffset, bitmap.width * bitmap.height * 4),
    },
    orientation,
  );
  return { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}
