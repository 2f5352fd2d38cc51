import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { resolveConfig } from '../src/core/config/resolve.js';
import { runEdit, type EditRequest } from '../src/core/edit.js';
import { nodeOutputFs } from '../src/core/output.js';
import { readText } from '../src/cli/shared.js';
import { noisyGradient } from './helpers/images.js';
import { tempDirsPerTest } from './helpers/tmp.js';
import { recordingUi } from './helpers/ui.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

function request(inputs: string[], extra: Partial<EditRequest> = {}): EditRequest {
  return { inputs, style: 'loom', local: true, force: false, report: true, loom: {}, ...extra };
}

describe('runEdit (local)', () => {
  const setup = tempDirsPerTest();
  const deps = (cwd: string, flags = {}) => {
    const rec = recordingUi();
    return { rec, deps: { resolved: resolveConfig({ env: {}, flags }), ui: rec.ui, fs: nodeOutputFs, readText, cwd } };
  };

  it('writes a palette PNG and a report for the sample, and reports the result', async () => {
    const dir = setup();
    const { rec, deps: d } = deps(dir, { 'loom.width': { value: '120', flag: '--width' }, 'loom.colors': { value: '5', flag: '--colors' } });
    await runEdit(request([SAMPLE]), d);
    const out = path.join(dir, 'grace-hopper.loom.png');
    expect(rec.results).toEqual([
      expect.objectContaining({ status: 'ok', input: SAMPLE, output: out, style: 'loom', source: 'local', width: 120, height: 141, colors: 5 }),
    ]);
    expect(rec.lines.info).toEqual(['running the local loom pipeline (--local)']);
    const decoded = await Jimp.read(out);
    expect([decoded.bitmap.width, decoded.bitmap.height]).toEqual([120, 141]);
    const report = JSON.parse(readFileSync(path.join(dir, 'grace-hopper.loom.json'), 'utf8'));
    expect(report.grid).toEqual({ ends: 120, picks: 141 });
    expect(report.palette).toHaveLength(5);
    expect(report.regions.belowMinRegion).toBe(0);
    expect(report.source).toEqual(expect.objectContaining({ kind: 'local', style: 'loom' }));
  });

  it('picks the next free name instead of overwriting, and -o with an existing file fails without --force', async () => {
    const dir = setup();
    const { rec, deps: d } = deps(dir, { 'loom.width': { value: '40', flag: '--width' } });
    await runEdit(request([SAMPLE]), d);
    await runEdit(request([SAMPLE]), d);
    expect(rec.results.map((r) => path.basename(r.output as string))).toEqual(['grace-hopper.loom.png', 'grace-hopper.loom-2.png']);
    const target = path.join(dir, 'taken.png');
    writeFileSync(target, 'keep me');
    await expect(runEdit(request([SAMPLE], { output: target, report: false }), d)).rejects.toThrow('already exists');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    await runEdit(request([SAMPLE], { output: target, report: false, force: true }), d);
    expect(readFileSync(target).subarray(1, 4).toString()).toBe('PNG');
  });

  it('applies the style settings under the flags: silhouette is two colours, BMP on request', async () => {
    const dir = setup();
    const { rec, deps: d } = deps(dir, { 'loom.width': { value: '64', flag: '--width' }, 'output.format': { value: 'bmp', flag: '--format' } });
    await runEdit(request([SAMPLE], { style: 'silhouette' }), d);
    const out = rec.results[0].output as string;
    expect(out.endsWith('grace-hopper.silhouette.bmp')).toBe(true);
    expect(rec.results[0].colors).toBe(2);
    const bmp = readFileSync(out);
    expect(bmp.readUInt16LE(28)).toBe(1);
  });

  it('keeps going after a bad input in a batch and reports it as a partial failure', async () => {
    const dir = setup();
    const bad = path.join(dir, 'broken.png');
    writeFileSync(bad, readFileSync(SAMPLE).subarray(0, 100));
    const good = path.join(dir, 'gradient.png');
    const img = noisyGradient(50, 40);
    await new Jimp({ width: 50, height: 40, data: Buffer.from(img.data) }).write(good as `${string}.png`);
    const { rec, deps: d } = deps(dir);
    await expect(runEdit(request([bad, good]), d)).rejects.toMatchObject({ kind: 'partial', message: '1 of 2 items failed' });
    expect(rec.results.map((r) => r.status)).toEqual(['error', 'ok']);
    expect(rec.lines.warn[0]).toMatch(/broken\.png: .*(corrupt|not a supported image)/);
    expect(readdirSync(dir).filter((f) => f.startsWith('broken'))).toEqual(['broken.png']);
  });

  it('fails a single bad input with its own error and writes nothing', async () => {
    const dir = setup();
    const { deps: d } = deps(dir);
    await expect(runEdit(request([path.join(dir, 'missing.jpg')]), d)).rejects.toMatchObject({ kind: 'failure', message: expect.stringContaining('no such file') });
    const empty = path.join(dir, 'empty.png');
    writeFileSync(empty, '');
    await expect(runEdit(request([empty]), d)).rejects.toThrow('is empty');
    const text = path.join(dir, 'notes.png');
    writeFileSync(text, 'hello, this is not a picture');
    await expect(runEdit(request([text]), d)).rejects.toThrow('not a supported image');
    expect(readdirSync(dir).sort()).toEqual(['empty.png', 'notes.png']);
    expect(existsSync(path.join(dir, 'missing.loom.png'))).toBe(false);
  });

  it('does not hold a local run to DashScope\'s 800-character instruction limit', async () => {
    const dir = setup();
    const { rec, deps: d } = deps(dir, { 'loom.width': { value: '30', flag: '--width' } });
    await runEdit(request([SAMPLE], { local: false, overrides: { prompt: 'x'.repeat(900) } }), d);
    expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', source: 'local' }));
  });

  it('rejects an unknown style and -o with several inputs as usage errors', async () => {
    const dir = setup();
    const { deps: d } = deps(dir);
    await expect(runEdit(request([SAMPLE], { style: 'velvet' }), d)).rejects.toMatchObject({ kind: 'usage' });
    await expect(runEdit(request([SAMPLE, SAMPLE], { output: 'x.png' }), d)).rejects.toMatchObject({ kind: 'usage' });
  });
});
