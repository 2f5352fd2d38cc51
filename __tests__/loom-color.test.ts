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
});
