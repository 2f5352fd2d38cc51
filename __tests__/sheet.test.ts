/** The contact sheet's reading of a report, and its page for items that did not run. */
import { describe, expect, it } from '@jest/globals';
import { factsOf, renderSheet } from '../src/jobs/sheet.js';

describe('contact sheet page', () => {
  it('takes ΔE from a compound report, per colour and the largest, and ignores what is not a report', () => {
    const facts = factsOf({
      image: 'x.png',
      grid: { ends: 60, picks: 70 },
      palette: [
        { hex: '#ff0000', share: 0.75 },
        { hex: '#00ff00', share: 0.25 },
        { hex: 'red"><script>', share: 0.1 },
      ],
      regions: { count: 12, smallest: 4 },
      source: { kind: 'local', style: 'loom', model: null },
      woven: { width: 5, length: 6.5, unit: 'cm' },
      weave: {
        structures: [
          { hex: '#ff0000', deltaE: 1.5 },
          { hex: '#00ff00', deltaE: 4.25 },
        ],
      },
    });
    expect(facts?.swatches).toEqual([
      { hex: '#ff0000', share: 0.75, deltaE: 1.5 },
      { hex: '#00ff00', share: 0.25, deltaE: 4.25 },
    ]);
    expect(facts?.deltaE).toBe(4.25);
    const html = renderSheet([{ label: 'x.jpg', status: 'ok', design: '/d/x.png', facts }], '/d', 'd');
    expect(html).toContain('ΔE at most 4.25');
    expect(html).toContain('#00ff00 25.0 % ΔE 4.25');
    expect(html).toContain('cloth 5 × 6.5 cm');
    expect(html).not.toContain('<script>');
    expect(factsOf({ name: 'package.json' })).toBeUndefined();
    expect(factsOf([1, 2])).toBeUndefined();
  });

  it('a skipped item says why, a TIFF design is a link, not a picture a browser cannot show', () => {
    const html = renderSheet(
      [
        { label: 'b.jpg', status: 'skipped', reason: 'the provider stopped the batch' },
        { label: 'a.jpg', status: 'ok', design: '/d/sub/a.tif', facts: undefined },
      ],
      '/d',
      'd',
    );
    expect(html).toContain('skipped: the provider stopped the batch');
    expect(html).toContain('<a class="file" href="sub/a.tif">a.tif</a>');
    expect(html).not.toContain('<img src="sub/a.tif"');
    expect(html).toContain('1 of 2 done');
  });
});
