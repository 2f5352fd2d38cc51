/** The WIF 1.1 lift plan, read back by a reader written from the specification (helpers/wif-reader.ts). */
import { describe, expect, it } from '@jest/globals';
import { encodeWif } from '../src/formats/wif.js';
import type { LiftPlan } from '../src/loom/weave/plan.js';
import { get, parseIni, readLiftplanDraft, wifBool } from './helpers/wif-reader.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** A seeded plan of `width` ends × `height` picks, about half raised, with pick 3 raising nothing. */
function randomPlan(width: number, height: number, seed = 7): LiftPlan {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const cells = new Uint8Array(width * height);
  for (let i = 0; i < cells.length; i++) cells[i] = rand() < 0.5 ? 1 : 0;
  cells.fill(0, 2 * width, 3 * width);
  return { width, height, cells };
}

const BLACK = [0, 0, 0];
const WHITE = [255, 255, 255];

describe('WIF lift plan', () => {
  it('has the sections [CONTENTS] lists, and no others; its header names WIF 1.1 and imagegen', () => {
    const wif = parseIni(text(encodeWif({ plan: randomPlan(12, 9), warp: BLACK, wefts: [WHITE] })));
    const listed = [...wif.sections.get('CONTENTS')!].filter(([, v]) => wifBool(v)).map(([k]) => k.toUpperCase());
    const present = wif.order.filter((s) => s !== 'WIF' && s !== 'CONTENTS');
    expect(listed.sort()).toEqual([...present].sort());
    expect(present.sort()).toEqual(
      [
        'COLOR PALETTE',
        'COLOR TABLE',
        'WEAVING',
        'WARP',
        'WEFT',
        'THREADING',
        'WARP COLORS',
        'LIFTPLAN',
        'WEFT COLORS',
      ].sort(),
    );
    expect(wif.order[0]).toBe('WIF');
    expect(get(wif, 'WIF', 'Version')).toBe('1.1');
    expect(get(wif, 'WIF', 'Date')).toBe('April 20, 1997');
    expect(get(wif, 'WIF', 'Developers')).toBe('wif@mhsoft.com');
    expect(get(wif, 'WIF', 'Source Program')).toBe('imagegen');
    expect(get(wif, 'COLOR PALETTE', 'Form')).toBe('RGB');
    expect(get(wif, 'COLOR PALETTE', 'Range')).toBe('0,255');
    expect(Number(get(wif, 'COLOR PALETTE', 'Entries'))).toBe(wif.sections.get('COLOR TABLE')!.size);
  });

  it('is one shaft per end, threaded straight, rising shed; every pick raises the ends the plan raises', () => {
    const plan = randomPlan(37, 23);
    const bytes = encodeWif({ plan, warp: BLACK, wefts: [WHITE] });
    const wif = parseIni(text(bytes));
    const draft = readLiftplanDraft(wif);
    expect([draft.shafts, draft.ends, draft.picks, draft.risingShed]).toEqual([37, 37, 23, true]);
    expect(Number(get(wif, 'WEAVING', 'Treadles'))).toBe(0);
    draft.threading.forEach((shafts, e) => expect(shafts).toEqual([e + 1]));
    expect(draft.liftplan[2]).toEqual([]);
    for (let p = 0; p < plan.height; p++) {
      const raised = [];
      for (let x = 0; x < plan.width; x++) if (plan.cells[p * plan.width + x]) raised.push(x + 1);
      expect(draft.liftplan[p]).toEqual(raised);
    }
    expect(Buffer.from(draft.cells).equals(Buffer.from(plan.cells))).toBe(true);
    // Plain ASCII with Windows line ends, as INI readers of the time expect.
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(text(bytes).split('\r\n').length).toBe(text(bytes).split('\n').length);
  });

  it('a plan of many megabytes, written in chunks, reads back whole', () => {
    const plan = randomPlan(1320, 900, 3);
    const bytes = encodeWif({ plan, warp: BLACK, wefts: [WHITE] });
    expect(bytes.length).toBeGreaterThan(2 << 20);
    const draft = readLiftplanDraft(parseIni(text(bytes)));
    expect([draft.ends, draft.picks]).toEqual([1320, 900]);
    expect(Buffer.from(draft.cells).equals(Buffer.from(plan.cells))).toBe(true);
  });

  it('one weft: the warp and weft colours for every end and pick, and the sett from the density per cm', () => {
    const warp = [32, 32, 32];
    const weft = [240, 232, 216];
    const wif = parseIni(
      text(encodeWif({ plan: randomPlan(10, 8), warp, wefts: [weft], density: { ends: 24, picks: 30, unit: 'cm' } })),
    );
    const draft = readLiftplanDraft(wif);
    expect(new Set(draft.warpColors.map(String))).toEqual(new Set([String(warp)]));
    expect(new Set(draft.weftColors.map(String))).toEqual(new Set([String(weft)]));
    expect(draft.warp.units).toBe('Centimeters');
    expect(draft.weft.units).toBe('Centimeters');
    expect(draft.warp.spacing).toBeCloseTo(1 / 24, 6);
    expect(draft.weft.spacing).toBeCloseTo(1 / 30, 6);
  });

  it('without a density, no units and no spacing: the reader keeps its own sett', () => {
    const wif = parseIni(text(encodeWif({ plan: randomPlan(6, 4), warp: BLACK, wefts: [WHITE] })));
    for (const section of ['WARP', 'WEFT']) {
      expect(get(wif, section, 'Units')).toBeUndefined();
      expect(get(wif, section, 'Spacing')).toBeUndefined();
    }
  });

  it('three wefts: each pick in its weft colour in shuttle order; picks per inch count every weft', () => {
    const wefts = [
      [27, 42, 74],
      [200, 162, 122],
      [232, 228, 216],
    ];
    const plan = randomPlan(16, 3 * 7);
    const wif = parseIni(text(encodeWif({ plan, warp: BLACK, wefts, density: { ends: 60, picks: 20, unit: 'in' } })));
    const draft = readLiftplanDraft(wif);
    expect(draft.weftColors).toEqual(Array.from({ length: 21 }, (_, p) => wefts[p % 3]));
    expect(draft.warpColors.every((c) => String(c) === String(BLACK))).toBe(true);
    expect(Number(get(wif, 'COLOR PALETTE', 'Entries'))).toBe(4);
    expect([draft.warp.units, draft.weft.units]).toEqual(['Inches', 'Inches']);
    expect(draft.warp.spacing).toBeCloseTo(1 / 60, 6);
    // 20 design rows per inch, each woven as 3 picks.
    expect(draft.weft.spacing).toBeCloseTo(1 / 60, 6);
    expect(Buffer.from(draft.cells).equals(Buffer.from(plan.cells))).toBe(true);
  });

  it('a fine sett is written in plain decimals to a millionth of the spacing', () => {
    const wif = parseIni(
      text(
        encodeWif({
          plan: randomPlan(4, 4),
          warp: BLACK,
          wefts: [WHITE],
          density: { ends: 7, picks: 3000, unit: 'cm' },
        }),
      ),
    );
    expect(get(wif, 'WARP', 'Spacing')).toBe('0.142857');
    expect(get(wif, 'WEFT', 'Spacing')).toBe('0.000333333');
  });
});
