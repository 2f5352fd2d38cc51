import { describe, expect, it } from '@jest/globals';
import { inflateSync } from 'node:zlib';
import { Jimp } from 'jimp';
import { encodeIndexedBmp } from '../src/formats/bmp.js';
import { packRow } from '../src/formats/pack.js';
import { crc32, encodeIndexedPng, encodeRgbPng, pngBitDepth } from '../src/formats/png.js';
import type { IndexedImage } from '../src/loom/types.js';

function chunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  const out = [];
  for (let o = 8; o < png.length;) {
    const len = png.readUInt32BE(o);
    const type = png.toString('latin1', o + 4, o + 8);
    const data = png.subarray(o + 8, o + 8 + len);
    expect(png.readUInt32BE(o + 8 + len)).toBe(crc32(png, o + 4, o + 8 + len));
    out.push({ type, data });
    o += 12 + len;
  }
  return out;
}

function pattern(width: number, height: number, colors: number): IndexedImage {
  const palette = new Uint8Array(colors * 3);
  for (let i = 0; i < colors; i++) palette.set([(i * 37) % 256, (i * 91) % 256, (255 - i * 13) & 255], i * 3);
  const indices = new Uint8Array(width * height);
  for (let i = 0; i < indices.length; i++) indices[i] = (i * 7 + Math.floor(i / width)) % colors;
  return { width, height, indices, palette };
}

async function decodedMatches(bytes: Buffer, image: IndexedImage): Promise<void> {
  const decoded = await Jimp.fromBuffer(bytes);
  expect([decoded.bitmap.width, decoded.bitmap.height]).toEqual([image.width, image.height]);
  const d = decoded.bitmap.data;
  for (let i = 0; i < image.indices.length; i++) {
    const c = image.indices[i] * 3;
    expect([d[i * 4], d[i * 4 + 1], d[i * 4 + 2], d[i * 4 + 3]]).toEqual([
      image.palette[c],
      image.palette[c + 1],
      image.palette[c + 2],
      255,
    ]);
  }
}

describe('PNG encoder', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('IEND', 'latin1'))).toBe(0xae426082);
  });

  it.each([2, 3, 4, 5, 16, 17, 256])(
    'writes a palette PNG with %i colours at the smallest bit depth',
    async (colors) => {
      const image = pattern(13, 5, colors);
      const png = encodeIndexedPng(image);
      const list = chunks(png);
      expect(list.map((c) => c.type)).toEqual(['IHDR', 'PLTE', 'IDAT', 'IEND']);
      const ihdr = list[0].data;
      expect(ihdr[8]).toBe(pngBitDepth(colors));
      expect(ihdr[9]).toBe(3);
      expect(list[1].data.equals(Buffer.from(image.palette))).toBe(true);
      const raw = inflateSync(list[2].data);
      expect(raw.length).toBe((Math.ceil((13 * ihdr[8]) / 8) + 1) * 5);
      await decodedMatches(png, image);
    },
  );

  it('packs 1-bit rows most significant bit first', () => {
    const image: IndexedImage = {
      width: 9,
      height: 1,
      indices: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1]),
      palette: Uint8Array.from([0, 0, 0, 255, 255, 255]),
    };
    const raw = inflateSync(chunks(encodeIndexedPng(image))[2].data);
    expect(Array.from(raw)).toEqual([0, 0b10000001, 0b10000000]);
  });

  it('packs rows of every width at 1, 2, 4 and 8 bits like a plain bit-by-bit packer, leaving other bytes alone', () => {
    for (const depth of [1, 2, 4, 8]) {
      for (let width = 1; width <= 19; width++) {
        const indices = Uint8Array.from({ length: width + 3 }, (_, i) => (i * 5 + width) % (1 << depth));
        const bytes = Math.ceil((width * depth) / 8);
        const want = new Uint8Array(bytes + 2).fill(0xaa);
        want.fill(0, 1, 1 + bytes);
        for (let x = 0; x < width; x++)
          want[1 + Math.floor((x * depth) / 8)] |= indices[2 + x] << (8 - depth - ((x * depth) % 8));
        const got = new Uint8Array(bytes + 2).fill(0xaa);
        packRow(indices, 2, width, depth, got, 1);
        expect(Array.from(got)).toEqual(Array.from(want));
      }
    }
  });

  it('inflates back to the packed rows, for a small image (level 9) and a large one (level 6)', () => {
    for (const [w, h] of [
      [64, 48],
      [1200, 900],
    ]) {
      const image = pattern(w, h, 8);
      const raw = inflateSync(chunks(encodeIndexedPng(image)).find((c) => c.type === 'IDAT')!.data);
      expect(raw.length).toBe((Math.ceil(w / 2) + 1) * h);
    }
  });

  it('stores text as UTF-8 iTXt so Chinese prompts survive', () => {
    const png = encodeIndexedPng(pattern(2, 2, 2), [{ keyword: 'imagegen:prompt', text: '一只猫 on a rug' }]);
    const itxt = chunks(png).find((c) => c.type === 'iTXt');
    expect(itxt).toBeDefined();
    const data = itxt!.data;
    const keywordEnd = data.indexOf(0);
    expect(data.toString('latin1', 0, keywordEnd)).toBe('imagegen:prompt');
    expect(Array.from(data.subarray(keywordEnd + 1, keywordEnd + 5))).toEqual([0, 0, 0, 0]);
    expect(data.subarray(keywordEnd + 5).toString('utf8')).toBe('一只猫 on a rug');
  });
});

