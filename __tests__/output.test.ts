import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OutputExistsError } from '../src/core/errors.js';
import { inputStem, nextFreeName, nodeOutputFs, slugify, writeFileAtomic, type OutputFs } from '../src/core/output.js';
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

describe('files', () => {
  const setup = tempDirsPerTest();

  it('picks the next free name, counting companion files', async () => {
    const dir = setup();
    expect(await nextFreeName(nodeOutputFs, dir, 'cat.loom', 'png', ['json'])).toBe(path.join(dir, 'cat.loom.png'));
    writeFileSync(path.join(dir, 'cat.loom.png'), 'x');
    expect(await nextFreeName(nodeOutputFs, dir, 'cat.loom', 'png', ['json'])).toBe(path.join(dir, 'cat.loom-2.png'));
    writeFileSync(path.join(dir, 'cat.loom-2.json'), 'x');
    expect(await nextFreeName(nodeOutputFs, dir, 'cat.loom', 'png', ['json'])).toBe(path.join(dir, 'cat.loom-3.png'));
  });

  it('never replaces a file without overwrite, and leaves no temporary file', async () => {
    const dir = setup();
    const file = path.join(dir, 'out.png');
    writeFileSync(file, 'old');
    await expect(writeFileAtomic(nodeOutputFs, file, 'new')).rejects.toThrow(OutputExistsError);
    expect(readFileSync(file, 'utf8')).toBe('old');
    await writeFileAtomic(nodeOutputFs, file, 'new', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['out.png']);
  });

  it('creates files with the requested mode', async () => {
    const dir = setup();
    const file = path.join(dir, 'secret.json');
    await writeFileAtomic(nodeOutputFs, file, '{}', { mode: 0o600 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('removes the temporary file when the final step fails', async () => {
    const dir = setup();
    const failing: OutputFs = { ...nodeOutputFs, link: async () => Promise.reject(Object.assign(new Error('disk gone'), { code: 'EIO' })) };
    await expect(writeFileAtomic(failing, path.join(dir, 'a.png'), 'data')).rejects.toThrow('disk gone');
    expect(readdirSync(dir)).toEqual([]);
  });
});
