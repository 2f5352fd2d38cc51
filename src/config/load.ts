/**
 * Finds and reads the rc file. The search looks in the current folder and its parents up to the project root
 * (the nearest folder with package.json or .git), never above the home folder, and outside both only in the
 * current folder; then in the home folder (`~/.imagegenrc*`) and in `~/.config/imagegen/`. `--config` or
 * IMAGEGEN_CONFIG names a file directly. The first file found is the one read.
 *
 * Every file is checked before it is read or run, as ssh checks its own: it must belong to the current user
 * (or root) and must not be writable by its group or by others. A file that is there but cannot be read is
 * refused, as is one that is not a regular file (a pipe, a device) or is over a megabyte; a folder that cannot
 * be looked into is a warning. Files are parsed with cosmiconfig's loaders.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, UsageError, describeError } from '../kernel/errors.js';
import { readRegularFile } from '../kernel/fs.js';
import type { Fs } from '../kernel/ports.js';
import type { Loaders } from 'cosmiconfig';

const MODULE_NAME = 'imagegen';

const SEARCH_PLACES = [
  'package.json',
  '.imagegenrc',
  '.imagegenrc.json',
  '.imagegenrc.yaml',
  '.imagegenrc.yml',
  '.imagegenrc.js',
  '.imagegenrc.cjs',
  '.imagegenrc.mjs',
  'imagegen.config.js',
  'imagegen.config.cjs',
  'imagegen.config.mjs',
];

/** In `~/.config/imagegen/`, as cosmiconfig's global search has them. */
const GLOBAL_PLACES = ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.cjs', 'config.mjs'];

/** A folder holding one of these is a project root: the search goes no higher. */
const PROJECT_MARKERS = ['package.json', '.git'];

export interface LoadedConfigFile {
  path: string;
  data: unknown;
}

type ConfigFs = Pick<Fs, 'stat' | 'readFile'>;

/** The most of a config file that is read: far more than any settings need. */
const CONFIG_MAX_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** --config, or IMAGEGEN_CONFIG: read this file, skip the search. */
  explicitPath?: string;
  cwd: string;
  home: string;
  /** The file system (the services' one); node's by default. */
  fs?: ConfigFs;
  /** The user config files must belong to (or root); process.getuid() by default. Unset: not checked. */
  uid?: number;
  /** Told about folders that could not be looked into. */
  onWarning?: (message: string) => void;
}

const nodeConfigFs: ConfigFs = {
  stat: (file) => fsp.stat(file),
  readFile: (file, options) =>
    options?.maxBytes === undefined ? fsp.readFile(file) : readRegularFile(file, options.maxBytes),
};

export async function loadConfigFile(options: LoadOptions): Promise<LoadedConfigFile | undefined> {
  const fs = options.fs ?? nodeConfigFs;
  const uid = options.uid ?? process.getuid?.();

  if (options.explicitPath) {
    const file = path.resolve(options.cwd, options.explicitPath);
    let stats;
    try {
      stats = await fs.stat(file);
    } catch (err) {
      throw readError(file, err);
    }
    if (stats.isDirectory()) throw readError(file, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
    if (!stats.isFile()) throw notRegular(file);
    checkOwnership(file, stats, uid);
    const data = await parseFile(file, await readText(fs, file));
    return { path: file, data: data ?? {} };
  }

  const home = path.resolve(options.home);
  const folders = (await projectFolders(path.resolve(options.cwd), home, fs)).map((dir) => ({
    dir,
    places: SEARCH_PLACES,
  }));
  if (!folders.some((f) => f.dir === home)) folders.push({ dir: home, places: SEARCH_PLACES });
  folders.push({ dir: path.join(home, '.config', MODULE_NAME), places: GLOBAL_PLACES });

  for (const { dir, places } of folders) {
    const found = await searchFolder(dir, places, fs, uid, options.onWarning);
    if (found) return found;
  }
  return undefined;
}

/**
 * The folders searched before the global ones, nearest first: up to the project root, never above the home
 * folder; with neither above the current folder, the current folder alone.
 */
async function projectFolders(cwd: string, home: string, fs: ConfigFs): Promise<string[]> {
  // A home folder that is the file-system root bounds nothing.
  const ceiling = home !== path.parse(home).root && isWithin(cwd, home) ? home : undefined;
  const dirs: string[] = [];
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === ceiling) return dirs;
    for (const marker of PROJECT_MARKERS) {
      if (await exists(fs, path.join(dir, marker))) return dirs;
    }
    if (path.dirname(dir) === dir) break;
  }
  return [cwd];
}

