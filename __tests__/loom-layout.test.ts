/** The loom's layout: hooks, repeats, ties and selvedges outside the design, with floats held across them. */
import { describe, expect, it } from '@jest/globals';
import { weaveCompound } from '../src/loom/weave/compound.js';
import { weftEffects } from '../src/loom/weave/effects.js';
import { longestFloats } from '../src/loom/weave/floats.js';
import { LayoutError, hookMap, layRepeats, layoutLoom } from '../src/loom/weave/layout.js';
import { layStructures, type LiftPlan } from '../src/loom/weave/plan.js';
import { parseStructure, satin, twill } from '../src/loom/weave/structures.js';
import { weaveDesign } from '../src/loom/weave/weave.js';
import type { IndexedImage } from '../src/loom/types.js';

function design(width: number, height: number, colors: number, index: (x: number, y: number) => number): IndexedImage {
  const indices = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) indices[y * width + x] = index(x, y);
  const palette = new Uint8Array(colors * 3).map((_, i) => Math.floor(i / 3) * 40);
  return { width, height, indices, palette };
}

/** Ends from..to (0-based, exclusive) of a plan, as rows of strings, pick 1 first. */
function columns(plan: LiftPlan, from: number, to: number): string[] {
  const rows: string[] = [];
  for (let y = 0; y < plan.height; y++)
    rows.push(Array.from(plan.cells.subarray(y * plan.width + from, y * plan.width + to)).join(''));
  return rows;
}

const mirror = (rows: string[]) => rows.map((r) => [...r].reverse().join(''));

/** The longest float of a whole plan, warp and weft, either face: a pick ends at the cloth's edges. */
function longest(plan: LiftPlan): number {
  const f = longestFloats(plan, false);
  return Math.max(f.warpFace, f.warpBack, f.weftFace, f.weftBack);
}

describe('the loom layout', () => {
  it('--hooks is the total: the repeats take what selvedges and selector hooks leave, the spare widens the selvedges', () => {
    const layout = layoutLoom({
      hooks: 1320,
      repeats: 3,
      tie: 'straight',
      selvedge: 4,
      selector: { side: 'right', ends: 3 },
    });
    // 1320 - 8 - 3 = 1309 = 3 x 436 + 1
    expect(layout).toMatchObject({ unit: 436, repeats: 3, selvedge: [4, 5], hooks: 1320, spare: 1 });
    const map = hookMap(layout);
    expect(map).toEqual([
      { from: 1, to: 4, role: 'selvedge' },
      { from: 5, to: 440, role: 'design', repeat: 1, mirrored: false },
      { from: 441, to: 876, role: 'design', repeat: 2, mirrored: false },
      { from: 877, to: 1312, role: 'design', repeat: 3, mirrored: false },
      { from: 1313, to: 1317, role: 'selvedge' },
      { from: 1318, to: 1320, role: 'selector' },
    ]);
    // Every hook once, in order.
    let next = 1;
    for (const range of map) {
      expect(range.from).toBe(next);
      next = range.to + 1;
    }
    expect(next).toBe(1321);
  });

  it('with a design width, --hooks holds as many repeats as fit; a point tie mirrors every other one', () => {
    const layout = layoutLoom({ hooks: 1320, unit: 400, tie: 'point', selvedge: 8 });
    expect(layout).toMatchObject({ unit: 400, repeats: 3, selvedge: [60, 60], hooks: 1320 });
    expect(
      hookMap(layout)
        .filter((r) => r.role === 'design')
        .map((r) => r.mirrored),
    ).toEqual([false, true, false]);
  });

  it('a layout that cannot be says why', () => {
    expect(() => layoutLoom({ hooks: 10, tie: 'straight', selvedge: 5 })).toThrow(LayoutError);
    expect(() => layoutLoom({ hooks: 10, tie: 'straight', selvedge: 5 })).toThrow('leave no hook for the design');
    expect(() => layoutLoom({ hooks: 100, unit: 60, repeats: 2, tie: 'straight', selvedge: 0 })).toThrow(
      '2 repeats of 60 ends need 120 hooks',
    );
  });

  it('without --hooks, the plan is the repeats and the selvedges outside them', () => {
    expect(layoutLoom({ unit: 600, repeats: 2, tie: 'straight', selvedge: 6 }).hooks).toBe(1212);
  });
});

