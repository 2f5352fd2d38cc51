/**
 * Pictures whose data would keep a decoder busy without end, or for minutes: TIFF LZW strips whose codes
 * refer to entries not yet defined (the decoder then follows a chain of prefixes that loops), strips that
 * unpack to far more than their rows, progressive JPEGs of a scan repeated over a big picture. Each is
 * refused from its header, before a decoder sees it; the binary ends at once with one line, exit 1, and
 * nothing written. What no header check foresees (a Group 4 TIFF that utif's decoder reads in a time that
 * grows with the square of its width) is stopped on the decode thread: after the time its size allows, or
 * at once when the run is interrupted. And a JPEG whose damage libjpeg reads past with a warning.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, type DecodeOptions } from '../src/image/decode.js';
import { inputFormat, readImageHeader } from '../src/image/formats/registry.js';
import { InputError, InterruptedError } from '../src/kernel/errors.js';
import { g4RunawayRow, g4Stripes, lzwCodes, lzwEncode, progressiveJpeg, tiffStrip } from './helpers/hostile-images.js';
import { BIN } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const CLEAR = 256;
const END = 257;

async function refusal(bytes: Uint8Array, label = 'x', options: DecodeOptions = {}): Promise<string> {
  const err = await decodeImage(bytes, label, options).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

/** Bytes that look like a photo's: runs and repeats, so that LZW builds long entries and fills its table. */
function texture(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let seed = 7;
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = seed % 5 === 0 ? seed >>> 24 : (i >> 3) & 0xf0;
  }
  return out;
}

interface Ended {
  code: number | null;
  stderr: string;
  ms: number;
}

/** The binary on `args` in `cwd`, killed after `killAfterMs` (a decoder that never ends shows as null). */
function runTimed(args: string[], cwd: string, killAfterMs = 20_000): Promise<Ended> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd }, timeout: killAfterMs, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end();
  });
}

describe('TIFF LZW strips', () => {
  it('decodes a strip as libtiff writes it, through every code width and a full table', async () => {
    const pixels = texture(160 * 120);
    const strip = lzwEncode(pixels);
    expect(strip.length).toBeGreaterThan(6000); // enough codes to pass 12 bits and clear the table
    const tiff = tiffStrip(160, 120, 5, strip);
    expect(readImageHeader(tiff)?.problem).toBeUndefined();
    expect(inputFormat('tiff').checkData?.(tiff)).toBeUndefined();
    const decoded = await decodeImage(tiff, 'ok.tif', { native: false });
    const grey = decoded.data.filter((_, i) => i % 4 === 0);
    expect(Buffer.from(grey).equals(Buffer.from(pixels))).toBe(true);
  });

  it('refuses a strip whose codes refer to themselves (Clear, 258, 258, End)', async () => {
    const tiff = tiffStrip(8, 8, 5, lzwCodes([CLEAR, 258, 258, END]));
    expect(tiff.length).toBe(127);
    expect(await refusal(tiff, 'self.tif')).toBe(
      'self.tif: corrupt or truncated TIFF (an LZW strip has code 258 right after a Clear code)',
    );
  });

  it('refuses a code past the next free entry, and takes the one being defined (KwKwK)', async () => {
    // After 65: entry 258 is being defined, so 258 may follow; 259 may not.
    const past = tiffStrip(4, 1, 5, lzwCodes([CLEAR, 65, 259, END]));
    expect(await refusal(past, 'past.tif')).toBe(
      'past.tif: corrupt or truncated TIFF (an LZW strip refers to code 259 before it is defined)',
    );
    const kwkwk = await decodeImage(tiffStrip(3, 1, 5, lzwCodes([CLEAR, 65, 258, END])), 'k.tif');
    expect(kwkwk.data.filter((_, i) => i % 4 === 0)).toEqual(new Uint8Array([65, 65, 65]));
  });

  it('refuses a strip that unpacks to more than its rows before utif reads it; libtiff reads the rows only', async () => {
    const pixels = texture(16 * 16 * 40);
    const tiff = tiffStrip(16, 16, 5, lzwEncode(pixels));
    expect(await refusal(tiff, 'x', { native: false })).toBe(
      'x: corrupt or truncated TIFF (a compressed strip unpacks to more than its rows)',
    );
    const decoded = await decodeImage(tiff, 'x');
    const grey = decoded.data.filter((_, i) => i % 4 === 0);
    expect(Buffer.from(grey).equals(Buffer.from(pixels.subarray(0, 16 * 16)))).toBe(true);
  });

  it('refuses random strips: each soon refers to a code not yet defined', async () => {
    let seed = 1;
    for (let i = 0; i < 25; i++) {
      const strip = Buffer.alloc(2000);
      for (let k = 0; k < strip.length; k++) strip[k] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      const tiff = tiffStrip(100, 100, 5, strip);
      const problem = inputFormat('tiff').checkData?.(tiff);
      expect(problem).toMatch(/^an LZW strip (refers to code \d+ before it is defined|has code \d+ right)/);
      // libtiff refuses them too, and utif is not let near them.
      expect(await refusal(tiff)).toBe(`x: corrupt or truncated TIFF (${problem})`);
    }
  });
});

