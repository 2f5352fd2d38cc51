/**
 * Safe writes over the Fs port: every file goes to a temporary name in the same folder first and is then
 * linked (atomic no-overwrite) or renamed into place, so an interrupted run leaves nothing half-written, and
 * the temporary file is removed on every path.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { OutputError, OutputExistsError, isImagegenError } from './errors.js';
import type { Fs } from './ports.js';

export async function exists(fs: Fs, file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Temporary files named and not yet removed. A second Ctrl-C quits at once, without waiting for the writes
 * under way to clean up after themselves: it removes these on its way out.
 */
const liveTemps = new Set<string>();

/** A temporary name beside `file`: `.name.png.<pid>.<hex>.tmp`; remove it with removeTemp. */
export function tempNameFor(file: string): string {
  const name = nameBeside(file, 'tmp');
  liveTemps.add(name);
  return name;
}

/** `.name.png.<pid>.<hex>.<ending>` in the folder of `file`. */
function nameBeside(file: string, ending: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.${ending}`,
  );
}

/**
 * A name beside `file` to keep a replaced file under until the set that replaced it is in place:
 * `.name.png.<pid>.<hex>.kept`. Not a temporary file: a quit at once must never remove it, as it may be the
 * only copy left of what was there.
 */
export function keptNameFor(file: string): string {
  return nameBeside(file, 'kept');
}

/** Removes a temporary file, if it is there. */
export async function removeTemp(fs: Fs, tmp: string): Promise<void> {
  await fs.unlink(tmp).catch(() => undefined);
  liveTemps.delete(tmp);
}

/** The temporary files that may still be on the disk. */
export function liveTempFiles(): string[] {
  return [...liveTemps];
}

/** Codes with which link() says "this file system has no hard links". */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS']);

/**
 * Puts the finished temporary file `tmp` at `file` without ever replacing an existing file: a hard link,
 * which fails with EEXIST when `file` exists, or an exclusive copy where links are not supported. Returns
 * false when `file` exists; `tmp` stays in place either way.
 */
export async function placeExclusive(fs: Fs, tmp: string, file: string): Promise<boolean> {
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code ?? '')) throw err;
  }
  try {
    await fs.copyFile(tmp, file, true);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Writes `data` to `file` through a temporary file. Without `overwrite`, an existing `file` is an
 * OutputExistsError, checked atomically.
 */
export async function writeFileAtomic(
  fs: Fs,
  file: string,
  data: Uint8Array | string,
  options: { overwrite?: boolean; mode?: number } = {},
): Promise<void> {
  const tmp = tempNameFor(file);
  try {
    await fs.writeFile(tmp, data, { mode: options.mode });
    if (options.overwrite) {
      await fs.rename(tmp, file);
      return;
    }
    if (!(await placeExclusive(fs, tmp, file))) throw new OutputExistsError(file);
  } catch (err) {
    // The error names the file asked for, not the temporary one.
    throw isImagegenError(err) ? err : new OutputError(file, err);
  } finally {
    await removeTemp(fs, tmp);
  }
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * At most `maxBytes` of a regular file. It is opened without blocking (a FIFO put in its place after a stat
 * would otherwise wait for a writer) and checked with fstat; the reading stops one byte past the cap, so a
 * file that grows, or lied about its size, is never read whole.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await fsp.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw fsError('EFTYPE', `${file}: not a regular file`);
    const limit = maxBytes + 1;
    const chunks: Buffer[] = [];
    let total = 0;
    // The first read asks for stat's size, into a buffer of exactly that size and of its own (never Node's
    // shared pool), so that the bytes of a file that did not change can be handed to a worker thread whole;
    // the next read finds the end, or that the file grew.
    let ask = Math.min(limit, Math.max(stat.size, 1));
    for (;;) {
      const chunk = Buffer.allocUnsafeSlow(ask);
      const { bytesRead } = await handle.read(chunk, 0, ask, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === ask ? chunk : chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw fsError('EFBIG', `${file}: larger than ${maxBytes} bytes`);
      ask = Math.min(limit - total, 64 * 1024);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}
