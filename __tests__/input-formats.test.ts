/**
 * The input formats' registry: each format's module names its own files and no other's, and the pipeline
 * reads a PNG's image data once, checking it in the pass that decodes it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import zlib from 'node:zlib';
import { Jimp } from 'jimp';
import { decodeForGrid, decodeImage } from '../src/image/decode.js';
import { readImageHeader, sniffInputFormat } from '../src/image/formats/registry.js';
import { pngChunk } from '../src/formats/png.js';

// 6 × 4 lossless WebP, made with ImageMagick 6.9.11 (jimp writes none).
const WEBP = Buffer.from('UklGRh4AAABXRUJQVlA4TBIAAAAvBcAAAA8Q87//8x8OehDR/wA=', 'base64');

async function samples(): Promise<Array<[string, Buffer]>> {
  const image = new Jimp({ width: 6, height: 4, data: Buffer.alloc(6 * 4 * 4, 200) });
  const files: Array<[string, Buffer]> = [['webp', WEBP]];
  for (const [id, mime] of [
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['bmp', 'image/bmp'],
    ['gif', 'image/gif'],
    ['tiff', 'image/tiff'],
  ] as const)
    files.push([id, await image.getBuffer(mime)]);
  return files;
}

describe('the input formats registry', () => {
  it('names each format by its own signature, and reads its header', async () => {
    for (const [id, bytes] of await samples()) {
      expect(sniffInputFormat(bytes)?.id).toBe(id);
      expect(readImageHeader(bytes)).toMatchObject({ format: id, width: 6, height: 4 });
    }
    expect(sniffInputFormat(Buffer.from('plain text'))).toBeUndefined();
  });

  it('names every format it has when a file is none of them', async () => {
    await expect(decodeImage(Buffer.from('plain text, no picture'), 'notes.txt')).rejects.toThrow(
      'notes.txt: not a supported image (PNG, JPEG, WebP, BMP, GIF or TIFF)',
    );
  });
});

describe('a PNG is inflated once', () => {
  let streams = 0;
  const end = zlib.Inflate.prototype.end;
  beforeEach(() => {
    streams = 0;
    zlib.Inflate.prototype.end = function (this: zlib.Inflate, ...args: Parameters<typeof end>) {
      streams++;
      return end.apply(this, args);
    } as typeof end;
  });
  afterEach(() => {
    zlib.Inflate.prototype.end = end;
  });

  /** An 8-bit RGB PNG whose rows use every filter, its image data ending `cut` bytes early. */
  function png(width: number, height: number, cut = 0): Buffer {
    const rows = Buffer.alloc(height * (1 + width * 3));
    for (let y = 0; y < height; y++) {
      rows[y * (1 + width * 3)] = y % 5;
      for (let x = 0; x < width * 3; x++) rows[y * (1 + width * 3) + 1 + x] = (x * 31 + y * 17) & 255;
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', zlib.deflateSync(rows.subarray(0, rows.length - cut))),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
  }

  it('decoded whole, reduced, or at a grid taller than itself, its check in the same pass', async () => {
    const bytes = png(40, 30);
    expect((await decodeImage(bytes, 'x.png')).width).toBe(40);
    expect(streams).toBe(1);
    expect((await decodeImage(bytes, 'x.png', { reduceAbovePixels: 100 })).width).toBe(10);
    expect(streams).toBe(2);
    const tall = await decodeForGrid(bytes, 'x.png', {}, () => ({ width: 20, height: 60 }));
    expect('grid' in tall).toBe(false);
    expect(streams).toBe(3);
  });

  it('refused for short data, as before, after the one pass', async () => {
    await expect(decodeImage(png(40, 30, 200), 'short.png')).rejects.toThrow(
      'short.png: corrupt or truncated PNG (the image data is short: 3430 of 3630 bytes)',
    );
    expect(streams).toBe(1);
  });
});
