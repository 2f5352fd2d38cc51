/**
 * Every image file of a woven set (design, lift plan, cloth preview; the back with several wefts) carries the
 * cloth's resolution from --density, read back with ImageMagick's identify; --invert flips the lift plan's
 * bits. Through the built binary.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeRgbPng } from '../src/formats/png.js';
import { rgbImage } from './helpers/images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const IDENTIFY = '/usr/bin/identify';

/** A 48×32 picture: a dark disc on a light ground, with a mid-grey band. */
function picture(dir: string): string {
  const file = path.join(dir, 'motif.png');
  const img = rgbImage(48, 32, (x, y) =>
    y > 24 ? [128, 128, 128] : (x - 24) ** 2 + (y - 12) ** 2 < 100 ? [20, 20, 30] : [240, 236, 226],
  );
  writeFileSync(file, encodeRgbPng(img));
  return file;
}

interface Shown {
  width: number;
  height: number;
  x: number;
  y: number;
  unit: string;
}

/** identify's size and %x,%y,%U (pixels per cm with ResolutionUnit centimetre). */
function identified(file: string): Shown {
  const [width, height, x, y, unit] = execFileSync(IDENTIFY, ['-format', '%w,%h,%x,%y,%U', file], {
    encoding: 'utf8',
  }).split(',');
  return { width: Number(width), height: Number(height), x: Number(x), y: Number(y), unit };
}

/** The size, in cm, a file opens at. */
const cm = (s: Shown) => [s.width / s.x, s.height / s.y];

async function weave(dir: string, args: string[]) {
  const r = await runCli(
    ['edit', picture(dir), '--local', '--width', '48', '--colors', '3', '--weave', '--json', '-q', ...args],
    { cwd: dir },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const record = JSON.parse(r.stdout.trim());
  return { record, report: JSON.parse(readFileSync(record.report, 'utf8')) };
}

describe('the files of a woven set carry the cloth resolution', () => {
  const tmp = tempDirsPerTest();

  it.each(['bmp', 'png', 'tiff'])(
    '--density 24x30, --format %s: design and lift plan at 24 × 30 per cm, the preview at its own scale',
    async (format) => {
      const { record, report } = await weave(tmp(), [
        '--density',
        '24x30',
        '--format',
        format,
        '--lift-format',
        format,
      ]);
      const design = identified(record.output);
      const lift = identified(record.lift);
      const cloth = identified(record.cloth);
      for (const s of [design, lift, cloth]) expect(s.unit).toBe('PixelsPerCentimeter');
      expect([design.x, design.y]).toEqual([24, 30]);
      expect([lift.x, lift.y]).toEqual([24, 30]);
      // The preview: the density times its pixels per end and per pick.
      const { ends, picks } = report.grid;
      expect(cloth.x).toBeCloseTo((24 * cloth.width) / ends, 1);
      expect(cloth.y).toBeCloseTo((30 * cloth.height) / picks, 1);
      // All three open at the cloth's size: 2 cm across.
      const woven = [report.woven.width, report.woven.length];
      for (const s of [design, lift, cloth]) {
        expect(cm(s)[0]).toBeCloseTo(woven[0], 1);
        expect(cm(s)[1]).toBeCloseTo(woven[1], 1);
      }
      for (const s of report.weave.structures) expect(s.repeat).toMatch(/^\d+x\d+$/);
    },
  );

  it('three wefts at 60x80/in: the lift plan has 3 picks a design row, face and back open at the cloth size', async () => {
    const { record, report } = await weave(tmp(), [
      '--density',
      '60x80/in',
      '--wefts',
      '#1b2a4a,#c8a27a,#e8e4d8',
      '--lift-format',
      'tiff',
    ]);
    const design = identified(record.output);
    const lift = identified(record.lift);
    const face = identified(record.cloth);
    const back = identified(record.back);
    for (const s of [design, lift, face, back]) expect(s.unit).toBe('PixelsPerCentimeter');
    expect(design.x).toBeCloseTo(60 / 2.54, 1);
    expect(design.y).toBeCloseTo(80 / 2.54, 1);
    expect(lift.x).toBeCloseTo(60 / 2.54, 1);
    expect(lift.y).toBeCloseTo((3 * 80) / 2.54, 1);
    expect(lift.height).toBe(3 * design.height);
    const { scale, rowHeight, back: b } = report.weave.preview;
    expect(face.x).toBeCloseTo((scale * 60) / 2.54, 0);
    expect(face.y).toBeCloseTo((rowHeight * 80) / 2.54, 0);
    expect(back.y).toBeCloseTo((3 * b.pickHeight * 80) / 2.54, 0);
    // In inches, as the density was given: 0.8 in across.
    for (const s of [design, lift, face, back]) {
      expect(cm(s)[0] / 2.54).toBeCloseTo(48 / 60, 2);
      expect(cm(s)[1]).toBeCloseTo(cm(design)[1], 2);
    }
    for (const s of report.weave.structures) expect(s.repeat).toMatch(/^\d+x\d+$/);
  });

  it('without --density no file states a resolution; --invert flips every bit of the BMP lift plan', async () => {
    const plain = await weave(tmp(), ['--format', 'bmp']);
    const inverted = await weave(tmp(), ['--format', 'bmp', '--invert']);
    const design = readFileSync(plain.record.output);
    const lift = readFileSync(plain.record.lift);
    for (const bmp of [design, lift]) expect([bmp.readInt32LE(38), bmp.readInt32LE(42)]).toEqual([0, 0]);
    expect(identified(plain.record.cloth).unit).toBe('Undefined');

    const flipped = readFileSync(inverted.record.lift);
    expect(flipped.length).toBe(lift.length);
    // Header and colour table [black, white] alike; every pixel bit complemented (row padding aside).
    const offset = lift.readUInt32LE(10);
    expect(flipped.subarray(0, offset).equals(lift.subarray(0, offset))).toBe(true);
    expect([...lift.subarray(54, 62)]).toEqual([0, 0, 0, 0, 255, 255, 255, 0]);
    const width = lift.readInt32LE(18);
    const height = lift.readInt32LE(22);
    const rowBytes = Math.ceil(width / 32) * 4;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = offset + y * rowBytes + (x >> 3);
        const bit = (b: Buffer) => (b[at] >> (7 - (x & 7))) & 1;
        expect(bit(flipped)).toBe(1 - bit(lift));
      }
    }
    expect(inverted.report.weave.lift.raised).toBe('white');
  });
});
