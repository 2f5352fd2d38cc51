import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A line of a stack trace, which a user should never see. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** Random-looking bytes, the same on every run (a linear congruential generator). */
function noise(length: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(length);
  let s = seed;
  for (let i = 0; i < length; i++) bytes[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16;
  return bytes;
}

/** Runs the built binary with `input` piped on stdin; stdout comes back as bytes. */
function runWithStdin(
  args: string[],
  input: Buffer,
  cwd: string,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    // The child may refuse before reading stdin; a closed pipe then is not the test's concern.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The PNG's chunks, checking that they fill the buffer exactly (nothing before or after the image). */
function pngChunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  let at = 8;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('latin1');
    chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  expect(at).toBe(png.length);
  expect(chunks[0].type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  return chunks;
}

function pngSize(png: Buffer): { width: number; height: number } {
  const ihdr = pngChunks(png)[0].data;
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4) };
}

function ndjson(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('imagegen edit batches (built binary, --local)', () => {
  const setup = tempDirsPerTest();

  /** A temp folder with `in/` holding `count` copies of the sample. */
  function folder(count = 4): string {
    const dir = setup();
    mkdirSync(path.join(dir, 'in'));
    for (let i = 1; i <= count; i++) copyFileSync(SAMPLE, path.join(dir, 'in', `p${i}.jpg`));
    return dir;
  }

  const inputs = (n: number) => Array.from({ length: n }, (_, i) => path.join('in', `p${i + 1}.jpg`));

  it('weaves a folder on 2 threads: one ok record per picture, then a summary record', async () => {
    const dir = folder();
    const r = await runCli(['edit', 'in', '--local', '--width', '40', '--jobs', '2', '--json', '--out-dir', 'out'], {
      cwd: dir,
    });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(5);
    const items = records.slice(0, 4);
    // Completion order: compare as sets.
    expect(items.map((x) => x.input).sort()).toEqual(inputs(4));
    for (const item of items) {
      expect(item).toMatchObject({ status: 'ok', source: 'local', width: 40 });
      const output = item.output as string;
      expect(path.dirname(output)).toBe(path.join(dir, 'out'));
      expect(path.basename(output)).toBe(`${path.basename(item.input as string, '.jpg')}.loom.png`);
      expect(pngSize(readFileSync(output)).width).toBe(40);
    }
    expect(records[4]).toMatchObject({ type: 'summary', total: 4, ok: 4, failed: 0, skipped: 0 });
    expect(typeof records[4].seconds).toBe('number');
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(
      ['p1', 'p2', 'p3', 'p4'].flatMap((s) => [`${s}.loom.json`, `${s}.loom.png`]),
    );
  });

  it('goes on past a corrupt picture: exit 8, the good ones written, an error record naming it, no temp files', async () => {
    const dir = folder();
    // A JPEG's first bytes, then noise: it gets past the type check and fails in the decoder (on a worker).
    writeFileSync(
      path.join(dir, 'in', 'broken.jpg'),
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise(3000)]),
    );
    // Pure noise named .jpg: refused as not a picture at all.
    writeFileSync(path.join(dir, 'in', 'noise.jpg'), noise(3000));
    const r = await runCli(['edit', 'in', '--local', '--width', '40', '--jobs', '2', '--json', '--out-dir', 'out'], {
      cwd: dir,
    });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(8);
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(7);
    const byInput = new Map(records.slice(0, 6).map((x) => [x.input, x]));
    for (const input of inputs(4)) expect(byInput.get(input)).toMatchObject({ status: 'ok' });
    for (const bad of ['broken.jpg', 'noise.jpg']) {
      const input = path.join('in', bad);
      expect(byInput.get(input)).toMatchObject({
        status: 'error',
        output: null,
        error: { kind: 'failure', message: expect.stringContaining(input) },
      });
      expect(r.stderr).toContain(input);
    }
    expect(records[6]).toMatchObject({ type: 'summary', total: 6, ok: 4, failed: 2, skipped: 0 });
    expect(r.stderr).toContain('2 of 6 items failed');
    // Exactly the four pairs: no image for the bad ones, and no temporary (dot) file left behind.
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(
      ['p1', 'p2', 'p3', 'p4'].flatMap((s) => [`${s}.loom.json`, `${s}.loom.png`]),
    );
  });

  it('names a bad picture once in its warning', async () => {
    const dir = folder(1);
    writeFileSync(path.join(dir, 'in', 'noise.jpg'), noise(3000));
    const r = await runCli(['edit', 'in', '--local', '--width', '40', '--out-dir', 'out'], { cwd: dir });
    expect(r.code).toBe(8);
    const warning = r.stderr.split('\n').find((l) => l.startsWith('warning:') && l.includes('noise.jpg'));
    expect(warning).toBeDefined();
    // An input error's message begins with the file's name: the warning must not say it twice.
    expect(warning!.split(path.join('in', 'noise.jpg')).length - 1).toBe(1);
  });

  it('reads a picture on stdin and writes the PNG alone to stdout with -o -', async () => {
    const dir = setup();
    const r = await runWithStdin(['edit', '-', '-o', '-', '--local', '--width', '40'], readFileSync(SAMPLE), dir);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
    // pngChunks checks that stdout is the PNG and nothing else: no path line, no record.
    expect(pngSize(r.stdout)).toEqual({ width: 40, height: 47 });
    const palette = pngChunks(r.stdout).find((c) => c.type === 'PLTE');
    expect(palette).toBeDefined();
    // No report beside an image on stdout, and nothing else written.
    expect(readdirSync(dir)).toEqual([]);
    // Without -o -, a picture from stdin is named after it.
    const named = await runWithStdin(
      ['edit', '-', '--local', '--width', '40', '--out-dir', 'out'],
      readFileSync(SAMPLE),
      dir,
    );
    expect(named.code).toBe(0);
    expect(named.stdout.toString('utf8')).toBe(path.join(dir, 'out', 'stdin.loom.png') + '\n');
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['stdin.loom.json', 'stdin.loom.png']);
  });

  it('refuses --json with -o -, empty stdin, and - given twice or with files', async () => {
    const dir = folder(1);
    const sample = readFileSync(SAMPLE);
    const json = await runWithStdin(['--json', 'edit', '-', '-o', '-', '--local', '--width', '40'], sample, dir);
    expect(json.code).toBe(2);
    expect(json.stdout.length).toBe(0);
    expect(json.stderr).toContain('--json');
    const empty = await runWithStdin(['edit', '-', '-o', '-', '--local', '--width', '40'], Buffer.alloc(0), dir);
    expect(empty.code).toBe(1);
    expect(empty.stdout.length).toBe(0);
    expect(empty.stderr).toContain('stdin: is empty');
    for (const args of [
      ['-', '-'],
      ['-', 'in/p1.jpg'],
    ]) {
      const r = await runWithStdin(['edit', ...args, '--local', '--width', '40'], sample, dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('- (stdin)');
    }
    expect(readdirSync(dir)).toEqual(['in']);
  });

  it('expands a quoted glob itself, and names a pattern that matches nothing', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'in', 'notes.txt'), 'not a picture');
    const r = await runCli(['edit', 'in/*.jpg', '--local', '--width', '40', '--out-dir', 'out'], { cwd: dir });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
    // Plain mode: one written path per line.
    expect(r.stdout.trim().split('\n').sort()).toEqual(
      ['p1', 'p2', 'p3', 'p4'].map((s) => path.join(dir, 'out', `${s}.loom.png`)),
    );
    const none = await runCli(['edit', 'in/*.gif', '--local', '--width', '40', '--out-dir', 'none'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('in/*.gif');
    expect(existsSync(path.join(dir, 'none'))).toBe(false);
  });

  it.each([['0'], ['x'], ['1.5'], ['-2']])(
    'refuses --jobs %s as a usage error (exit 2), writing nothing',
    async (jobs) => {
      const dir = folder(2);
      const r = await runCli(['edit', 'in', '--local', '--width', '40', '--jobs', jobs, '--out-dir', 'out'], {
        cwd: dir,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--jobs');
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).toBe('');
      expect(existsSync(path.join(dir, 'out'))).toBe(false);
    },
  );
});
