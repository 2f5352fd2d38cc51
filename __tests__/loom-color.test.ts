import { describe, expect, it } from '@jest/globals';
import { ciede2000, labToSrgb, linearToSrgb, parseHex, srgbToLab, SRGB_TO_LINEAR, toHex } from '../src/loom/color.js';

describe('colour conversions', () => {
  it('round-trips sRGB bytes through linear light', () => {
    for (let v = 0; v < 256; v++) expect(linearToSrgb(SRGB_TO_LINEAR[v])).toBe(v);
  });

  it('gives the CIELAB reference values for white, black and sRGB red', () => {
    const lab = [0, 0, 0];
    srgbToLab(255, 255, 255, lab);
    expect(lab[0]).toBeCloseTo(100, 2);
    expect(Math.abs(lab[1])).toBeLessThan(0.01);
    srgbToLab(0, 0, 0, lab);
    expect(lab).toEqual([0, 0, 0]);
    srgbToLab(255, 0, 0, lab);
    expect(lab[0]).toBeCloseTo(53.24, 1);
    expect(lab[1]).toBeCloseTo(80.09, 1);
    expect(lab[2]).toBeCloseTo(67.2, 1);
  });

  it('round-trips Lab back to the same sRGB bytes', () => {
    const lab = [0, 0, 0];
    for (const rgb of [
      [12, 200, 99],
      [255, 128, 0],
      [3, 3, 3],
      [250, 250, 251],
    ]) {
      srgbToLab(rgb[0], rgb[1], rgb[2], lab);
      expect(labToSrgb(lab[0], lab[1], lab[2])).toEqual(rgb);
    }
  });

  it('parses and prints hex colours', () => {
    expect(parseHex('#0aFF10')).toEqual([10, 255, 16]);
    expect(parseHex('0aff10')).toEqual([10, 255, 16]);
    expect(parseHex('#fff')).toBeUndefined();
    expect(toHex(10, 255, 16)).toBe('#0aff10');
  });
});

describe('ciede2000', () => {
  // Pairs from Sharma, Wu & Dalal (2005), Table 1.
  const pairs: Array<[number[], number[], number]> = [
    [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
    [[50, 3.1571, -77.2803], [50, 0, -82.7485], 2.8615],
    [[50, 2.8361, -74.02], [50, 0, -82.7485], 3.4412],
    [[50, 0, 0], [50, -1, 2], 2.3669],
    [[50, 2.5, 0], [73, 25, -18], 27.1492],
    [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
  ];
  it.each(pairs)('%j vs %j = %d', (a, b, expected) => {
    expect(ciede2000(a[0], a[1], a[2], b[0], b[1], b[2])).toBeCloseTo(expected, 4);
    expect(ciede2000(b[0], b[1], b[2], a[0], a[1], a[2])).toBeCloseTo(expected, 4);
  });

  it('is zero for identical colours', () => {
    expect(ciede2000(40, 10, -20, 40, 10, -20)).toBe(0);
  });

  it('agrees with the textbook form on random pairs, greys, opposite hues and the hue wrap-around', () => {
    let s = 12345;
    const rand = (lo: number, hi: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return lo + ((hi - lo) * s) / 4294967296;
    };
    const pairs: number[][] = [
      [50, 0, 0, 60, 0, 0],
      [50, 0, 0, 60, 10, -10],
      [50, 20, 0, 50, -20, 0],
      [50, 0, 20, 50, 0, -20],
      [50, 30, -1, 50, 30, 1],
      [40, -30, -1, 60, -30, 1],
      [30, 1, -80, 70, -1, -80],
    ];
    for (let i = 0; i < 20000; i++) {
      const near = i % 2 === 0;
      const L = rand(0, 100);
      const a = rand(-100, 100);
      const b = rand(-110, 100);
      pairs.push(
        near
          ? [L, a, b, L + rand(-8, 8), a + rand(-8, 8), b + rand(-8, 8)]
          : [L, a, b, rand(0, 100), rand(-100, 100), rand(-110, 100)],
      );
    }
    for (const [L1, a1, b1, L2, a2, b2] of pairs) {
      const expected = textbookCiede2000(L1, a1, b1, L2, a2, b2);
      expect(Math.abs(ciede2000(L1, a1, b1, L2, a2, b2) - expected)).toBeLessThan(1e-8 * Math.max(1, expected));
    }
  });
});

const RAD = Math.PI / 180;
const POW25_7 = 25 ** 7;

/** The textbook form, step by step as in Sharma, Wu & Dalal (2005): the reference for the fast one. */
function textbookCiede2000(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
  const C1 = Math.sqrt(a1 * a1 + b1 * b1);
  const C2 = Math.sqrt(a2 * a2 + b2 * b2);
  const Cbar = (C1 + C2) / 2;
  const Cbar7 = Cbar ** 7;
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + POW25_7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.sqrt(a1p * a1p + b1 * b1);
  const C2p = Math.sqrt(a2p * a2p + b2 * b2);
  const h1p = C1p === 0 ? 0 : (Math.atan2(b1, a1p) / RAD + 360) % 360;
  const h2p = C2p === 0 ? 0 : (Math.atan2(b2, a2p) / RAD + 360) % 360;

  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * RAD);

  const Lbarp = (L1 + L2) / 2;
  const Cbarp = (C1p + C2p) / 2;
  let hbarp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hbarp = (h1p + h2p) / 2;
    else if (h1p + h2p < 360) hbarp = (h1p + h2p + 360) / 2;
    else hbarp = (h1p + h2p - 360) / 2;
  }
  const T =
    1 -
    0.17 * Math.cos((hbarp - 30) * RAD) +
    0.24 * Math.cos(2 * hbarp * RAD) +
    0.32 * Math.cos((3 * hbarp + 6) * RAD) -
    0.2 * Math.cos((4 * hbarp - 63) * RAD);
  const dTheta = 30 * Math.exp(-(((hbarp - 275) / 25) ** 2));
  const Cbarp7 = Cbarp ** 7;
  const Rc = 2 * Math.sqrt(Cbarp7 / (Cbarp7 + POW25_7));
  const Lm = (Lbarp - 50) ** 2;
  const Sl = 1 + (0.015 * Lm) / Math.sqrt(20 + Lm);
  const Sc = 1 + 0.045 * Cbarp;
  const Sh = 1 + 0.015 * Cbarp * T;
  const Rt = -Math.sin(2 * dTheta * RAD) * Rc;
  const tl = dLp / Sl;
  const tc = dCp / Sc;
  const th = dHp / Sh;
  return Math.sqrt(tl * tl + tc * tc + th * th + Rt * tc * th);
}
