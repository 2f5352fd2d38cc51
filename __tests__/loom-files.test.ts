/**
 * Lift plans and designs that every reader reads the same way: a reader by colour (ImageMagick) and a reader
 * by bit (the raw bits, palette ignored) agree, `--invert` flips the bits, and the resolution is in each
 * format's own fields (read back with ImageMagick's identify and libtiff's tiffinfo).
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { encodeIndexedBmp } from '../src/formats/bmp.js';
import { encodeIndexedPng } from '../src/formats/png.js';
import { findFormat } from '../src/formats/registry.js';
import { clothResolution } from '../src/formats/resolution.js';
import { encodeTiff } from '../src/formats/tiff.js';
import type { IndexedImage } from '../src/loom/types.js';
import { liftImage, type LiftPlan } from '../src/loom/weave/plan.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const IDENTIFY = '/usr/bin/identify';
const CONVERT = '/usr/bin/convert';
const TIFFINFO = '/usr/bin/tiffinfo';

/** An asymmetric plan (13 × 7, not a multiple of 8 wide), so that a flip, a mirror or a shifted bit would show. */
const W = 13;
const H = 7;
const cells = new Uint8Array(W * H).map((_, i) => {
  const x = i % W;
  const y = Math.floor(i / W);
  return (x * 3 + y * 5) % 7 < 3 || (x === 0 && y === 0) ? 1 : 0;
});
const plan: LiftPlan = { width: W, height: H, cells };
/** Whether end x is raised on the pick shown in image row `row` (top row = last pick). */
const raisedAt = (x: number, row: number) => cells[(H - 1 - row) * W + x] === 1;

/** ImageMagick's reading by colour: 1 = black, top row first. */
function magickBlack(file: string): number[] {
  const pbm = execFileSync(CONVERT, [file, '-compress', 'none', 'pbm:-'], { encoding: 'utf8' });
  return pbm
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .slice(2)
    .join(' ')
    .trim()
    .split(/\s+/)
    .map(Number);
}

/** A 1-bit row of `width` pixels from `bytes` at `offset`, most significant bit first. */
function unpack(bytes: Uint8Array, offset: number, width: number): number[] {
  return Array.from({ length: width }, (_, x) => (bytes[offset + (x >> 3)] >> (7 - (x & 7))) & 1);
}