describe('BMP encoder', () => {
  it('writes a 1-bit bottom-up BMP for two colours, byte by byte', () => {
    const image: IndexedImage = {
      width: 3,
      height: 2,
      indices: Uint8Array.from([1, 0, 1, 0, 1, 0]),
      palette: Uint8Array.from([10, 20, 30, 200, 210, 220]),
    };
    const bmp = encodeIndexedBmp(image);
    expect(bmp.toString('latin1', 0, 2)).toBe('BM');
    expect(bmp.readUInt32LE(2)).toBe(bmp.length);
    expect(bmp.readUInt32LE(10)).toBe(14 + 40 + 8);
    expect(bmp.readInt32LE(18)).toBe(3);
    expect(bmp.readInt32LE(22)).toBe(2);
    expect(bmp.readUInt16LE(28)).toBe(1);
    expect(bmp.readUInt32LE(46)).toBe(2);
    // Palette entries are B, G, R, 0.
    expect(Array.from(bmp.subarray(54, 62))).toEqual([30, 20, 10, 0, 220, 210, 200, 0]);
    // Bottom row first, each padded to 4 bytes: row 1 = 010, row 0 = 101.
    expect(Array.from(bmp.subarray(62))).toEqual([0b01000000, 0, 0, 0, 0b10100000, 0, 0, 0]);
  });

  it.each([3, 16, 256])('writes an 8-bit BMP with %i colours that decodes to the same pixels', async (colors) => {
    const image = pattern(7, 4, colors);
    const bmp = encodeIndexedBmp(image);
    expect(bmp.readUInt16LE(28)).toBe(8);
    expect(bmp.readUInt32LE(46)).toBe(colors);
    await decodedMatches(bmp, image);
  });

  it('decodes a 1-bit BMP to the same pixels', async () => {
    await decodedMatches(encodeIndexedBmp(pattern(11, 3, 2)), pattern(11, 3, 2));
  });
});

describe('truecolour PNG encoder', () => {
  it('writes an RGB PNG that decodes to the same pixels', async () => {
    const width = 17;
    const height = 9;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i % 7) * 13) & 255;
    const png = encodeRgbPng({ width, height, data });
    const ihdr = chunks(png)[0].data;
    expect([ihdr[8], ihdr[9]]).toEqual([8, 2]);
    const decoded = await Jimp.fromBuffer(png);
    for (let p = 0; p < width * height; p++) {
      expect(Array.from(decoded.bitmap.data.subarray(p * 4, p * 4 + 3))).toEqual(
        Array.from(data.subarray(p * 3, p * 3 + 3)),
      );
    }
  });
});
