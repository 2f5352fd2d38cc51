/**
 * The pure-JS decoders (jimp's own BMP, GIF and TIFF), through a jimp instance built with @jimp/core's
 * createJimp and no plugins, which sniffs the type (a TIFF's orientation is applied by its format module). This
 * runs on the decode thread (src/image/js-thread.ts), never on the thread of a run.
 *
 * TIFF's decoder (utif) builds each row of a CCITT strip (compressions 2, 3 and 4) as a JS array, a run of
 * pixels at a time, and trusts the lengths of the runs: a row that passes its width never ends, and grows
 * until it fills the heap. An array grown one element at a time past the thread's heap limit aborts the whole
 * process, not only the thread (Node cannot always stop a thread there), so utif's run writer is replaced
 * with one that refuses a row longer than twice the widest the header declares (utif's Group 3 decoder
 * starts its first row on a row of zeros, which a file without a leading end-of-line code adds to).
 */
import { createRequire } from 'node:module';
import { decodeFormats, type Bitmap, type DecodeContext } from './wasm-codecs.js';

interface DecodingJimp {
  fromBuffer(buffer: Buffer, options?: Record<string, DecodeContext>): Promise<{ bitmap: Bitmap }>;
}

interface Utif {
  decode: { _addNtimes: (row: number[], n: number, value: number) => void };
}

/** Formats decoded through the jimp instance. */
const JS_MIMES = ['image/bmp', 'image/x-ms-bmp', 'image/gif', 'image/tiff'];

let jimp: Promise<DecodingJimp> | undefined;

/** The longest row utif may build during the decode under way. */
let rowLimit = Infinity;

function limitRows(): void {
  // The instance @jimp/js-tiff imports: utif is a CommonJS module, one per resolved file.
  const fromJsTiff = createRequire(createRequire(import.meta.url).resolve('@jimp/js-tiff'));
  const utif = fromJsTiff('utif2') as Utif;
  utif.decode._addNtimes = (row, n, value) => {
    if (row.length + n > rowLimit) throw new Error('a CCITT row runs past its width');
    for (let i = 0; i < n; i++) row.push(value);
  };
}

function loadJimp(): Promise<DecodingJimp> {
  jimp ??= import('@jimp/core')
    .then(({ createJimp }) => {
      limitRows();
      return createJimp({ formats: decodeFormats(), plugins: [] }) as unknown as DecodingJimp;
    })
    .catch((err) => {
      jimp = undefined;
      throw err;
    });
  return jimp;
}

/**
 * The picture, and what was wrong with its data when `lenient` let it through; a TIFF's rows are at most
 * `widestRow` pixels.
 */
export async function decodeJs(
  buffer: Buffer,
  lenient: boolean,
  widestRow = Infinity,
): Promise<{ bitmap: Bitmap; warnings: string[] }> {
  // jimp hands each format the options under its MIME type.
  const context: DecodeContext = { lenient, warnings: [] };
  const contexts = Object.fromEntries(JS_MIMES.map((mime) => [mime, context]));
  const decoder = await loadJimp();
  rowLimit = 2 * widestRow;
  const { bitmap } = await decoder.fromBuffer(buffer, contexts);
  return { bitmap, warnings: context.warnings };
}