function isWithin(dir: string, parent: string): boolean {
  const rel = path.relative(parent, dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function exists(fs: ConfigFs, file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}

async function searchFolder(
  dir: string,
  places: readonly string[],
  fs: ConfigFs,
  uid: number | undefined,
  onWarning: ((message: string) => void) | undefined,
): Promise<LoadedConfigFile | undefined> {
  for (const place of places) {
    const file = path.join(dir, place);
    let stats;
    try {
      stats = await fs.stat(file);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      if (code === 'EACCES' || code === 'EPERM') {
        // Whether a file is there cannot be told: not a file we know of, so not a reason to stop.
        onWarning?.(`${dir}: cannot look for a config file here (${code}); skipped`);
        return undefined;
      }
      throw readError(file, err);
    }
    if (stats.isDirectory()) continue;
    // A pipe would hold the run up waiting for a writer; a device could be read for ever.
    if (!stats.isFile()) throw notRegular(file);
    if (place === 'package.json') {
      // Only its "imagegen" key is config; a package.json without one is no config file.
      const data = await parseFile(file, await readText(fs, file));
      if (data === undefined || data === null) continue;
      checkOwnership(file, stats, uid);
      return { path: file, data };
    }
    // Checked before it is read, let alone run.
    checkOwnership(file, stats, uid);
    const data = await parseFile(file, await readText(fs, file));
    // An empty file is passed over, as cosmiconfig's search does.
    if (data === undefined || data === null) continue;
    return { path: file, data };
  }
  return undefined;
}

/**
 * Refuses a file another user could have written: one owned by someone other than `uid` and root, or one its
 * group or others can write.
 */
function checkOwnership(file: string, stats: { mode: number; uid: number }, uid: number | undefined): void {
  if (uid === undefined) return; // Windows: no owners or mode bits to go by
  if (stats.uid !== uid && stats.uid !== 0) {
    throw new UsageError(`${file}: owned by user ${stats.uid}, not by you (user ${uid}): not read`, {
      hint: 'another user could have written it; if it is yours, chown it to yourself, else remove it',
    });
  }
  const writers = [stats.mode & 0o020 ? 'its group' : '', stats.mode & 0o002 ? 'others' : ''].filter(Boolean);
  if (writers.length) {
    const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
    throw new UsageError(`${file}: writable by ${writers.join(' and ')} (mode ${mode}): not read`, {
      hint: `another user could change it; if it is as you want it, run chmod go-w ${file}`,
    });
  }
}

/**
 * The file's text, read through a handle that is checked to be a regular file (it could have been swapped
 * for a pipe since the look) and never past CONFIG_MAX_BYTES.
 */
async function readText(fs: ConfigFs, file: string): Promise<string> {
  try {
    return (await fs.readFile(file, { maxBytes: CONFIG_MAX_BYTES })).toString('utf8');
  } catch (err) {
    throw readError(file, err);
  }
}

function notRegular(file: string): ConfigError {
  return new ConfigError(file, undefined, 'is not a regular file (a pipe, a socket or a device): not read');
}

/**
 * The file's config: JSON parsed here, YAML (and files without an extension) with cosmiconfig's loader, and
 * JavaScript by importing it; package.json's "imagegen" key. A file that cannot be parsed is a ConfigError
 * with the parser's reason and, where it gives one, the line and column.
 */
async function parseFile(file: string, text: string): Promise<unknown> {
  if (text.trim() === '') return undefined;
  const extension = path.extname(file);
  let loaded: unknown;
  try {
    if (extension === '.json') loaded = JSON.parse(text);
    else if (JS_EXTENSIONS.has(extension)) loaded = (await import(pathToFileURL(file).href)).default;
    else if (extension === '' || extension === '.yaml' || extension === '.yml') {
      const { defaultLoaders } = await import('cosmiconfig');
      loaded = await (defaultLoaders as Loaders).noExt(file, text);
    } else {
      throw new ConfigError(file, undefined, `no loader for ${extension} files (.json, .yaml, .yml, .js, .cjs, .mjs)`);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw parseError(file, err, text);
  }
  if (path.basename(file, extension) !== 'package') return loaded;
  const pkg = loaded as Record<string, unknown> | null;
  return pkg !== null && typeof pkg === 'object' && Object.hasOwn(pkg, MODULE_NAME) ? pkg[MODULE_NAME] : undefined;
}

const JS_EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A file that is named or found but cannot be read: refused, since running without it would be a surprise. */
function readError(file: string, err: unknown): UsageError {
  const code = codeOf(err);
  if (code === 'ENOENT') return new ConfigError(file, undefined, 'no such file');
  if (code === 'EISDIR') return new ConfigError(file, undefined, 'is a folder, not a config file');
  if (code === 'EFTYPE') return notRegular(file);
  if (code === 'EFBIG')
    return new ConfigError(file, undefined, `is larger than ${CONFIG_MAX_BYTES / 1024 / 1024} MB: not a config file`);
  const cause = code ? `${code}${reasonOf(err, code)}` : describeError(err);
  return new UsageError(`${file}: cannot be read (${cause})`, {
    hint: 'make it readable, or remove it; the settings in it would otherwise be silently missed',
  });
}

/** ': permission denied' from "EACCES: permission denied, open '…'". */
function reasonOf(err: unknown, code: string): string {
  const m = new RegExp(`^${code}: ([^,]+)`).exec(describeError(err));
  return m ? `: ${m[1]}` : '';
}

/** "line 3, column 7" for an offset into `text`. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * The parser's reason on one line, with where it is. Quoted source text is left out: the file may hold a key
 * the redactor does not know yet.
 */
function parseError(file: string, err: unknown, text: string): ConfigError {
  const e = err as { name?: string; reason?: string; mark?: { line: number; column: number }; stack?: string };
  let reason: string;
  if (e?.name === 'YAMLException' && typeof e.reason === 'string') {
    reason = e.mark ? `${e.reason} (line ${e.mark.line + 1}, column ${e.mark.column + 1})` : e.reason;
  } else if (err instanceof SyntaxError && path.extname(file) === '.json') {
    const message = err.message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, ' (not valid JSON)');
    const at = /at position (\d+)/.exec(message);
    reason = `${message.split('\n')[0]}${at ? ` (${lineAndColumn(text, Number(at[1]))})` : ''}`;
  } else {
    const first =
      describeError(err)
        .split('\n')
        .find((line) => line.trim() !== '') ?? 'unreadable';
    // A CommonJS syntax error's stack begins with "file:line".
    const line = err instanceof SyntaxError ? new RegExp(`^${escapeRegExp(file)}:(\\d+)`).exec(e.stack ?? '') : null;
    const kind = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
    reason = `${kind}${first.trim()}${line ? ` (line ${line[1]})` : ''}`;
  }
  return new ConfigError(file, undefined, `cannot be parsed: ${reason}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
