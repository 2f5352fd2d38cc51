/**
 * Safe writes over the Fs port: every file goes to a temporary name in the same folder first and is then
 * linked (atomic no-overwrite) or renamed into place, so an interrupted run leaves nothing half-written, and
 * the temporary file is removed on every path.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { ImagegenError, OutputError, OutputExistsError, isImagegenError } from './errors.js';
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

/** The longest name one component may have, and a whole path (its final NUL included), on the usual systems. */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/** What `.<name>.<pid>.<hex>.kept` adds to a name: the longest of the names kept beside a file. */
const BESIDE_EXTRA = `.${process.pid}.${'0'.repeat(8)}.kept`.length + 1;

/**
 * Why `file` (an absolute path) could not be written, judged by its length alone: its name, or the longest name
 * written beside it on the way (a temporary or a kept file), past NAME_MAX bytes, or the whole path past
 * PATH_MAX. Undefined when it fits.
 */
export function nameLengthProblem(file: string): string | undefined {
  const name = Buffer.byteLength(path.basename(file));
  const room = NAME_MAX - BESIDE_EXTRA;
  if (name > room)
    return `its name is ${name} bytes long; at most ${room} fit with the temporary name written beside it`;
  const whole = Buffer.byteLength(file) + BESIDE_EXTRA;
  if (whole >= PATH_MAX)
    return `its path is ${Buffer.byteLength(file)} bytes long; at most ${PATH_MAX - 1 - BESIDE_EXTRA} fit`;
  return undefined;
}

/**
 * Whether a write may put a file at `file`: nothing is there (a dangling link counts as nothing), or a regular
 * file, or a folder (which the write then fails on, saying so). A device, a pipe or a socket is never
 * replaced, nor is a link to one.
 */
export async function replaceable(fs: Fs, file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    return stat.isFile() || stat.isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

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
      if (!(await replaceable(fs, file))) throw notRegular(file);
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

/** A write refused because a device, a pipe or a socket is where the file would go. */
export function notRegular(file: string): ImagegenError {
  return new ImagegenError('failure', `${file}: not a regular file (a device, a pipe or a socket): not replaced`, {
    hint: 'choose another name',
  });
}

/**
 * Makes `file` holding `text` unless something of that name is there: written to a temporary name and linked
 * into place, so it is never seen half-written. Returns false when the name is taken. Until removeLockFile, a
 * quit at once removes it as it removes temporary files.
 */
async function createLockFile(fs: Fs, file: string, text: string): Promise<boolean> {
  const tmp = tempNameFor(file);
  try {
    await fs.writeFile(tmp, text, { mode: 0o600 });
    if (!(await placeExclusive(fs, tmp, file))) return false;
    liveTemps.add(file);
    return true;
  } finally {
    await removeTemp(fs, tmp);
  }
}

/** Removes a lock file made by takeLock. */
export async function removeLockFile(fs: Fs, file: string): Promise<void> {
  await removeTemp(fs, file);
}

/** The process a lock file names, if it names one. */
async function lockHolder(fs: Fs, file: string): Promise<number | undefined> {
  const text = (await fs.readFile(file, { maxBytes: 64, noFollow: true })).toString('utf8');
  const m = /^\s*(\d{1,10})\s*$/.exec(text);
  const pid = m ? Number(m[1]) : 0;
  return pid > 0 ? pid : undefined;
}

/** Whether a process with this id runs (one of another user's answers EPERM: it runs too). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type LockOutcome = { taken: true } | { taken: false; pid?: number };

/**
 * Takes the lock file `file` for this process: made holding its pid when missing, taken over when the process
 * it names has ended (a crash or `kill -9` left it). Otherwise not taken, with the holder's pid when the file
 * names one that runs.
 */
export async function takeLock(fs: Fs, file: string): Promise<LockOutcome> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createLockFile(fs, file, `${process.pid}\n`)) return { taken: true };
    let pid: number | undefined;
    try {
      pid = await lockHolder(fs, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      return { taken: false };
    }
    if (pid === undefined) return { taken: false };
    if (processAlive(pid)) return { taken: false, pid };
    // Moved aside before it is removed, and checked once there: had another run taken the stale lock over
    // meanwhile, the file moved would be that run's live lock, which goes back.
    const aside = nameBeside(file, 'stale');
    try {
      await fs.rename(file, aside);
    } catch {
      continue;
    }
    const moved = await lockHolder(fs, aside).catch(() => undefined);
    if (moved !== pid) await placeExclusive(fs, aside, file).catch(() => false);
    await fs.unlink(aside).catch(() => undefined);
  }
  return { taken: false };
}

/**
 * Appends `text` to a regular file (made with mode 600 if missing) and waits until it is on the disk. A link
 * in the file's place is not followed (ELOOP), and a pipe or a device is refused (EFTYPE) without waiting for
 * a reader or writing to it.
 */
export async function appendDurableFile(file: string, text: string): Promise<void> {
  const flags =
    constants.O_WRONLY |
    constants.O_APPEND |
    constants.O_CREAT |
    (constants.O_NOFOLLOW ?? 0) |
    (constants.O_NONBLOCK ?? 0);
  const handle = await fsp.open(file, flags, 0o600);
  try {
    if (!(await handle.stat()).isFile()) throw fsError('EFTYPE', `${file}: not a regular file`);
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * At most `maxBytes` of a regular file. It is opened without blocking (a FIFO put in its place after a stat
 * would otherwise wait for a writer) and checked with fstat; the reading stops one byte past the cap, so a
 * file that grows, or lied about its size, is never read whole. With `noFollow`, a link in its place fails
 * (ELOOP) rather than being followed.
 */
export async function readRegularFile(
  file: string,
  maxBytes: number,
  options: { noFollow?: boolean } = {},
): Promise<Buffer> {
  const noFollow = options.noFollow ? (constants.O_NOFOLLOW ?? 0) : 0;
  const handle = await fsp.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | noFollow);
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