/** The raw bits of a 1-bit file, top row first, read as a controller that ignores the palette would. */
const rawBits: Record<'bmp' | 'png' | 'tiff', (bytes: Buffer, file: string) => number[]> = {
  bmp: (b) => {
    expect(b.readUInt16LE(28)).toBe(1);
    const width = b.readInt32LE(18);
    const height = b.readInt32LE(22);
    const offset = b.readUInt32LE(10);
    const rowBytes = Math.ceil(width / 32) * 4;
    // Bottom-up: the last stored row is the top of the picture.
    return Array.from({ length: height }, (_, y) => unpack(b, offset + (height - 1 - y) * rowBytes, width)).flat();
  },
  png: (b) => {
    const idat: Buffer[] = [];
    let width = 0;
    let height = 0;
    for (let p = 8; p < b.length;) {
      const length = b.readUInt32BE(p);
      const type = b.toString('latin1', p + 4, p + 8);
      if (type === 'IHDR') {
        width = b.readUInt32BE(p + 8);
        height = b.readUInt32BE(p + 12);
        expect(b[p + 16]).toBe(1); // bit depth
      }
      if (type === 'IDAT') idat.push(b.subarray(p + 8, p + 8 + length));
      p += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const stride = Math.ceil(width / 8) + 1;
    return Array.from({ length: height }, (_, y) => {
      expect(raw[y * stride]).toBe(0); // filter none
      return unpack(raw, y * stride + 1, width);
    }).flat();
  },
  // libtiff's own dump of the strip, so the bits are read by a TIFF reader, not by our offsets.
  tiff: (_b, file) => {
    const dump = execFileSync(TIFFINFO, ['-d', file], { encoding: 'utf8' });
    const hex = dump
      .slice(dump.indexOf('Strip 0:') + 'Strip 0:'.length)
      .trim()
      .split(/\s+/)
      .filter((t) => /^[0-9a-f]{2}$/i.test(t));
    const bytes = Uint8Array.from(hex.map((h) => parseInt(h, 16)));
    const rowBytes = Math.ceil(W / 8);
    return Array.from({ length: H }, (_, y) => unpack(bytes, y * rowBytes, W)).flat();
  },
};

const encoders = {
  bmp: (image: IndexedImage) => encodeIndexedBmp(image),
  png: (image: IndexedImage) => encodeIndexedPng(image),
  tiff: (image: IndexedImage) => encodeTiff(image),
};

describe('lift plan files', () => {
  const tmp = tempDirsPerTest();

  it('liftImage: palette [black, white] with or without --invert; --invert complements every index', () => {
    const plain = liftImage(plan);
    const inverted = liftImage(plan, true);
    expect([...plain.palette]).toEqual([0, 0, 0, 255, 255, 255]);
    expect([...inverted.palette]).toEqual([0, 0, 0, 255, 255, 255]);
    for (let row = 0; row < H; row++) {
      for (let x = 0; x < W; x++) {
        expect(plain.indices[row * W + x]).toBe(raisedAt(x, row) ? 0 : 1);
        expect(inverted.indices[row * W + x]).toBe(1 - plain.indices[row * W + x]);
      }
    }
  });

  it('BMP: a 1-bit lift plan has the palette [black, white] (index 0 black), so a clear bit is a raised end', () => {
    const file = path.join(tmp(), 'plan.lift.bmp');
    const bytes = encodeIndexedBmp(liftImage(plan));
    writeFileSync(file, bytes);
    // The colour table right after the 40-byte header: B, G, R, 0 per entry.
    expect([...bytes.subarray(54, 62)]).toEqual([0, 0, 0, 0, 255, 255, 255, 0]);
    const bits = rawBits.bmp(bytes, file);
    const black = magickBlack(file);
    for (let row = 0; row < H; row++) {
      for (let x = 0; x < W; x++) {
        expect(bits[row * W + x]).toBe(raisedAt(x, row) ? 0 : 1);
        expect(black[row * W + x]).toBe(raisedAt(x, row) ? 1 : 0);
      }
    }
  });

  it('BMP: two colours keep their order (an index means what the report says), the picture exact by colour', () => {
    const dir = tmp();
    for (const palette of [
      [255, 255, 255, 0, 0, 0],
      [240, 200, 190, 20, 30, 90],
      [20, 30, 90, 240, 200, 190],
    ]) {
      const image: IndexedImage = {
        width: W,
        height: H,
        indices: Uint8Array.from(cells),
        palette: Uint8Array.from(palette),
      };
      const file = path.join(dir, 'two.bmp');
      const bytes = encodeIndexedBmp(image);
      writeFileSync(file, bytes);
      const table = bytes.subarray(54, 62);
      expect([table[2], table[1], table[0]]).toEqual(palette.slice(0, 3));
      expect([table[6], table[5], table[4]]).toEqual(palette.slice(3, 6));
      const bits = rawBits.bmp(bytes, file);
      // ImageMagick's colours, one per pixel, top row first.
      const txt = execFileSync(CONVERT, [file, '-depth', '8', 'txt:-'], { encoding: 'utf8' });
      const hexes = [...txt.matchAll(/#([0-9A-F]{6})/gi)].map((m) => m[1].toLowerCase());
      const hexOf = (i: number) =>
        palette
          .slice(i * 3, i * 3 + 3)
          .map((v) => v.toString(16).padStart(2, '0'))
          .join('');
      for (let i = 0; i < W * H; i++) {
        expect(hexes[i]).toBe(hexOf(cells[i]));
        expect(bits[i]).toBe(cells[i]);
      }
    }
  });

  it.each(['bmp', 'png', 'tiff'] as const)(
    '%s: --invert flips every bit and keeps the palette; readers by colour and by bit both see it',
    (ext) => {
      const dir = tmp();
      const plainFile = path.join(dir, `plain.${ext}`);
      const invertedFile = path.join(dir, `inverted.${ext}`);
      const plainBytes = encoders[ext](liftImage(plan));
      const invertedBytes = encoders[ext](liftImage(plan, true));
      writeFileSync(plainFile, plainBytes);
      writeFileSync(invertedFile, invertedBytes);
      const plainBits = rawBits[ext](plainBytes, plainFile);
      const invertedBits = rawBits[ext](invertedBytes, invertedFile);
      expect(plainBits).toHaveLength(W * H);
      for (let i = 0; i < W * H; i++) expect(invertedBits[i]).toBe(1 - plainBits[i]);
      // The same palette (BMP's colour table, PNG's PLTE) or photometric (TIFF) in both files.
      const describe = (file: string, bytes: Buffer) =>
        ext === 'bmp'
          ? [...bytes.subarray(54, 62)].join(',')
          : ext === 'png'
            ? bytes.subarray(bytes.indexOf('PLTE') - 4, bytes.indexOf('PLTE') + 14).toString('hex')
            : /Photometric Interpretation: (.*)/.exec(execFileSync(TIFFINFO, [file], { encoding: 'utf8' }))![1];
      expect(describe(invertedFile, invertedBytes)).toBe(describe(plainFile, plainBytes));
      const plainBlack = magickBlack(plainFile);
      const invertedBlack = magickBlack(invertedFile);
      for (let row = 0; row < H; row++) {
        for (let x = 0; x < W; x++) {
          expect(plainBlack[row * W + x]).toBe(raisedAt(x, row) ? 1 : 0);
          expect(invertedBlack[row * W + x]).toBe(raisedAt(x, row) ? 0 : 1);
        }
      }
    },
  );

  it('PNG: the lift plan is a 1-bit palette image, to ImageMagick too', () => {
    const file = path.join(tmp(), 'plan.lift.png');
    const bytes = encodeIndexedPng(liftImage(plan));
    writeFileSync(file, bytes);
    expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
    expect([bytes[24], bytes[25]]).toEqual([1, 3]);
    const depth = execFileSync(
      IDENTIFY,
      ['-format', '%[png:IHDR.bit-depth-orig] %[png:IHDR.color-type-orig] %k', file],
      { encoding: 'utf8' },
    );
    expect(depth).toBe('1 3 2');
  });

  it('TIFF: bilevel, WhiteIsZero (a set bit is a raised end, black), Orientation 1 written', () => {
    const file = path.join(tmp(), 'plan.lift.tiff');
    const bytes = encodeTiff(liftImage(plan));
    writeFileSync(file, bytes);
    const info = execFileSync(TIFFINFO, [file], { encoding: 'utf8' });
    expect(info).toMatch(/Bits\/Sample: 1\n/);
    expect(info).toContain('Photometric Interpretation: min-is-white');
    expect(info).toContain('Orientation: row 0 top, col 0 lhs');
    const bits = rawBits.tiff(bytes, file);
    for (let row = 0; row < H; row++) {
      for (let x = 0; x < W; x++) expect(bits[row * W + x]).toBe(raisedAt(x, row) ? 1 : 0);
    }
  });
});

describe('resolution in every format', () => {
  const tmp = tempDirsPerTest();
  const design: IndexedImage = {
    width: 5,
    height: 3,
    indices: Uint8Array.of(0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2),
    palette: Uint8Array.of(200, 30, 40, 10, 200, 90, 0, 0, 255),
  };

  /** identify's %x,%y,%U, the numbers rounded to two places. */
  function identified(file: string): [number, number, string] {
    const [x, y, unit] = execFileSync(IDENTIFY, ['-format', '%x,%y,%U', file], { encoding: 'utf8' }).split(',');
    return [Math.round(Number(x) * 100) / 100, Math.round(Number(y) * 100) / 100, unit];
  }

  it.each(['bmp', 'png', 'tiff'])('%s: pixels per centimetre as given, for a design and for a lift plan', (id) => {
    const dir = tmp();
    const format = findFormat(id);
    for (const [name, image, resolution] of [
      ['design', design, { x: 24, y: 30 }],
      ['lift', liftImage(plan), { x: 60 / 2.54, y: (3 * 80) / 2.54 }],
    ] as const) {
      const file = path.join(dir, `${name}.${format.ext}`);
      writeFileSync(file, format.encode(image, [], { resolution }));
      const [x, y, unit] = identified(file);
      // BMP and PNG store whole pixels per metre.
      expect(x).toBeCloseTo(resolution.x, 1);
      expect(y).toBeCloseTo(resolution.y, 1);
      expect(unit).toBe('PixelsPerCentimeter');
    }
    if (id === 'tiff') {
      const info = execFileSync(TIFFINFO, [path.join(dir, 'design.tiff')], { encoding: 'utf8' });
      expect(info).toContain('Resolution: 24, 30 pixels/cm');
    }
  });

  it('without a resolution: BMP states none (0), PNG has no pHYs, TIFF its required fields at 72 dpi', () => {
    const dir = tmp();
    const bmp = encodeIndexedBmp(design);
    expect([bmp.readInt32LE(38), bmp.readInt32LE(42)]).toEqual([0, 0]);
    const png = encodeIndexedPng(design);
    expect(png.indexOf('pHYs')).toBe(-1);
    const file = path.join(dir, 'design.png');
    writeFileSync(file, png);
    expect(identified(file)[2]).toBe('Undefined');
    const tiffFile = path.join(dir, 'design.tiff');
    writeFileSync(tiffFile, encodeTiff(design));
    expect(identified(tiffFile)).toEqual([72, 72, 'PixelsPerInch']);
  });

  it('clothResolution: ends and design rows per cm, times the pixels per end and per row; none without density', () => {
    expect(clothResolution(undefined, 3, 3)).toBeUndefined();
    expect(clothResolution({ ends: 24, picks: 30, unit: 'cm' })).toEqual({ x: 24, y: 30 });
    expect(clothResolution({ ends: 24, picks: 30, unit: 'cm' }, 5, 4)).toEqual({ x: 120, y: 120 });
    const inch = clothResolution({ ends: 60, picks: 80, unit: 'in' }, 1, 3)!;
    expect(inch.x).toBeCloseTo(23.622, 3);
    expect(inch.y).toBeCloseTo(94.488, 3);
  });
});
