import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Jimp } from 'jimp';
import { decodeForGrid, decodeImage } from '../src/image/decode.js';
import { JpegTurboError, decodeJpegScaled } from '../src/image/jpeg-turbo.js';
import { applyOrientation } from '../src/image/orient.js';
import { InputError } from '../src/kernel/errors.js';
import { finishBytes } from '../src/stages/finish.js';
import { rgbaImage } from './helpers/images.js';
import { noisyGradient } from './helpers/images.js';

const HOPPER = readFileSync(new URL('../samples/grace-hopper.jpg', import.meta.url));

/** A smooth picture, few bits per pixel as a JPEG; asymmetric, so that a turn or a mirror shows. */
async function smoothJpeg(width = 200, height = 160): Promise<Buffer> {
  const image = rgbaImage(width, height, (x, y) => [
    40 + Math.round((180 * x) / width),
    60 + Math.round((120 * y) / height),
    x < width / 3 ? 200 : 90,
    255,
  ]);
  return new Jimp({ width, height, data: Buffer.from(image.data) }).getBuffer('image/jpeg', { quality: 85 });
}

/** Grain everywhere: many bits per pixel. */
async function grainyJpeg(width = 200, height = 160): Promise<Buffer> {
  const image = noisyGradient(width, height);
  return new Jimp({ width, height, data: Buffer.from(image.data) }).getBuffer('image/jpeg', { quality: 95 });
}

/** The same APP1 Exif segment with one Orientation tag as decode.test.ts, after the SOI marker. */
function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, body, jpeg.subarray(2)]);
}

describe('libjpeg-turbo scaled decoding', () => {
  it('decodes at full size exactly as the mozjpeg decoder does', async () => {
    const turbo = (await decodeJpegScaled(HOPPER, 1))!;
    const moz = await decodeImage(HOPPER, 'hopper.jpg');
    expect([turbo.width, turbo.height, turbo.warning]).toEqual([512, 600, false]);
    expect(Buffer.from(turbo.data).equals(Buffer.from(moz.data))).toBe(true);
  });

  it('rounds each reduced side up', async () => {
    const odd = await smoothJpeg(37, 21);
    for (const [d, w, h] of [
      [2, 19, 11],
      [4, 10, 6],
      [8, 5, 3],
    ] as const) {
      const out = (await decodeJpegScaled(odd, d))!;
      expect([out.width, out.height, out.data.length]).toEqual([w, h, w * h * 4]);
    }
  });

  it('decodes nothing when the header is refused', async () => {
    let seen: unknown;
    const out = await decodeJpegScaled(HOPPER, 2, (info) => {
      seen = info;
      return false;
    });
    expect(out).toBeUndefined();
    expect(seen).toEqual({ width: 512, height: 600, colorspace: 1 });
  });

  it('says when data ends early, and throws when libjpeg stops; the next decode still works', async () => {
    const cut = await decodeJpegScaled(HOPPER.subarray(0, HOPPER.length >> 1), 2);
    expect(cut!.warning).toBe(true);
    const broken = Buffer.concat([HOPPER.subarray(0, 200), Buffer.alloc(400, 0x55)]);
    await expect(decodeJpegScaled(broken, 2)).rejects.toBeInstanceOf(JpegTurboError);
    await expect(decodeJpegScaled(Buffer.from('not a jpeg at all'), 2)).rejects.toBeInstanceOf(JpegTurboError);
    const after = (await decodeJpegScaled(HOPPER, 2))!;
    expect([after.width, after.height, after.warning]).toEqual([256, 300, false]);
    expect(Buffer.from(after.data).equals(Buffer.from((await decodeJpegScaled(HOPPER, 2))!.data))).toBe(true);
  });
});

