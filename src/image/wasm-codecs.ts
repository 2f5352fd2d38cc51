/**
 * WebAssembly decoders for JPEG (mozjpeg), PNG (Rust png) and WebP (libwebp), from the jSquash packages that
 * @jimp/wasm-jpeg, @jimp/wasm-png and @jimp/wasm-webp wrap, turned into jimp formats.
 *
 * Why not the @jimp/wasm-* formats themselves: their decode() calls jSquash's init() with no argument on
 * every call, and that makes the Emscripten/wasm-bindgen glue locate the .wasm file by a file: URL and
 * fetch() it. Node 20's fetch cannot read file: URLs ("fetch failed"), and even where it can, each decode
 * would compile the module again. Here each module is compiled from the .wasm file's bytes once, on the first
 * decode of its format, and handed to jSquash's init().
 *
 * mozjpeg is lenient: a truncated JPEG decodes with its missing rows grey and only a warning on stderr. The
 * warnings are captured instead of printed, and "premature end" is treated as the error it is (unless the
 * decode is lenient: then it is added to the warnings). When a
 * WebAssembly decoder fails outright (mozjpeg stops on a CMYK JPEG: "Unsupported color conversion
 * request"), the pure-JS jimp decoder gets a second try; an instance that stopped is replaced.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** jimp's bitmap: RGBA bytes, row-major. */
export interface Bitmap {
  data: Buffer;
  width: number;
  height: number;
}

/** How a decoder treats data that is missing or corrupt but still readable. */
export interface DecodeContext {
  /** Accept it, adding a line to `warnings`; otherwise it is an error. */
  lenient: boolean;
  warnings: string[];
}

/** A jimp format (see @jimp/types Format); these formats only decode. */
export interface DecodeFormat {
  mime: string;
  hasAlpha: boolean;
  encode: (image: Bitmap) => Promise<Buffer>;
  decode: (data: Buffer, context?: DecodeContext) => Promise<Bitmap>;
}

interface RawImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

type RawDecode = (data: ArrayBuffer) => Promise<RawImage>;

const require = createRequire(import.meta.url);

/** A compiled WebAssembly.Module (the ES2023 lib this project builds with has no WebAssembly types). */
type WasmModule = object;
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
};

async function compileWasm(specifier: string): Promise<WasmModule> {
  return wasm.compile(await readFile(require.resolve(specifier)));
}

/**
 * An ArrayBuffer holding exactly these bytes. A Buffer is often a view into a larger pool, and Buffer#slice
 * does not copy, so a view that does not span its whole buffer is copied with a fresh Uint8Array.
 */
function exactArrayBuffer(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer)
    return data.buffer;
  return new Uint8Array(data).buffer;
}

function toBitmap(raw: RawImage): Bitmap {
  const { data } = raw;
  return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width: raw.width, height: raw.height };
}

/** A decoder loaded on first use; a failed load is retried next time. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

// --- Emscripten decoders (mozjpeg, libwebp) ---------------------------------------------------------------

interface EmscriptenCodec {
  decode: RawDecode;
  /** Messages the codec printed during the last decode. */
  messages: string[];
  /** A fresh instance of the compiled module, after a decoder aborted. */
  reset: () => Promise<void>;
}

type EmscriptenInit = (module: WasmModule, overrides: Record<string, unknown>) => Promise<void>;

async function emscriptenCodec(modulePath: string, wasmPath: string): Promise<EmscriptenCodec> {
  const mod = (await import(modulePath)) as { init: EmscriptenInit; default: RawDecode };
  const compiled = await compileWasm(wasmPath);
  const messages: string[] = [];
  const overrides = {
    print: (m: string) => messages.push(String(m)),
    printErr: (m: string) => messages.push(String(m)),
  };
  const reset = () => mod.init(compiled, overrides);
  await reset();
  return { decode: mod.default, messages, reset };
}

const loadJpeg = once(() => emscriptenCodec('@jsquash/jpeg/decode.js', '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'));
const loadWebp = once(() => emscriptenCodec('@jsquash/webp/decode.js', '@jsquash/webp/codec/dec/webp_dec.wasm'));

