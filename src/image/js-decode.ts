/**
 * The pure-JS decoders (jimp's own BMP, GIF and TIFF), through a jimp instance built with @jimp/core's
 * createJimp and no plugins, which sniffs the type and applies a TIFF's orientation itself. This runs on the
 * decode thread (src/image/js-thread.ts), never on the thread of a run.
 */
import { decodeFormats, type Bitmap, type DecodeContext } from './wasm-codecs.js';

interface DecodingJimp {
  fromBuffer(buffer: Buffer, options?: Record<string, DecodeContext>): Promise<{ bitmap: Bitmap }>;
}

/** Formats decoded through the jimp instance. */
const JS_MIMES = ['image/bmp', 'image/x-ms-bmp', 'image/gif', 'image/tiff'];

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

/** The picture, and what was wrong with its data when `lenient` let it through. */
export async function decodeJs(buffer: Buffer, lenient: boolean): Promise<{ bitmap: Bitmap; warnings: string[] }> {
  // jimp hands each format the options under its MIME type.
  const context: DecodeContext = { lenient, warnings: [] };
  const contexts = Object.fromEntries(JS_MIMES.map((mime) => [mime, context]));
  const { bitmap } = await (await loadJimp()).fromBuffer(buffer, contexts);
  return { bitmap, warnings: context.warnings };
}
