/**
 * Decodes a PNG a row at a time, so that its full-size pixels are never held: the image data is inflated as
 * a stream and each row unfiltered against the one before. Each row then goes either straight into the loom
 * grid's resize (readToGrid), or, for a big picture wanted whole, into f × f blocks averaged (weighted by
 * alpha) into one pixel each (readReduced): the loom grid is far smaller than such a picture, so nothing
 * it needs is lost, and memory stays near the size of the reduced image.
 *
 * The same pass checks the image data (src/image/formats/png.ts): it counts what it inflates and keeps what
 * zlib says, so the data is inflated once.
 *
 * Only 8- or 16-bit samples of any colour type, not interlaced, take this path (a PNG wanted whole and small
 * enough is read the same way, row after row, into one buffer); anything else goes to the WebAssembly decoder.
 */
import { createInflate } from 'node:zlib';
import { gridFromRows } from '../../loom/resize.js';
import type { RgbImage, RgbaImage } from '../../loom/types.js';
import { u32be } from './shared.js';

/** Samples per pixel of each colour type. */
export const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * How the problem of image data that ends before the last row begins: no decoder can make those rows (one
 * fills them from whatever its memory held), so --lenient does not take it.
 */
export const SHORT_DATA = 'the image data is short';

/** PNGs with more pixels than this are reduced while they are decoded, to at most this many. */
export const REDUCE_ABOVE_PIXELS = 16_000_000;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes a row's filter in place, against the previous (already unfiltered) row. */
function unfilter(filter: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  if (filter === 1) for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 0xff;
  else if (filter === 2) for (let i = 0; i < n; i++) row[i] = (row[i] + prev[i]) & 0xff;
  else if (filter === 3) {
    for (let i = 0; i < n; i++) row[i] = (row[i] + (((i >= bpp ? row[i - bpp] : 0) + prev[i]) >> 1)) & 0xff;
  } else if (filter === 4) {
    for (let i = 0; i < n; i++)
      row[i] = (row[i] + paeth(i >= bpp ? row[i - bpp] : 0, prev[i], i >= bpp ? prev[i - bpp] : 0)) & 0xff;
  } else if (filter !== 0) throw new Error(`unknown row filter ${filter}`);
}

export interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  palette: Uint8Array | undefined;
  transparency: Uint8Array | undefined;
  idat: Uint8Array[];
}

/** The PNG's header and data chunks, or `undefined` for a kind this module does not read. */
export function readLayout(b: Uint8Array): PngLayout | undefined {
  let ihdr: Uint8Array | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  for (let p = 8; p + 12 <= b.length;) {
    const length = u32be(b, p);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    const data = b.subarray(p + 8, p + 8 + length);
    // A palette or transparency given twice, or after the image data, is left to the whole decoder, whose
    // reading of it (the first one; an error) is the one that counts.
    if ((type === 'PLTE' || type === 'tRNS') && (idat.length > 0 || (type === 'PLTE' ? palette : transparency)))
      return undefined;
    // So is a palette after the transparency that refers to it.
    if (type === 'PLTE' && transparency) return undefined;
    // Image data must come in one unbroken run, after one header; anything else is the whole decoder's too.
    if ((type === 'IHDR' && ihdr) || (type === 'IDAT' && idatEnded)) return undefined;
    if (type !== 'IDAT' && idat.length > 0) idatEnded = true;
    if (type === 'IHDR') ihdr = data;
    else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + length;
  }
  if (!ihdr || ihdr.length < 13) return undefined;
  const width = u32be(ihdr, 0);
  const height = u32be(ihdr, 4);
  const [depth, colorType, , , interlace] = ihdr.subarray(8, 13);
  if (interlace !== 0 || (depth !== 8 && depth !== 16)) return undefined;
  const channels = CHANNELS[colorType];
  if (!channels || (colorType === 3 && (!palette || depth !== 8))) return undefined;
  // So is a palette of a length PNG does not allow, or more alpha values than palette entries.
  if (
    palette &&
    (palette.length === 0 ||
      palette.length > 3 * 256 ||
      palette.length % 3 !== 0 ||
      (colorType === 3 && transparency && transparency.length > palette.length / 3))
  )
    return undefined;
  // And a transparency chunk where the colour type allows none, or of the wrong size for a grey or RGB key.
  const keyLength = colorType === 0 ? 2 : colorType === 2 ? 6 : undefined;
  if (transparency && (colorType === 4 || colorType === 6 || (keyLength && transparency.length !== keyLength)))
    return undefined;
  // A 16-bit transparent colour (tRNS of grey or RGB) is left to the whole decoder, which compares all 16 bits.
  if (depth === 16 && transparency && (colorType === 0 || colorType === 2)) return undefined;
  return { width, height, depth, colorType, palette, transparency, idat };
}

