/** Repeats that close: where tiled structures meet themselves at the seams, and `--tile fit`. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeRgbPng } from '../src/formats/png.js';
import { closingAround, closingUnit, nearestClosing, seamNote } from '../src/loom/weave/repeat.js';
import { parseStructure } from '../src/loom/weave/structures.js';
import { rgbImage } from './helpers/images.js';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

describe('closing repeats', () => {
  const s = (name: string) => parseStructure(name);

  it("the unit is the least common multiple of the structures' sides", () => {
    expect(closingUnit([s('satin:8'), s('twill:2/1')])).toEqual({ ends: 24, picks: 24 });
    expect(closingUnit([s('plain'), s('twill:2/2')])).toEqual({ ends: 4, picks: 4 });
    expect(nearestClosing(300, 8)).toBe(304);
    expect(nearestClosing(299, 8)).toBe(296);
    expect(nearestClosing(3, 8)).toBe(8);
    expect(closingAround(300, 8)).toEqual([296, 304]);
    expect(closingAround(5, 8)).toEqual([8]);
  });

  it('a seam note names the sizes that close, and there is none when the repeat closes', () => {
    const note = seamNote(300, 352, [s('satin:8'), s('plain')]);
    expect(note).toContain('the repeat is 300 ends × 352 picks');
    expect(note).toContain('close only every 8 ends and 8 picks');
    expect(note).toContain('296 or 304 ends would close');
    expect(note).not.toContain('picks would close');
    expect(seamNote(304, 352, [s('satin:8'), s('plain')])).toBeUndefined();
  });
});

describe('edit --weave --tile (built binary)', () => {
  const tmp = tempDirsPerTest();

  function picture(dir: string): string {
    const file = path.join(dir, 'motif.png');
    writeFileSync(
      file,
      encodeRgbPng(rgbImage(60, 70, (x, y) => (x < 30 ? [20, 20, 30] : y < 35 ? [240, 236, 226] : [128, 128, 128]))),
    );
    return file;
  }

  it('a 300-end tile of 9-end satins (auto, 8 colours) is warned about, naming the sizes that close', async () => {
    const dir = tmp();
    const r = await runCli(['edit', picture(dir), '--local', '--width', '300', '--weave', '--tile', '-o', 'a.png'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: .*--tile: the repeat is 300 ends × 350 picks, .* 297 or 306 ends and 342 or 351 picks/,
    );
    const report = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8'));
    expect(report.weave.warnings).toHaveLength(1);
  });

  it('--tile fit chooses the nearest grid that closes, and says nothing', async () => {
    const dir = tmp();
    const r = await runCli(
      ['edit', picture(dir), '--local', '--width', '300', '--weave', '--tile', 'fit', '-o', 'a.png'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning');
    const report = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8'));
    // auto takes the 9-end satin for 8 colours, and keeps to it: 297 ends, and picks rounded to 9s.
    expect([report.weave.lift.ends, report.weave.lift.picks]).toEqual([297, 351]);
    expect(report.weave.auto).toMatchObject({ ends: 9 });
    expect(report.weave.warnings).toBeUndefined();
    expect(report.weave.floats.after.weft).toBeLessThanOrEqual(8);
  });

  it('--tile with a value other than fit is exit 2, with a hint when it looks like an input', async () => {
    const dir = tmp();
    const r = await runCli(['edit', '--local', '--weave', 'auto', '--tile', picture(dir)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tile takes no value but fit');
    expect(r.stderr).toContain('put --tile after the inputs');
  });
});
