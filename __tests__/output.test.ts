import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeFs } from '../src/cli/services.js';
import { inputStem, slugify } from '../src/jobs/names.js';
import { OutputExistsError } from '../src/kernel/errors.js';
import { liveTempFiles, writeFileAtomic } from '../src/kernel/fs.js';
import type { Fs } from '../src/kernel/ports.js';
import { writePair, type PairFile, type Target } from '../src/stages/write.js';
import { tempDirsPerTest } from './helpers/tmp.js';

describe('names', () => {
  it('slugifies prompts into short file names', () => {
    expect(slugify('A red fox, among the ferns!')).toBe('a-red-fox-among-the-ferns');
    expect(slugify('Café déjà vu')).toBe('cafe-deja-vu');
    expect(slugify('一只猫')).toBe('一只猫');
    expect(slugify('!!!')).toBe('image');
    expect(slugify('word '.repeat(40)).length).toBeLessThanOrEqual(48);
  });

  it('takes the stem of an input path', () => {
    expect(inputStem('photos/cat.jpg')).toBe('cat');
    expect(inputStem('/x/archive.tar.gz')).toBe('archive.tar');
    expect(inputStem('noext')).toBe('noext');
  });
});

const image: PairFile = { ext: 'png', render: () => 'image bytes' };
const report: PairFile = { ext: 'json', render: (imageFile) => JSON.stringify({ image: path.basename(imageFile) }) };
const derived = (dir: string): Target => ({ dir, stem: 'cat.loom', force: false, report: true });