/** What a pass over the image data found besides its rows: nothing, when every row was read and sound. */
export interface RowPass {
  /**
   * What is wrong with the image data as a check of it says: zlib failed before the data the header needs
   * was inflated (the data is corrupt), or the data ends before it (the data is short).
   */
  problem?: string;
  /** Why the rows stopped, or were spoiled after the last: zlib failed anywhere, a row's filter is unknown. */
  error?: Error;
}

/**
 * Inflates the image data as a stream and hands each row, unfiltered and expanded to RGBA (of a 16-bit
 * sample, the high byte), to `onRow`, in `out`. The data is inflated to its end, counted, even after the
 * rows stop: what it holds decides the file's fate.
 */
async function streamRows(layout: PngLayout, out: Uint8Array, onRow: () => void): Promise<RowPass> {
  const { width, height, depth, colorType, palette, transparency } = layout;
  const step = depth / 8; // bytes per sample
  const bpp = CHANNELS[colorType] * step;
  const rowBytes = width * bpp;
  let row = new Uint8Array(rowBytes);
  let prev = new Uint8Array(rowBytes);
  const pending = new Uint8Array(rowBytes + 1);
  let filled = 0;
  let y = 0;
  // tRNS for grey and RGB: the one colour that is transparent (8-bit samples compared).
  const key =
    transparency && colorType === 0 && transparency.length >= 2
      ? [transparency[1]]
      : transparency && colorType === 2 && transparency.length >= 6
        ? [transparency[1], transparency[3], transparency[5]]
        : undefined;

  const expand = () => {
    y++;
    // The two common kinds, without a test per pixel: 8-bit RGBA is already the layout wanted.
    if (depth === 8 && colorType === 6) out.set(row);
    else if (depth === 8 && colorType === 2 && !key) {
      for (let i = 0, o = 0; i < rowBytes; i += 3, o += 4) {
        out[o] = row[i];
        out[o + 1] = row[i + 1];
        out[o + 2] = row[i + 2];
        out[o + 3] = 255;
      }
    } else expandAny();
    onRow();
  };

  const expandAny = () => {
    for (let x = 0, i = 0, o = 0; x < width; x++, i += bpp, o += 4) {
      let r: number, g: number, bl: number, a: number;
      if (colorType === 0 || colorType === 4) {
        r = g = bl = row[i];
        a = colorType === 4 ? row[i + step] : key && row[i] === key[0] && depth === 8 ? 0 : 255;
      } else if (colorType === 3) {
        const index = row[i];
        r = palette![index * 3] ?? 0;
        g = palette![index * 3 + 1] ?? 0;
        bl = palette![index * 3 + 2] ?? 0;
        a = transparency && index < transparency.length ? transparency[index] : 255;
      } else {
        r = row[i];
        g = row[i + step];
        bl = row[i + 2 * step];
        a =
          colorType === 6
            ? row[i + 3 * step]
            : key && depth === 8 && r === key[0] && g === key[1] && bl === key[2]
              ? 0
              : 255;
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = bl;
      out[o + 3] = a;
    }
  };

  const expected = height * (rowBytes + 1);
  let inflated = 0;
  const pass: RowPass = {};
  return new Promise<RowPass>((resolve) => {
    const inflate = createInflate({ chunkSize: 256 * 1024 });
    inflate.on('data', (chunk: Buffer) => {
      inflated += chunk.length;
      if (pass.error) return;
      try {
        for (let i = 0; i < chunk.length && y < height;) {
          const take = Math.min(chunk.length - i, rowBytes + 1 - filled);
          pending.set(chunk.subarray(i, i + take), filled);
          filled += take;
          i += take;
          if (filled === rowBytes + 1) {
            [row, prev] = [prev, row];
            row.set(pending.subarray(1));
            unfilter(pending[0], row, prev, bpp);
            expand();
            filled = 0;
          }
        }
      } catch (err) {
        pass.error = err as Error;
      }
    });
    inflate.on('error', (err: Error) => {
      // More data than the image holds is not read by a check: only a shortfall or corruption matters.
      if (inflated <= expected) pass.problem = `the image data is corrupt (zlib: ${err.message})`;
      pass.error ??= err;
      resolve(pass);
    });
    inflate.on('end', () => {
      if (inflated < expected) pass.problem = `${SHORT_DATA}: ${inflated} of ${expected} bytes`;
      if (y < height) pass.error ??= new Error(SHORT_DATA);
      resolve(pass);
    });
    for (const part of layout.idat) inflate.write(part);
    inflate.end();
  });
}

/** What a pass read, and what it found. */
export interface RowsRead<T> {
  image: T;
  pass: RowPass;
}

/**
 * The PNG decoded at 1/f of its size on each side, f the smallest whole factor that brings it within
 * `abovePixels` (which it is over).
 */
export async function readReduced(layout: PngLayout, abovePixels: number): Promise<RowsRead<RgbaImage>> {
  const { width, height } = layout;
  const factor = Math.ceil(Math.sqrt((width * height) / abovePixels));
  const outWidth = Math.ceil(width / factor);
  const outHeight = Math.ceil(height / factor);
  const out = new Uint8Array(outWidth * outHeight * 4);
  // Per reduced pixel of the band of rows under way: alpha-weighted red, green, blue, alpha, and count.
  const sums = new Float64Array(outWidth * 5);
  const rgba = new Uint8Array(width * 4);
  let y = 0;
  const pass = await streamRows(layout, rgba, () => {
    for (let x = 0; x < width; x++) {
      const a = rgba[x * 4 + 3];
      const s = Math.floor(x / factor) * 5;
      sums[s] += rgba[x * 4] * a;
      sums[s + 1] += rgba[x * 4 + 1] * a;
      sums[s + 2] += rgba[x * 4 + 2] * a;
      sums[s + 3] += a;
      sums[s + 4]++;
    }
    y++;
    if (y % factor === 0 || y === height) {
      const o = (Math.ceil(y / factor) - 1) * outWidth * 4;
      for (let x = 0; x < outWidth; x++) {
        const s = x * 5;
        const alpha = sums[s + 3];
        out[o + x * 4] = alpha > 0 ? Math.round(sums[s] / alpha) : 0;
        out[o + x * 4 + 1] = alpha > 0 ? Math.round(sums[s + 1] / alpha) : 0;
        out[o + x * 4 + 2] = alpha > 0 ? Math.round(sums[s + 2] / alpha) : 0;
        out[o + x * 4 + 3] = Math.round(alpha / sums[s + 4]);
      }
      sums.fill(0);
    }
  });
  return { image: { width: outWidth, height: outHeight, data: out }, pass };
}

/**
 * The PNG decoded at reduced size as readReduced does; `undefined` when it is small enough, or a kind this
 * does not read. Fails when the rows do.
 */
export async function decodePngReduced(
  b: Uint8Array,
  abovePixels = REDUCE_ABOVE_PIXELS,
): Promise<RgbaImage | undefined> {
  const layout = readLayout(b);
  if (!layout || layout.width * layout.height <= abovePixels) return undefined;
  const { image, pass } = await readReduced(layout, abovePixels);
  if (pass.error) throw pass.error;
  return image;
}

/**
 * The PNG decoded whole, with the pixels the WebAssembly decoder gives, without loading it (compiling it costs
 * more than decoding a small picture).
 */
export async function readWhole(layout: PngLayout): Promise<RowsRead<RgbaImage>> {
  const { width, height } = layout;
  const rowBytes = width * 4;
  const out = new Uint8Array(rowBytes * height);
  const row = new Uint8Array(rowBytes);
  let y = 0;
  const pass = await streamRows(layout, row, () => out.set(row, rowBytes * y++));
  return { image: { width, height, data: out }, pass };
}

/**
 * The PNG decoded a row at a time straight into the grid `size` asks for (given the picture's size), with
 * transparency flattened onto `background`: the same grid as resizeToGrid of the whole picture, without ever
 * holding it (`grid` absent when the rows stopped). `undefined` for a grid taller than the picture.
 */
export async function readToGrid(
  layout: PngLayout,
  size: (width: number, height: number) => { width: number; height: number },
  background?: readonly [number, number, number],
): Promise<{ grid?: RgbImage; pass: RowPass } | undefined> {
  const { width, height } = layout;
  const wanted = size(width, height);
  const rows = gridFromRows(width, height, wanted.width, wanted.height, background);
  if (!rows) return undefined;
  const pass = await streamRows(layout, rows.row, () => rows.push());
  return { grid: pass.error ? undefined : rows.finish(), pass };
}
