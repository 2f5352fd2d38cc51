import { describe, expect, it } from '@jest/globals';
import { mapToPalette, mapOrdered, mapFloydSteinberg } from '../src/loom/map.js';
import { choosePalette } from '../src/loom/palette.js';
import { runLoomPipeline } from '../src/loom/pipeline.js';
import { labelRegions, removeSpecks } from '../src/loom/regions.js';
import { axisWeights, gridHeight, resizeToGrid } from '../src/loom/resize.js';
import { noisyGradient, rgbaImage, rgbImage } from './helpers/images.js';

describe('resize', () => {
  it('weights each output by the source area it covers when shrinking', () => {
    const w = axisWeights(3, 2);
    expect(w.index[0]).toBe(0);
    expect(w.weight[0]).toBeCloseTo(2 / 3);
    expect(w.index[1]).toBe(1);
    expect(w.weight[1]).toBeCloseTo(1 / 3);
    const sums = [0, 1].map((o) => Array.from(w.weight.slice(o * w.taps, (o + 1) * w.taps)).reduce((a, b) => a + b, 0));
    expect(sums[0]).toBeCloseTo(1);
    expect(sums[1]).toBeCloseTo(1);
  });

  it('averages in linear light: a black and white checker becomes sRGB 188, not 128', () => {
    const checker = rgbaImage(4, 4, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));
    const out = resizeToGrid(checker, 1, 1);
    expect(Array.from(out.data)).toEqual([188, 188, 188]);
  });

  it('keeps flat colours exact when shrinking or enlarging', () => {
    const flat = rgbaImage(7, 5, () => [10, 120, 230]);
    for (const [w, h] of [[3, 2], [14, 10], [7, 5]]) {
      const out = resizeToGrid(flat, w, h);
      expect(out.width * out.height * 3).toBe(out.data.length);
      expect(new Set(Array.from(out.data)).size).toBe(3);
      expect(Array.from(out.data.slice(0, 3))).toEqual([10, 120, 230]);
    }
  });

  it('flattens transparency onto the background', () => {
    const clear = rgbaImage(2, 2, () => [255, 0, 0, 0]);
    expect(Array.from(resizeToGrid(clear, 1, 1, [0, 0, 255]).data)).toEqual([0, 0, 255]);
    const half = rgbaImage(1, 1, () => [0, 0, 0, 128]);
    const v = resizeToGrid(half, 1, 1, [255, 255, 255]).data[0];
    expect(v).toBeGreaterThan(180); // 50 % coverage in linear light
    expect(v).toBeLessThan(192);
  });

  it('derives picks from the aspect ratio and the density', () => {
    expect(gridHeight(600, 1200, 800)).toBe(400);
    expect(gridHeight(600, 1200, 800, { ends: 20, picks: 30 })).toBe(600);
    expect(gridHeight(3, 3000, 1)).toBe(1);
  });
});