describe('repeats in the lift plan and the design', () => {
  const d = design(12, 16, 2, (x, y) => (x < 5 + (y % 3) ? 0 : 1));
  const structures = [twill(2, 2, 'z'), satin(8, 'weft')];

  it('a straight tie repeats one repeat of the plan exactly, and its floats are held across the seams', () => {
    const layout = layoutLoom({ unit: 12, repeats: 3, tie: 'straight', selvedge: 0 });
    const woven = weaveDesign(d, { structures, maxFloat: 6, tile: false, selvedge: 0, layout });
    expect(woven.plan.width).toBe(36);
    const first = columns(woven.plan, 0, 12);
    expect(columns(woven.plan, 12, 24)).toEqual(first);
    expect(columns(woven.plan, 24, 36)).toEqual(first);
    expect(longest(woven.plan)).toBeLessThanOrEqual(6);
    // Laid alone, the seam would let the weft satin float across it.
    const alone = layStructures(d, structures);
    const laidAcross: LiftPlan = { width: 36, height: 16, cells: new Uint8Array(36 * 16) };
    for (let y = 0; y < 16; y++)
      for (let i = 0; i < 36; i++) laidAcross.cells[y * 36 + i] = alone.cells[y * 12 + (i % 12)];
    expect(longest(laidAcross)).toBeGreaterThan(6);
  });

  it('a point tie mirrors every other repeat, twill direction included, in the plan and the design image', () => {
    const layout = layoutLoom({ unit: 12, repeats: 3, tie: 'point', selvedge: 0 });
    const twillOnly = design(12, 8, 1, () => 0);
    const woven = weaveDesign(twillOnly, {
      structures: [twill(2, 2, 'z')],
      maxFloat: 8,
      tile: false,
      selvedge: 0,
      layout,
    });
    const first = columns(woven.plan, 0, 12);
    expect(columns(woven.plan, 12, 24)).toEqual(mirror(first));
    expect(columns(woven.plan, 24, 36)).toEqual(first);
    // A Z twill's raised cell moves right from pick to pick; in the mirrored repeat it moves left.
    const rise = (rows: string[]) => rows[1].indexOf('1') - rows[0].indexOf('1');
    expect(rise(first)).toBe(1);
    expect(rise(columns(woven.plan, 12, 24).map((r) => r.slice(4)))).toBe(-1);
    const image = layRepeats(d, layout);
    expect(image.width).toBe(36);
    for (let y = 0; y < d.height; y++) {
      const row = Array.from(image.indices.subarray(y * 36, y * 36 + 36));
      const unit = Array.from(d.indices.subarray(y * 12, y * 12 + 12));
      expect(row).toEqual([...unit, ...[...unit].reverse(), ...unit]);
    }
  });

  it('floats meeting at the point of a point tie are held on the whole plan', () => {
    // A weft satin on 12 ends: the floats at each edge meet their own mirror image at the point.
    const flat = design(12, 16, 1, () => 0);
    for (const repeats of [2, 3, 4]) {
      const layout = layoutLoom({ unit: 12, repeats, tie: 'point', selvedge: 0 });
      const woven = weaveDesign(flat, {
        structures: [satin(8, 'weft')],
        maxFloat: 8,
        tile: false,
        selvedge: 0,
        layout,
      });
      expect(woven.plan.width).toBe(12 * repeats);
      expect(longest(woven.plan)).toBeLessThanOrEqual(8);
      expect(woven.floats.after.weft).toBeLessThanOrEqual(8);
      // Still mirrored after binding.
      expect(columns(woven.plan, 12, 24)).toEqual(mirror(columns(woven.plan, 0, 12)));
    }
  });

  it('a float of the design that runs into a selvedge is held there too, and the selvedge keeps its weave', () => {
    const flat = design(12, 16, 1, () => 0);
    const edge = parseStructure('twill:2/2');
    const layout = layoutLoom({ unit: 12, repeats: 2, tie: 'straight', selvedge: 4 });
    const woven = weaveDesign(flat, {
      structures: [satin(8, 'weft')],
      maxFloat: 8,
      tile: false,
      selvedge: 4,
      layout,
      edge,
    });
    expect(woven.plan.width).toBe(32);
    expect(longest(woven.plan)).toBeLessThanOrEqual(8);
    for (let y = 0; y < 16; y++) {
      for (const x of [0, 1, 2, 3, 28, 29, 30, 31])
        expect(woven.plan.cells[y * 32 + x]).toBe(edge.cells[(y % 4) * 4 + (x % 4)]);
    }
  });
  it('floats are held into selvedges whose own floats are longer than one end, for every width of repeat', () => {
    const edge = parseStructure('twill:2/2');
    for (let unit = 13; unit <= 21; unit++) {
      const d = design(unit, 24, 2, (x, y) => ((x * 7 + y * 3) % 11 < 6 ? 0 : 1));
      for (const tie of ['straight', 'point'] as const) {
        const layout = layoutLoom({ unit, repeats: 3, tie, selvedge: 5 });
        const woven = weaveDesign(d, {
          structures: [satin(8, 'weft'), satin(5, 'warp')],
          maxFloat: 6,
          tile: false,
          selvedge: 5,
          layout,
          edge,
        });
        expect([unit, tie, longest(woven.plan)]).toEqual([unit, tie, expect.any(Number)]);
        expect(longest(woven.plan)).toBeLessThanOrEqual(6);
      }
    }
  });
});

