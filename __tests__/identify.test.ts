/**
 * ImageMagick must read our PNG and BMP back as palette images with exactly the chosen colours.
 * .ci/run installs ImageMagick and sets CI, where a missing `identify` fails the run; a developer's machine
 * without it skips these tests.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeIndexedBmp } from '../src/formats/bmp.js';
import { encodeIndexedPng } from '../src/formats/png.js';
import { runLoomPipeline } from '../src/loom/pipeline.js';
import { noisyGradient } from './helpers/images.js';
import { tempDir } from './helpers/tmp.js';

const IDENTIFY = ['/usr/bin/identify', 'identify'].find((bin) => {
  try {
    execFileSync(bin, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
// The real ImageMagick convert sits beside identify (/usr/local/bin/convert may be a stand-in).
const CONVERT = IDENTIFY === '/usr/bin/identify' ? '/usr/bin/convert' : 'convert';
const maybe = IDENTIFY ? describe : describe.skip;

if (!IDENTIFY && process.env.CI) {
  it('has ImageMagick identify in CI', () => {
    throw new Error('ImageMagick identify is not installed; .ci/run installs it with apt-get');
  });
}

maybe('ImageMagick reads our outputs back', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  function histogram(file: string): string[] {
    // One line per colour: "count: (r,g,b) #RRGGBB srgb(...)"; keep the hex.
    const out = execFileSync(CONVERT, [file, '-format', '%c', 'histogram:info:-'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => /#([0-9A-F]{6})/i.exec(line)?.[1].toLowerCase())
      .filter((hex): hex is string => Boolean(hex))
      .sort();
  }

  it.each([2, 5, 8, 40])('%i colours, PNG and BMP', (colors) => {
    const { image, stats } = runLoomPipeline(noisyGradient(160, 120, colors), {
      width: 80,
      colors,
      dither: 'none',
      minRegion: 4,
    });
    const expected = stats.palette.map((p) => p.hex.slice(1)).sort();
    for (const [ext, bytes] of [
      ['png', encodeIndexedPng(image)],
      ['bmp', encodeIndexedBmp(image)],
    ] as const) {
      const file = path.join(t.dir, `out-${colors}.${ext}`);
      writeFileSync(file, bytes);
      const info = execFileSync(IDENTIFY!, ['-format', '%w %h %k %r', file], { encoding: 'utf8' });
      expect(info).toMatch(new RegExp(`^80 60 ${expected.length} PseudoClass`));
      expect(histogram(file)).toEqual(expected);
    }
  });
});
