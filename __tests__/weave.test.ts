/** The weave kernels: structures, colour → structure maps, global phase, float binding, lift plan files. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { encodeIndexedBmp } from '../src/formats/bmp.js';
import { encodeIndexedPng } from '../src/formats/png.js';
import { encodeTiff } from '../src/formats/tiff.js';
import type { IndexedImage } from '../src/loom/types.js';
import { assignStructures, autoStructures, checkWeaveMap, parseWeaveMap } from '../src/loom/weave/assign.js';
import { renderCloth } from '../src/loom/weave/cloth.js';
import { bindFloats, longestFloats } from '../src/loom/weave/floats.js';
import { layStructures, liftImage, type LiftPlan } from '../src/loom/weave/plan.js';
import {
  StructureError,
  drawStructure,
  parseStructure,
  satin,
  satinMoves,
  shadedFamily,
  structureFromRows,
  twill,
  warpCover,
  type Structure,
} from '../src/loom/weave/structures.js';
import { weaveDesign } from '../src/loom/weave/weave.js';
import { tempDirsPerTest } from './helpers/tmp.js';

/** Top pick first, as drawn. */
const rows = (s: Structure) => drawStructure(s, '1', '0');

const BW = { warp: [0, 0, 0] as const, weft: [255, 255, 255] as const };

function design(
  width: number,
  height: number,
  palette: number[],
  index: (x: number, y: number) => number,
): IndexedImage {
  const indices = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) indices[y * width + x] = index(x, y);
  return { width, height, indices, palette: Uint8Array.from(palette) };
}

function planOf(width: number, height: number, cell: (x: number, y: number) => number): LiftPlan {
  const cells = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) cells[y * width + x] = cell(x, y);
  return { width, height, cells };
}

describe('structures', () => {
  it('plain weave is the 2×2 checker, half warp', () => {
    const s = parseStructure('plain');
    expect(rows(s)).toEqual(['01', '10']);
    expect(warpCover(s)).toBe(0.5);
  });

  it('twills: A up and B down on every end, the diagonal rising right (z) or left (s)', () => {
    expect(rows(parseStructure('twill:2/1'))).toEqual(['101', '011', '110']);
    expect(rows(parseStructure('twill:2/2/s'))).toEqual(['0110', '0011', '1001', '1100']);
    expect(rows(parseStructure('twill:1/3/z'))).toEqual(['0001', '0010', '0100', '1000']);
    const covers: Array<[string, number]> = [
      ['twill:1/2', 1 / 3],
      ['twill:2/1', 2 / 3],
      ['twill:2/2', 1 / 2],
      ['twill:1/3', 1 / 4],
      ['twill:3/1', 3 / 4],
    ];
    for (const [name, cover] of covers) expect(warpCover(parseStructure(name))).toBeCloseTo(cover, 10);
  });

  it('satins: one binding point per end and per pick, stepped by the move, warp- or weft-faced', () => {
    expect(satinMoves(5)).toEqual([2, 3]);
    expect(satinMoves(8)).toEqual([3, 5]);
    const weft5 = parseStructure('satin:5/weft');
    expect(weft5.name).toBe('satin:5:2/weft');
    expect(rows(weft5)).toEqual(['00010', '01000', '00001', '00100', '10000']);
    expect(warpCover(weft5)).toBeCloseTo(1 / 5, 10);
    const warp8 = parseStructure('satin:8/warp');
    expect(warpCover(warp8)).toBeCloseTo(7 / 8, 10);
    // Every row and column of a satin has exactly one point that differs from the face.
    for (const s of [weft5, warp8, satin(8, 'weft', 5), satin(7, 'weft')]) {
      for (let i = 0; i < s.width; i++) {
        let row = 0;
        let column = 0;
        for (let j = 0; j < s.width; j++) {
          row += s.cells[i * s.width + j];
          column += s.cells[j * s.width + i];
        }
        const face = warpCover(s) > 0.5 ? s.width - 1 : 1;
        expect([row, column]).toEqual([face, face]);
      }
    }
  });

  it('refuses satins with no valid move, and moves that are not one', () => {
    expect(() => parseStructure('satin:4')).toThrow(/no regular satin has 4 ends/);
    expect(() => parseStructure('satin:6')).toThrow(/no regular satin has 6 ends/);
    expect(() => parseStructure('satin:8:2')).toThrow(/2 is not a satin move on 8 ends \(valid: 3, 5\)/);
    expect(() => parseStructure('twill:1/1')).toThrow(StructureError);
    expect(() => parseStructure('satn:8')).toThrow(/unknown structure "satn:8"/);
  });

  it('the shaded family on one satin runs 1/7 … 7/1, each step raising one more end on every pick', () => {
    const family = shadedFamily(8);
    expect(family.map((s) => s.name)).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => `shade:${k}/${8 - k}:3`));
    expect(family.map(warpCover)).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => k / 8));
    expect(rows(family[0])).toEqual(rows(satin(8, 'weft')));
    expect(rows(family[6])).toEqual(rows(satin(8, 'warp')));
    for (let k = 1; k < family.length; k++) {
      for (let y = 0; y < 8; y++) {
        let added = 0;
        for (let x = 0; x < 8; x++) {
          const before = family[k - 1].cells[y * 8 + x];
          const after = family[k].cells[y * 8 + x];
          expect(after).toBeGreaterThanOrEqual(before);
          added += after - before;
        }
        expect(added).toBe(1);
      }
    }
  });

  it('user matrices: rows as drawn, rectangular, only 0 and 1, every thread interlacing unless allowed', () => {
    const s = structureFromRows('broken', ['1100', '0110', '0011', '1001']);
    expect(rows(s)).toEqual(['1100', '0110', '0011', '1001']);
    expect(warpCover(s)).toBe(0.5);
    expect(() => structureFromRows('x', ['110', '01'])).toThrow(/row 2 has 2 crossings, row 1 has 3/);
    expect(() => structureFromRows('x', ['102', '011'])).toThrow(/row 1 has "2"/);
    expect(() => structureFromRows('x', ['111', '010'])).toThrow(/row 1 is all 1/);
    expect(() => structureFromRows('x', ['100', '010'])).toThrow(/column 3 is all 0/);
    expect(() => structureFromRows('x', [])).toThrow(/at least one row/);
    expect(() => structureFromRows('plain', ['10', '01'])).toThrow(/not plain/);
    expect(structureFromRows('solid', ['11', '10'], true).name).toBe('solid');
  });
});

