import { describe, expect, it } from '@jest/globals';
import { deflateSync } from 'node:zlib';
import { decodeForGrid, decodeImage } from '../src/image/decode.js';
import { pngChunk } from '../src/formats/png.js';
import { resizeToGrid } from '../src/loom/resize.js';
import { formatFor } from '../src/image/wasm-codecs.js';
import { damagedPngs } from './helpers/hostile-images.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Row y filtered with filter y % 5, so that every filter is undone somewhere. */
function filtered(rows: Uint8Array[], bpp: number): Buffer {
  const parts: Buffer[] = [];
  rows.forEach((row, y) => {
    const prev = y > 0 ? rows[y - 1] : new Uint8Array(row.length);
    const type = y % 5;
    const out = Buffer.alloc(row.length + 1);
    out[0] = type;
    for (let i = 0; i < row.length; i++) {
      const left = i >= bpp ? row[i - bpp] : 0;
      const upLeft = i >= bpp ? prev[i - bpp] : 0;
      const predicted = [0, left, prev[i], (left + prev[i]) >> 1, paeth(left, prev[i], upLeft)][type];
      out[i + 1] = (row[i] - predicted) & 0xff;
    }
    parts.push(out);
  });
  return Buffer.concat(parts);
}

/** A noisy picture as a PNG of the given colour type and bit depth, with optional PLTE and tRNS chunks. */
function png(
  width: number,
  height: number,
  colorType: number,
  depth: 8 | 16,
  extra: { palette?: number[]; transparency?: number[]; interlace?: boolean } = {},
): Buffer {
  const samples = CHANNELS[colorType];
  const bpp = samples * (depth / 8);
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(width * bpp);
    for (let x = 0; x < width; x++) {
      for (let s = 0; s < samples; s++) {
        const smooth = ((x * 7 + y * 5 + s * 60) % 256) / 255;
        const value = colorType === 3 ? Math.floor(random() * 4) : Math.round((0.8 * smooth + 0.2 * random()) * 255);
        // A few pixels exactly the transparent colour, when there is one.
        const keyed = extra.transparency && colorType !== 3 && (x + y) % 7 === 0;
        const v = keyed ? extra.transparency![s * 2 + 1] : value;
        if (depth === 8) row[x * bpp + s] = v;
        else {
          row[x * bpp + s * 2] = v;
          row[x * bpp + s * 2 + 1] = keyed ? extra.transparency![s * 2 + 1] : Math.floor(random() * 256);
        }
      }
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([depth, colorType, 0, 0, extra.interlace ? 1 : 0], 8);
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', header),
    ...(extra.palette ? [pngChunk('PLTE', Buffer.from(extra.palette))] : []),
    ...(extra.transparency ? [pngChunk('tRNS', Buffer.from(extra.transparency))] : []),
    pngChunk('IDAT', deflateSync(filtered(rows, bpp))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

const KINDS: Array<[string, Buffer]> = [
  ['grey', png(37, 23, 0, 8)],
  ['grey with a transparent grey', png(37, 23, 0, 8, { transparency: [0, 40] })],
  ['RGB', png(37, 23, 2, 8)],
  ['RGB with a transparent colour', png(37, 23, 2, 8, { transparency: [0, 10, 0, 20, 0, 30] })],
  [
    'palette with alpha',
    png(37, 23, 3, 8, { palette: [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9], transparency: [0, 128] }),
  ],
  ['grey and alpha', png(37, 23, 4, 8)],
  ['RGBA', png(37, 23, 6, 8)],
  ['16-bit grey', png(37, 23, 0, 16)],
  ['16-bit RGB', png(37, 23, 2, 16)],
  ['16-bit grey and alpha', png(37, 23, 4, 16)],
  ['16-bit RGBA', png(37, 23, 6, 16)],
];

describe('a PNG decoded a row at a time into its grid', () => {
  it.each(KINDS)('%s: the same grid as the whole picture resized', async (_name, bytes) => {
    for (const [width, height, background] of [
      [13, 9, undefined],
      [37, 23, [0, 0, 0]],
      [50, 20, [20, 200, 90]], // wider than the picture, no taller
    ] as const) {
      const streamed = await decodeForGrid(bytes, 'x.png', {}, () => ({ width, height }), background);
      expect('grid' in streamed).toBe(true);
      if (!('grid' in streamed)) return;
      expect([streamed.fullWidth, streamed.fullHeight]).toEqual([37, 23]);
      const whole = resizeToGrid(await decodeImage(bytes, 'x.png'), width, height, background);
      expect(Buffer.from(streamed.grid.data).equals(Buffer.from(whole.data))).toBe(true);
    }
  });

  it.each(KINDS)('%s, wanted whole: the pixels of the WebAssembly decoder', async (_name, bytes) => {
    const decoded = await decodeImage(bytes, 'x.png');
    const wasm = await formatFor('image/png')!.decode(bytes, { lenient: false, warnings: [] });
    expect([decoded.width, decoded.height]).toEqual([wasm.width, wasm.height]);
    expect(Buffer.from(decoded.data).equals(wasm.data.subarray(0, wasm.width * wasm.height * 4))).toBe(true);
  });

  it('reads odd chunks, wanted whole, as the WebAssembly decoder does', async () => {
    const rows = Buffer.from([0, 0, 1]); // one row of two pixels, filter 0
    const made = (colorType: number, chunks: Array<[string, number[]]>, data = rows): Buffer => {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(2, 0);
      header.writeUInt32BE(1, 4);
      header.set([8, colorType, 0, 0, 0], 8);
      return Buffer.concat([
        SIGNATURE,
        pngChunk('IHDR', header),
        ...chunks.map(([type, bytes]) => pngChunk(type, Buffer.from(bytes))),
        pngChunk('IDAT', deflateSync(data)),
        pngChunk('IEND', new Uint8Array(0)),
      ]);
    };
    const cases = {
      'an empty palette': made(3, [['PLTE', []]]),
      'transparency before the palette': made(3, [
        ['tRNS', [0]],
        ['PLTE', [255, 0, 0, 0, 255, 0]],
      ]),
      'a grey key one byte long': made(0, [['tRNS', [0]]]),
      'an RGB key two bytes long': made(2, [['tRNS', [0, 1]]], Buffer.from([0, 1, 2, 3, 4, 5, 6])),
      'transparency on RGBA': made(6, [['tRNS', [0, 1]]], Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8])),
      'image data broken by another chunk': split(made(0, [['tRNS', [1, 5]]], Buffer.from([0, 5, 6]))),
      'a second header': twoHeaders(made(0, [], Buffer.from([0, 0xff, 0x12]))),
    };
    /** The file with its one IDAT cut in two around a tEXt chunk. */
    function split(png: Buffer): Buffer {
      const at = png.indexOf('IDAT') - 4;
      const data = png.subarray(at + 8, at + 8 + png.readUInt32BE(at));
      const cut = data.length >> 1;
      return Buffer.concat([
        png.subarray(0, at),
        pngChunk('IDAT', data.subarray(0, cut)),
        pngChunk('tEXt', Buffer.from('Comment\0between')),
        pngChunk('IDAT', data.subarray(cut)),
        png.subarray(at + 12 + data.length),
      ]);
    }
    /** The file with a second, 16-bit header after the first (one 8-bit row of two samples reads as one 16-bit). */
    function twoHeaders(png: Buffer): Buffer {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(1, 0);
      header.writeUInt32BE(1, 4);
      header.set([16, 0, 0, 0, 0], 8);
      return Buffer.concat([png.subarray(0, 33), pngChunk('IHDR', header), png.subarray(33)]);
    }
    const outcome = (run: Promise<{ width: number; height: number; data: Uint8Array | Uint8ClampedArray }>) =>
      run.then(
        (d) => Buffer.from(d.data.subarray(0, d.width * d.height * 4)).toString('hex'),
        () => 'refused',
      );
    for (const [name, bytes] of Object.entries(cases)) {
      const ours = await outcome(decodeImage(bytes, 'x.png'));
      const wasm = await outcome(formatFor('image/png')!.decode(bytes, { lenient: false, warnings: [] }));
      expect([name, ours]).toEqual([name, wasm]);
    }
  });

  it('decodes a picture whole when its grid is taller, or it is interlaced', async () => {
    const taller = await decodeForGrid(KINDS[2][1], 'x.png', {}, () => ({ width: 10, height: 40 }));
    expect('grid' in taller).toBe(false);
    expect([taller.fullWidth, taller.fullHeight]).toEqual([37, 23]);
    const interlaced = png(37, 23, 2, 8, { interlace: true });
    // Only the header says interlaced here; the whole decoder then fails on the data, with a clear line.
    await expect(decodeForGrid(interlaced, 'i.png', {}, () => ({ width: 10, height: 5 }))).rejects.toThrow(/i\.png/);
  });

  it('names the file when the data ends early', async () => {
    const good = KINDS[2][1];
    // Cut the image data short and mend the chunk's length and CRC, so that only zlib notices.
    const idatAt = 8 + 25;
    const length = good.readUInt32BE(idatAt);
    const data = good.subarray(idatAt + 8, idatAt + 8 + length);
    const short = Buffer.concat([
      good.subarray(0, idatAt),
      pngChunk('IDAT', deflateSync(Buffer.from(data.subarray(0, 0)))),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
    await expect(decodeForGrid(short, 'short.png', {}, () => ({ width: 10, height: 5 }))).rejects.toThrow(/short\.png/);
  });
  it('says of a damaged PNG what the whole decode says, strict or lenient', async () => {
    const outcome = (run: Promise<unknown>) =>
      run.then(
        (value) => ({ ok: true, warnings: (value as { warnings: string[] }).warnings }),
        (err: Error) => ({ ok: false, message: err.message }),
      );
    for (const { name, bytes } of damagedPngs()) {
      for (const lenient of [false, true]) {
        const streamed = await outcome(decodeForGrid(bytes, name, { lenient }, () => ({ width: 8, height: 6 })));
        const whole = await outcome(decodeImage(bytes, name, { lenient }));
        expect([name, lenient, streamed]).toEqual([name, lenient, whole]);
      }
    }
  });
  it('leaves a palette or transparency given twice, late or too long to the whole decoder', async () => {
    const good = png(10, 8, 3, 8, { palette: [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] });
    const iend = good.length - 12;
    const idatAt = good.indexOf('IDAT') - 4;
    const cases = {
      'two palettes': Buffer.concat([
        good.subarray(0, idatAt),
        pngChunk('PLTE', Buffer.from([0, 0, 255, 0, 255, 255, 1, 2, 3, 4, 5, 6])),
        good.subarray(idatAt),
      ]),
      'transparency after the data': Buffer.concat([
        good.subarray(0, iend),
        pngChunk('tRNS', Buffer.from([0])),
        good.subarray(iend),
      ]),
      'more alpha values than colours': Buffer.concat([
        good.subarray(0, idatAt),
        pngChunk('tRNS', Buffer.from([0, 128, 50, 60, 70])),
        good.subarray(idatAt),
      ]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const streamed = await decodeForGrid(bytes, name, {}, () => ({ width: 5, height: 4 })).then(
        (d) => ('grid' in d ? 'grid' : Buffer.from(resizeToGrid(d, 5, 4).data).toString('hex')),
        (err: Error) => err.message,
      );
      const whole = await decodeImage(bytes, name).then(
        (d) => Buffer.from(resizeToGrid(d, 5, 4).data).toString('hex'),
        (err: Error) => err.message,
      );
      expect([name, streamed]).toEqual([name, whole]);
    }
  });
});