async function decodeEmscripten(
  load: () => Promise<EmscriptenCodec>,
  data: Buffer,
  what: string,
  context?: DecodeContext,
): Promise<Bitmap> {
  const codec = await load();
  codec.messages.length = 0;
  let raw: RawImage;
  try {
    raw = await codec.decode(exactArrayBuffer(data));
  } catch (err) {
    const said = codec.messages.filter((m) => m.trim() !== '').at(-1);
    await codec.reset();
    throw new Error(said ?? `${what} decoder: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const premature = codec.messages.find((m) => /premature end/i.test(m));
  if (premature) {
    if (!context?.lenient) throw new TruncatedError(premature.trim());
    context.warnings.push(premature.trim());
  }
  return toBitmap(raw);
}

/** Data that ends early: the JS decoder would fail too, so there is no second try. */
class TruncatedError extends Error {}

// --- wasm-bindgen decoder (png) -----------------------------------------------------------------------------

// The glue's own async init looks at the global Request, and that first look loads Node's fetch
// implementation (undici) for nothing; its initSync takes the compiled module and touches no such global.
const loadPng = once(async () => {
  const [mod, glue, compiled] = await Promise.all([
    import('@jsquash/png/decode.js') as unknown as Promise<{ decode: RawDecode }>,
    import('@jsquash/png/codec/pkg/squoosh_png.js') as unknown as Promise<{
      initSync: (module: WasmModule) => unknown;
    }>,
    compileWasm('@jsquash/png/codec/pkg/squoosh_png_bg.wasm'),
  ]);
  glue.initSync(compiled);
  return mod.decode;
});

// --- jimp formats --------------------------------------------------------------------------------------------

type JsFormat = { decode: (data: Buffer) => Bitmap | Promise<Bitmap> };

function notEncoding(mime: string): (image: Bitmap) => Promise<Buffer> {
  return () => Promise.reject(new Error(`imagegen's ${mime} format only decodes`));
}

/**
 * `wasm` first; when it fails outright, the JS decoder. If both fail, the error named is the WebAssembly
 * decoder's (libjpeg's messages are the clearer) unless `jsErrors` says the JS decoder's are.
 */
function withFallback(
  mime: string,
  wasm: (data: Buffer, context?: DecodeContext) => Promise<Bitmap>,
  js: (() => Promise<JsFormat>) | undefined,
  jsErrors = false,
): DecodeFormat {
  return {
    mime,
    hasAlpha: true,
    encode: notEncoding(mime),
    decode: async (data, context) => {
      try {
        return await wasm(data, context);
      } catch (err) {
        if (!js || err instanceof TruncatedError) throw err;
        try {
          return await (await js()).decode(data);
        } catch (jsErr) {
          throw jsErrors ? jsErr : err;
        }
      }
    },
  };
}

/** A format whose pure-JS jimp decoder is imported on first use. */
function lazyJs(mime: string, load: () => Promise<JsFormat>): DecodeFormat {
  return {
    mime,
    hasAlpha: true,
    encode: notEncoding(mime),
    decode: async (data, context) => {
      const format = await load();
      return withConsoleWarnings(() => format.decode(data), context);
    },
  };
}

/**
 * Runs a JS decoder that reports damaged data only with console.log (omggif: "gif stream shorter than
 * expected"), which would land on stdout among the results. What it logs is taken instead; a message about
 * missing or corrupt data is an error, or a warning when the decode is lenient (utif's other messages are
 * debugging output). The decoders are synchronous, so nothing else logs meanwhile.
 */
const DAMAGE = /shorter than expected|truncat|corrupt|premature|unexpected end/i;

function withConsoleWarnings(
  decode: () => Bitmap | Promise<Bitmap>,
  context?: DecodeContext,
): Bitmap | Promise<Bitmap> {
  const said: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => said.push(args.map(String).join(' ').trim());
  let bitmap: Bitmap | Promise<Bitmap>;
  try {
    bitmap = decode();
  } finally {
    console.log = log;
  }
  for (const message of said.filter((m) => DAMAGE.test(m))) {
    const warning = message.replace(/^Warning,\s*/i, '');
    if (!context?.lenient) throw new TruncatedError(warning);
    context.warnings.push(warning);
  }
  return bitmap;
}

const jsJpeg = once(async () => (await import('@jimp/js-jpeg')).default());
const jsPng = once(async () => (await import('@jimp/js-png')).default());
const jsBmp = once(async () => (await import('@jimp/js-bmp')).default());
const jsMsBmp = once(async () => (await import('@jimp/js-bmp')).msBmp());
const jsGif = once(async () => (await import('@jimp/js-gif')).default());
const jsTiff = once(async () => (await import('@jimp/js-tiff')).default());

const FORMATS: readonly DecodeFormat[] = [
  withFallback('image/jpeg', (d, c) => decodeEmscripten(loadJpeg, d, 'JPEG', c), jsJpeg),
  // The Rust decoder's errors say only "`unwrap_throw` failed"; pngjs names the problem.
  withFallback('image/png', async (d) => toBitmap(await (await loadPng())(exactArrayBuffer(d))), jsPng, true),
  withFallback('image/webp', (d, c) => decodeEmscripten(loadWebp, d, 'WebP', c), undefined),
  lazyJs('image/bmp', jsBmp),
  lazyJs('image/x-ms-bmp', jsMsBmp),
  lazyJs('image/gif', jsGif),
  lazyJs('image/tiff', jsTiff),
];

/** Formats for createJimp: WebAssembly JPEG, PNG and WebP; jimp's own BMP, GIF and TIFF. */
export function decodeFormats(): Array<() => DecodeFormat> {
  return FORMATS.map((format) => () => format);
}

/** The registered format for a MIME type (the same objects the jimp instance uses). */
export function formatFor(mime: string): DecodeFormat | undefined {
  return FORMATS.find((format) => format.mime === mime);
}
