/**
 * Finds and reads the rc file with cosmiconfig. The search walks from the current folder up to the root,
 * then looks in the home folder; `--config` or IMAGEGEN_CONFIG names a file directly.
 */
import path from 'node:path';
import { ConfigError, describeError } from '../kernel/errors.js';

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

export interface LoadedConfigFile {
  path: string;
  data: unknown;
}

export interface LoadOptions {
  /** --config, or IMAGEGEN_CONFIG: read this file, skip the search. */
  explicitPath?: string;
  cwd: string;
  home: string;
}

export async function loadConfigFile(options: LoadOptions): Promise<LoadedConfigFile | undefined> {
  const { cosmiconfig } = await import('cosmiconfig');
  // 'none': each search looks in one folder only; the walk below decides the order.
  const explorer = cosmiconfig(MODULE_NAME, { searchPlaces: SEARCH_PLACES, searchStrategy: 'none', cache: false });

  if (options.explicitPath) {
    const file = path.resolve(options.cwd, options.explicitPath);
    try {
      const result = await explorer.load(file);
      return { path: file, data: result?.config ?? {} };
    } catch (err) {
      throw fileError(file, err);
    }
  }

  const dirs: string[] = [];
  for (let dir = path.resolve(options.cwd); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  const home = path.resolve(options.home);
  if (!dirs.includes(home)) dirs.push(home);

  for (const dir of dirs) {
    let result;
    try {
      result = await explorer.search(dir);
    } catch (err) {
      throw fileError(errorFilePath(err) ?? dir, err);
    }
    if (result && !result.isEmpty) return { path: result.filepath, data: result.config };
    if (result?.isEmpty) return { path: result.filepath, data: {} };
  }
  return undefined;
}

function errorFilePath(err: unknown): string | undefined {
  const value = (err as { filepath?: unknown; path?: unknown })?.filepath ?? (err as { path?: unknown })?.path;
  return typeof value === 'string' ? value : undefined;
}

function fileError(file: string, err: unknown): ConfigError {
  const code = (err as { code?: string })?.code;
  if (code === 'ENOENT') return new ConfigError(file, undefined, 'no such file');
  if (code === 'EISDIR') return new ConfigError(file, undefined, 'is a folder, not a config file');
  // Parser messages can span lines (code frames); keep the first for a one-line error.
  const first =
    describeError(err)
      .split('\n')
      .find((line) => line.trim() !== '') ?? 'unreadable';
  return new ConfigError(file, undefined, `cannot be parsed: ${first.trim()}`);
}
