/**
 * Reads an image file into RGBA pixels (EXIF orientation applied). Every way a file can be unusable becomes
 * one InputError line.
 *
 * Each input format is a module of src/image/formats/ with a line in its registry: the registry names the
 * format by the file's signature, and the format reads its header and decodes it. A file that is none of the
 * formats, or whose header cannot be read, never reaches a decoder.
 *
 * First the size the header declares, for every frame or page that is decoded, is checked against a pixel
 * limit, so a small file that claims a huge image is refused before any memory is spent on it. Then the
 * format decodes the file its own way (a JPEG by libjpeg-turbo, at reduced size when that is safe; a PNG a
 * row at a time, checked in the same pass; a TIFF or GIF by sharp), or leaves it to its general decoder
 * (WebAssembly for JPEG, PNG and WebP; jimp's own on a thread of its own for BMP, GIF and TIFF), once the
 * checks of the data that decoder needs have passed; their failures are worded here.
 *
 * Data that is missing or corrupt is an error, since the decoders would turn it into plausible but wrong
 * pixels; with `lenient` whatever a decoder can still read is accepted, and what was wrong is returned as
 * warnings.
 */
import { InputError, isImagegenError, throwIfAborted } from '../kernel/errors.js';
import { inputFormat, inputFormatNames, sniffInputFormat } from './formats/registry.js';
import { corrupt } from './formats/shared.js';
import type {
  DecodeOptions,
  DecodeRequest,
  DecodedImage,
  GridDecoded,
  GridSize,
  ImageHeader,
} from './formats/types.js';
import { DecodeOutOfMemory, DecodeTimeout } from './js-thread.js';
import { loadSharp } from './native.js';

export type { DecodeOptions, DecodedImage, GridDecoded } from './formats/types.js';

/** Largest image, in pixels, that decodeImage accepts unless told otherwise (10,000 × 10,000). */
const DEFAULT_MAX_PIXELS = 100_000_000;

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

const notSupported = (label: string) => new InputError(`${label}: not a supported image (${inputFormatNames()})`);

/** Decoder failures, in words: a library's message is kept only when it names the problem. */
function decodeFailure(label: string, err: unknown): InputError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not find MIME|does not support decoding/i.test(message)) return notSupported(label);
  // Reads past the end of the data (a Node RangeError, pngjs's "waiting on finished stream").
  const cause =
    err instanceof RangeError || /out of range|outside buffer|finished stream|end of (data|buffer)/i.test(message)
      ? 'the data is cut short'
      : message.split('\n')[0];
  return new InputError(`${label}: corrupt or truncated image (${cause})`);
}

/** A decoder stopped by its time or memory limit, in words; `undefined` for any other failure. */
function stopped(label: string, formatName: string, err: unknown): InputError | undefined {
  if (!(err instanceof DecodeTimeout || err instanceof DecodeOutOfMemory)) return undefined;
  return new InputError(`${label}: the ${formatName} decoder was ${err.message}`, {
    hint: 'its data may be made to keep the decoder busy; if the picture is sound, convert it to PNG first',
  });
}

/** The checks of the header alone: format, size, what the header itself says is wrong. */
function checkHeader(bytes: Uint8Array, label: string, options: DecodeOptions): ImageHeader {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = sniffInputFormat(bytes)?.readHeader(bytes);
  if (!header) throw notSupported(label);
  if (header.unsupported) throw new InputError(`${label}: ${header.unsupported}`);
  // A size over the limit is named even when the rest of the header is broken: it is the more telling.
  checkSize(label, header.width, header.height, maxPixels);
  if (header.pixels > maxPixels) {
    throw new InputError(
      `${label}: its frames or pages add up to ${megapixels(header.pixels)}, more than the limit of ${megapixels(maxPixels)}`,
      { hint: 'keep one page or frame' },
    );
  }
  if (header.problem) throw corrupt(label, inputFormat(header.format).name, header.problem, false);
  return header;
}

/**
 * Decodes a picture for a loom grid of the size `grid` gives for the picture's full size: a format that can
 * (a sound PNG whose grid is no taller than itself) is decoded straight into the grid, which is the same grid
 * as the whole picture resized, at a fraction of the memory; anything else is decoded whole, as decodeImage
 * does (a JPEG at reduced size when that is safe).
 */
export async function decodeForGrid(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions,
  grid: GridSize,
  background?: readonly [number, number, number],
): Promise<GridDecoded | DecodedImage> {
  const header = checkHeader(bytes, label, options);
  const request: DecodeRequest = {
    header,
    label,
    options: { ...options, reduceFor: options.reduceFor ?? grid },
    lend: true,
    warnings: [],
  };
  const streamed = await inputFormat(header.format).decodeToGrid?.(bytes, request, grid, background);
  return streamed ?? decodeChecked(bytes, request);
}

/**
 * Before a file goes to a worker thread to be decoded: loads sharp in this thread when the file's format is
 * decoded by it. On glibc a shared library first loaded by a worker is unloaded when that worker ends, which
 * can bring the whole process down; loaded here first, it stays (sharp's documentation says as much).
 */
export async function loadDecoderFor(bytes: Uint8Array): Promise<void> {
  if (sniffInputFormat(bytes)?.native) await loadSharp();
}

/** Decodes an encoded image; `label` names it in errors (a path, or 'download'). */
export async function decodeImage(
  bytes: Uint8Array,
  label: string,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const header = checkHeader(bytes, label, options);
  return decodeChecked(bytes, { header, label, options, lend: false, warnings: [] });
}

/**
 * Decodes a file whose header passed: the format's own way, else its general decoder. With `lend`, a JPEG's
 * pixels may stay in the decoder's memory (the result has a `release`); otherwise they are always plain bytes
 * of their own, which can go to a worker thread.
 */
async function decodeChecked(bytes: Uint8Array, request: DecodeRequest): Promise<DecodedImage> {
  const { header, label, options, warnings } = request;
  const format = inputFormat(header.format);
  const own = await format.decode?.(bytes, request).catch((err: unknown) => {
    throw isImagegenError(err) ? err : (stopped(label, format.name, err) ?? decodeFailure(label, err));
  });
  if (own) return own;

  const problem = format.checkData?.(bytes);
  if (problem) throw corrupt(label, format.name, problem, false);
  let bitmap;
  try {
    bitmap = await format.decodeBitmap(bytes, request);
  } catch (err) {
    throwIfAborted(options.signal);
    if (isImagegenError(err)) throw err;
    const stop = stopped(label, format.name, err);
    if (stop) throw stop;
    // What the checks found says more than what the decoder made of it.
    if (warnings.length > 0) throw corrupt(label, format.name, warnings[0], false);
    throw decodeFailure(label, err);
  }
  const { width, height, data } = bitmap;
  if (!width || !height) throw new InputError(`${label}: image has no pixels`);
  checkSize(label, width, height, options.maxPixels ?? DEFAULT_MAX_PIXELS);
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
