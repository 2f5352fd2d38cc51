/**
 * Files read and written: only regular files, read within a cap; names that fit the file system; journals
 * whose lines are events, whose outputs are this command's, and which one run at a time uses; prompts-file
 * outputs inside the output folder; error messages whose rendering of a value is bounded.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeFs } from '../src/cli/services.js';
import { parsePaletteSpec } from '../src/config/palette.js';
import { loadConfigFile } from '../src/config/load.js';
import { resolveConfig } from '../src/config/resolve.js';
import { UsageError } from '../src/kernel/errors.js';
import { appendDurableFile, keptNameFor, liveTempFiles, nameLengthProblem, readRegularFile } from '../src/kernel/fs.js';
import { Redactor } from '../src/kernel/redact.js';
import { showValue } from '../src/kernel/values.js';
import { Journal } from '../src/jobs/journal.js';
import { promptsFileOutput } from '../src/jobs/output.js';
import { checkTargets, isTargetOutput, writePair, type Target } from '../src/stages/write.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const newDir = tempDirsPerTest();

function fifo(file: string): string {
  execFileSync('mkfifo', [file]);
  return file;
}

/** Settles within `ms`, or says it did not. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; late?: true }> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<{ late: true }>((resolve) => setTimeout(() => resolve({ late: true }), ms).unref()),
  ]);
}

/** Nine references to the value below, 30 levels deep: 9^30 strings when written out. */
function laughs(levels = 30): unknown {
  let value: unknown = Array(9).fill('lol');
  for (let i = 0; i < levels; i++) value = Array(9).fill(value);
  return value;
}

