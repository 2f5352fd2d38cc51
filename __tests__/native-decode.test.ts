/**
 * TIFF and GIF are decoded by sharp (libvips) when it loads; jimp's decoders are what it falls back to. Both
 * must give the same picture: the same pixels, upright, at the same size.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../src/image/decode.js';
import { inputFormat } from '../src/image/formats/registry.js';
import { InterruptedError } from '../src/kernel/errors.js';
import { g4Stripes, gifOf } from './helpers/hostile-images.js';

const SAMPLE = readFileSync(path.join(process.cwd(), 'samples', 'grace-hopper.jpg'));

async function bothDecoders(bytes: Buffer, label: string) {
  const native = await decodeImage(bytes, label);
  const js = await decodeImage(bytes, label, { native: false });
  return { native, js };
}

describe('TIFF and GIF through sharp', () => {
  it('reads a TIFF as jimp does: RGB and grey, LZW, deflate and none, with an alpha channel', async () => {
    const picture = sharp(SAMPLE).resize(96, 112);
    const files: Array<[string, Buffer]> = [
      ['lzw.tif', await picture.clone().tiff({ compression: 'lzw' }).toBuffer()],
      ['deflate.tif', await picture.clone().tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer()],
      ['alpha.tif', await picture.clone().ensureAlpha(0.5).tiff({ compression: 'none' }).toBuffer()],
      ['grey.tif', await picture.clone().greyscale().tiff({ compression: 'lzw' }).toBuffer()],
    ];
    for (const [label, bytes] of files) {
      const { native, js } = await bothDecoders(bytes, label);
      expect([label, native.width, native.height]).toEqual([label, 96, 112]);
      expect([label, native.warnings]).toEqual([label, []]);
      expect(Buffer.from(native.data).equals(Buffer.from(js.data))).toBe(true);
    }
  });

  it('turns a TIFF upright by its orientation, with either decoder', async () => {
    const raw = await sharp(SAMPLE).resize(40, 24).ensureAlpha().raw().toBuffer();
    // Where the stored picture's first pixel is seen, for each orientation (as for a JPEG's EXIF one).
    const corners: Record<number, [number, number]> = { 1: [0, 0], 2: [39, 0], 3: [39, 23], 4: [0, 23] };
    Object.assign(corners, { 5: [0, 0], 6: [23, 0], 7: [23, 39], 8: [0, 39] });
    for (let orientation = 1; orientation <= 8; orientation++) {
      const bytes = await sharp(raw, { raw: { width: 40, height: 24, channels: 4 } })
        .withMetadata({ orientation })
        .tiff({ compression: 'lzw' })
        .toBuffer();
      const { native, js } = await bothDecoders(bytes, 'turned.tif');
      const [x, y] = corners[orientation];
      const at = (y * native.width + x) * 4;
      expect([orientation, native.width, native.height]).toEqual([
        orientation,
        ...(orientation > 4 ? [24, 40] : [40, 24]),
      ]);
      expect(Array.from(native.data.subarray(at, at + 4))).toEqual(Array.from(raw.subarray(0, 4)));
      expect(Buffer.from(native.data).equals(Buffer.from(js.data))).toBe(true);
    }
  });

  it('reads the first frame of a GIF, transparency included, as jimp does', async () => {
    const frame = await sharp(SAMPLE).resize(64, 75).ensureAlpha().raw().toBuffer();
    // A transparent band across the top.
    for (let i = 3; i < 64 * 10 * 4; i += 4) frame[i] = 0;
    const bytes = await sharp(frame, { raw: { width: 64, height: 75, channels: 4 } })
      .gif({ colours: 64, dither: 0 })
      .toBuffer();
    const { native, js } = await bothDecoders(bytes, 'frame.gif');
    expect([native.width, native.height]).toEqual([64, 75]);
    expect(native.data[3]).toBe(0);
    expect(Buffer.from(native.data).equals(Buffer.from(js.data))).toBe(true);
  });

  it('leaves a file libtiff refuses to jimp, and --lenient files too', async () => {
    // The strip is declared shorter than it is: libtiff stops at its last rows, utif reads what is declared.
    const cutShort = g4Stripes(64, 8, 4);
    await expect(sharp(cutShort, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow();
    const { native, js } = await bothDecoders(cutShort, 'short.tif');
    expect(native.width).toBe(64);
    expect(Buffer.from(native.data).equals(Buffer.from(js.data))).toBe(true);
    const lenient = await decodeImage(cutShort, 'short.tif', { lenient: true });
    expect(Buffer.from(lenient.data).equals(Buffer.from(js.data))).toBe(true);
  });

  it("checks a GIF's LZW codes before omggif reads it, not before libvips", async () => {
    const sound = gifOf(4, [[4, 4]]);
    // The first frame's codes: Clear, 1, End of Information; then Clear, 7 (not yet defined), End.
    const undefinedCode = Buffer.from(sound);
    undefinedCode[undefinedCode.indexOf(0x4c)] = 0x7c;
    expect(inputFormat('gif').checkData?.(sound)).toBeUndefined();
    expect(inputFormat('gif').checkData?.(undefinedCode)).toBe(
      "the first frame's LZW data refers to codes not yet defined",
    );
    await expect(decodeImage(undefinedCode, 'codes.gif', { native: false })).rejects.toThrow(
      "codes.gif: corrupt or truncated GIF (the first frame's LZW data refers to codes not yet defined)",
    );
    // libvips refuses it too; the file then comes to the checks, and is refused by them, not by omggif.
    await expect(decodeImage(undefinedCode, 'codes.gif')).rejects.toThrow(
      "codes.gif: corrupt or truncated GIF (the first frame's LZW data refers to codes not yet defined)",
    );
  });

  it('never lets libvips make a canvas larger than the header declares', async () => {
    // A 0 × 0 screen (0 pixels: to sharp, a limit of 0 is none) and a frame placed 60,000 pixels off it, which
    // libvips would draw on a 60000 × 60001 canvas of 14 GB.
    const offScreen = (screen: number, frame: [number, number]) => {
      const gif = gifOf(screen, [frame]);
      gif.writeUInt16LE(60000, gif.indexOf(0x2c) + 1);
      gif.writeUInt16LE(60000, gif.indexOf(0x2c) + 3);
      return gif;
    };
    await expect(decodeImage(offScreen(0, [0, 1]), 'off.gif')).rejects.toThrow(/^off\.gif: corrupt or truncated/);
    const small = await decodeImage(offScreen(4, [1, 1]), 'off.gif');
    expect([small.width, small.height]).toEqual([4, 4]);
  });

  it('stops waiting for sharp when the signal fires during a decode', async () => {
    await decodeImage(g4Stripes(16, 4), 'ok.tif'); // sharp loaded
    const big = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#808080' } })
      .tiff({ compression: 'deflate' })
      .toBuffer();
    const controller = new AbortController();
    const decoding = decodeImage(big, 'big.tif', { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new InterruptedError()), 5);
    expect(await decoding).toBeInstanceOf(InterruptedError);
  });
});
