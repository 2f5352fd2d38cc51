import { describe, expect, it } from '@jest/globals';
import { deflateSync } from 'node:zlib';
import { Jimp } from 'jimp';
import { InputError } from '../src/kernel/errors.js';
import { decodeImage } from '../src/image/decode.js';
import { readJpegOrientation } from '../src/image/formats/jpeg.js';
import { readImageHeader } from '../src/image/formats/registry.js';
import { applyOrientation } from '../src/image/orient.js';
import { pngChunk } from '../src/formats/png.js';
import type { RgbaImage } from '../src/loom/types.js';
import { noisyGradient } from './helpers/images.js';

type Mime = 'image/png' | 'image/jpeg' | 'image/bmp' | 'image/gif' | 'image/tiff';

/** Left half red, right half blue: easy to tell apart after a rotation, even through JPEG. */
function halves(width: number, height: number): InstanceType<typeof Jimp> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      data.set(x < width / 2 ? [230, 20, 20, 255] : [20, 20, 230, 255], (y * width + x) * 4);
  }
  return new Jimp({ width, height, data });
}

async function encoded(mime: Mime, width = 13, height = 7): Promise<Buffer> {
  const image = halves(width, height);
  return mime === 'image/jpeg' ? image.getBuffer(mime, { quality: 95 }) : image.getBuffer(mime);
}

/** A PNG whose IHDR claims width × height, with a few bytes of image data (not enough for that size). */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** Inserts an APP1 Exif segment holding only an Orientation tag right after the JPEG's SOI marker. */
function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 offset
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18);
  tiff.writeUInt32BE(0, 22); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, body, jpeg.subarray(2)]);
}

function pixel(image: RgbaImage, x: number, y: number): number[] {
  const p = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(p, p + 4));
}

function isRed([r, g, b]: number[]): boolean {
  return r > 180 && g < 80 && b < 80;
}

function isBlue([r, g, b]: number[]): boolean {
  return b > 180 && r < 80 && g < 80;
}

// Made with ImageMagick 6.9.11 (libwebp 1.2.4): 6×4 lossless (left half red, right half blue), 24×16 lossy
// (the same halves), and 5×3 lossless green at half opacity.
const WEBP_LOSSLESS = 'UklGRh4AAABXRUJQVlA4TBIAAAAvBcAAAA8Q87//8x8OehDR/wA=';
const WEBP_LOSSY =
  'UklGRmoAAABXRUJQVlA4IF4AAABwBACdASoYABAAPjEUiEKiISEYBAAgAwSgC7LoB+AH4AUoD8AK7/3AADmKAAD++e5//tjc/+3v/7Yf//2MvkyodK+Hz8bp478h//4MwWXc/8T/wZj+wW/lVZiEgAAA';
const WEBP_ALPHA = 'UklGRhwAAABXRUJQVlA4TA8AAAAvBIAAEAdQwIj+BSKi/wEA';

describe('readImageHeader', () => {
  it.each<[Mime, string]>([
    ['image/png', 'png'],
    ['image/jpeg', 'jpeg'],
    ['image/bmp', 'bmp'],
    ['image/gif', 'gif'],
    ['image/tiff', 'tiff'],
  ])('reads the size of a %s that jimp wrote', async (mime, format) => {
    expect(readImageHeader(await encoded(mime, 13, 7))).toMatchObject({ format, width: 13, height: 7 });
  });

  it('skips APPn segments and fill bytes to reach the JPEG frame header', async () => {
    const jpeg = withOrientation(await encoded('image/jpeg', 40, 24), 6);
    // An extra fill byte before the first marker after SOI is legal.
    const filled = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff]), jpeg.subarray(2)]);
    expect(readImageHeader(jpeg)).toMatchObject({ format: 'jpeg', width: 40, height: 24 });
    expect(readImageHeader(filled)).toMatchObject({ format: 'jpeg', width: 40, height: 24 });
  });

  it('reads a top-down BMP (negative height) as its absolute height', async () => {
    const bmp = Buffer.from(await encoded('image/bmp', 9, 5));
    bmp.writeInt32LE(-5, 22);
    expect(readImageHeader(bmp)).toMatchObject({ format: 'bmp', width: 9, height: 5 });
  });

  it('reads WebP VP8, VP8L and VP8X headers', () => {
    expect(readImageHeader(Buffer.from(WEBP_LOSSLESS, 'base64'))).toMatchObject({
      format: 'webp',
      width: 6,
      height: 4,
    });
    expect(readImageHeader(Buffer.from(WEBP_LOSSY, 'base64'))).toMatchObject({ format: 'webp', width: 24, height: 16 });
    const vp8x = Buffer.alloc(30);
    vp8x.write('RIFF', 0, 'latin1');
    vp8x.writeUInt32LE(22, 4);
    vp8x.write('WEBPVP8X', 8, 'latin1');
    vp8x.writeUInt32LE(10, 16);
    vp8x.writeUIntLE(70000 - 1, 24, 3);
    vp8x.writeUIntLE(300 - 1, 27, 3);
    expect(readImageHeader(vp8x)).toMatchObject({ format: 'webp', width: 70000, height: 300 });
  });

  it('reads a big-endian TIFF with LONG dimensions', () => {
    const tiff = Buffer.alloc(8 + 2 + 2 * 12 + 4);
    tiff.write('MM', 0, 'latin1');
    tiff.writeUInt16BE(42, 2);
    tiff.writeUInt32BE(8, 4);
    tiff.writeUInt16BE(2, 8);
    tiff.writeUInt16BE(256, 10);
    tiff.writeUInt16BE(4, 12);
    tiff.writeUInt32BE(1, 14);
    tiff.writeUInt32BE(123456, 18);
    tiff.writeUInt16BE(257, 22);
    tiff.writeUInt16BE(3, 24);
    tiff.writeUInt32BE(1, 26);
    tiff.writeUInt16BE(789, 30);
    expect(readImageHeader(tiff)).toMatchObject({ format: 'tiff', width: 123456, height: 789 });
  });

  it('reads a hand-made 50000 × 50000 PNG header', () => {
    expect(readImageHeader(pngClaiming(50000, 50000))).toMatchObject({ format: 'png', width: 50000, height: 50000 });
  });

  it('gives undefined for an unknown format, and a problem for a cut-short header', async () => {
    expect(readImageHeader(Buffer.from('hello, world, not an image'))).toBeUndefined();
    expect(readImageHeader(new Uint8Array(0))).toBeUndefined();
    expect(readImageHeader((await encoded('image/png')).subarray(0, 20))?.problem).toBe(
      'the file ends inside its header',
    );
    expect(readImageHeader((await encoded('image/jpeg')).subarray(0, 30))?.problem).toBe(
      'the file ends before its frame header',
    );
    expect(readImageHeader(Buffer.from('GIF89a'))?.problem).toBe('the file ends inside its header');
  });
});