describe('pairs of files', () => {
  const setup = tempDirsPerTest();

  it('picks the next free name, counting the report', async () => {
    const dir = setup();
    expect(await writePair(nodeFs, derived(dir), image, report)).toEqual({
      image: path.join(dir, 'cat.loom.png'),
      report: path.join(dir, 'cat.loom.json'),
    });
    writeFileSync(path.join(dir, 'cat.loom-2.json'), 'x');
    const third = await writePair(nodeFs, derived(dir), image, report);
    expect(third.image).toBe(path.join(dir, 'cat.loom-3.png'));
    expect(JSON.parse(readFileSync(third.report!, 'utf8'))).toEqual({ image: 'cat.loom-3.png' });
    expect(readdirSync(dir).sort()).toEqual([
      'cat.loom-2.json',
      'cat.loom-3.json',
      'cat.loom-3.png',
      'cat.loom.json',
      'cat.loom.png',
    ]);
  });

  it('gives concurrent writers of one stem distinct names and never fails', async () => {
    const dir = setup();
    const written = await Promise.all(Array.from({ length: 6 }, () => writePair(nodeFs, derived(dir), image, report)));
    const names = written.map((w) => path.basename(w.image)).sort();
    expect(new Set(names).size).toBe(6);
    for (const w of written) expect(JSON.parse(readFileSync(w.report!, 'utf8')).image).toBe(path.basename(w.image));
    expect(readdirSync(dir)).toHaveLength(12);
  });

  it('writes both or neither: a report that cannot be placed takes its image back', async () => {
    const dir = setup();
    const failing: Fs = {
      ...nodeFs,
      link: async (from, to) => {
        if (to.endsWith('.json')) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        return nodeFs.link(from, to);
      },
    };
    await expect(writePair(failing, derived(dir), image, report)).rejects.toThrow(
      `${path.join(dir, 'cat.loom.json')}: cannot write (the disk is full, ENOSPC)`,
    );
    await expect(
      writePair(failing, { ...derived(dir), exact: path.join(dir, 'x.png') }, image, report),
    ).rejects.toThrow(`${path.join(dir, 'x.json')}: cannot write (the disk is full, ENOSPC)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('puts a --report FILE at that path beside a derived image name, refusing to replace it unforced', async () => {
    const dir = setup();
    const mine = path.join(dir, 'mine.json');
    writeFileSync(path.join(dir, 'cat.loom.png'), 'taken');
    const written = await writePair(nodeFs, { ...derived(dir), report: mine }, image, report);
    expect(written).toEqual({ image: path.join(dir, 'cat.loom-2.png'), report: mine });
    expect(JSON.parse(readFileSync(mine, 'utf8'))).toEqual({ image: 'cat.loom-2.png' });
    await expect(writePair(nodeFs, { ...derived(dir), report: mine }, image, report)).rejects.toThrow(
      OutputExistsError,
    );
    expect(readdirSync(dir).sort()).toEqual(['cat.loom-2.png', 'cat.loom.png', 'mine.json']);
  });

  it('refuses an exact target that exists, unless forced, and writes nothing after an interrupt', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'x.json'), 'keep');
    const exact = { ...derived(dir), exact: path.join(dir, 'x.png') };
    await expect(writePair(nodeFs, exact, image, report)).rejects.toThrow(OutputExistsError);
    expect(readdirSync(dir)).toEqual(['x.json']);
    await writePair(nodeFs, { ...exact, force: true }, image, report);
    expect(readFileSync(path.join(dir, 'x.json'), 'utf8')).toBe('{"image":"x.png"}');
    const controller = new AbortController();
    controller.abort();
    await expect(writePair(nodeFs, derived(dir), image, report, controller.signal)).rejects.toMatchObject({
      kind: 'interrupted',
    });
    expect(readdirSync(dir).sort()).toEqual(['x.json', 'x.png']);
  });
});

describe('replacing with --force', () => {
  const setup = tempDirsPerTest();

  it('puts back what the image replaced when its report cannot be placed', async () => {
    const dir = setup();
    const file = path.join(dir, 'x.png');
    writeFileSync(file, 'the old image');
    const folder = path.join(dir, 'reports');
    mkdirSync(folder); // a folder where the report should go: it cannot be replaced by a file
    const target: Target = { dir, stem: 'x', force: true, report: folder, exact: file };
    await expect(writePair(nodeFs, target, image, report)).rejects.toThrow(folder);
    expect(readFileSync(file, 'utf8')).toBe('the old image');
    expect(readdirSync(dir).sort()).toEqual(['reports', 'x.png']);
  });

  it('never lists the file it keeps among the temporary files a quit at once removes', async () => {
    const dir = setup();
    const file = path.join(dir, 'x.png');
    writeFileSync(file, 'the old image');
    const before = new Set(liveTempFiles());
    let temps: string[] = [];
    let onDisk: string[] = [];
    // Looks at the temporary files as the image replaces the old one.
    const watching: Fs = {
      ...nodeFs,
      rename: async (from, to) => {
        temps = liveTempFiles().filter((name) => !before.has(name));
        onDisk = readdirSync(dir);
        return nodeFs.rename(from, to);
      },
    };
    const target: Target = { dir, stem: 'x', force: true, report: false, exact: file };
    await writePair(watching, target, image, undefined);
    // The old image is kept beside, and only the new image's temporary file is listed.
    expect(onDisk.filter((name) => name.endsWith('.kept'))).toHaveLength(1);
    expect(temps).toHaveLength(1);
    expect(temps.map((name) => path.basename(name).endsWith('.tmp'))).toEqual([true]);
    expect(readdirSync(dir)).toEqual(['x.png']);
  });

  it('keeps nothing beside the set once it is placed', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'x.png'), 'the old image');
    writeFileSync(path.join(dir, 'x.json'), 'the old report');
    const target: Target = { dir, stem: 'x', force: true, report: true, exact: path.join(dir, 'x.png') };
    await writePair(nodeFs, target, image, report);
    expect(readFileSync(path.join(dir, 'x.png'), 'utf8')).toBe('image bytes');
    expect(readdirSync(dir).sort()).toEqual(['x.json', 'x.png']);
  });
});

describe('files', () => {
  const setup = tempDirsPerTest();

  it('never replaces a file without overwrite, and leaves no temporary file', async () => {
    const dir = setup();
    const file = path.join(dir, 'out.png');
    writeFileSync(file, 'old');
    await expect(writeFileAtomic(nodeFs, file, 'new')).rejects.toThrow(OutputExistsError);
    expect(readFileSync(file, 'utf8')).toBe('old');
    await writeFileAtomic(nodeFs, file, 'new', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['out.png']);
  });

  it('creates files with the requested mode', async () => {
    const dir = setup();
    const file = path.join(dir, 'secret.json');
    await writeFileAtomic(nodeFs, file, '{}', { mode: 0o600 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('removes the temporary file when the final step fails', async () => {
    const dir = setup();
    const failing: Fs = {
      ...nodeFs,
      link: async () => Promise.reject(Object.assign(new Error('disk gone'), { code: 'EIO' })),
    };
    await expect(writeFileAtomic(failing, path.join(dir, 'a.png'), 'data')).rejects.toThrow(
      `${path.join(dir, 'a.png')}: cannot write (an input/output error on the device, EIO)`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('places files where the file system has no hard links, still never replacing one', async () => {
    const dir = setup();
    const noLinks: Fs = {
      ...nodeFs,
      link: async () => Promise.reject(Object.assign(new Error('not permitted'), { code: 'EPERM' })),
    };
    await writeFileAtomic(noLinks, path.join(dir, 'a.png'), 'one');
    await expect(writeFileAtomic(noLinks, path.join(dir, 'a.png'), 'two')).rejects.toThrow(OutputExistsError);
    expect(readFileSync(path.join(dir, 'a.png'), 'utf8')).toBe('one');
    expect(readdirSync(dir)).toEqual(['a.png']);
  });
});
