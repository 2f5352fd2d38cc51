/**
 * Pictures built to hurt: headers that claim huge sizes in every form the decoders read, damaged PNG data
 * that the decoders would turn into wrong pixels, and broken files whose decoder errors are not words.
 * Each is refused by decodeImage with one InputError line, before a decoder allocates for it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { pngChunk } from '../src/formats/png.js';
import { decodeImage } from '../src/image/decode.js';
import { REDUCE_ABOVE_PIXELS, decodePngReduced } from '../src/image/formats/png-rows.js';
import { InputError } from '../src/kernel/errors.js';
import {
  WEBP_ANIMATED,
  damagedPngs,
  gifOf,
  jpegClaiming,
  pngOf,
  smallImages,
  tiffOf,
  tiffPage,
  webpCanvas,
} from './helpers/hostile-images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

async function refusal(bytes: Uint8Array, label = 'x'): Promise<string> {
  const err = await decodeImage(bytes, label).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  expect(message.startsWith(`${label}: `)).toBe(true);
  return message;
}

const OVER = /20000 × 20000 pixels \(400 megapixels\) is more than the limit/;

describe('the pixel limit holds for every header form', () => {
  it.each([
    ['SHORT', 3],
    ['LONG', 4],
    ['SSHORT', 8],
    ['SLONG', 9],
  ])('a TIFF whose width and height are %s', async (_name, type) => {
    expect(await refusal(tiffOf([tiffPage(20000, 20000, type)]))).toMatch(OVER);
  });

  it('a TIFF whose size is negative, or a FLOAT pointing outside the file', async () => {
    expect(await refusal(tiffOf([tiffPage(-5, 4, 9)]))).toBe('x: corrupt or truncated TIFF (the width is -5)');
    expect(await refusal(tiffOf([tiffPage(20000, 20000, 11)]))).toBe(
      'x: corrupt or truncated TIFF (tag 256 runs past the end of the file)',
    );
  });

  it('a TIFF whose pages add up to more than the limit (every page is decoded)', async () => {
    const page = tiffPage(6000, 6000);
    expect(await refusal(tiffOf([page, page, page]))).toMatch(/its frames or pages add up to 108 megapixels/);
  });

  it('a TIFF whose IFDs loop, and one whose only strip lies past its end', async () => {
    expect(await refusal(tiffOf([tiffPage(2, 4)], { loopBack: true }))).toBe(
      'x: corrupt or truncated TIFF (an IFD is reached twice (the file loops))',
    );
    expect(await refusal(tiffOf([tiffPage(1000, 1000)]))).toBe(
      'x: corrupt or truncated TIFF (the pixel data is cut short)',
    );
    expect((await decodeImage(tiffOf([tiffPage(2, 4)]), 'x')).width).toBe(2);
  });

  it('a JPEG-compressed TIFF whose strip declares a huge frame', async () => {
    const strip = jpegClaiming(20000, 20000);
    const page = tiffPage(16, 16).map(([tag, type, count, value]): [number, number, number, number] => [
      tag,
      type,
      count,
      tag === 259 ? 7 : tag === 279 ? strip.length : value,
    ]);
    expect(await refusal(tiffOf([page], { pixels: strip }))).toBe(
      'x: corrupt or truncated TIFF (a JPEG strip declares 20000 × 20000 pixels, more than its page)',
    );
  });

  it.each([0xc0, 0xc1, 0xc2, 0xc3, 0xc9, 0xca])('a JPEG with junk bytes before its SOF (marker %s)', async (marker) => {
    expect(await refusal(jpegClaiming(20000, 20000, { junk: 4, marker }))).toMatch(OVER);
  });

  it('a JPEG whose second frame header, after a scan, claims a huge size', async () => {
    const small = jpegClaiming(8, 8);
    const huge = jpegClaiming(20000, 20000);
    // The first file without its EOI, then the second one's segments from its DQT on.
    const both = Buffer.concat([small.subarray(0, small.length - 2), huge.subarray(2)]);
    expect(await refusal(both)).toMatch(OVER);
  });

  it('a GIF whose small screen holds a huge frame, first or later', async () => {
    expect(await refusal(gifOf(10, [[65000, 65000]]))).toMatch(/65000 × 65000 pixels/);
    expect(
      await refusal(
        gifOf(10, [
          [10, 10],
          [20000, 20000],
        ]),
      ),
    ).toMatch(OVER);
  });

  it('a BMP whose width, read unsigned as the decoder reads it, is huge', async () => {
    const bmp = Buffer.from((await smallImages())['small.bmp']);
    bmp.writeInt32LE(-1, 18);
    expect(await refusal(bmp)).toMatch(/4294967295 × 16 pixels/);
  });

  it('a WebP whose VP8X canvas is huge', async () => {
    expect(await refusal(webpCanvas(20000))).toMatch(OVER);
  });
});

describe('damaged PNG data', () => {
  it.each(damagedPngs().map((png) => [png.name, png] as const))(
    '%s is refused, naming the damage',
    async (name, { bytes, cause }) => {
      expect(await refusal(bytes, name)).toContain(`${name}: corrupt or truncated PNG (${cause}`);
    },
  );

  it('with lenient, what the decoder can read is accepted and the damage returned as warnings', async () => {
    for (const { name, bytes, cause, readable } of damagedPngs()) {
      const outcome = await decodeImage(bytes, name, { lenient: true }).catch((e: unknown) => e as Error);
      if (readable) {
        expect(outcome).not.toBeInstanceOf(Error);
        const image = outcome as Awaited<ReturnType<typeof decodeImage>>;
        expect([image.width, image.height]).toEqual([32, 24]);
        expect(image.warnings[0]).toContain(cause);
      } else {
        expect(outcome).toBeInstanceOf(InputError);
        expect((outcome as Error).message).toContain(cause);
      }
    }
  });

  it('an undamaged PNG has no warnings', async () => {
    expect((await decodeImage((await smallImages())['small.png'], 'x')).warnings).toEqual([]);
  });
});

describe('broken files are named in words', () => {
  it('a BMP cut short, or with a colour table past its end, is not a RangeError', async () => {
    const bmp = (await smallImages())['small.bmp'];
    expect(await refusal(bmp.subarray(0, 200))).toBe('x: corrupt or truncated BMP (the pixel data is cut short)');
    const palette = Buffer.from(bmp);
    palette.writeUInt32LE(100000, 46);
    expect(await refusal(palette)).toBe('x: corrupt or truncated BMP (the colour table runs past the end of the file)');
  });

  it('a PNG cut short says so, not "waiting on finished stream"', async () => {
    const png = (await smallImages())['small.png'];
    expect(await refusal(png.subarray(0, png.length - 30))).toBe(
      'x: corrupt or truncated PNG (the file is cut short inside its IDAT chunk)',
    );
  });

  it('an animated WebP is called what it is, with what to do', async () => {
    expect(await refusal(Buffer.from(WEBP_ANIMATED, 'base64'))).toBe(
      'x: animated WebP: not supported; export one frame as a still picture',
    );
  });
});

describe('imagegen edit on hostile pictures', () => {
  const setup = tempDirsPerTest();

  it('refuses a huge claim with exit 1, one line, and no output', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'junk.jpg'), jpegClaiming(20000, 20000, { junk: 4 }));
    const run = await runCli(['edit', 'junk.jpg', '--local', '-o', 'out.png'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: junk\.jpg: 20000 × 20000 pixels .* limit/m);
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
  });

  it('refuses damaged PNG data, and with --lenient accepts it, saying so on stderr and in the report', async () => {
    const dir = setup();
    const [, crc] = damagedPngs();
    writeFileSync(path.join(dir, 'crc.png'), crc.bytes);
    const strict = await runCli(['edit', 'crc.png', '--local', '-o', 'out.png'], { cwd: dir });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("error: crc.png: corrupt or truncated PNG (the IDAT chunk's CRC is wrong)");
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
    const lenient = await runCli(['edit', 'crc.png', '--local', '--lenient', '-o', 'out.png'], { cwd: dir });
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain("crc.png: the IDAT chunk's CRC is wrong (accepted with --lenient)");
    const report = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as {
      source: { inputWarnings?: string[] };
    };
    expect(report.source.inputWarnings).toEqual(["the IDAT chunk's CRC is wrong"]);
  });
});

describe('big PNGs are decoded at reduced size', () => {
  /** The f × f block averages of an opaque image, as the reduced decoder makes them. */
  function boxAverage(image: { width: number; height: number; data: ArrayLike<number> }, f: number): number[] {
    const w = Math.ceil(image.width / f);
    const h = Math.ceil(image.height / f);
    const out: number[] = [];
    for (let by = 0; by < h; by++) {
      for (let bx = 0; bx < w; bx++) {
        const sum = [0, 0, 0, 0];
        let n = 0;
        for (let y = by * f; y < Math.min(image.height, by * f + f); y++) {
          for (let x = bx * f; x < Math.min(image.width, bx * f + f); x++) {
            for (let c = 0; c < 4; c++) sum[c] += image.data[(y * image.width + x) * 4 + c];
            n++;
          }
        }
        out.push(...sum.map((s) => Math.round(s / n)));
      }
    }
    return out;
  }

  it('matches the block averages of the full decode, through every row filter', async () => {
    // jimp's PNG encoder chooses a filter per row; the picture is noisy enough to use them all.
    const png = (await smallImages(37, 23))['small.png'];
    const full = await decodeImage(png, 'x');
    const reduced = await decodePngReduced(png, 100);
    expect(reduced).toBeDefined();
    const factor = Math.ceil(Math.sqrt((37 * 23) / 100));
    expect([reduced!.width, reduced!.height]).toEqual([Math.ceil(37 / factor), Math.ceil(23 / factor)]);
    const expected = boxAverage(full, factor);
    Array.from(reduced!.data).forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1));
  });

  it('keeps the transparent colour of a big 16-bit PNG, as a small one keeps it', async () => {
    // 16-bit RGB, 40 x 30, every pixel the tRNS colour: all transparent however it is decoded.
    const [w, h] = [40, 30];
    const header = Buffer.alloc(13);
    header.writeUInt32BE(w, 0);
    header.writeUInt32BE(h, 4);
    header.set([16, 2, 0, 0, 0], 8);
    const rows = Buffer.alloc(h * (1 + w * 6));
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rows.set([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc], y * (1 + w * 6) + 1 + x * 6);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', header),
      pngChunk('tRNS', Buffer.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc])),
      pngChunk('IDAT', deflateSync(rows)),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
    const big = await decodeImage(png, 'big.png', { reduceAbovePixels: 100 });
    expect(Array.from(big.data.filter((_, i) => i % 4 === 3)).every((a) => a === 0)).toBe(true);
  });

  it('decodeImage reduces a PNG over the threshold, and leaves a smaller one whole', async () => {
    const reduced = await decodeImage(pngOf(300, 200), 'big.png', { reduceAbovePixels: 10_000 });
    expect([reduced.width, reduced.height]).toEqual([100, 67]); // a factor of 3
    expect((await decodeImage(pngOf(300, 200), 'small.png')).width).toBe(300);
    expect(REDUCE_ABOVE_PIXELS).toBeLessThanOrEqual(16_000_000);
  });
});