describe('EXIF orientation', () => {
  it('reads the Orientation tag of a JPEG, and 1 when there is none', async () => {
    const jpeg = await encoded('image/jpeg', 8, 8);
    expect(readJpegOrientation(jpeg)).toBe(1);
    for (let o = 1; o <= 8; o++) expect(readJpegOrientation(withOrientation(jpeg, o))).toBe(o);
    expect(readJpegOrientation(withOrientation(jpeg, 9))).toBe(1);
    expect(readJpegOrientation(Buffer.from('not a jpeg'))).toBe(1);
  });

  it('turns and mirrors pixels exactly as jimp does, for all eight orientations', () => {
    // jimp's transforms (core/utils/image-bitmap.js): target (x, y) <- source, for a w × h source.
    const jimpSource: Record<number, (x: number, y: number, w: number, h: number) => [number, number]> = {
      2: (x, y, w) => [w - x - 1, y],
      3: (x, y, w, h) => [w - x - 1, h - y - 1],
      4: (x, y, _w, h) => [x, h - y - 1],
      5: (x, y) => [y, x],
      6: (x, y, _w, h) => [y, h - x - 1],
      7: (x, y, w, h) => [w - y - 1, h - x - 1],
      8: (x, y, w) => [w - y - 1, x],
    };
    const w = 5;
    const h = 3;
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([i, 100 + i, 200 - i, 255], i * 4);
    expect(applyOrientation({ width: w, height: h, data }, 1).data).toBe(data);
    for (let o = 2; o <= 8; o++) {
      const out = applyOrientation({ width: w, height: h, data }, o);
      const [nw, nh] = o > 4 ? [h, w] : [w, h];
      expect([out.width, out.height]).toEqual([nw, nh]);
      for (let y = 0; y < nh; y++) {
        for (let x = 0; x < nw; x++) {
          const [sx, sy] = jimpSource[o](x, y, w, h);
          expect(out.data[(y * nw + x) * 4]).toBe(sy * w + sx);
        }
      }
      // The byte-wise path (a view not aligned to 4 bytes) gives the same result.
      const unaligned = new Uint8Array(data.length + 1).subarray(1);
      unaligned.set(data);
      expect(Array.from(applyOrientation({ width: w, height: h, data: unaligned }, o).data)).toEqual(
        Array.from(out.data),
      );
    }
  });
});