it('leaves pixels not yet released alone, and reuses the memory of released ones', async () => {
  const first = (await decodeJpegScaled(HOPPER, 1))!;
  const kept = Buffer.from(first.data);
  const other = (await decodeJpegScaled(await smoothJpeg(), 1))!;
  // `first` still holds its instance, so the second decode went to another one.
  expect(other.data.buffer).not.toBe(first.data.buffer);
  expect(Buffer.from(first.data).equals(kept)).toBe(true);
  first.release();
  first.release(); // a second call does nothing
  other.release(); // an instance is kept already: this one is dropped
  const again = (await decodeJpegScaled(HOPPER, 1))!;
  expect(again.data.buffer).toBe(first.data.buffer);
  expect(Buffer.from(again.data).equals(kept)).toBe(true);
  again.release();
});

describe('who holds the pixels', () => {
  it('decodeImage gives pixels of their own, which a worker thread can be sent; decodeForGrid lends them', async () => {
    const whole = await decodeImage(HOPPER, 'hopper.jpg');
    expect(whole.release).toBeUndefined();
    expect(whole.data.byteLength).toBe(whole.data.buffer.byteLength);
    expect(structuredClone(whole).data).toEqual(whole.data);
    const lent = await decodeForGrid(HOPPER, 'hopper.jpg', {}, () => ({ width: 40, height: 47 }));
    expect('release' in lent && typeof lent.release).toBe('function');
    if ('release' in lent) {
      expect(Buffer.from(lent.data).equals(Buffer.from(whole.data))).toBe(true);
      lent.release!();
    }
  });
});

