/**
 * Through the binary: a value or a combination of options that cannot do what it says is exit 2 with the
 * reason, before anything is read, sent or written; and the help says what the options do.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');

describe('options that cannot do what they say', () => {
  const newDir = tempDirsPerTest();

  const cases: Array<[string[], string]> = [
    // A colour list with a bad colour is never taken for a palette file.
    [['edit', SAMPLE, '--local', '--palette', '#zzz,#fff'], '--palette: "#zzz" is not a #rrggbb colour'],
    [['edit', SAMPLE, '--local', '--palette', '#zzz'], '--palette: "#zzz" is not a #rrggbb colour'],
    // -o names the format: one imagegen does not write is refused, whatever the command.
    [
      ['edit', SAMPLE, '--local', '-o', 'x.jpg'],
      '-o x.jpg: the loom image is a .png, .bmp, .tiff or .tif file, not .jpg',
    ],
    [['edit', SAMPLE, '--local', '-o', 'x.wif', '--weave'], '-o x.wif: the loom image is a .png, .bmp, .tiff or .tif'],
    [['generate', 'a fox', '--style', 'loom', '-o', 'fox.jpg'], '-o fox.jpg: the loom image is a .png, .bmp, .tiff'],
    [
      ['generate', 'a fox', '-o', 'fox.bmp'],
      '-o fox.bmp: without --style, generate writes the picture as downloaded, a .png, .jpg, .jpeg or .webp file',
    ],
    // Options that would do nothing in this combination.
    [['edit', SAMPLE, '--local', '--function', 'expand'], '--function with --local: it is for the provider'],
    [
      ['edit', SAMPLE, '--local', '-p', 'flat', '--seed', '3'],
      '--prompt, --seed with --local: they are for the provider',
    ],
    [
      ['generate', 'a fox', '--keep-original'],
      '--keep-original without --style: generate then writes the picture as downloaded, and it does nothing',
    ],
    [['generate', 'a fox', '--colors', '4', '--width', '60'], '--colors, --width without --style'],
    [['edit', SAMPLE, '--local', '--lift-format', 'png'], '--lift-format applies to the lift plan: add --weave'],
  ];
  it.each(cases.map(([args, message]) => [args.join(' ').replace(SAMPLE, 'sample.jpg'), args, message] as const))(
    '%s: exit 2, nothing written',
    async (_, args, message) => {
      const dir = newDir();
      const r = await runCli(args, { cwd: dir });
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('-o in upper case and .tif still pick the format', async () => {
    const dir = newDir();
    const r = await runCli(['edit', SAMPLE, '--local', '--width', '40', '-o', 'x.TIF'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['x.TIF', 'x.json']);
  });
});

describe('help and listings', () => {
  const newDir = tempDirsPerTest();

  it('imagegen alone, with no terminal or with CI set: a few lines of usage on stderr, exit 2', async () => {
    for (const env of [{}, { CI: 'true' }] as Record<string, string>[]) {
      const r = await runCli([], { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Usage: imagegen <command> [options]');
      expect(r.stderr).toContain('imagegen --help');
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(5);
    }
  });

  it('each option says its default once, and -o what it takes in each command', async () => {
    const edit = (await runCli(['edit', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(edit).toContain('--invert lift plan with white = warp raised (default: black = raised) --preview-scale');
    expect(edit).toContain('(one input only; - for stdout)');
    const generate = (await runCli(['generate', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(generate).not.toContain('one input only');
    expect(generate).toContain('(one prompt only)');
    const task = (await runCli(['task', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(task).not.toContain('one input only');
    expect(task).toContain('-o, --output <file> wait: write the result to this .png, .bmp, .tif or .tiff file');
  });

  it("the top help's examples name no file of the repository", async () => {
    const help = (await runCli(['--help'])).stdout;
    expect(help).toContain('imagegen edit photo.jpg --local');
    expect(help).not.toContain('samples/');
  });

  it('config says "(unset)" once for a value nothing sets', async () => {
    const r = await runCli(['config'], { cwd: newDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^edit\.provider +\(unset\)$/m);
    expect(r.stdout).not.toContain('(unset)  (unset)');
  });
});

describe('on a terminal', () => {
  const newDir = tempDirsPerTest();

  /** The binary on a pseudo-terminal (util-linux `script`), with nothing typed; its exit code and output. */
  function onTerminal(args: string[], cwd: string): Promise<{ code: number; output: string }> {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, BIN, ...args].map(quote).join(' ');
    return new Promise((resolve) => {
      const child = execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, TERM: 'dumb' }, encoding: 'utf8', timeout: 15_000 },
        (error, stdout) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, output: stdout });
        },
      );
      child.stdin?.end();
    });
  }

  it('generate with no prompt and no key stops with exit 3 before asking for the prompt', async () => {
    const dir = newDir();
    const r = await onTerminal(['generate'], dir);
    expect(r.output).toContain('no ModelScope key configured');
    expect(r.output).not.toContain('Prompt');
    expect(r.code).toBe(3);
  });
});