describe('repeats and selvedges of a compound cloth', () => {
  const BLACK: [number, number, number] = [0, 0, 0];
  const wefts: [number, number, number][] = [
    [255, 255, 255],
    [200, 30, 30],
  ];
  const effects = weftEffects(BLACK, wefts, 8);

  it('a point tie mirrors the compound plan pick by pick; selvedges weave every weft plain', () => {
    const d = design(20, 10, 2, (x, y) => (x + 2 * y < 18 ? 0 : 1));
    const layout = layoutLoom({ unit: 20, repeats: 3, tie: 'point', selvedge: 2, selector: { side: 'left', ends: 2 } });
    const woven = weaveCompound(d, {
      effects: [effects[0], effects[effects.length - 1]],
      wefts: 2,
      maxFloat: 8,
      maxBackFloat: 16,
      tile: false,
      selvedge: 2,
      layout,
    });
    const { plan } = woven;
    expect([plan.width, plan.height, woven.offset]).toEqual([2 + 2 + 60 + 2, 20, 4]);
    expect(columns(plan, 24, 44)).toEqual(mirror(columns(plan, 4, 24)));
    expect(columns(plan, 44, 64)).toEqual(columns(plan, 4, 24));
    // Selector hooks: hook k raised on weft k's picks.
    for (let r = 0; r < plan.height; r++) expect(columns(plan, 0, 2)[r]).toBe(r % 2 === 0 ? '10' : '01');
    // Each weft, on its own picks, goes over and under each selvedge end in turn.
    for (const x of [2, 3, 64, 65]) {
      for (let k = 0; k < 2; k++) {
        const own = Array.from({ length: 10 }, (_, yb) => plan.cells[(yb * 2 + k) * plan.width + x]);
        expect(own.every((v, i) => i === 0 || v !== own[i - 1])).toBe(true);
      }
    }
    expect(woven.floats.after.weftFace).toBeLessThanOrEqual(8);
    expect(woven.floats.after.weftBack).toBeLessThanOrEqual(16);
    // Along each pick of the whole plan, design and selvedges together: no face float over 8, no back float over 16.
    for (let r = 0; r < plan.height; r++) {
      let run0 = 0;
      let run1 = 0;
      for (let x = 2; x < plan.width; x++) {
        const v = plan.cells[r * plan.width + x];
        run0 = v === 0 ? run0 + 1 : 0;
        run1 = v === 1 ? run1 + 1 : 0;
        expect(run0).toBeLessThanOrEqual(8);
        expect(run1).toBeLessThanOrEqual(16);
      }
    }
  });
});
