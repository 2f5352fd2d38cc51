/**
 * Reads an image file into RGBA pixels (EXIF orientation applied). Every way a file can be unusable becomes
 * one InputError line.
 *
 * Decoders (src/image/wasm-codecs.ts): JPEG, PNG and WebP through WebAssembly, BMP, GIF and TIFF through
 * jimp's own, all registered in a jimp instance built with @jimp/core's createJimp and no plugins. Each is
 * loaded on first use, once.
 *
 * First the file's header is read (src/image/header.ts) and the size it declares is checked against a pixel
 * limit, so a small file that claims a huge image is refused before any memory is spent on it.
 *
 * A JPEG, PNG or WebP header also names the decoder, which is then called directly, and a JPEG's EXIF
 * orientation is applied here (src/image/orient.ts, the same eight transforms as jimp). Going through jimp's
 * fromBuffer instead costs two things on a 12-megapixel photo: loading file-type to sniff the MIME type
 * (about 40 ms of a 0.6 s run) and jimp's rotation, which calls a closure per pixel (about 0.35 s for
 * orientation 6, against 0.04 s here). Every other file goes through the jimp instance's fromBuffer, which
 * sniffs the type and applies the orientation itself.
 *
 * A JPEG is first given to libjpeg-turbo (src/image/jpeg-turbo.ts: a smaller module, quicker to load, with
 * the same pixels as mozjpeg at full size). A caller that will shrink the picture anyway can say how small it
 * may be (`reduceFor`); the JPEG is then decoded at half size by the scaled inverse DCT when that is safe: the
 * half-size picture still covers the size asked for, and the data is coded in few bits per pixel. The scaled
 * transform averages pixels before their gamma is undone, where the loom resize averages in linear light, so
 * on fine detail and grain the two differ; the compressed size is what tells how much such detail the data
 * holds. Everything libjpeg-turbo does not decode cleanly goes to the decoders above, whose errors are the
 * ones given: CMYK, data that libjpeg stops on or warns about (unless `lenient`), any failure.
 */
import { InputError } from '../kernel/errors.js';
import type { RgbaImage } from '../loom/types.js';
import { readImageHeader, readJpegOrientation, type HeaderFormat } from './header.js';
import { applyOrientation } from './orient.js';
import { JPEG_COLORSPACE, decodeJpegScaled, scaledSide } from './jpeg-turbo.js';
import { decodeFormats, formatFor, type Bitmap } from './wasm-codecs.js';

/** Largest image, in pixels, that decodeImage accepts unless told otherwise (10,000 × 10,000). */
const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Accept pixels from data that is corrupt or ends early, where the decoder can go on past it. */
  lenient?: boolean;
  /**
   * The smallest size the caller needs, given the picture's upright size: a JPEG may then be decoded reduced,
   * but never below this.
   */
  reduceFor?: (width: number, height: number) => { width: number; height: number };
}

/** Decoded pixels, upright, and the size of the picture in the file (larger when it was decoded reduced). */
export interface DecodedImage extends RgbaImage {
  fullWidth: number;
  fullHeight: number;
}

/**
 * Half-size decoding only for data coded in at most this many bits per pixel (the file's size over its pixel
 * count); above it, grain and fine detail make the half-size picture's grid measurably different.
 */
const HALF_SIZE_MAX_BITS_PER_PIXEL = 1.25;

interface DecodingJimp {
  fromBuffer(buffer: Buffer): Promise<{ bitmap: Bitmap }>;
}

let jimp: Promise<DecodingJimp> | undefined;

function loadJimp(): Promise<DecodingJimp> {
  jimp ??= import('@jimp/core')
    .then(({ createJimp }) => createJimp({ formats: decodeFormats(), plugins: [] }) as unknown as DecodingJimp)
    .catch((err) => {
      jimp = undefined;
      throw err;
    });
  return jimp;
}

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

function decodeFailure(label: string, err: unknown): InputError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not find MIME|does not support decoding/i.test(message)) {
    return new InputError(`${label}: not a supported image (PNG, JPEG, WebP, BMP, GIF or TIFF)`);
  }
  return new InputError(`${label}: corrupt or truncated image (${message.split('\n')[0]})`);
}

/** Decodes an encoded image; `label` names it in errors (a path, or 'download'). */
export async function decodeImage(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readImageHeader(bytes);
  if (header) checkSize(label, header.width, header.height, maxPixels);
  if (header?.format === 'jpeg') {
    const turbo = await decodeJpegTurbo(bytes, header, options.reduceFor, options.lenient === true);
    if (turbo) return turbo;
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let bitmap: Bitmap;
  try {
    const direct = header && DIRECT[header.format] ? formatFor(DIRECT[header.format]!) : undefined;
    if (direct) {
      bitmap = await direct.decode(buffer);
      if (header!.format === 'jpeg') bitmap = orientBitmap(bitmap, readJpegOrientation(bytes));
    } else {
      bitmap = (await (await loadJimp()).fromBuffer(buffer)).bitmap;
    }
  } catch (err) {
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
  };
}

/** The JPEG decoded by libjpeg-turbo, upright, or `undefined` when the decoders above are to be used. */
async function decodeJpegTurbo(
  bytes: Uint8Array,
  header: { width: number; height: number },
  reduceFor: DecodeOptions['reduceFor'],
  lenient: boolean,
): Promise<DecodedImage | undefined> {
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
  if (!decoded || (decoded.warning && !lenient)) return undefined;
  const upright = applyOrientation(decoded, orientation);
  return { width: upright.width, height: upright.height, data: upright.data, fullWidth, fullHeight };
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