describe('showValue', () => {
  it('renders a value nested a billion times over in bounded time and length', () => {
    const start = performance.now();
    const shown = showValue(laughs());
    expect(performance.now() - start).toBeLessThan(50);
    expect(shown.length).toBeLessThanOrEqual(121);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.startsWith('[[[[[…]')).toBe(true);
  });

  it('shows small values as JSON, and cuts long strings, cycles and huge arrays short', () => {
    expect(showValue('heavy')).toBe('"heavy"');
    expect(showValue({ a: [1, 'b', null, true] })).toBe('{"a":[1,"b",null,true]}');
    expect(showValue(undefined)).toBe('undefined');
    expect(showValue(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(showValue('x'.repeat(10_000))).toBe(`"${'x'.repeat(119)}…`);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(showValue(cycle)).toBe('{"self":{…}}');
    expect(showValue(new Array(2 ** 32 - 1)).length).toBeLessThanOrEqual(121);
  });

  it("a YAML config whose aliases nest under a style's field is refused at once, with a short message", async () => {
    const dir = newDir();
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    lines.push('styles:', '  boom:', '    prompt: *a9');
    const file = path.join(dir, '.imagegenrc.yaml');
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
    const start = performance.now();
    // The YAML parser keeps an alias as a reference to the one value: loading is as quick as the file is short.
    const loaded = await loadConfigFile({ cwd: dir, home: dir });
    let error: unknown;
    try {
      resolveConfig({ file: loaded, env: {} });
    } catch (err) {
      error = err;
    }
    expect(performance.now() - start).toBeLessThan(1000);
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toMatch(/styles\.boom\.prompt: expected a non-empty string, got \[\[\[\[/);
    expect(message.length).toBeLessThan(400);
  });
});

describe('files are read only when regular, within a cap', () => {
  it('a link is not followed when asked, and appends refuse links, pipes and devices at once', async () => {
    const dir = newDir();
    const real = path.join(dir, 'real');
    writeFileSync(real, 'x\n');
    const link = path.join(dir, 'link');
    symlinkSync(real, link);
    expect((await readRegularFile(link, 10)).toString()).toBe('x\n');
    await expect(readRegularFile(link, 10, { noFollow: true })).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(appendDurableFile(link, 'y\n')).rejects.toMatchObject({ code: 'ELOOP' });
    const pipe = fifo(path.join(dir, 'pipe'));
    expect(await within(appendDurableFile(pipe, 'y\n'), 2000)).toMatchObject({ error: { code: 'ENXIO' } });
    await expect(appendDurableFile('/dev/null', 'y\n')).rejects.toMatchObject({ code: 'EFTYPE' });
    expect(readFileSync(real, 'utf8')).toBe('x\n');
    await appendDurableFile(path.join(dir, 'new'), 'z\n');
    expect(lstatSync(path.join(dir, 'new')).mode & 0o777).toBe(0o600);
  });

  it('a palette file that is a pipe or a device is refused at once; one over the cap is not read whole', async () => {
    const dir = newDir();
    const read = (file: string, options: { maxBytes: number }) => nodeFs.readFile(file, options);
    const pipe = fifo(path.join(dir, 'p.gpl'));
    expect(await within(parsePaletteSpec(pipe, read), 2000)).toMatchObject({
      error: { message: `palette file ${pipe}: not a regular file (a pipe, a socket or a device)` },
    });
    expect(await within(parsePaletteSpec('/dev/zero', read), 2000)).toMatchObject({
      error: { message: 'palette file /dev/zero: not a regular file (a pipe, a socket or a device)' },
    });
    const big = path.join(dir, 'big.gpl');
    writeFileSync(big, 'GIMP Palette\n' + '0 0 0\n'.repeat(300_000));
    await expect(parsePaletteSpec(big, read)).rejects.toThrow(`palette file ${big}: larger than 1 MB: not a palette`);
  });
});

describe('names and places of written files', () => {
  const target = (dir: string, extra: Partial<Target> = {}): Target => ({
    dir,
    stem: 'cat.loom',
    force: false,
    report: true,
    ...extra,
  });

  it('a name fits only with room for the temporary and kept names written beside it', () => {
    const dir = newDir();
    const extra = Buffer.byteLength(path.basename(keptNameFor(path.join(dir, 'a')))) - 1;
    const room = 255 - extra;
    expect(nameLengthProblem(path.join(dir, 'n'.repeat(room)))).toBeUndefined();
    expect(nameLengthProblem(path.join(dir, 'n'.repeat(room + 1)))).toMatch(
      `its name is ${room + 1} bytes long; at most ${room} fit`,
    );
    // Bytes, not characters: 78 three-byte characters are 234 bytes.
    expect(nameLengthProblem(path.join(dir, '織'.repeat(Math.floor(room / 3) + 1)))).toBeDefined();
    const deep = path.join(dir, ...Array(21).fill('d'.repeat(200)), 'x.png');
    expect(nameLengthProblem(deep)).toMatch(/its path is \d+ bytes long; at most \d+ fit/);
  });

  it('a lift plan or cloth preview beside -o that is a pipe is refused, even with --force', async () => {
    const dir = newDir();
    fifo(path.join(dir, 'x.lift.bmp'));
    await expect(
      checkTargets(target(dir, { exact: path.join(dir, 'x.png'), force: true }), nodeFs, {
        companions: ['lift.bmp', 'cloth.png'],
      }),
    ).rejects.toThrow(`the .lift.bmp file ${path.join(dir, 'x.lift.bmp')}: is not a regular file`);
  });

  it('a pipe put at -o after the checks is still not replaced, nor read to be kept', async () => {
    const dir = newDir();
    const exact = path.join(dir, 'x.png');
    await checkTargets(target(dir, { exact, force: true }), nodeFs);
    fifo(exact);
    const image = { ext: 'png', render: () => 'image' };
    const outcome = await within(writePair(nodeFs, target(dir, { exact, force: true }), image, undefined), 2000);
    expect(outcome.error).toMatchObject({
      message: `${exact}: not a regular file (a device, a pipe or a socket): not replaced`,
    });
    expect(lstatSync(exact).isFIFO()).toBe(true);
  });

  it("a recorded output is this target's only at its exact path, or at a name derived from its stem", () => {
    const dir = newDir();
    const derived = target(dir);
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'cat.loom.png'), path.join(dir, 'cat.loom.json'))).toBe(
      true,
    );
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'cat.loom-12.png'), undefined)).toBe(true);
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'cat.loom-x.png'), undefined)).toBe(false);
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'cat.loom.bmp'), undefined)).toBe(false);
    expect(isTargetOutput(derived, ['png'], '/etc/hostname', undefined)).toBe(false);
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'sub', 'cat.loom.png'), undefined)).toBe(false);
    // The report must be the one that goes with that image.
    expect(isTargetOutput(derived, ['png'], path.join(dir, 'cat.loom.png'), '/etc/hostname')).toBe(false);
    const exact = target(dir, { exact: path.join(dir, 'x.png') });
    expect(isTargetOutput(exact, ['png'], path.join(dir, 'x.png'), path.join(dir, 'x.json'))).toBe(true);
    expect(isTargetOutput(exact, ['png'], path.join(dir, 'cat.loom.png'), undefined)).toBe(false);
  });

  it('a prompts-file output is resolved in the output folder, and may not leave it', async () => {
    const dir = newDir();
    const out = path.join(dir, 'out');
    mkdirSync(path.join(out, 'sub'), { recursive: true });
    mkdirSync(path.join(dir, 'elsewhere'));
    symlinkSync(path.join(dir, 'elsewhere'), path.join(out, 'away'));
    symlinkSync(path.join(out, 'sub'), path.join(out, 'near'));
    const resolved = resolveConfig({ env: {}, flags: { 'output.dir': { value: 'out', flag: '--out-dir' } } });
    const at = (output: string) => promptsFileOutput(output, resolved, dir, nodeFs);
    expect(await at('fox.png')).toBe(path.join(out, 'fox.png'));
    expect(await at('sub/../fox.png')).toBe(path.join(out, 'fox.png'));
    expect(await at('near/fox.png')).toBe(path.join(out, 'near', 'fox.png'));
    expect(await at('missing/deeper/fox.png')).toBe(path.join(out, 'missing', 'deeper', 'fox.png'));
    await expect(at('/tmp/fox.png')).rejects.toThrow('"output" "/tmp/fox.png": is an absolute path');
    await expect(at('../fox.png')).rejects.toThrow(`"output" "../fox.png": leads out of the output folder ${out}`);
    await expect(at('sub/../../fox.png')).rejects.toThrow('leads out of the output folder');
    await expect(at('.')).rejects.toThrow('leads out of the output folder');
    await expect(at('away/fox.png')).rejects.toThrow(
      `leads out of the output folder ${out} through a symbolic link (to ${path.join(dir, 'elsewhere')})`,
    );
    // Without --out-dir, the current folder.
    const plain = resolveConfig({ env: {} });
    expect(await promptsFileOutput('fox.png', plain, dir, nodeFs)).toBe(path.join(dir, 'fox.png'));
    await expect(promptsFileOutput('../fox.png', plain, out, nodeFs)).rejects.toThrow('leads out');
  });
});

