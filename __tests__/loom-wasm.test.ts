/**
 * The loom kernels built to WebAssembly (assembly/, built into dist/ by `npm run build`) against their
 * JavaScript versions, which stay the reference: the same answer for every pixel, whatever the palette, the
 * metric, the reach, the size of the grid and the calls before.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { CHOSEN_REACH, mapToPalette } from '../src/loom/map.js';
import { wasmMapToPalette, type PaletteMapper } from '../src/loom/map-wasm.js';
import { choosePalette } from '../src/loom/palette.js';
import { loomStages, type LoomKernels, type LoomResult } from '../src/loom/pipeline.js';
import { resizeToGrid } from '../src/loom/resize.js';
import type { LoomSettings, RgbImage } from '../src/loom/types.js';
import { noisyGradient, rgbImage } from './helpers/images.js';

const WASM = 'dist/loom-map.wasm';

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const randomPalette = (random: () => number, colours: number): Uint8Array =>
  Uint8Array.from({ length: colours * 3 }, () => Math.floor(random() * 256));

/** Every `step`th level of each channel, in a grid `width` wide: a sample of the whole colour cube. */
function cube(step: number, width = 512): RgbImage {
  const colours: number[][] = [];
  for (let r = 0; r < 256; r += step)
    for (let g = 0; g < 256; g += step) for (let b = 0; b < 256; b += step) colours.push([r, g, b]);
  const height = Math.ceil(colours.length / width);
  return rgbImage(width, height, (x, y) => colours[(y * width + x) % colours.length]);
}

const gridOf = (seed: number, width: number, height: number): RgbImage =>
  resizeToGrid(noisyGradient(width, height, seed), width, height);

let wasmMap: PaletteMapper;

beforeAll(() => {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run \`npm run build\` first`);
  wasmMap = wasmMapToPalette(new WebAssembly.Module(readFileSync(WASM)));
});

describe('mapToPalette in WebAssembly', () => {
  const same = (image: RgbImage, palette: Uint8Array, metric?: 'lab' | 'ciede2000', reach?: number): void => {
    const expected = mapToPalette(image, palette, metric, reach);
    const got = wasmMap(image, palette, metric, reach);
    expect(got.length).toBe(expected.length);
    // A count first: a long array's diff would drown the message.
    expect(got.filter((v, i) => v !== expected[i]).length).toBe(0);
  };

  it('gives every colour of the cube the JavaScript answer, for chosen and fixed palettes and both metrics', () => {
    const colours = cube(6);
    const random = seeded(7);
    const chosen = choosePalette(gridOf(3, 160, 120), 8);
    same(colours, chosen);
    same(colours, chosen, 'lab');
    same(colours, randomPalette(random, 16), 'ciede2000', Infinity);
    same(colours, randomPalette(random, 5));
  });

  it('agrees on greys, near-neutral colours and a palette of twins, where hue is undefined or flips', () => {
    const neutral = rgbImage(256, 9, (x, y) => [x, Math.min(255, x + (y % 3)), Math.max(0, x - (y >> 2))]);
    const greys = Uint8Array.from([0, 0, 0, 64, 64, 64, 128, 128, 128, 129, 130, 130, 200, 200, 201, 255, 255, 255]);
    same(neutral, greys);
    same(neutral, greys, 'ciede2000', Infinity);
    same(cube(10), greys);
  });

  it('agrees with 2 and with 256 entries, and with entries that repeat', () => {
    const random = seeded(11);
    const photo = gridOf(5, 120, 90);
    same(photo, Uint8Array.from([20, 20, 20, 240, 240, 240]));
    same(photo, randomPalette(random, 256));
    same(cube(24), randomPalette(random, 256), 'ciede2000', Infinity);
    const repeated = randomPalette(random, 6);
    repeated.set(repeated.subarray(0, 3), 9);
    same(photo, repeated);
  });

  it('starts each call afresh: a smaller grid, another palette and another reach after a big one', () => {
    const random = seeded(23);
    const big = cube(5, 1024);
    const palette = randomPalette(random, 12);
    same(big, palette);
    // The same colours in another order: an answer left from the last call would name the wrong entry.
    const reordered = Uint8Array.from(
      [3, 7, 0, 11, 1, 9, 2, 10, 4, 8, 5, 6].flatMap((c) => Array.from(palette.subarray(c * 3, c * 3 + 3))),
    );
    same(gridOf(9, 64, 48), reordered);
    same(big, reordered, 'ciede2000', Infinity);
    same(
      rgbImage(1, 1, () => [229, 0, 239]),
      Uint8Array.from([195, 8, 226, 204, 62, 249]),
    );
  });

  it('weaves the same loom image through the pipeline as the JavaScript kernel', () => {
    const settings: LoomSettings = { width: 180, height: 135, colors: 8, dither: 'none', minRegion: 4 };
    const run = (kernels: LoomKernels): LoomResult => {
      const stages = loomStages(noisyGradient(400, 300, 4), settings, kernels);
      for (;;) {
        const step = stages.next();
        if (step.done) return step.value;
      }
    };
    const js = run({});
    const wasm = run({ mapToPalette: wasmMap });
    expect(Buffer.from(wasm.image.indices).equals(Buffer.from(js.image.indices))).toBe(true);
    expect(wasm.image.palette).toEqual(js.image.palette);
    expect(wasm.stats).toEqual(js.stats);
  });

  it('has the reach the JavaScript kernel defaults to', () => {
    const random = seeded(31);
    const colours = cube(12);
    const palette = randomPalette(random, 10);
    expect(Array.from(wasmMap(colours, palette))).toEqual(
      Array.from(wasmMap(colours, palette, 'ciede2000', CHOSEN_REACH)),
    );
  });
});