describe('decodeImage', () => {
  it.each<Mime>(['image/png', 'image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'])('decodes a %s', async (mime) => {
    const image = await decodeImage(await encoded(mime, 16, 8), 'x');
    expect([image.width, image.height, image.data.length]).toEqual([16, 8, 16 * 8 * 4]);
    expect(isRed(pixel(image, 1, 1))).toBe(true);
    expect(isBlue(pixel(image, 14, 6))).toBe(true);
  });

  it('decodes lossless, lossy and translucent WebP', async () => {
    const lossless = await decodeImage(Buffer.from(WEBP_LOSSLESS, 'base64'), 'x');
    expect([lossless.width, lossless.height]).toEqual([6, 4]);
    expect(pixel(lossless, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(lossless, 5, 3)).toEqual([0, 0, 255, 255]);
    const lossy = await decodeImage(Buffer.from(WEBP_LOSSY, 'base64'), 'x');
    expect([lossy.width, lossy.height]).toEqual([24, 16]);
    expect(isRed(pixel(lossy, 2, 8))).toBe(true);
    expect(isBlue(pixel(lossy, 21, 8))).toBe(true);
    const alpha = await decodeImage(Buffer.from(WEBP_ALPHA, 'base64'), 'x');
    expect(pixel(alpha, 2, 1)).toEqual([0, 128, 0, 127]);
  });

  it('applies the EXIF orientation of a JPEG', async () => {
    const jpeg = await encoded('image/jpeg', 32, 16);
    const upright = await decodeImage(withOrientation(jpeg, 1), 'x');
    expect([upright.width, upright.height]).toEqual([32, 16]);
    // 6: the stored image must be turned 90° clockwise, so its left half (red) ends up on top.
    const turned = await decodeImage(withOrientation(jpeg, 6), 'x');
    expect([turned.width, turned.height]).toEqual([16, 32]);
    expect(isRed(pixel(turned, 8, 2))).toBe(true);
    expect(isBlue(pixel(turned, 8, 29))).toBe(true);
    // 8: 90° anticlockwise, so red ends up at the bottom.
    const back = await decodeImage(withOrientation(jpeg, 8), 'x');
    expect([back.width, back.height]).toEqual([16, 32]);
    expect(isBlue(pixel(back, 8, 2))).toBe(true);
    expect(isRed(pixel(back, 8, 29))).toBe(true);
    // 3: 180°, so blue is on the left.
    const flipped = await decodeImage(withOrientation(jpeg, 3), 'x');
    expect([flipped.width, flipped.height]).toEqual([32, 16]);
    expect(isBlue(pixel(flipped, 2, 8))).toBe(true);
  });

  it('decodes the bytes of a view into a larger buffer, not the whole buffer', async () => {
    const a = await encoded('image/png', 10, 10);
    const b = Buffer.from(await halves(12, 6).rotate(180).getBuffer('image/png'));
    const pool = Buffer.concat([a, b, a]);
    const image = await decodeImage(pool.subarray(a.length, a.length + b.length), 'x');
    expect([image.width, image.height]).toEqual([12, 6]);
    expect(isBlue(pixel(image, 0, 0))).toBe(true);
  });

  it('refuses a file whose header claims more pixels than the limit, before decoding it', async () => {
    const err = await decodeImage(pngClaiming(50000, 50000), 'huge.png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'huge.png: 50000 × 50000 pixels (2500 megapixels) is more than the limit of 100000000 pixels (100 megapixels)',
    );
  });

  it('takes the limit from the options', async () => {
    const png = await encoded('image/png', 20, 10);
    await expect(decodeImage(png, 'small.png', { maxPixels: 199 })).rejects.toThrow(
      /^small\.png: 20 × 10 pixels .* limit of 199 pixels/,
    );
    expect((await decodeImage(png, 'small.png', { maxPixels: 200 })).width).toBe(20);
  });

  it('turns cut-short and corrupt files into one InputError line, and decodes the next file fine', async () => {
    const photo = noisyGradient(64, 48);
    const jpeg = await new Jimp({ width: 64, height: 48, data: Buffer.from(photo.data) }).getBuffer('image/jpeg', {
      quality: 90,
    });
    const png = await encoded('image/png', 64, 48);
    const webp = Buffer.from(WEBP_LOSSY, 'base64');
    const bad: Array<[string, Buffer]> = [
      ['cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2))],
      ['head.jpg', jpeg.subarray(0, 40)],
      ['cut.png', png.subarray(0, Math.floor(png.length / 2))],
      ['cut.webp', webp.subarray(0, 60)],
    ];
    for (const [label, bytes] of bad) {
      const err = await decodeImage(bytes, label).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(
        new RegExp(`^${label.replace('.', '\\.')}: corrupt or truncated (image|PNG|JPEG|WebP) \\(.+\\)$`),
      );
      expect((err as Error).message).not.toContain('\n');
    }
    // libjpeg warned of the missing data, and the warning was not let through.
    await expect(decodeImage(bad[0][1], 'cut.jpg')).rejects.toThrow(
      'cut.jpg: corrupt or truncated JPEG (the data is cut short)',
    );
    expect((await decodeImage(jpeg, 'ok.jpg')).width).toBe(64);
    expect((await decodeImage(png, 'ok.png')).width).toBe(64);
  });

  it('names the formats it reads when a file is none of them', async () => {
    await expect(decodeImage(Buffer.from('just some text, not a picture at all'), 'notes.txt')).rejects.toThrow(
      'notes.txt: not a supported image (PNG, JPEG, WebP, BMP, GIF or TIFF)',
    );
  });
});