describe('weave maps', () => {
  const palette = Uint8Array.from([0x10, 0x10, 0x10, 0xf4, 0xf1, 0xe8, 0x80, 0x20, 0x20]);

  it('maps colours by index, by hex, the rest by * or auto', () => {
    const map = parseWeaveMap('0=satin:8/warp,#f4f1e8=plain,*=twill:2/2');
    const got = assignStructures(map, palette, BW).map((s) => s.name);
    expect(got).toEqual(['satin:8:3/warp', 'plain', 'twill:2/2/z']);
    const auto = assignStructures(parseWeaveMap('auto,1=plain'), palette, BW).map((s) => s.name);
    expect(auto[1]).toBe('plain');
    expect(auto[0]).toBe('shade:7/1:3');
  });

  it('refuses unknown structures, colours not in the palette and colours left without a structure', () => {
    expect(() => parseWeaveMap('0=satin:6')).toThrow(/no regular satin has 6 ends/);
    expect(() => parseWeaveMap('0=herringbone')).toThrow(/unknown structure "herringbone"/);
    expect(() => parseWeaveMap('red=plain')).toThrow(/palette index .* or #rrggbb/);
    expect(() => checkWeaveMap(parseWeaveMap('3=plain,*=plain'), 3, palette)).toThrow(/colour 3 is not in the palette/);
    expect(() => checkWeaveMap(parseWeaveMap('#123456=plain,*=plain'), 3, palette)).toThrow(
      /#123456 is not in the palette/,
    );
    expect(() => checkWeaveMap(parseWeaveMap('#f4f1e8=plain,auto'), 3)).toThrow(/needs a fixed palette/);
    expect(() => checkWeaveMap(parseWeaveMap('0=plain,1=plain'), 3, palette)).toThrow(/colour 2 \(#802020\) has no/);
    expect(() => checkWeaveMap(parseWeaveMap('0=plain,*=plain'), 3)).not.toThrow();
  });

  it('a configured structure is found by its name', () => {
    const named = new Map([['broken', structureFromRows('broken', ['1100', '0110', '0011', '1001'])]]);
    expect(assignStructures(parseWeaveMap('*=broken', named), palette, BW, named)[0].name).toBe('broken');
    expect(() => parseWeaveMap('*=broken')).toThrow(/unknown structure/);
  });

  it('auto needs yarns of different lightness', () => {
    expect(() => autoStructures(palette, { warp: [90, 90, 90], weft: [90, 90, 90] })).toThrow(/equally light/);
  });
});

describe('the lift plan', () => {
  it('lays structures in global phase: the diagonals run straight across a boundary', () => {
    // Two regions meeting at x = 6, which is not a multiple of either repeat.
    const d = design(14, 9, [0, 0, 0, 255, 255, 255], (x) => (x < 6 ? 0 : 1));
    const s = [twill(2, 2), twill(1, 3)];
    const plan = layStructures(d, s);
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 14; x++) {
        const st = s[x < 6 ? 0 : 1];
        expect(plan.cells[y * 14 + x]).toBe(st.cells[(y % 4) * 4 + (x % 4)]);
      }
    }
    // The design's top row is the last pick.
    const top = design(2, 2, [0, 0, 0, 255, 255, 255], (_x, y) => (y === 0 ? 1 : 0));
    const marked = layStructures(top, [
      structureFromRows('z', ['10', '01']),
      structureFromRows('o', ['11', '00'], true),
    ]);
    expect(Array.from(marked.cells)).toEqual([0, 1, 1, 1]);
  });

  it('selvedges are plain weave outside the design, at both sides', () => {
    const d = design(10, 4, [0, 0, 0], () => 0);
    const { plan } = weaveDesign(d, { structures: [satin(5, 'warp')], maxFloat: 8, tile: false, selvedge: 2 });
    expect(plan.width).toBe(14);
    const laid = layStructures(d, [satin(5, 'warp')]);
    for (let y = 0; y < 4; y++) {
      for (const x of [0, 1, 12, 13]) expect(plan.cells[y * 14 + x]).toBe((x + y) % 2 === 0 ? 1 : 0);
      // The design keeps every end, beside them.
      for (let x = 0; x < 10; x++) expect(plan.cells[y * 14 + 2 + x]).toBe(laid.cells[y * 10 + x]);
    }
    expect(longestFloats(plan).weftBack).toBeLessThanOrEqual(5);
  });

  it('binds the floats where warp- and weft-faced satins meet, on both faces, with few points', () => {
    // Left warp-faced, right weft-faced, a diagonal boundary; a limit below the satins' own float forces points.
    const d = design(40, 40, [0, 0, 0, 255, 255, 255], (x, y) => (x + y < 40 ? 0 : 1));
    const structures = [satin(8, 'warp'), satin(8, 'weft')];
    for (const max of [8, 5, 3]) {
      const result = weaveDesign(d, { structures, maxFloat: max, tile: false, selvedge: 0 });
      const after = longestFloats(result.plan);
      expect(Math.max(after.warpFace, after.warpBack, after.weftFace, after.weftBack)).toBeLessThanOrEqual(max);
      expect(result.floats.after.warp).toBeLessThanOrEqual(max);
      expect(result.floats.after.weft).toBeLessThanOrEqual(max);
      if (result.floats.before.warp <= max && result.floats.before.weft <= max) expect(result.bindingPoints).toBe(0);
      else expect(result.bindingPoints).toBeGreaterThan(0);
      // Points change the structures little: each region keeps its face.
      expect(result.structures[0].wovenCover).toBeGreaterThan(0.6);
      expect(result.structures[1].wovenCover).toBeLessThan(0.4);
    }
  });

  it('a point never makes the crossing thread float: a long weft float over a warp-faced band', () => {
    // Row 2 is all down (a weft float of 20); the rows above and below are raised except every 4th end.
    const plan = planOf(20, 5, (x, y) => (y === 2 ? 0 : x % 4 === 1 ? 0 : 1));
    const max = 4;
    expect(longestFloats(plan).weftFace).toBe(20);
    const points = bindFloats(plan, max);
    expect(points).toBeGreaterThan(0);
    const f = longestFloats(plan);
    expect(Math.max(f.warpFace, f.warpBack, f.weftFace, f.weftBack)).toBeLessThanOrEqual(max);
    // The points went where the ends were free: on ends that are down in the rows around.
    for (let x = 0; x < 20; x++) if (plan.cells[2 * 20 + x]) expect(x % 4).toBe(1);
  });

  it('with --tile, floats are counted and bound across the seams', () => {
    // 12 picks of an 8-end weft satin: the phase breaks at the seam between pick 12 and pick 1.
    const d = design(16, 12, [255, 255, 255], () => 0);
    const structures = [satin(8, 'weft')];
    const flat = weaveDesign(d, { structures, maxFloat: 8, tile: false, selvedge: 0 });
    expect(flat.bindingPoints).toBe(0);
    expect(longestFloats(flat.plan, true).warpBack).toBeGreaterThan(8);
    const tiled = weaveDesign(d, { structures, maxFloat: 8, tile: true, selvedge: 0 });
    expect(tiled.floats.before.warp).toBeGreaterThan(8);
    expect(tiled.bindingPoints).toBeGreaterThan(0);
    const f = longestFloats(tiled.plan, true);
    expect(Math.max(f.warpFace, f.warpBack, f.weftFace, f.weftBack)).toBeLessThanOrEqual(8);
    expect(tiled.floats.after).toEqual({
      warp: Math.max(f.warpFace, f.warpBack),
      weft: Math.max(f.weftFace, f.weftBack),
    });
  });

  it('a whole line that never interlaces in a repeat is bound too', () => {
    const plan = planOf(12, 3, (x, y) => (y === 1 ? 1 : (x + y) % 2));
    // In a repeat, a pick that never interlaces is a float that never ends.
    expect(longestFloats(plan, true).weftBack).toBe(Infinity);
    expect(longestFloats(plan, false).weftBack).toBe(12);
    bindFloats(plan, 4, true);
    const f = longestFloats(plan, true);
    expect(Math.max(f.warpFace, f.warpBack, f.weftFace, f.weftBack)).toBeLessThanOrEqual(4);
  });

  it('the cloth preview shows the yarn on top of each crossing', () => {
    const plan = planOf(3, 2, (x, y) => (x === 0 && y === 0 ? 1 : 0));
    const cloth = renderCloth(plan, BW, 1);
    expect([cloth.width, cloth.height]).toEqual([3, 2]);
    // Pick 1 is the bottom row; palette 0 is the warp, 2 the weft.
    expect(Array.from(cloth.indices)).toEqual([2, 2, 2, 0, 2, 2]);
    const big = renderCloth(plan, BW, 4, 1.5);
    expect([big.width, big.height]).toEqual([12, 12]);
  });
});

describe('lift plan files', () => {
  const tmp = tempDirsPerTest();
  // An asymmetric plan, so that a flip or a mirror would show.
  const plan = planOf(13, 7, (x, y) => ((x * 3 + y * 5) % 7 < 3 || (x === 0 && y === 0) ? 1 : 0));
  const raisedAt = (x: number, row: number) => plan.cells[(plan.height - 1 - row) * plan.width + x] === 1;

  /** ImageMagick's reading: a PBM (1 = black), top row first. */
  function magickBits(file: string): number[] {
    const pbm = execFileSync('/usr/bin/convert', [file, '-compress', 'none', 'pbm:-'], { encoding: 'utf8' });
    return pbm
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .slice(2)
      .join(' ')
      .trim()
      .split(/\s+/)
      .map(Number);
  }

  /** The bit depth the file itself declares. */
  const depthOf: Record<string, (b: Buffer, file: string) => number> = {
    bmp: (b) => b.readUInt16LE(28),
    png: (b) => b[24],
    tiff: (_b, file) =>
      Number(/Bits\/Sample: (\d+)/.exec(execFileSync('/usr/bin/tiffinfo', [file], { encoding: 'utf8' }))![1]),
  };

  it.each([
    ['bmp', encodeIndexedBmp, 'BMP3'],
    ['tiff', encodeTiff, 'TIFF'],
    ['png', encodeIndexedPng, 'PNG'],
  ] as const)(
    '%s: 1-bit, black = raised, pick 1 at the bottom, the same bits in jimp and ImageMagick',
    async (ext, encode, magick) => {
      for (const invert of [false, true]) {
        const file = path.join(tmp(), `plan.lift.${ext}`);
        const bytes = encode(liftImage(plan, invert), []);
        writeFileSync(file, bytes);
        expect(depthOf[ext](bytes, file)).toBe(1);
        const identify = execFileSync('/usr/bin/identify', ['-format', '%m %w %h %k', file], { encoding: 'utf8' });
        expect(identify).toBe(`${magick} 13 7 2`);
        const jimp = await Jimp.read(file);
        const bits = magickBits(file);
        for (let row = 0; row < 7; row++) {
          for (let x = 0; x < 13; x++) {
            const black = raisedAt(x, row) !== invert;
            const rgba = jimp.getPixelColor(x, row) >>> 8;
            expect(rgba).toBe(black ? 0 : 0xffffff);
            expect(bits[row * 13 + x]).toBe(black ? 1 : 0);
          }
        }
      }
    },
  );

  it('TIFF: bilevel WhiteIsZero with or without --invert (the bits flip instead)', () => {
    for (const invert of [false, true]) {
      const file = path.join(tmp(), 'plan.tiff');
      writeFileSync(file, encodeTiff(liftImage(plan, invert)));
      const info = execFileSync('/usr/bin/tiffinfo', [file], { encoding: 'utf8' });
      expect(info).toMatch(/Bits\/Sample: 1/);
      expect(info).toMatch(/Compression Scheme: None/);
      expect(info).toContain('Photometric Interpretation: min-is-white');
    }
  });

  it('TIFF: other palettes are palette-colour images with their colours exact', async () => {
    const d = design(5, 3, [200, 30, 40, 10, 200, 90, 0, 0, 255], (x, y) => (x + y) % 3);
    const file = path.join(tmp(), 'design.tiff');
    writeFileSync(file, encodeTiff(d, [{ keyword: 'imagegen:style', text: 'loom' }]));
    const jimp = await Jimp.read(file);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 5; x++) {
        const i = d.indices[y * 5 + x];
        const rgb = [d.palette[i * 3], d.palette[i * 3 + 1], d.palette[i * 3 + 2]];
        expect(jimp.getPixelColor(x, y) >>> 8).toBe((rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
      }
    }
  });
});
