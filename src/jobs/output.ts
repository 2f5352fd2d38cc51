/** The output choices shared by edit and generate: the format and the target of each item. */
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { findFormat, formatForFile, outputExtensions } from '../formats/registry.js';
import type { OutputFormat } from '../formats/types.js';
import { UsageError, describeIoError } from '../kernel/errors.js';
import type { Fs } from '../kernel/ports.js';
import { STDOUT, type Target } from '../stages/write.js';

export interface OutputSpec {
  /** -o */
  output?: string;
  force: boolean;
  /** --report FILE (a string), --no-report (false), or beside the image (true). */
  report: boolean | string;
}

/** The extension of a file name, lower-case, if it has one ("x.JPG" -> "jpg"; "out", "./v1.2/out" -> none). */
function extensionOf(file: string): string | undefined {
  return /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
}

/** A list of extensions in words: ".png, .bmp or .tif". */
function listExtensions(exts: readonly string[]): string {
  const dotted = exts.map((e) => `.${e}`);
  return `${dotted.slice(0, -1).join(', ')} or ${dotted.at(-1)}`;
}

/** -o's extension, if it has one, must be one of `allowed`: another would name bytes of another format. */
function checkExtension(output: string, allowed: readonly string[], what: string, hint: string): void {
  const ext = extensionOf(output);
  if (ext === undefined || allowed.includes(ext)) return;
  throw new UsageError(`-o ${output}: ${what} ${listExtensions(allowed)} file, not .${ext}`, { hint });
}

/**
 * The format: -o's extension when it names one (a contradicting --format is a usage error; an extension of
 * no format imagegen writes is one too), else the configured one.
 */
export function chooseFormat(resolved: ResolvedConfig, output: string | undefined): OutputFormat {
  const configured = findFormat(resolved.config.output.format);
  if (output !== undefined && output !== STDOUT)
    checkExtension(
      output,
      outputExtensions(),
      'the loom image is a',
      'a name without an extension is written as --format says (png by default)',
    );
  const named = output === undefined ? undefined : formatForFile(output);
  if (!named || named.id === configured.id) return configured;
  if (resolved.sources['output.format']?.kind === 'flag') {
    throw new UsageError(`-o ${output} names a .${named.ext} file, but --format is ${configured.id}`, {
      hint: 'drop one of them, or make them agree',
    });
  }
  return named;
}

/** The extensions of a picture as downloaded (generate without --style keeps its bytes). */
const DOWNLOAD_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'];

/** -o of generate without a style, which writes the downloaded picture as it is. */
export function checkDownloadOutput(output: string | undefined): void {
  if (output !== undefined && output !== STDOUT)
    checkExtension(
      output,
      DOWNLOAD_EXTENSIONS,
      'without --style, generate writes the picture as downloaded, a',
      `add --style (e.g. --style loom) for a loom image: ${listExtensions(outputExtensions())}`,
    );
}

export function targetFor(spec: OutputSpec, resolved: ResolvedConfig, cwd: string, stem: string): Target {
  return {
    exact: spec.output === undefined ? undefined : spec.output === STDOUT ? STDOUT : path.resolve(cwd, spec.output),
    dir: path.resolve(cwd, resolved.config.output.dir ?? '.'),
    stem,
    force: spec.force,
    report: typeof spec.report === 'string' ? path.resolve(cwd, spec.report) : spec.report,
  };
}

/**
 * The file a prompts file's `"output"` names: a path relative to the output folder (`--out-dir`, `output.dir`,
 * else the current folder), which it must stay inside. An absolute path, one whose `..` leads out, and one
 * whose folders lead out through a symbolic link are usage errors: a prompts file may come from anyone, and
 * with --force a file elsewhere would be replaced.
 */
export async function promptsFileOutput(
  output: string,
  resolved: ResolvedConfig,
  cwd: string,
  fs: Pick<Fs, 'realpath'>,
): Promise<string> {
  const dir = path.resolve(cwd, resolved.config.output.dir ?? '.');
  const hint = { hint: `give a name inside the output folder ${dir}, such as "fox.png" or "foxes/red.png"` };
  if (path.isAbsolute(output)) throw new UsageError(`"output" ${JSON.stringify(output)}: is an absolute path`, hint);
  const file = path.resolve(dir, output);
  if (!isWithin(file, dir) || file === dir) {
    throw new UsageError(`"output" ${JSON.stringify(output)}: leads out of the output folder ${dir}`, hint);
  }
  // The file's own name may be a link, which a write replaces; the folders it is in are followed.
  let realDir: string;
  let realFolder: string;
  try {
    [realDir, realFolder] = await Promise.all([realPathOf(fs, dir), realPathOf(fs, path.dirname(file))]);
  } catch (err) {
    throw new UsageError(`"output" ${JSON.stringify(output)}: cannot be used (${describeIoError(err)})`, hint);
  }
  if (!isWithin(realFolder, realDir)) {
    throw new UsageError(
      `"output" ${JSON.stringify(output)}: leads out of the output folder ${dir} through a symbolic link (to ${realFolder})`,
      hint,
    );
  }
  return file;
}

function isWithin(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The real path of `file`: of its nearest part that exists, with the missing rest joined to it. */
async function realPathOf(fs: Pick<Fs, 'realpath'>, file: string): Promise<string> {
  const missing: string[] = [];
  for (let at = file; ; at = path.dirname(at)) {
    try {
      return path.join(await fs.realpath(at), ...missing.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(at) === at) throw err;
      missing.push(path.basename(at));
    }
  }
}