describe('TIFF PackBits strips', () => {
  it('refuses runs that add up to more than the strip', async () => {
    // 1,000 runs of 128 bytes for a 4 × 4 strip: the decoder would write every one.
    const runs = Buffer.alloc(2000);
    for (let i = 0; i < runs.length; i += 2) runs[i] = 0x81;
    expect(await refusal(tiffStrip(4, 4, 32773, runs))).toBe(
      'x: corrupt or truncated TIFF (a compressed strip unpacks to more than its rows)',
    );
    const fits = Buffer.from([0x81, 7, 0x81, 9]); // two runs of 128, for 16 × 16
    expect((await decodeImage(tiffStrip(16, 16, 32773, fits), 'ok.tif')).width).toBe(16);
  });
});

describe('progressive JPEGs', () => {
  it('decodes a sound one, scan by scan', async () => {
    const jpeg = progressiveJpeg(61, 45, { first: 5 });
    const decoded = await decodeImage(jpeg, 'ok.jpg');
    expect([decoded.width, decoded.height, decoded.warnings]).toEqual([61, 45, []]);
  });

  it('refuses more scans than any encoder writes, before decoding any', async () => {
    // One refinement scan repeated: each is a pass over the whole picture for the decoder.
    const jpeg = progressiveJpeg(10000, 10000, { repeats: 1000, dataBytes: 8 });
    expect(jpeg.length).toBeLessThan(20_000);
    const started = Date.now();
    expect(await refusal(jpeg, 'scans.jpg')).toBe(
      'scans.jpg: a JPEG of 1002 scans is not supported (at most 500); save it again as a baseline JPEG',
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(readImageHeader(progressiveJpeg(64, 64, { repeats: 498 }))?.unsupported).toBeUndefined();
  });

  it('refuses a JPEG-compressed TIFF strip of too many scans', async () => {
    const strip = progressiveJpeg(64, 64, { repeats: 600, dataBytes: 8 });
    expect(await refusal(tiffStrip(64, 64, 7, strip))).toBe(
      'x: corrupt or truncated TIFF (a JPEG strip: a JPEG of 602 scans is not supported (at most 500); ' +
        'save it again as a baseline JPEG)',
    );
  });

  it('refuses fewer scans over so many pixels that they are as much work', async () => {
    const header = readImageHeader(progressiveJpeg(10000, 10000, { repeats: 30, dataBytes: 8 }));
    expect(header?.unsupported).toBe(
      'a JPEG whose 32 scans pass over 3200 million samples in all is more decoding work than allowed ' +
        '(3000 million); save it again as a baseline JPEG',
    );
    // At the limit, the file goes on to the decoder.
    expect(readImageHeader(progressiveJpeg(10000, 10000, { repeats: 28, dataBytes: 8 }))?.unsupported).toBe(undefined);
  });
});

describe('the decode thread', () => {
  // 1.6 megapixels: 2.8 s allowed; utif's decoder would take half a minute, libtiff (sharp) a moment.
  const slow = g4Stripes(16000, 100);
  const jsOnly = { native: false };

  it('decodes a Group 4 TIFF, and stops one that takes longer than its size allows', async () => {
    for (const options of [{}, jsOnly]) {
      const small = await decodeImage(g4Stripes(16, 4), 'ok.tif', options);
      expect(Array.from(small.data.subarray(0, 16))).toEqual([
        255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255,
      ]);
    }
    let started = Date.now();
    expect((await decodeImage(slow, 'slow.tif')).width).toBe(16000);
    expect(Date.now() - started).toBeLessThan(2000);
    started = Date.now();
    const err = await decodeImage(slow, 'slow.tif', jsOnly).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'slow.tif: the TIFF decoder was stopped after 3 s, the most a picture of its size is given',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // The thread that was stopped is replaced.
    expect((await decodeImage(g4Stripes(16, 4), 'ok.tif', jsOnly)).width).toBe(16);
  });

  it('refuses a Group 4 row that runs far past its width, before its pixels fill the heap', async () => {
    // 200,000 runs of 1,728 pixels: a JS array grown to that aborts the whole process.
    const started = Date.now();
    expect(await refusal(g4RunawayRow(10000, 1000, 200_000), 'wide.tif')).toBe(
      'wide.tif: corrupt or truncated image (a CCITT row runs past its width)',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends a decode at once when the signal fires', async () => {
    const controller = new AbortController();
    const decoding = decodeImage(slow, 'slow.tif', { ...jsOnly, signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const aborted = Date.now();
    controller.abort(new InterruptedError());
    expect(await decoding).toBeInstanceOf(InterruptedError);
    expect(Date.now() - aborted).toBeLessThan(200);
  });
});

describe('imagegen edit on a picture that would keep its decoder busy', () => {
  const setup = tempDirsPerTest();

  it('refuses the self-referring LZW TIFF in seconds, with one line, exit 1 and no output', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'self.tif'), tiffStrip(8, 8, 5, lzwCodes([CLEAR, 258, 258, END])));
    const run = await runTimed(['edit', 'self.tif', '--local', '-o', 'out.png'], dir);
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(5000);
    expect(run.stderr).toMatch(/^error: self\.tif: corrupt or truncated TIFF \(an LZW strip has code 258/m);
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
  });

  it('refuses a progressive JPEG of a thousand scans in seconds, exit 1, no output', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'scans.jpg'), progressiveJpeg(10000, 10000, { repeats: 1000, dataBytes: 8 }));
    const run = await runTimed(['edit', 'scans.jpg', '--local', '-o', 'out.png'], dir);
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(5000);
    expect(run.stderr).toMatch(/^error: scans\.jpg: a JPEG of 1002 scans is not supported/m);
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
  });

  it('ends within a second of Ctrl-C while a decoder is busy: exit 130, nothing written', async () => {
    const dir = setup();
    // libtiff refuses its cut-short strip, so it goes to utif's decoder, which it keeps busy.
    writeFileSync(path.join(dir, 'slow.tif'), g4Stripes(16000, 100, 1000));
    const child = spawn(process.execPath, [BIN, 'edit', 'slow.tif', '--local', '-o', 'out.png'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let signalled = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The decode starts as the weaving is announced; it then has a second to get well under way.
      if (!signalled && stderr.includes('weaving'))
        setTimeout(() => {
          signalled = Date.now();
          child.kill('SIGINT');
        }, 1000);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    expect(code).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(1000);
    expect(stderr).toContain('error: interrupted');
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
  });
});

describe('imagegen edit interrupted while libvips decodes', () => {
  const setup = tempDirsPerTest();

  it('quits at once on a second Ctrl-C, ended by the signal, nothing written', async () => {
    const dir = setup();
    // 100 megapixels of one grey: a second or more of libvips' work, which an exit would wait for.
    const flat = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#777' } })
      .greyscale()
      .tiff({ compression: 'deflate' })
      .toBuffer();
    writeFileSync(path.join(dir, 'flat.tif'), flat);
    const child = spawn(process.execPath, [BIN, 'edit', 'flat.tif', '--local', '-o', 'out.png'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let second = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!second && stderr.includes('weaving')) {
        second = -1;
        setTimeout(() => {
          child.kill('SIGINT');
          setTimeout(() => {
            second = Date.now();
            child.kill('SIGINT');
          }, 100);
        }, 200);
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);
    expect([code, signal]).toEqual([null, 'SIGINT']);
    expect(Date.now() - second).toBeLessThan(500);
    expect(stderr).toContain('interrupted: stopping');
    expect(readdirSync(dir).sort()).toEqual(['flat.tif']);
  });
});

describe('imagegen edit on a damaged JPEG', () => {
  const setup = tempDirsPerTest();

  it('refuses a JPEG with junk before its frame header and its data cut short, as a plain cut one', async () => {
    const dir = setup();
    const hopper = readFileSync('samples/grace-hopper.jpg');
    const sof = hopper.indexOf(Buffer.from([0xff, 0xc0]));
    const junk = Buffer.concat([hopper.subarray(0, sof), Buffer.from('junk'), hopper.subarray(sof)]);
    writeFileSync(path.join(dir, 'junk.jpg'), junk.subarray(0, Math.floor(junk.length * 0.6)));
    const strict = await runTimed(['edit', 'junk.jpg', '--local', '-o', 'out.png'], dir);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^error: junk\.jpg: corrupt or truncated JPEG \(the data is cut short\)$/m);
    expect(existsSync(path.join(dir, 'out.png'))).toBe(false);
    const lenient = await runTimed(['edit', 'junk.jpg', '--local', '--lenient', '-o', 'out.png'], dir);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('junk.jpg: libjpeg reports missing or corrupt data (accepted with --lenient)');
    const report = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as {
      source: { inputWarnings?: string[] };
    };
    expect(report.source.inputWarnings).toEqual(['libjpeg reports missing or corrupt data']);
  });
});
