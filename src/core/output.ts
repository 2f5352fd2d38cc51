/**
 * Output names and safe writes: derived names never collide (cat.loom.png, cat.loom-2.png), an existing
 * file is only replaced with --force, and every file is written to a temporary name first and renamed, so an
 * interrupted run leaves nothing half-written.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { OutputExistsError } from './errors.js';

/** The file-system calls output needs; tests pass an in-memory or failing one. */
export interface OutputFs {
  writeFile(file: string, data: Uint8Array | string, options?: { mode?: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, target: string): Promise<void>;
  unlink(file: string): Promise<void>;
  stat(file: string): Promise<unknown>;
  mkdir(dir: string, options: { recursive: true }): Promise<unknown>;
}

export const nodeOutputFs: OutputFs = {
  writeFile: (file, data, options) => fsp.writeFile(file, data, { mode: options?.mode }),
  rename: fsp.rename,
  link: fsp.link,
  unlink: fsp.unlink,
  stat: fsp.stat,
  mkdir: fsp.mkdir,
};

async function exists(fs: OutputFs, file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A short, file-name-safe slug of a prompt: lower-case words joined by '-', at most `maxLength` characters. */
export function slugify(text: string, maxLength = 48): string {
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > maxLength) {
      if (!slug) slug = word.slice(0, maxLength);
      break;
    }
    slug = next;
  }
  return slug || 'image';
}

/** The stem of an input file name: photos/cat.jpg -> cat. */
export function inputStem(input: string): string {
  const base = path.basename(input);
  const ext = path.extname(base);
  return (ext ? base.slice(0, -ext.length) : base) || 'image';
}

/**
 * Picks `dir/stem.ext`, or `dir/stem-2.ext`, `-3`, … so that neither the image nor any companion file
 * (`companions` are extra extensions written beside it, such as 'json') exists yet.
 */
export async function nextFreeName(
  fs: OutputFs,
  dir: string,
  stem: string,
  ext: string,
  companions: readonly string[] = [],
): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const candidate = n === 1 ? stem : `${stem}-${n}`;
    const files = [ext, ...companions].map((e) => path.join(dir, `${candidate}.${e}`));
    const taken = await Promise.all(files.map((file) => exists(fs, file)));
    if (!taken.some(Boolean)) return files[0];
  }
  throw new OutputExistsError(path.join(dir, `${stem}.${ext}`));
}

/** Throws OutputExistsError for the first of `files` that exists. */
export async function assertFree(fs: OutputFs, files: readonly string[]): Promise<void> {
  for (const file of files) if (await exists(fs, file)) throw new OutputExistsError(file);
}

/**
 * Writes `data` to `file` through a temporary file in the same folder. Without `overwrite`, an existing
 * `file` is an error, checked atomically (a hard link fails if the target exists).
 */
export async function writeFileAtomic(
  fs: OutputFs,
  file: string,
  data: Uint8Array | string,
  options: { overwrite?: boolean; mode?: number } = {},
): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await fs.writeFile(tmp, data, { mode: options.mode });
  try {
    if (options.overwrite) {
      await fs.rename(tmp, file);
      return;
    }
    try {
      await fs.link(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new OutputExistsError(file);
      // File systems without hard links: fall back to check-then-rename.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
      if (await exists(fs, file)) throw new OutputExistsError(file);
      await fs.rename(tmp, file);
      return;
    }
    await fs.unlink(tmp);
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
}
