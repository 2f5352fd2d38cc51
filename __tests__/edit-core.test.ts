import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { resolveConfig } from '../src/config/resolve.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { noisyGradient } from './helpers/images.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

function request(inputs: string[], extra: Partial<EditSpec> = {}): EditSpec {
  return {
    inputs,
    style: 'loom',
    local: true,
    fallback: true,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...extra,
  };
}

describe('runEdit (local)', () => {
  const setup = tempDirsPerTest();
  const deps = (cwd: string, flags = {}) => {
    const { services, rec } = testServices(cwd);
    const resolved = resolveConfig({ env: {}, flags });
    return { rec, run: (spec: EditSpec) => runEdit(spec, resolved, services) };
  };

  it('writes a palette PNG and a report for the sample, and reports the result', async () => {
    const dir = setup();
    const { rec, run } = deps(dir, {
      'loom.width': { value: '120', flag: '--width' },
      'loom.colors': { value: '5', flag: '--colors' },
    });
    await run(request([SAMPLE]));
    const out = path.join(dir, 'grace-hopper.loom.png');
    expect(rec.results).toEqual([
      expect.objectContaining({
        status: 'ok',
        input: SAMPLE,
        output: out,
        style: 'loom',
        source: 'local',
        width: 120,
        height: 141,
        colors: 5,
      }),
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
    const { rec, run } = deps(dir, { 'loom.width': { value: '40', flag: '--width' } });
    await run(request([SAMPLE]));
    await run(request([SAMPLE]));
    expect(rec.results.map((r) => path.basename(r.output as string))).toEqual([
      'grace-hopper.loom.png',
      'grace-hopper.loom-2.png',
    ]);
    const target = path.join(dir, 'taken.png');
    writeFileSync(target, 'keep me');
    await expect(run(request([SAMPLE], { output: target, report: false }))).rejects.toThrow('already exists');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    await run(request([SAMPLE], { output: target, report: false, force: true }));
    expect(readFileSync(target).subarray(1, 4).toString()).toBe('PNG');
  });

  it('applies the style settings under the flags: silhouette is two colours, BMP on request', async () => {
    const dir = setup();
    const { rec, run } = deps(dir, {
      'loom.width': { value: '64', flag: '--width' },
      'output.format': { value: 'bmp', flag: '--format' },
    });
    await run(request([SAMPLE], { style: 'silhouette' }));
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
    const { rec, run } = deps(dir);
    await expect(run(request([bad, good]))).rejects.toMatchObject({ kind: 'partial', message: '1 of 2 items failed' });
    expect(rec.results.map((r) => r.status)).toEqual(['error', 'ok']);
    expect(rec.lines.warn[0]).toMatch(/broken\.png: .*(corrupt|not a supported image)/);
    expect(readdirSync(dir).filter((f) => f.startsWith('broken'))).toEqual(['broken.png']);
  });

  it('fails a single bad input with its own error and writes nothing', async () => {
    const dir = setup();
    const { run } = deps(dir);
    await expect(run(request([path.join(dir, 'missing.jpg')]))).rejects.toMatchObject({
      kind: 'failure',
      message: expect.stringContaining('no such file'),
    });
    const empty = path.join(dir, 'empty.png');
    writeFileSync(empty, '');
    await expect(run(request([empty]))).rejects.toThrow('is empty');
    const text = path.join(dir, 'notes.png');
    writeFileSync(text, 'hello, this is not a picture');
    await expect(run(request([text]))).rejects.toThrow('not a supported image');
    expect(readdirSync(dir).sort()).toEqual(['empty.png', 'notes.png']);
    expect(existsSync(path.join(dir, 'missing.loom.png'))).toBe(false);
  });

  it("does not hold a local run to DashScope's 800-character instruction limit", async () => {
    const dir = setup();
    const { rec, run } = deps(dir, { 'loom.width': { value: '30', flag: '--width' } });
    await run(request([SAMPLE], { local: false, instruction: { prompt: 'x'.repeat(900) } }));
    expect(rec.results[0]).toEqual(expect.objectContaining({ status: 'ok', source: 'local' }));
  });

  it('rejects an unknown style and -o with several inputs as usage errors', async () => {
    const dir = setup();
    const { run } = deps(dir);
    await expect(run(request([SAMPLE], { style: 'velvet' }))).rejects.toMatchObject({ kind: 'usage' });
    await expect(run(request([SAMPLE, SAMPLE], { output: 'x.png' }))).rejects.toMatchObject({ kind: 'usage' });
  });

  it.each([
    [{ function: 'paint_it_red' }, /--function: expected one of stylization_all, .*, got "paint_it_red"/],
    [{ strength: 1.5 }, /--strength: expected a number from 0 to 1, got 1.5/],
    [{ strength: -0.1 }, /--strength: expected a number from 0 to 1/],
    [{ seed: 2 ** 31 }, /--seed: expected an integer from 0 to 2147483647, got 2147483648/],
    [{ seed: 1.5 }, /--seed: expected an integer from 0 to 2147483647/],
  ])(
    'refuses the remote option %j as a usage error even for a local run, writing nothing',
    async (instruction, message) => {
      const dir = setup();
      const { run } = deps(dir, { 'loom.width': { value: '30', flag: '--width' } });
      await expect(run(request([SAMPLE], { instruction }))).rejects.toMatchObject({
        kind: 'usage',
        message: expect.stringMatching(message),
      });
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('accepts the remote options at the ends of their ranges', async () => {
    const dir = setup();
    const { run, rec } = deps(dir, { 'loom.width': { value: '30', flag: '--width' } });
    // Without --local (which refuses them) and without a key: checked, then the run is local.
    const keyless = { local: false };
    await run(
      request([SAMPLE], {
        ...keyless,
        instruction: { function: 'stylization_all', strength: 1, seed: 2 ** 31 - 1 },
      }),
    );
    await run(request([SAMPLE], { ...keyless, instruction: { strength: 0, seed: 0 } }));
    expect(rec.results.map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('gives concurrent jobs that derive the same name distinct names, with their own reports', async () => {
    const dir = setup();
    const { run, rec } = deps(dir, { 'loom.width': { value: '40', flag: '--width' } });
    await Promise.all([run(request([SAMPLE])), run(request([SAMPLE])), run(request([SAMPLE]))]);
    const names = rec.results.map((r) => path.basename(r.output as string)).sort();
    expect(names).toEqual(['grace-hopper.loom-2.png', 'grace-hopper.loom-3.png', 'grace-hopper.loom.png']);
    for (const result of rec.results) {
      const report = JSON.parse(readFileSync(result.report as string, 'utf8'));
      expect(report.image).toBe(path.basename(result.output as string));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes the format from -o, and refuses a --format that contradicts it', async () => {
    const dir = setup();
    const { run } = deps(dir, { 'loom.width': { value: '30', flag: '--width' } });
    await run(request([SAMPLE], { output: path.join(dir, 'a.bmp') }));
    expect(readFileSync(path.join(dir, 'a.bmp')).subarray(0, 2).toString()).toBe('BM');
    const strict = deps(dir, {
      'loom.width': { value: '30', flag: '--width' },
      'output.format': { value: 'bmp', flag: '--format' },
    });
    await expect(strict.run(request([SAMPLE], { output: path.join(dir, 'b.png') }))).rejects.toMatchObject({
      kind: 'usage',
    });
    expect(readdirSync(dir).sort()).toEqual(['a.bmp', 'a.json']);
  });

  it('refuses a report that would be the image itself', async () => {
    const dir = setup();
    const { run } = deps(dir);
    await expect(run(request([SAMPLE], { output: path.join(dir, 'x.json'), force: true }))).rejects.toMatchObject({
      kind: 'usage',
    });
    await expect(
      run(request([SAMPLE], { output: path.join(dir, 'x.png'), report: path.join(dir, 'x.png'), force: true })),
    ).rejects.toMatchObject({ kind: 'usage' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