describe('decodeImage with reduceFor', () => {
  it('decodes a smooth JPEG at half size when the size asked for allows it, with its full size', async () => {
    const jpeg = await smoothJpeg();
    const sizes: number[][] = [];
    const half = await decodeImage(jpeg, 'smooth.jpg', {
      reduceFor: (w, h) => {
        sizes.push([w, h]);
        return { width: 100, height: 80 };
      },
    });
    expect(sizes).toEqual([[200, 160]]);
    expect([half.width, half.height, half.fullWidth, half.fullHeight]).toEqual([100, 80, 200, 160]);
    expect(Buffer.from(half.data).equals(Buffer.from((await decodeJpegScaled(jpeg, 2))!.data))).toBe(true);
  });

  it('decodes at full size when half size would be smaller than asked for', async () => {
    const jpeg = await smoothJpeg();
    const full = await decodeImage(jpeg, 'smooth.jpg');
    for (const needed of [
      { width: 101, height: 10 },
      { width: 10, height: 81 },
    ]) {
      const out = await decodeImage(jpeg, 'smooth.jpg', { reduceFor: () => needed });
      expect([out.width, out.height, out.fullWidth]).toEqual([200, 160, 200]);
      expect(Buffer.from(out.data).equals(Buffer.from(full.data))).toBe(true);
    }
  });

  it('decodes grainy data (many bits per pixel) at full size', async () => {
    const jpeg = await grainyJpeg();
    expect((jpeg.length * 8) / (200 * 160)).toBeGreaterThan(1.25);
    const out = await decodeImage(jpeg, 'grain.jpg', { reduceFor: () => ({ width: 1, height: 1 }) });
    expect(out.width).toBe(200);
  });

  it('applies the EXIF orientation to the half-size picture and gives the upright full size', async () => {
    const jpeg = await smoothJpeg();
    const half = (await decodeJpegScaled(jpeg, 2))!;
    for (const orientation of [3, 6, 8]) {
      const sizes: number[][] = [];
      const out = await decodeImage(withOrientation(jpeg, orientation), 'turned.jpg', {
        reduceFor: (w, h) => {
          sizes.push([w, h]);
          return { width: 1, height: 1 };
        },
      });
      const upright = applyOrientation(half, orientation);
      const turned = orientation > 4;
      expect(sizes).toEqual([turned ? [160, 200] : [200, 160]]);
      expect([out.width, out.height, out.fullWidth, out.fullHeight]).toEqual([
        upright.width,
        upright.height,
        ...(turned ? [160, 200] : [200, 160]),
      ]);
      expect(Buffer.from(out.data).equals(Buffer.from(upright.data))).toBe(true);
    }
  });

  it('refuses data that ends early unless lenient', async () => {
    const jpeg = await smoothJpeg(400, 320);
    const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    const reduceFor = () => ({ width: 1, height: 1 });
    const err = await decodeImage(cut, 'cut.jpg', { reduceFor }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe('cut.jpg: corrupt or truncated JPEG (the data is cut short)');
    const lenient = await decodeImage(cut, 'cut.jpg', { reduceFor, lenient: true });
    expect([lenient.width, lenient.fullWidth]).toEqual([200, 400]);
  });

  it('refuses junk before the frame header as it refuses other damage, cut short or not, unless lenient', async () => {
    // libjpeg warns of the junk while it reads the header: TurboJPEG's header call returns -1 for it.
    const sof = HOPPER.indexOf(Buffer.from([0xff, 0xc0]));
    const junk = Buffer.concat([HOPPER.subarray(0, sof), Buffer.from('junk'), HOPPER.subarray(sof)]);
    const cut = junk.subarray(0, Math.floor(junk.length * 0.6));
    const cases: Array<[Buffer, string]> = [
      [junk, 'libjpeg reports missing or corrupt data'],
      [cut, 'the data is cut short'],
    ];
    for (const [bytes, problem] of cases) {
      for (const options of [{}, { reduceFor: () => ({ width: 1, height: 1 }) }]) {
        const err = await decodeImage(bytes, 'junk.jpg', options).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toBe(`junk.jpg: corrupt or truncated JPEG (${problem})`);
        const lenient = await decodeImage(bytes, 'junk.jpg', { ...options, lenient: true });
        expect(lenient.fullWidth).toBe(512);
        expect(lenient.warnings).toEqual(['libjpeg reports missing or corrupt data']);
      }
    }
  });

  it('refuses data libjpeg warns about even when the full decoder would take it, unless lenient', async () => {
    // Bytes between the scan and its end marker: libjpeg warns ("extraneous bytes") and goes on.
    const eoi = HOPPER.lastIndexOf(Buffer.from([0xff, 0xd9]));
    const junk = Buffer.concat([HOPPER.subarray(0, eoi), Buffer.from([1, 2, 3]), HOPPER.subarray(eoi)]);
    const err = await decodeImage(junk, 'junk.jpg').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'junk.jpg: corrupt or truncated JPEG (libjpeg reports missing or corrupt data)',
    );
    const lenient = await decodeImage(junk, 'junk.jpg', { lenient: true });
    expect([lenient.width, lenient.height]).toEqual([512, 600]);
    expect(lenient.warnings).toEqual(['libjpeg reports missing or corrupt data']);
  });

  it('leaves data libjpeg stops on to the full decoder, whose error is the one given', async () => {
    const jpeg = await smoothJpeg();
    const broken = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(400, 0x55)]);
    const reduced = await decodeImage(broken, 'bad.jpg', { reduceFor: () => ({ width: 1, height: 1 }) }).catch(
      (e: unknown) => e,
    );
    const full = await decodeImage(broken, 'bad.jpg').catch((e: unknown) => e);
    expect(reduced).toBeInstanceOf(InputError);
    expect((reduced as Error).message).toBe((full as Error).message);
  });
});

describe('finishing a JPEG decoded at half size', () => {
  it('sizes the grid from the full picture, not the half-size one', async () => {
    // 403 × 319 at 60 ends: 47 picks; its half size, 202 × 160, would give 48.
    const jpeg = await smoothJpeg(403, 319);
    const half = await decodeImage(jpeg, 'smooth.jpg', { reduceFor: () => ({ width: 60, height: 47 }) });
    expect([half.width, half.height]).toEqual([202, 160]);
    const loom = { width: 60, colors: 4, dither: 'none' as const, minRegion: 1 };
    const encode = { format: 'png', meta: { style: 'test', source: 'local' as const } };
    const reduced = await finishBytes({ bytes: jpeg, label: 'smooth.jpg', loom, encode }, undefined);
    expect([reduced.result.image.width, reduced.result.image.height]).toEqual([60, 47]);
    const full = await finishBytes(
      { image: await decodeImage(jpeg, 'smooth.jpg'), label: 'smooth.jpg', loom, encode },
      undefined,
    );
    expect(full.result.image.height).toBe(47);
  });
});
