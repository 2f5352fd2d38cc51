/**
 * JPEG input.
 *
 * The header: every SOFn frame header, found the way libjpeg finds markers (skipping junk bytes between
 * segments and the entropy-coded data of every scan); the scans are counted, with the samples each one passes
 * over, and too many is refused: each is a pass of the decoder over the whole picture.
 *
 * Decoding: first libjpeg-turbo (src/image/jpeg-turbo.ts: a smaller module, quicker to load, with the same
 * pixels as mozjpeg at full size). A caller that will shrink the picture anyway can say how small it may be
 * (`reduceFor`); the JPEG is then decoded at half size by the scaled inverse DCT when that is safe: the
 * half-size picture still covers the size asked for, and the data is coded in few bits per pixel. The scaled
 * transform averages pixels before their gamma is undone, where the loom resize averages in linear light, so
 * on fine detail and grain the two differ; the compressed size is what tells how much such detail the data
 * holds. Data libjpeg warns about (missing or corrupt) is refused then, unless `lenient`: another decoder
 * would only take as long again to say so. Everything else libjpeg-turbo does not decode goes to mozjpeg
 * (WebAssembly), whose errors are the ones given: CMYK, data that libjpeg stops on, any failure.
 *
 * The EXIF orientation is applied here (src/image/orient.ts, the same eight transforms as jimp): jimp's
 * rotation calls a closure per pixel, about ten times slower on a 12-megapixel photo.
 */
import { applyOrientation, orientBitmap, readTiffOrientation } from '../orient.js';
import { JPEG_COLORSPACE, decodeJpegScaled, scaledSide } from '../jpeg-turbo.js';
import { Frames, ascii, corrupt, decodeWasm, u16be } from './shared.js';
import type { DecodeOptions, DecodedImage, ImageHeader, InputFormat } from './types.js';

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

/** The JPEG header at the start of `b`; a TIFF reads its JPEG strips' with it too. */
export function readJpegHeader(b: Uint8Array): ImageHeader {
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
      const orientation = readTiffOrientation(b.subarray(p + 8, p + length));
      if (orientation !== undefined) return orientation;
    }
    p += length;
  }
  return 1;
}

/**
 * Half-size decoding only for data coded in at most this many bits per pixel (the file's size over its pixel
 * count); above it, grain and fine detail make the half-size picture's grid measurably different.
 */
const HALF_SIZE_MAX_BITS_PER_PIXEL = 1.25;

/**
 * The JPEG decoded by libjpeg-turbo, upright; `undefined` when mozjpeg is to be used (decodeBitmap), and 'warned'
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

export const jpeg: InputFormat = {
  id: 'jpeg',
  name: 'JPEG',
  sniff: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  readHeader: readJpegHeader,
  async decode(bytes, { header, label, options, lend }) {
    const turbo = await decodeJpegTurbo(bytes, header, options.reduceFor, options.lenient === true, lend);
    // Refused without a second decode by another decoder, which would cost as much again only to word it.
    if (turbo === 'warned')
      throw corrupt(
        label,
        'JPEG',
        header.cutShort ? 'the data is cut short' : 'libjpeg reports missing or corrupt data',
        true,
      );
    return turbo;
  },
  decodeBitmap: async (bytes, request) =>
    orientBitmap(await decodeWasm('image/jpeg', bytes, request), readJpegOrientation(bytes)),
};
