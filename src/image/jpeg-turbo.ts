/**
 * JPEG decoding at 1/1, 1/2, 1/4 or 1/8 of full size through libjpeg-turbo's TurboJPEG API
 * (tjDecompressHeader3 and tjDecompress2), built as WebAssembly by @cwasm/jpeg-turbo. A reduced size is
 * produced by the scaled inverse DCT, so the full-size pixels are never made: decoding is faster and needs a
 * fraction of the memory.
 *
 * The package's own index.js decodes at full size only and instantiates its module on import, so its .wasm
 * file is compiled here, once, and its exports called directly.
 *
 * The build's setjmp always returns 0 and its longjmp is an import: libjpeg's fatal errors (corrupt headers,
 * data it cannot decode) call it, and it throws, which unwinds the WebAssembly stack without freeing what the
 * decoder allocated. The instance is then dropped and a fresh one made from the same compiled module.
 * Warnings (corrupt or missing data that libjpeg decodes past, with grey where data was missing) do not jump:
 * tjDecompress2 finishes and returns -1, and the result says so. The build does not export tjGetErrorStr2, so
 * libjpeg's own messages are not available here.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** TurboJPEG colour spaces (tjDecompressHeader3's jpegColorspace). */
export const JPEG_COLORSPACE = { RGB: 0, YCbCr: 1, GRAY: 2, CMYK: 3, YCCK: 4 } as const;

const TJPF_RGBA = 7;

export interface JpegInfo {
  width: number;
  height: number;
  /** One of JPEG_COLORSPACE. */
  colorspace: number;
}

export interface ScaledJpeg {
  width: number;
  height: number;
  /** RGBA, row-major, alpha 255: a view into the decoder's memory, valid until `release` is called. */
  data: Uint8Array;
  /** libjpeg warned: the data is corrupt or ends early, and the pixels may be partly grey. */
  warning: boolean;
  /** Gives the decoder's memory back for the next decode; `data` must not be read afterwards. */
  release(): void;
}

/** libjpeg stopped, or the file is not a JPEG it can read. */
export class JpegTurboError extends Error {}

interface TurboExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(
    handle: number,
    jpeg: number,
    size: number,
    width: number,
    height: number,
    subsamp: number,
    colorspace: number,
  ): number;
  tjDecompress2(
    handle: number,
    jpeg: number,
    size: number,
    out: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
}

/** The WebAssembly API this project uses (its ES2023 lib has no WebAssembly types). */
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: {
    compile(bytes: Uint8Array): Promise<object>;
    instantiate(module: object, imports: object): Promise<{ exports: unknown }>;
  };
};

class LongJump extends Error {}

function unavailable(name: string): () => never {
  return () => {
    throw new Error(`jpeg-turbo: ${name} is not available`);
  };
}

const IMPORTS = {
  env: {
    setjmp: () => 0,
    longjmp: () => {
      throw new LongJump('libjpeg stopped');
    },
  },
  wasi_snapshot_preview1: {
    environ_sizes_get: () => 0,
    environ_get: unavailable('environ_get'),
    proc_exit: unavailable('proc_exit'),
    fd_close: unavailable('fd_close'),
    fd_seek: unavailable('fd_seek'),
    fd_write: unavailable('fd_write'),
  },
};

let compiled: Promise<object> | undefined;
/** An instance no decode is using, kept so that its memory (already grown and paged in) serves the next. */
let idle: TurboExports | undefined;