describe('palette', () => {
  it('returns exactly the colours of an image that has fewer than asked, dark to light', () => {
    const img = rgbImage(6, 2, (x) => (x < 2 ? [250, 250, 250] : x < 4 ? [200, 30, 30] : [20, 20, 20]));
    expect(Array.from(choosePalette(img, 8))).toEqual([20, 20, 20, 200, 30, 30, 250, 250, 250]);
  });

  it('gives at most N colours and the same palette every time', () => {
    const src = noisyGradient(120, 90, 7);
    const img = resizeToGrid(src, 120, 90);
    const a = choosePalette(img, 8);
    const b = choosePalette(img, 8);
    expect(a.length).toBe(24);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('mapping', () => {
  const palette = Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 0, 0]);
  it('maps each pixel to its nearest palette entry', () => {
    const img = rgbImage(4, 1, (x) => [[10, 10, 10], [240, 250, 245], [200, 40, 30], [90, 90, 90]][x]);
    expect(Array.from(mapToPalette(img, palette))).toEqual([0, 1, 2, 0]);
    expect(Array.from(mapToPalette(img, palette, 'ciede2000'))).toEqual([0, 1, 2, 0]);
  });

  it('dithers a mid grey into a mix with ordered and error diffusion, not with none', () => {
    const grey = rgbImage(16, 16, () => [128, 128, 128]);
    const bw = Uint8Array.from([0, 0, 0, 255, 255, 255]);
    expect(new Set(mapToPalette(grey, bw)).size).toBe(1);
    for (const indices of [mapOrdered(grey, bw), mapFloydSteinberg(grey, bw)]) {
      const whites = indices.reduce((n, v) => n + v, 0);
      expect(whites).toBeGreaterThan(40);
      expect(whites).toBeLessThan(216);
    }
  });
});

describe('speck removal', () => {
  it('labels 4-connected regions (diagonals are separate)', () => {
    const r = labelRegions(3, 3, Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]));
    // Three lone diagonal pixels, and the zeros split into two triangles of three.
    expect(r.count).toBe(5);
    expect(Array.from(r.sizes).sort()).toEqual([1, 1, 1, 3, 3]);
  });

  it('merges a one-pixel speck into the surrounding colour', () => {
    const indices = new Uint8Array(25);
    indices[12] = 1;
    const out = removeSpecks({ width: 5, height: 5, indices, palette: Uint8Array.from([0, 0, 0, 255, 255, 255]) }, 4);
    expect(out.indices.every((v) => v === 0)).toBe(true);
    expect(out.merged).toBe(1);
  });

  it('merges into the neighbour with the longest shared border', () => {
    // Row 1: a 2-pixel speck of colour 2 with three colour-0 neighbours and five colour-1 neighbours.
    const indices = Uint8Array.from([
      0, 1, 1, 1,
      0, 2, 2, 1,
      0, 1, 1, 1,
    ]);
    const palette = Uint8Array.from([0, 0, 0, 255, 255, 255, 128, 128, 128]);
    const out = removeSpecks({ width: 4, height: 3, indices, palette }, 2 + 1);
    expect(out.indices[5]).toBe(1);
    expect(out.indices[6]).toBe(1);
  });

  it('leaves no region under the threshold, even on a checkerboard', () => {
    const w = 16;
    const indices = new Uint8Array(w * w);
    for (let i = 0; i < indices.length; i++) indices[i] = ((i % w) + Math.floor(i / w)) % 2;
    const palette = Uint8Array.from([0, 0, 0, 255, 255, 255]);
    const out = removeSpecks({ width: w, height: w, indices, palette }, 5);
    const regions = labelRegions(w, w, out.indices);
    expect(Math.min(...regions.sizes)).toBeGreaterThanOrEqual(5);
  });

  it('leaves an image that is one small region alone', () => {
    const out = removeSpecks({ width: 1, height: 2, indices: Uint8Array.from([0, 0]), palette: Uint8Array.from([0, 0, 0, 9, 9, 9]) }, 4);
    expect(Array.from(out.indices)).toEqual([0, 0]);
  });
});

describe('runLoomPipeline', () => {
  it('produces the grid, at most N colours, and no region under the threshold', () => {
    const src = noisyGradient(300, 200, 3);
    const { image, stats } = runLoomPipeline(src, { width: 90, colors: 6, dither: 'none', minRegion: 4 });
    expect([image.width, image.height]).toEqual([90, 60]);
    expect(image.palette.length / 3).toBeLessThanOrEqual(6);
    expect(new Set(image.indices).size).toBe(image.palette.length / 3);
    expect(stats.regionsBelowMin).toBe(0);
    expect(stats.smallestRegion).toBeGreaterThanOrEqual(4);
    expect(stats.palette.reduce((n, p) => n + p.pixels, 0)).toBe(90 * 60);
  });

  it('is deterministic', () => {
    const src = noisyGradient(200, 150, 11);
    const a = runLoomPipeline(src, { width: 64, colors: 8, dither: 'none', minRegion: 4 });
    const b = runLoomPipeline(src, { width: 64, colors: 8, dither: 'none', minRegion: 4 });
    expect(Buffer.from(a.image.indices).equals(Buffer.from(b.image.indices))).toBe(true);
    expect(Buffer.from(a.image.palette).equals(Buffer.from(b.image.palette))).toBe(true);
  });

  it('keeps a fixed palette whole and in order, naming colours no pixel uses', () => {
    const src = rgbaImage(20, 20, (x) => (x < 10 ? [250, 250, 250] : [10, 10, 10]));
    const palette = Uint8Array.from([255, 0, 0, 0, 0, 0, 255, 255, 255]);
    const { image, stats } = runLoomPipeline(src, { width: 20, colors: 3, dither: 'none', minRegion: 4, palette });
    expect(Array.from(image.palette)).toEqual(Array.from(palette));
    expect(stats.unusedColors).toEqual(['#ff0000']);
    expect(image.indices[0]).toBe(2);
    expect(image.indices[19]).toBe(1);
  });
});
