/**
 * What `edit`'s arguments name: files, folders (their pictures, sorted by name), glob patterns the shell did
 * not expand (quoted, or from a script), and `-` for one picture on stdin.
 */
import path from 'node:path';
import { InputError, UsageError } from '../kernel/errors.js';
import type { Fs } from '../kernel/ports.js';
import { STDIN } from '../kernel/ports.js';

/** Extensions of the pictures a folder contributes. */
const PICTURE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.jfif', '.webp', '.bmp', '.gif', '.tif', '.tiff']);

const GLOB_CHARS = /[*?[\]{}]/;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function statOf(fs: Fs, file: string) {
  try {
    return await fs.stat(file);
  } catch {
    return undefined;
  }
}

/** The pictures a folder contributes, by name, unsorted. */
async function picturesIn(fs: Fs, folder: string): Promise<string[]> {
  return (await fs.readdir(folder)).filter(
    (name) => PICTURE_EXTENSIONS.has(path.extname(name).toLowerCase()) && !name.startsWith('.'),
  );
}

/** Whether the inputs may name several pictures: more than one, a folder of several, or a pattern. */
export async function mayNameSeveral(inputs: readonly string[], cwd: string, fs: Fs): Promise<boolean> {
  if (inputs.length !== 1) return inputs.length > 1;
  const [input] = inputs;
  if (input === STDIN) return false;
  const stat = await statOf(fs, path.resolve(cwd, input));
  if (!stat) return GLOB_CHARS.test(input);
  return stat.isDirectory() && (await picturesIn(fs, path.resolve(cwd, input))).length > 1;
}

/**
 * The inputs as a list of paths, as the user would name them (relative ones stay relative): folders and
 * patterns are expanded in place, each file once. A name that is neither a file, a folder nor a pattern is
 * kept, so that its item fails with "no such file" and the others go on.
 */
export async function expandInputs(inputs: readonly string[], cwd: string, fs: Fs): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = file === STDIN ? STDIN : path.resolve(cwd, file);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(file);
  };
  for (const input of inputs) {
    if (input === STDIN) {
      if (seen.has(STDIN)) throw new UsageError('- (stdin) can be given once');
      add(STDIN);
      continue;
    }
    const stat = await statOf(fs, path.resolve(cwd, input));
    if (stat?.isDirectory()) {
      const names = (await picturesIn(fs, path.resolve(cwd, input))).sort(byName);
      if (names.length === 0) throw new InputError(`${input}: the folder has no pictures`);
      for (const name of names) add(path.join(input, name));
    } else if (!stat && GLOB_CHARS.test(input)) {
      const matches = (await fs.glob(input, cwd)).sort(byName);
      if (matches.length === 0) throw new InputError(`${input}: no file matches this pattern`);
      for (const match of matches) add(path.isAbsolute(input) ? match : path.relative(cwd, match) || match);
    } else {
      add(input);
    }
  }
  if (out.includes(STDIN) && out.length > 1) throw new UsageError('- (stdin) cannot be mixed with other inputs');
  return out;
}
