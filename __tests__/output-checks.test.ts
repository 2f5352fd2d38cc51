import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeFs } from '../src/cli/services.js';
import { OutputError } from '../src/kernel/errors.js';
import { liveTempFiles, writeFileAtomic } from '../src/kernel/fs.js';
import type { Fs } from '../src/kernel/ports.js';
import { checkTargets, writePair, type PairFile, type Target } from '../src/stages/write.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const image: PairFile = { ext: 'png', render: () => 'image bytes '.repeat(100) };
const report: PairFile = { ext: 'json', render: () => '{"report": true}' };

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** A file system on which every write in `dir` fails with `code`, as a read-only or full one would. */
function failingWrites(code: string, dir: string): Fs {
  return {
    ...nodeFs,
    writeFile: async (file, data, options) => {
      if (path.dirname(file) !== dir) return nodeFs.writeFile(file, data, options);
      throw errno(code, `open '${file}'`);
    },
  };
}

describe('output folders are checked before any work', () => {
  const setup = tempDirsPerTest();
  const target = (dir: string, extra: Partial<Target> = {}): Target => ({
    dir,
    stem: 'cat.loom',
    force: false,
    report: true,
    ...extra,
  });

  it('refuses -o or --report in a missing folder, or a folder given as -o, even with --force', async () => {
    const dir = setup();
    mkdirSync(path.join(dir, 'sub'));
    const missing = path.join(dir, 'missing');
    await expect(checkTargets(target(dir, { exact: path.join(missing, 'x.png') }), nodeFs)).rejects.toMatchObject({
      kind: 'usage',
      message: `the folder of -o ${missing}: does not exist`,
    });
    await expect(
      checkTargets(target(dir, { exact: path.join(dir, 'x.png'), report: path.join(missing, 'r.json') }), nodeFs),
    ).rejects.toMatchObject({ kind: 'usage', message: `the folder of --report ${missing}: does not exist` });
    await expect(
      checkTargets(target(dir, { exact: path.join(dir, 'sub'), force: true }), nodeFs),
    ).rejects.toMatchObject({ kind: 'usage', message: `-o ${path.join(dir, 'sub')}: is a folder, not a file` });
    expect(readdirSync(dir)).toEqual(['sub']);
  });

  it('refuses an output folder that is a file, or lies under one; a missing one is fine (it is created)', async () => {
    const dir = setup();
    const file = path.join(dir, 'f');
    writeFileSync(file, '');
    await expect(checkTargets(target(file), nodeFs)).rejects.toMatchObject({
      kind: 'usage',
      message: `the output folder ${file}: is a file, not a folder`,
    });
    await expect(checkTargets(target(path.join(file, 'sub')), nodeFs)).rejects.toMatchObject({ kind: 'usage' });
    await checkTargets(target(path.join(dir, 'new', 'sub')), nodeFs);
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('refuses a folder that cannot be written, saying why, and leaves no probe behind', async () => {
    const dir = setup();
    for (const [code, cause] of [
      ['EACCES', 'permission denied'],
      ['EROFS', 'the file system is read-only'],
    ]) {
      const fs = failingWrites(code, dir);
      await expect(checkTargets(target(dir), fs)).rejects.toMatchObject({
        kind: 'usage',
        message: `the output folder ${dir}: cannot be written in (${cause}, ${code})`,
      });
      await expect(checkTargets(target(dir, { exact: path.join(dir, 'x.png') }), fs)).rejects.toMatchObject({
        kind: 'usage',
      });
    }
    await checkTargets(target(dir), nodeFs);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('failed writes', () => {
  const setup = tempDirsPerTest();

  /** Writes half of the data, then fails as a full disk does. */
  function fullDisk(after = 1): Fs {
    let writes = 0;
    return {
      ...nodeFs,
      writeFile: async (file, data, options) => {
        if (++writes <= after - 1) return nodeFs.writeFile(file, data, options);
        await nodeFs.writeFile(file, data.slice(0, Math.floor(data.length / 2)), options);
        throw errno('ENOSPC', `no space left on device, write`);
      },
    };
  }

  it('a full disk is one line naming the file, with no temporary or half-written file left', async () => {
    const dir = setup();
    for (const after of [1, 2]) {
      for (const exact of [undefined, path.join(dir, 'x.png')]) {
        const failure = writePair(
          fullDisk(after),
          { dir, stem: 'cat', force: false, report: true, exact },
          image,
          report,
        );
        await expect(failure).rejects.toThrow(OutputError);
        const err = (await failure.catch((e: unknown) => e)) as Error;
        expect(err.message).toMatch(/^\/\S+\/(cat|x)\.(png|json): cannot write \(the disk is full, ENOSPC\)$/);
        expect(err.message).not.toContain('.tmp');
        expect(readdirSync(dir)).toEqual([]);
      }
    }
    await expect(writeFileAtomic(fullDisk(), path.join(dir, 'a.json'), 'x'.repeat(100))).rejects.toThrow(
      `${path.join(dir, 'a.json')}: cannot write (the disk is full, ENOSPC)`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replacing a folder with --force names the folder, not a temporary file', async () => {
    const dir = setup();
    mkdirSync(path.join(dir, 'd'));
    const failure = writePair(
      nodeFs,
      { dir, stem: 'x', force: true, report: false, exact: path.join(dir, 'd') },
      image,
      undefined,
    );
    await expect(failure).rejects.toThrow(`${path.join(dir, 'd')}: cannot write (it is a folder, EISDIR)`);
    expect(readdirSync(dir)).toEqual(['d']);
  });
});

describe('temporary files a second Ctrl-C removes', () => {
  const setup = tempDirsPerTest();

  it('are known while a write is under way, and forgotten once removed, on success or failure', async () => {
    const dir = setup();
    let release = () => {};
    const paused = new Promise<void>((resolve) => (release = resolve));
    let started = () => {};
    const writing = new Promise<void>((resolve) => (started = resolve));
    const slow: Fs = {
      ...nodeFs,
      writeFile: async (file, data, options) => {
        await nodeFs.writeFile(file, data, options);
        started();
        await paused;
      },
    };
    const mine = () => liveTempFiles().filter((file) => path.dirname(file) === dir);
    const write = writePair(slow, { dir, stem: 'cat', force: false, report: false }, image, undefined);
    await writing;
    expect(mine()).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([path.basename(mine()[0])]);
    release();
    await write;
    expect(mine()).toEqual([]);
    await expect(writeFileAtomic(failingWrites('ENOSPC', dir), path.join(dir, 'a.png'), 'x')).rejects.toThrow(
      OutputError,
    );
    expect(mine()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['cat.png']);
  });
});