describe('the journal', () => {
  const services = () => ({ fs: nodeFs, now: () => Date.parse('2026-11-25T10:00:00Z'), redactor: new Redactor() });
  const at = '2026-11-25T09:00:00Z';

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['an array', '[{"event":"queued","item":"a","at":"x"}]'],
    ['an event without its item', `{"event":"queued","at":"${at}"}`],
    ['an unknown event', `{"event":"paid","item":"a","at":"${at}"}`],
    ['a finished event without its output', `{"event":"finished","item":"a","sha256":"00","at":"${at}"}`],
    ['a failed event whose error is null', `{"event":"failed","item":"a","error":null,"at":"${at}"}`],
  ])('a line that is %s is corrupt, named by its line', async (_, line) => {
    const file = path.join(newDir(), 'j');
    writeFileSync(file, `{"event":"queued","item":"a","at":"${at}"}\n${line}\n`);
    await expect(Journal.open(file, true, services())).rejects.toThrow(
      `${file}:2: not a journal line (not an event imagegen writes): corrupt`,
    );
    // A refused journal leaves no lock behind.
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('a finished output counts only when it is one this command writes', async () => {
    const dir = newDir();
    const file = path.join(dir, 'j');
    const output = path.join(dir, 'elsewhere');
    writeFileSync(output, 'x');
    const sha256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';
    writeFileSync(file, JSON.stringify({ event: 'finished', item: 'a', output, sha256, at }) + '\n');
    const journal = await Journal.open(file, true, services());
    expect(await journal.intactOutput('a', () => false)).toBeUndefined();
    expect(await journal.intactOutput('a', (o) => o === output)).toMatchObject({ output });
    await journal.close();
  });

  it('is locked while a run uses it: a second open says by which process; close frees it', async () => {
    const file = path.join(newDir(), 'j');
    const first = await Journal.open(file, false, services());
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    // A quit at once (a second Ctrl-C) removes it with the temporary files.
    expect(liveTempFiles()).toContain(`${file}.lock`);
    await expect(Journal.open(file, true, services())).rejects.toThrow(
      `journal ${file} is in use by process ${process.pid}`,
    );
    await first.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(liveTempFiles()).not.toContain(`${file}.lock`);
    const second = await Journal.open(file, true, services());
    await second.close();
  });

  it('takes over the lock of a process that has ended, and refuses one that names no process', async () => {
    const dir = newDir();
    const file = path.join(dir, 'j');
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${file}.lock`, `${gone}\n`);
    const journal = await Journal.open(file, false, services());
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    await journal.close();
    writeFileSync(`${file}.lock`, 'garbage');
    await expect(Journal.open(file, false, services())).rejects.toThrow(
      `journal ${file} is locked by ${file}.lock, which names no running process`,
    );
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe('garbage');
  });
});