async function takeInstance(): Promise<TurboExports> {
  compiled ??= readFile(createRequire(import.meta.url).resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm'))
    .then((bytes) => wasm.compile(bytes))
    .catch((err) => {
      compiled = undefined;
      throw err;
    });
  const module = await compiled;
  if (idle) {
    const ready = idle;
    idle = undefined;
    return ready;
  }
  return (await wasm.instantiate(module, IMPORTS)).exports as TurboExports;
}

function giveBack(exports: TurboExports): void {
  idle ??= exports;
}

/** The side of the image after scaling by 1 / denominator, as libjpeg rounds it (up). */
export function scaledSide(side: number, denominator: number): number {
  return Math.ceil(side / denominator);
}

/**
 * Runs `work` with the JPEG's bytes and a decompressor inside an instance, frees both afterwards and gives the
 * instance back, unless `work` lent it out (its result points into the instance's memory). After a long jump
 * the instance is dropped instead (its allocator's state is unknown).
 */
async function withDecompressor<T>(
  bytes: Uint8Array,
  work: (exports: TurboExports, handle: number, jpeg: number) => { value: T; lent: boolean },
): Promise<T> {
  const exports = await takeInstance();
  const jpeg = exports.malloc(bytes.byteLength);
  if (!jpeg) {
    giveBack(exports);
    throw new JpegTurboError('out of memory for the JPEG data');
  }
  new Uint8Array(exports.memory.buffer, jpeg, bytes.byteLength).set(bytes);
  const handle = exports.tjInitDecompress();
  if (!handle) {
    exports.free(jpeg);
    giveBack(exports);
    throw new JpegTurboError('could not make a decompressor');
  }
  let result: { value: T; lent: boolean };
  try {
    result = work(exports, handle, jpeg);
  } catch (err) {
    if (err instanceof LongJump) throw new JpegTurboError('libjpeg could not decode the data', { cause: err });
    exports.tjDestroy(handle);
    exports.free(jpeg);
    giveBack(exports);
    throw err;
  }
  exports.tjDestroy(handle);
  exports.free(jpeg);
  if (!result.lent) giveBack(exports);
  return result.value;
}

/** Frees `pointer` after `work`, unless libjpeg jumped out of it (the instance is then dropped whole). */
function freeingAfter<T>(exports: TurboExports, pointer: number, work: () => T): T {
  let result: T;
  try {
    result = work();
  } catch (err) {
    if (!(err instanceof LongJump)) exports.free(pointer);
    throw err;
  }
  exports.free(pointer);
  return result;
}

function readHeader(exports: TurboExports, handle: number, jpeg: number, size: number): JpegInfo {
  const fields = exports.malloc(16);
  if (!fields) throw new JpegTurboError('out of memory for the JPEG header');
  return freeingAfter(exports, fields, () => {
    new Int32Array(exports.memory.buffer, fields, 4).fill(0);
    const status = exports.tjDecompressHeader3(handle, jpeg, size, fields, fields + 4, fields + 8, fields + 12);
    const [width, height, , colorspace] = new Int32Array(exports.memory.buffer, fields, 4);
    // -1 with the fields filled in: the header was read, and libjpeg warned on the way (junk before the frame
    // header) or TurboJPEG found no name for its subsampling. tjDecompress2 reads it again and reports the
    // same warnings, so the decode that follows says whether the data is sound.
    if (status !== 0 && !(width > 0 && height > 0)) throw new JpegTurboError('not a JPEG header libjpeg can read');
    return { width, height, colorspace };
  });
}

/**
 * Decodes a JPEG at 1 / denominator of its size (1, 2, 4 or 8), as RGBA; `undefined` when `accept` refuses
 * what the header says (nothing is decoded then). CMYK and YCCK data are converted by libjpeg's plain formula
 * (no colour management). The pixels are not copied out of the decoder's memory: until the result is
 * released, other decodes use another instance.
 */
export function decodeJpegScaled(
  bytes: Uint8Array,
  denominator: 1 | 2 | 4 | 8,
  accept: (info: JpegInfo) => boolean = () => true,
): Promise<ScaledJpeg | undefined> {
  return withDecompressor(bytes, (exports, handle, jpeg) => {
    const info = readHeader(exports, handle, jpeg, bytes.byteLength);
    if (!accept(info)) return { value: undefined, lent: false };
    const width = scaledSide(info.width, denominator);
    const height = scaledSide(info.height, denominator);
    const size = width * height * 4;
    const out = exports.malloc(size);
    if (!out) throw new JpegTurboError(`out of memory for ${width} × ${height} pixels`);
    let status: number;
    try {
      status = exports.tjDecompress2(handle, jpeg, bytes.byteLength, out, width, width * 4, height, TJPF_RGBA, 0);
    } catch (err) {
      if (!(err instanceof LongJump)) exports.free(out);
      throw err;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      exports.free(out);
      giveBack(exports);
    };
    const data = new Uint8Array(exports.memory.buffer, out, size);
    return { value: { width, height, data, warning: status !== 0, release }, lent: true };
  });
}
