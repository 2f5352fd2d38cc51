/**
 * Native decoding by sharp (libvips), for the formats where it pays: TIFF and GIF, whose only other decoder is
 * jimp's JavaScript on a thread of its own (slower at every size, however small, even counting sharp's
 * loading). JPEG, PNG and WebP keep their own decoders: counting the time sharp takes to load, it decodes and
 * resizes them no faster (see docs/performance.md).
 *
 * sharp is loaded on first use. Where it cannot be (a platform with no prebuilt binary), or when it cannot read
 * a file, or with `lenient` (whose warnings only the other decoders give), the format's own decoder is used,
 * and its errors are the ones given. Colours are read as stored, as the other decoders read them: an embedded
 * ICC profile is ignored.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { throwIfAborted } from '../kernel/errors.js';
import type { DecodeRequest, DecodedImage } from './formats/types.js';
import { DecodeTimeout } from './js-thread.js';

type Sharp = (typeof import('sharp'))['default'];

let loading: Promise<Sharp | undefined> | undefined;

/** Loads sharp in this thread, once; `undefined` where it cannot be loaded. */
export function loadSharp(): Promise<Sharp | undefined> {
  // Its CommonJS build: loading the ES module build takes about twice as long.
  loading ??= Promise.resolve()
    .then((): Sharp => {
      const sharp = createRequire(import.meta.url)('sharp') as Sharp;
      // Nothing is decoded twice, so libvips' operation cache would only hold memory.
      sharp.cache(false);
      // libvips' thread count is the process's: with a pool, every decode runs on a worker, and every core
      // already has a decode of its own.
      if (!isMainThread) sharp.concurrency(1);
      return sharp;
    })
    .catch(() => undefined);
  return loading;
}

/**
 * Seconds libvips is given for one decode: like the JavaScript decoders' limit, several times what sound data
 * takes, so that only data that keeps the decoder busy runs into it.
 */
function timeLimitSeconds(pixels: number): number {
  return Math.ceil(2 + pixels / 1e6 / 2);
}

/**
 * The picture decoded by sharp, upright (by its EXIF orientation when `autoOrient`), as RGBA bytes of its own;
 * `undefined` when the format's own decoder is to read it instead.
 */
export async function decodeNative(
  bytes: Uint8Array,
  request: DecodeRequest,
  { autoOrient }: { autoOrient: boolean },
): Promise<DecodedImage | undefined> {
  const { header, options } = request;
  if (options.lenient || options.native === false) return undefined;
  const seconds = timeLimitSeconds(header.pixels);
  const sharp = await loadSharp();
  if (!sharp) return undefined;
  throwIfAborted(options.signal);
  const decoding = sharp(bytes, {
    autoOrient,
    failOn: 'warning',
    ignoreIcc: true,
    // At least 1: sharp takes 0 as no limit at all.
    limitInputPixels: Math.max(1, header.pixels),
    sequentialRead: true,
  })
    .timeout({ seconds })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  let decoded;
  try {
    decoded = await abortable(decoding, options.signal);
  } catch (err) {
    throwIfAborted(options.signal);
    // Data that keeps libvips busy that long would keep the other decoder busy too.
    if (err instanceof Error && /\btimeout:/.test(err.message))
      throw new DecodeTimeout(`stopped after ${seconds} s, the most a picture of its size is given`);
    return undefined;
  }
  const { data, info } = decoded;
  // More pixels than the header declares (a GIF's frame placed off its screen) is for the checked decoder.
  const pixels = info.width * info.height;
  if (info.channels !== 4 || data.length !== pixels * 4 || pixels > header.pixels) return undefined;
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    fullWidth: info.width,
    fullHeight: info.height,
    warnings: [],
  };
}

/** `work`, or the signal's reason as soon as it fires (libvips stops at its time limit). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
