/**
 * What the built binary loads: `--version` nothing but the entry point's own files, `--help` no layer below cli
 * and none of the heavy packages, and a local edit never loads the network half of the providers, nor mozjpeg
 * for a sound JPEG, nor any WebAssembly decoder for a sound 8-bit PNG; of one picture without --weave, neither
 * the weave code, nor a queue, nor chalk without colour. The modules are recorded by helpers/module-trace.mjs.
 */
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRgbPng } from '../src/formats/png.js';
import { rgbImage } from './helpers/images.js';
import { BIN } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const TRACER = path.resolve('__tests__/helpers/module-trace.mjs');
const DIST = path.resolve('dist');
const SAMPLE = path.resolve('samples/grace-hopper.jpg');

interface Loaded {
  /** 'dist/cli/main.js', 'node_modules/got/dist/source/index.js', 'node:fs', … */
  short: string;
  /** The package a file in node_modules belongs to ('@jimp/core'), else ''. */
  pkg: string;
  /** Who loaded it, shortened the same way. */
  by: string;
}

const slashed = (p: string): string => p.split(path.sep).join('/');

/** 'dist/…' for the program's files, 'node_modules/…' for packages' files, the URL itself for anything else. */
function shorten(url: string): string {
  if (!url.startsWith('file:')) return url;
  const file = fileURLToPath(url);
  const inModules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return slashed(inModules >= 0 ? file.slice(inModules + 1) : path.relative(path.dirname(DIST), file));
}

const packageOf = (short: string): string => short.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? '';

/** Runs the binary under the module tracer, with a clean environment, and returns what it loaded. */
async function traced(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string; loaded: Loaded[] }> {
  const trace = path.join(cwd, 'module-trace.txt');
  const env = { PATH: process.env.PATH ?? '', HOME: cwd, IMAGEGEN_MODULE_TRACE: trace };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', TRACER, BIN, ...args], { cwd, env }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err }),
    );
    child.stdin?.end();
  });
  const loaded = new Map<string, Loaded>();
  const lines = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : [];
  for (const line of lines.filter(Boolean)) {
    const [url, parent = ''] = line.split('\t');
    const short = shorten(url);
    if (!loaded.has(short)) loaded.set(short, { short, pkg: packageOf(short), by: shorten(parent) });
  }
  return { code, stdout, stderr, loaded: [...loaded.values()] };
}

/** The offending modules, one line each: every file of dist/, the first file loaded of each package. */
function offending(loaded: Loaded[], isBad: (m: Loaded) => boolean): string[] {
  // The tracer must have seen the program itself, or finding nothing bad would prove nothing.
  expect(loaded.map((m) => m.short)).toContain('dist/cli/main.js');
  const bad = loaded.filter(isBad);
  return bad
    .filter((m) => !m.pkg || bad.find((first) => first.pkg === m.pkg) === m)
    .map((m) => `${m.pkg ? `${m.pkg}: ` : ''}${m.short} (loaded by ${m.by || 'the entry point'})`);
}

const HEAVY_PACKAGES = ['jimp', '@jimp/*', '@jsquash/*', 'got', 'p-retry', 'cosmiconfig', 'ora', '@inquirer/prompts'];
const isPackage = (pkg: string, pattern: string): boolean =>
  pattern.endsWith('/*') ? pkg.startsWith(pattern.slice(0, -1)) : pkg === pattern;
const BELOW_CLI = ['image', 'loom', 'formats', 'providers', 'stages', 'jobs', 'config'];
/**
 * Provider descriptors are plain data (index.js, and models.js where a provider's model table is shared with
 * its client); a local edit may read them, and nothing else of dist/providers/.
 */
const PROVIDER_DESCRIPTORS = /^dist\/providers\/(registry\.js|types\.js|[^/]+\/(index|(?:[a-z]+-)?models)\.js)$/;

describe('what the binary loads', () => {
  const tmp = tempDirsPerTest();

  test('--version loads neither commander nor the command definitions', async () => {
    const { code, stdout, stderr, loaded } = await traced(['--version'], tmp());
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const bad = offending(loaded, (m) => m.pkg !== '' || m.short === 'dist/cli/program.js');
    expect(bad).toEqual([]);
  });

  test('--help loads no layer below cli and no heavy package', async () => {
    const { code, stderr, loaded } = await traced(['--help'], tmp());
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const bad = offending(
      loaded,
      (m) =>
        BELOW_CLI.some((layer) => m.short.startsWith(`dist/${layer}/`)) ||
        HEAVY_PACKAGES.some((p) => isPackage(m.pkg, p)),
    );
    expect(bad).toEqual([]);
  });

  test('a local edit loads only the provider descriptors, neither got nor p-retry, and no second JPEG decoder', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.png');
    const { code, stderr, loaded } = await traced(['edit', SAMPLE, '--local', '-o', out], dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(existsSync(out)).toBe(true);
    const bad = offending(
      loaded,
      (m) =>
        (m.short.startsWith('dist/providers/') && !PROVIDER_DESCRIPTORS.test(m.short)) ||
        m.pkg === 'got' ||
        m.pkg === 'p-retry' ||
        // libjpeg-turbo decodes a sound JPEG; mozjpeg is there for what it refuses.
        m.pkg === '@jsquash/jpeg',
    );
    expect(bad).toEqual([]);
  });

  test('a local edit of one picture without --weave loads no weave code, no queue, and no chalk without colour', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.png');
    const { code, stderr, loaded } = await traced(['edit', SAMPLE, '--local', '-o', out], dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(existsSync(out)).toBe(true);
    // The named structures are part of the configuration; everything else of dist/loom/weave/ is weaving.
    const weaving = /^dist\/(loom\/weave\/(?!structures\.js$)|config\/weaving\.js$|stages\/weave)/;
    const bad = offending(
      loaded,
      (m) =>
        weaving.test(m.short) ||
        m.short === 'dist/cli/http.js' ||
        ['p-queue', 'eventemitter3', 'chalk', 'piscina'].includes(m.pkg),
    );
    expect(bad).toEqual([]);
  });

  test('a local edit of a sound 8-bit PNG smaller than its grid loads no WebAssembly decoder', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.png');
    // Its grid is taller than the picture, so it is decoded whole rather than a row at a time into the grid.
    const input = path.join(dir, 'in.png');
    writeFileSync(input, encodeRgbPng(rgbImage(40, 30, (x, y) => [x * 6, y * 8, (x + y) * 3])));
    const { code, stderr, loaded } = await traced(['edit', input, '--local', '--width', '200', '-o', out], dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(existsSync(out)).toBe(true);
    expect(loaded.map((m) => m.short)).toContain('dist/image/formats/png-rows.js');
    expect(offending(loaded, (m) => m.pkg.startsWith('@jsquash/'))).toEqual([]);
  });
});
