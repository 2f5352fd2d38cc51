import { describe, expect, it } from '@jest/globals';
import { CHOSEN_REACH, mapToPalette, mapOrdered, mapFloydSteinberg, NearestMemo, paletteLab } from '../src/loom/map.js';
import { choosePalette } from '../src/loom/palette.js';
import { runLoomPipeline } from '../src/loom/pipeline.js';
import { labelRegions, removeSpecks } from '../src/loom/regions.js';
import { axisWeights, gridHeight, resizeToGrid } from '../src/loom/resize.js';
import { ciede2000, linearToSrgbExact, SRGB_TO_LINEAR, srgbToLab } from '../src/loom/color.js';
import type { RgbaImage } from '../src/loom/types.js';
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
    for (const [w, h] of [
      [3, 2],
      [14, 10],
      [7, 5],
    ]) {
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

describe('resize of opaque rows', () => {
  /** The same pixels one byte into a larger buffer: unaligned, so read byte by byte with alpha tests. */
  function unaligned(image: RgbaImage): RgbaImage {
    const bytes = new Uint8Array(image.data.length + 1);
    bytes.set(image.data, 1);
    return { ...image, data: bytes.subarray(1) };
  }

  it('gives exactly the bytes of the general path', () => {
    const photo = noisyGradient(97, 61, 7);
    // Every fourth row has a translucent pixel, so opaque and translucent rows mix in one image.
    const mixed = rgbaImage(97, 61, (x, y) => {
      const i = (y * 97 + x) * 4;
      return [photo.data[i], photo.data[i + 1], photo.data[i + 2], y % 4 === 0 && x === 50 ? 128 : 255];
    });
    for (const image of [photo, mixed]) {
      for (const [w, h] of [
        [97, 61],
        [40, 25],
        [33, 60],
        [7, 3],
        [1, 1],
      ]) {
        const fast = resizeToGrid(image, w, h, [250, 240, 230]);
        const general = resizeToGrid(unaligned(image), w, h, [250, 240, 230]);
        expect(Buffer.from(fast.data).equals(Buffer.from(general.data))).toBe(true);
      }
    }
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
    // Another picture in between: what it leaves behind must not count for the next.
    choosePalette(resizeToGrid(noisyGradient(80, 60, 3), 80, 60), 5);
    const b = choosePalette(img, 8);
    expect(a.length).toBe(24);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('palette on few, close colours', () => {
  it('still gives N colours for a soft ramp of 20 greys one level apart', () => {
    const img = rgbImage(200, 10, (x) => [
      100 + Math.floor(x / 10),
      100 + Math.floor(x / 10),
      100 + Math.floor(x / 10),
    ]);
    const palette = choosePalette(img, 8);
    expect(palette.length).toBe(24);
    const greys = Array.from(palette).filter((_, i) => i % 3 === 0);
    expect(greys).toEqual([...greys].sort((a, b) => a - b));
    expect(Math.min(...greys)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...greys)).toBeLessThanOrEqual(119);
  });
});

describe('mapping', () => {
  const palette = Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 0, 0]);
  it('maps each pixel to its nearest palette entry', () => {
    const img = rgbImage(
      4,
      1,
      (x) =>
        [
          [10, 10, 10],
          [240, 250, 245],
          [200, 40, 30],
          [90, 90, 90],
        ][x],
    );
    expect(Array.from(mapToPalette(img, palette))).toEqual([0, 1, 2, 0]);
    expect(Array.from(mapToPalette(img, palette, 'ciede2000'))).toEqual([0, 1, 2, 0]);
  });

  it('picks the CIEDE2000-nearest entry where plain CIELAB distance would pick another', () => {
    // CIELAB distances 10.4 and 14.0; CIEDE2000 6.80 and 4.52.
    const pixel = rgbImage(1, 1, () => [229, 0, 239]);
    const pair = Uint8Array.from([195, 8, 226, 204, 62, 249]);
    expect(Array.from(mapToPalette(pixel, pair, 'lab'))).toEqual([0]);
    expect(Array.from(mapToPalette(pixel, pair))).toEqual([1]);
    expect(Array.from(mapFloydSteinberg(pixel, pair))).toEqual([1]);
  });

  /** Every colour's CIEDE2000 and CIELAB distances to every entry, the plain way. */
  function bruteForce(image: ReturnType<typeof rgbImage>, palette: Uint8Array, reach: number): number[] {
    const plab = paletteLab(palette);
    const k = palette.length / 3;
    const lab = [0, 0, 0];
    const out: number[] = [];
    for (let p = 0; p < image.data.length; p += 3) {
      srgbToLab(image.data[p], image.data[p + 1], image.data[p + 2], lab);
      const dist = Array.from({ length: k }, (_, c) =>
        Math.hypot(lab[0] - plab[c * 3], lab[1] - plab[c * 3 + 1], lab[2] - plab[c * 3 + 2]),
      );
      const nearest = Math.min(...dist);
      let best = -1;
      let bestE = Infinity;
      for (let c = 0; c < k; c++) {
        if (dist[c] > nearest * reach * (1 + 1e-12)) continue;
        const e = ciede2000(lab[0], lab[1], lab[2], plab[c * 3], plab[c * 3 + 1], plab[c * 3 + 2]);
        if (e < bestE) [best, bestE] = [c, e];
      }
      out.push(best);
    }
    return out;
  }

  it('matches a brute-force CIEDE2000 search: over every entry, and over the entries within reach', () => {
    const random = seeded(99);
    const image = rgbImage(64, 48, () => [random() * 256, random() * 256, random() * 256].map(Math.floor));
    const palette = Uint8Array.from({ length: 8 * 3 }, () => Math.floor(random() * 256));
    const everyEntry = bruteForce(image, palette, Infinity);
    expect(Array.from(mapToPalette(image, palette, 'ciede2000', Infinity))).toEqual(everyEntry);
    const withinReach = bruteForce(image, palette, CHOSEN_REACH);
    const mapped = Array.from(mapToPalette(image, palette));
    expect(mapped).toEqual(withinReach);
    // The reach changes the answer for few colours (even uniformly random ones), CIELAB alone for many more.
    const differs = (a: number[]): number => a.filter((v, i) => v !== everyEntry[i]).length;
    expect(differs(mapped)).toBeLessThan(image.width * image.height * 0.05);
    expect(differs(Array.from(mapToPalette(image, palette, 'lab')))).toBeGreaterThan(2 * differs(mapped));
  });

  it('remembers each colour: repeated, reordered and block-sharing colours get the answer of a fresh search', () => {
    const random = seeded(5);
    const palette = Uint8Array.from({ length: 12 * 3 }, () => Math.floor(random() * 256));
    // Colours spread over far more than the memo's first 256 blocks, each asked for three times, with
    // neighbours in the same 4×4×4 block in between.
    const colours: number[][] = [];
    for (let i = 0; i < 3000; i++) {
      const c = [random() * 256, random() * 256, random() * 256].map(Math.floor);
      colours.push(c, [c[0] ^ 1, c[1], c[2] ^ 2]);
    }
    const memo = new NearestMemo(palette, 'ciede2000', CHOSEN_REACH);
    const first = colours.map(([r, g, b]) => memo.index(r, g, b));
    const matched = memo.size;
    expect(memo.blockCount).toBeGreaterThan(256);
    const again = colours.map(([r, g, b]) => memo.index(r, g, b));
    const reversed = [...colours]
      .reverse()
      .map(([r, g, b]) => memo.index(r, g, b))
      .reverse();
    expect(memo.size).toBe(matched); // no colour was searched twice
    expect(again).toEqual(first);
    expect(reversed).toEqual(first);
    const fresh = colours.map(([r, g, b]) => new NearestMemo(palette, 'ciede2000', CHOSEN_REACH).index(r, g, b));
    expect(first).toEqual(fresh);
    const image = rgbImage(colours.length, 1, (x) => colours[x]);
    expect(first).toEqual(bruteForce(image, palette, CHOSEN_REACH));
  });

  it('gives whole cubes of colours the entry their corners agree on, as a search of every colour would', () => {
    const random = seeded(17);
    // A smooth picture with every colour different: gradients over the whole cube, slightly noisy.
    const image = rgbImage(256, 192, (x, y) =>
      [x, (y * 4) / 3, (x + y) / 1.75].map((v) => Math.min(255, Math.floor(v + random() * 3))),
    );
    const palette = Uint8Array.from([20, 30, 40, 200, 40, 40, 40, 180, 60, 230, 220, 90, 90, 90, 200, 240, 240, 240]);
    const memo = new NearestMemo(palette, 'ciede2000', CHOSEN_REACH);
    const mapped: number[] = [];
    const distinct = new Set<number>();
    for (let p = 0; p < image.data.length; p += 3) {
      const [r, g, b] = image.data.subarray(p, p + 3);
      distinct.add((r << 16) | (g << 8) | b);
      mapped.push(memo.index(r, g, b));
    }
    // Only the colours of cubes that straddle a border are searched one by one.
    expect(memo.size).toBeLessThan(distinct.size / 3);
    const brute = bruteForce(image, palette, CHOSEN_REACH);
    expect(mapped.filter((v, i) => v !== brute[i]).length).toBe(0);
  });

  it('gives every lattice colour its own search, even inside a wider cube whose corners agree', () => {
    // (192, 48, 196) is a lattice colour where entry 2 comes within reach and wins by CIEDE2000 (2.02 against
    // 2.65), while the corners of the 8×8×8 cube around it all stay with entry 0.
    const palette = Uint8Array.from([203, 50, 206, 185, 25, 185, 195, 23, 202]);
    const image = rgbImage(1, 1, () => [192, 48, 196]);
    expect(bruteForce(image, palette, CHOSEN_REACH)).toEqual([2]);
    expect(new NearestMemo(palette, 'ciede2000', CHOSEN_REACH).index(192, 48, 196)).toBe(2);
  });

  it("clears the tables a memo hands on, so that the next picture sees none of the last one's answers", () => {
    const random = seeded(5);
    // Lattice colours only: each gets its own search, so every answer must equal the brute-force one.
    const image = rgbImage(64, 64, () => [0, 1, 2].map(() => Math.min(255, Math.floor(random() * 65) * 4)));
    const palette = Uint8Array.from([20, 30, 40, 200, 40, 40, 40, 180, 60, 230, 220, 90, 90, 90, 200, 240, 240, 240]);
    // The same colours in another order: an answer left over from the first palette names the wrong entry.
    const reordered = Uint8Array.from(
      [4, 1, 5, 0, 3, 2].flatMap((c) => Array.from(palette.subarray(c * 3, c * 3 + 3))),
    );
    for (const map of [mapToPalette, mapOrdered, mapFloydSteinberg]) map(image, palette);
    expect(Array.from(mapToPalette(image, reordered))).toEqual(bruteForce(image, reordered, CHOSEN_REACH));
  });

  it("maps a palette entry's own colour to itself, even beside a near twin in the same cube", () => {
    // #808080 and #818282 share their 4×4×4 cube.
    const twins = Uint8Array.from([0, 0, 0, 128, 128, 128, 129, 130, 130, 255, 255, 255]);
    const memo = new NearestMemo(twins, 'ciede2000', Infinity);
    expect(memo.index(128, 128, 128)).toBe(1);
    expect(memo.index(129, 130, 130)).toBe(2);
    expect(new NearestMemo(twins, 'lab', Infinity).index(129, 130, 130)).toBe(2);
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

  // Row 1: a 2-pixel speck of colour 2 with three colour-0 neighbours and five colour-1 neighbours.
  const bordered = Uint8Array.from([0, 1, 1, 1, 0, 2, 2, 1, 0, 1, 1, 1]);
  const speckColours = (palette: number[], source?: number[][]): number[] => {
    const grid = source && rgbImage(4, 3, (x, y) => source[y * 4 + x]);
    const out = removeSpecks({ width: 4, height: 3, indices: bordered, palette: Uint8Array.from(palette) }, 3, {
      source: grid,
    });
    return [out.indices[5], out.indices[6]];
  };

  it('merges into the bordering colour closest to the speck, even over a shorter border', () => {
    // Dark grey speck: the near-black neighbour (3 border pixels) wins over white (5).
    expect(speckColours([40, 40, 40, 255, 255, 255, 60, 60, 60])).toEqual([0, 0]);
    // With white close instead, white.
    expect(speckColours([0, 0, 0, 235, 235, 235, 220, 220, 220])).toEqual([1, 1]);
  });

  it('breaks a tie in colour by the longest border, not by the lower index', () => {
    expect(speckColours([200, 200, 200, 200, 200, 200, 0, 0, 0])).toEqual([1, 1]);
    // Border lengths swapped: the colour-0 side becomes the long one.
    const swapped = Uint8Array.from(bordered).map((v) => (v === 2 ? 2 : 1 - v));
    const out = removeSpecks(
      { width: 4, height: 3, indices: swapped, palette: Uint8Array.from([200, 200, 200, 200, 200, 200, 0, 0, 0]) },
      3,
    );
    expect([out.indices[5], out.indices[6]]).toEqual([0, 0]);
  });

  it('judges closeness by the source pixels under the speck when it has them', () => {
    // Palette colour of the speck is mid grey; its source pixels are nearly black, so black wins although
    // white is the closer palette colour and has the longer border.
    const palette = [0, 0, 0, 255, 255, 255, 150, 150, 150];
    expect(speckColours(palette)).toEqual([1, 1]);
    const source = Array.from(bordered, (v, i) =>
      i === 5 || i === 6 ? [20, 20, 20] : [palette[v * 3], palette[v * 3 + 1], palette[v * 3 + 2]],
    );
    expect(speckColours(palette, source)).toEqual([0, 0]);
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
    const out = removeSpecks(
      { width: 1, height: 2, indices: Uint8Array.from([0, 0]), palette: Uint8Array.from([0, 0, 0, 9, 9, 9]) },
      4,
    );
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

/** A seeded generator for the property tests below. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

describe('resize against a plain reference', () => {
  /** Output pixel = sum over source pixels of (x overlap × y overlap) in linear light, or linear interpolation when enlarging an axis. */
  function reference(src: RgbaImage, width: number, height: number, bg: [number, number, number]): number[] {
    const weights = (srcLen: number, dstLen: number): number[][] =>
      Array.from({ length: dstLen }, (_, o) => {
        const w = new Array<number>(srcLen).fill(0);
        const scale = srcLen / dstLen;
        if (dstLen <= srcLen) {
          for (let s = 0; s < srcLen; s++)
            w[s] = Math.max(0, Math.min(s + 1, (o + 1) * scale) - Math.max(s, o * scale)) / scale;
        } else {
          const c = Math.min(srcLen - 1, Math.max(0, (o + 0.5) * scale - 0.5));
          const s0 = Math.floor(c);
          w[s0] += 1 - (c - s0);
          w[Math.min(srcLen - 1, s0 + 1)] += c - s0;
        }
        return w;
      });
    const wx = weights(src.width, width);
    const wy = weights(src.height, height);
    const lin = (p: number, c: number): number => {
      const a = src.data[p + 3] / 255;
      return SRGB_TO_LINEAR[src.data[p + c]] * a + SRGB_TO_LINEAR[bg[c]] * (1 - a);
    };
    const out: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let v = 0;
          for (let sy = 0; sy < src.height; sy++) {
            if (wy[y][sy] === 0) continue;
            for (let sx = 0; sx < src.width; sx++)
              if (wx[x][sx] !== 0) v += wx[x][sx] * wy[y][sy] * lin((sy * src.width + sx) * 4, c);
          }
          out.push(linearToSrgbExact(v));
        }
      }
    }
    return out;
  }

  it.each([
    [23, 17, 7, 5],
    [23, 17, 23, 17],
    [10, 9, 3, 9],
    [5, 4, 13, 11],
    [12, 5, 5, 12],
    [7, 7, 2, 1],
  ])('%i×%i -> %i×%i matches within one level, with translucent pixels', (sw, sh, w, h) => {
    const random = seeded(sw * 1000 + w);
    const src = rgbaImage(sw, sh, () =>
      [random() * 256, random() * 256, random() * 256, random() < 0.2 ? random() * 256 : 255].map(Math.floor),
    );
    const bg: [number, number, number] = [30, 200, 90];
    const got = Array.from(resizeToGrid(src, w, h, bg).data);
    const want = reference(src, w, h, bg);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('regions against plain references', () => {
  function floodLabels(width: number, height: number, indices: Uint8Array): Int32Array {
    const labels = new Int32Array(width * height).fill(-1);
    let count = 0;
    for (let start = 0; start < labels.length; start++) {
      if (labels[start] !== -1) continue;
      const stack = [start];
      labels[start] = count;
      while (stack.length) {
        const p = stack.pop()!;
        const x = p % width;
        for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
          if (q >= 0 && q < labels.length && labels[q] === -1 && indices[q] === indices[p]) {
            labels[q] = count;
            stack.push(q);
          }
        }
      }
      count++;
    }
    return labels;
  }

  function randomMap(width: number, height: number, colors: number, seed: number): Uint8Array {
    const random = seeded(seed);
    const indices = new Uint8Array(width * height);
    // Blobs and noise: runs along rows, some vertical coherence, and lone pixels.
    for (let i = 0; i < indices.length; i++) {
      const r = random();
      indices[i] =
        r < 0.5 && i >= width
          ? indices[i - width]
          : r < 0.8 && i % width > 0
            ? indices[i - 1]
            : Math.floor(random() * colors);
    }
    return indices;
  }

  it('labels exactly like a flood fill, numbering regions in raster order', () => {
    for (const [w, h, k, seed] of [
      [40, 30, 3, 1],
      [1, 50, 2, 2],
      [50, 1, 4, 3],
      [33, 33, 2, 4],
      [64, 48, 8, 5],
    ]) {
      const indices = randomMap(w, h, k, seed);
      const got = labelRegions(w, h, indices);
      const want = floodLabels(w, h, indices);
      expect(Array.from(got.labels)).toEqual(Array.from(want));
      expect(got.count).toBe(Math.max(...want) + 1);
      const sizes = new Array(got.count).fill(0);
      want.forEach((l) => sizes[l]++);
      expect(Array.from(got.sizes)).toEqual(sizes);
    }
  });

  it('removes every small region, touches only pixels of small regions, and reports what it left', () => {
    for (const [w, h, k, seed, minRegion] of [
      [40, 30, 3, 11, 4],
      [64, 48, 8, 12, 4],
      [30, 30, 2, 13, 9],
      [50, 20, 5, 14, 2],
    ]) {
      const indices = randomMap(w, h, k, seed);
      const palette = Uint8Array.from({ length: k * 3 }, (_, i) => (i * 53) % 256);
      const before = labelRegions(w, h, indices);
      const out = removeSpecks({ width: w, height: h, indices, palette }, minRegion);
      const after = labelRegions(w, h, out.indices);
      expect(Math.min(...after.sizes)).toBeGreaterThanOrEqual(minRegion);
      expect([out.regions, out.smallestRegion, out.regionsBelowMin]).toEqual([
        after.count,
        Math.min(...after.sizes),
        0,
      ]);
      for (let p = 0; p < indices.length; p++) {
        if (before.sizes[before.labels[p]] >= minRegion) expect(out.indices[p]).toBe(indices[p]);
        expect(out.indices[p]).toBeLessThan(k);
      }
      // The same again after a larger picture has left its work arrays behind.
      const other = randomMap(70, 50, 6, seed + 100);
      removeSpecks(
        { width: 70, height: 50, indices: other, palette: Uint8Array.from({ length: 18 }, (_, i) => i * 9) },
        3,
      );
      const again = removeSpecks({ width: w, height: h, indices, palette }, minRegion);
      expect(Buffer.from(again.indices).equals(Buffer.from(out.indices))).toBe(true);
      expect([again.regions, again.merged]).toEqual([out.regions, out.merged]);
    }
  });
});
