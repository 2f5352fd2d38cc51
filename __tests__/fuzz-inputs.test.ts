/**
 * A few hundred corruptions of the bundled sample and of a small picture in every supported format, each
 * decoded and woven in this process: truncations, bit flips, header field edits, chunk and segment lengths
 * that lie, and huge dimensions. Every one must end either in a valid loom image or in one typed error line
 * (InputError from decoding; UsageError when a sliver of a picture would need too tall a grid), within a
 * time and memory budget. The corruptions come from a fixed seed, so a failure names a case that repeats.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { decodeImage } from '../src/image/decode.js';
import { InputError, UsageError } from '../src/kernel/errors.js';
import type { LoomSettings } from '../src/loom/types.js';
import { finishLoom } from '../src/stages/finish.js';
import { smallImages } from './helpers/hostile-images.js';

/** The pixel limit here: big enough for the sample, small enough that a header edit stays cheap. */
const MAX_PIXELS = 4_000_000;
const CASE_BUDGET_MS = 5000;
const RSS_BUDGET_BYTES = 500 * 1024 * 1024;
const LOOM: LoomSettings = { width: 48, colors: 6, dither: 'none', minRegion: 2 };

/** Park-Miller: a small deterministic generator. */
function generator(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 48271) % 0x7fffffff;
    return s % n;
  };
}

/** Offsets of fields worth lying about: sizes and lengths in each format's header. */
function fieldOffsets(b: Buffer): number[] {
  const found: number[] = [];
  if (b[0] === 0x89) {
    // PNG: every chunk length, and IHDR's width and height.
    for (let p = 8; p + 8 <= b.length; p += 12 + b.readUInt32BE(p)) found.push(p);
    found.push(16, 20);
  } else if (b[0] === 0xff) {
    // JPEG: every segment length, and the frame header's height and width.
    for (let p = 2; p + 4 <= b.length && b[p] === 0xff; p += 2 + b.readUInt16BE(p + 2)) {
      found.push(p + 2);
      if (b[p + 1] >= 0xc0 && b[p + 1] <= 0xc2) found.push(p + 5, p + 7);
      if (b[p + 1] === 0xda) break;
    }
  } else if (b.toString('latin1', 0, 3) === 'GIF') {
    const frame = 13 + (b[10] & 0x80 ? 3 * 2 ** ((b[10] & 7) + 1) : 0);
    found.push(6, 8, frame + 5, frame + 7);
  } else if (b.toString('latin1', 0, 2) === 'BM') {
    found.push(2, 10, 14, 18, 22, 28, 30, 34, 46);
  } else if (b.toString('latin1', 0, 4) === 'RIFF') {
    found.push(4, 16, 21, 24, 27);
  } else {
    // TIFF: the first IFD's offset and its entries' counts and values.
    const ifd = b.readUInt32LE(4);
    found.push(4);
    for (let i = 0; i < 12 && ifd + 2 + i * 12 + 12 <= b.length; i++) found.push(ifd + 6 + i * 12, ifd + 10 + i * 12);
  }
  return found.filter((o) => o + 4 <= b.length);
}

const EXTREMES = [0, 1, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 50000];

function corruptions(name: string, original: Buffer, count: number, rand: (n: number) => number) {
  const cases: Array<{ name: string; bytes: Buffer }> = [];
  const fields = fieldOffsets(original);
  for (let i = 0; i < count; i++) {
    const b = Buffer.from(original);
    const kind = i % 5;
    let what: string;
    if (kind === 0) {
      const at = rand(b.length);
      cases.push({ name: `${name} cut at ${at}`, bytes: b.subarray(0, at) });
      continue;
    } else if (kind === 1) {
      const flips = 1 + rand(8);
      // Most flips land in the first kilobyte, where the headers are.
      for (let f = 0; f < flips; f++) {
        const at = rand(2) === 0 ? rand(Math.min(b.length, 1024)) : rand(b.length);
        b[at] ^= 1 << rand(8);
      }
      what = `${flips} bits flipped`;
    } else if (kind === 2 || kind === 3) {
      const at = fields[rand(fields.length)];
      const value = EXTREMES[rand(EXTREMES.length)];
      if (rand(2) === 0) b.writeUInt32BE(value >>> 0, at);
      else b.writeUInt16LE(value & 0xffff, at);
      what = `field at ${at} set to ${value}`;
    } else {
      // Huge dimensions: the header's size fields set at once, in the file's byte order; a JPEG's frame
      // header also gets junk bytes before it (libjpeg skips them).
      const value = [20000, 40000, 65535][rand(3)];
      const bigEndian = b[0] === 0x89 || b[0] === 0xff || b[0] === 0x4d;
      for (const at of fields) {
        if (rand(3) === 0) continue;
        if (bigEndian) b.writeUInt16BE(value, at);
        else b.writeUInt16LE(value, at);
      }
      const sof = b[0] === 0xff ? b.findIndex((v, i) => v === 0xff && b[i + 1] >= 0xc0 && b[i + 1] <= 0xc2) : -1;
      const bytes =
        sof > 0 && rand(2) === 0 ? Buffer.concat([b.subarray(0, sof), Buffer.from([1, 2, 3, 4]), b.subarray(sof)]) : b;
      cases.push({ name: `${name} sizes set to ${value}${bytes === b ? '' : ', junk before SOF'}`, bytes });
      continue;
    }
    cases.push({ name: `${name} ${what}`, bytes: b });
  }
  return cases;
}

async function allCases() {
  const rand = generator(20260);
  const originals: Record<string, Buffer> = {
    'grace-hopper.jpg': readFileSync('samples/grace-hopper.jpg'),
    ...(await smallImages()),
  };
  return Object.entries(originals).flatMap(([name, bytes]) =>
    corruptions(name, bytes, name === 'grace-hopper.jpg' ? 60 : 40, rand),
  );
}

describe('corrupted inputs', () => {
  it('end in a loom image or one typed error line, within budget', async () => {
    const cases = await allCases();
    expect(cases.length).toBeGreaterThanOrEqual(250);
    const outcomes = { woven: 0, refused: 0 };
    // Nothing a decoder says may reach stdout, where the results go.
    const logged: unknown[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    try {
      for (const { name, bytes } of cases) {
        const started = Date.now();
        try {
          const picture = await decodeImage(bytes, 'input', { maxPixels: MAX_PIXELS });
          expect(picture.width * picture.height).toBeLessThanOrEqual(MAX_PIXELS);
          expect(picture.data.length).toBe(picture.width * picture.height * 4);
          const { image } = await finishLoom(picture, LOOM);
          expect(image.width).toBe(LOOM.width);
          outcomes.woven++;
        } catch (err) {
          if (!(err instanceof InputError || err instanceof UsageError))
            throw new Error(
              `${name}: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`,
              {
                cause: err,
              },
            );
          expect({ name, message: err.message.includes('\n') }).toEqual({ name, message: false });
          outcomes.refused++;
        }
        expect({ name, slow: Date.now() - started > CASE_BUDGET_MS }).toEqual({ name, slow: false });
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    } finally {
      console.log = log;
    }
    expect(logged).toEqual([]);
    expect(peakRss - rssBefore).toBeLessThan(RSS_BUDGET_BYTES);
    // Both outcomes happen: the corruptions are neither all harmless nor all fatal.
    expect(outcomes.woven).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(100);
  }, 60_000);
});
