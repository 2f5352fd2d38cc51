/** The output choices shared by edit and generate: the format and the target of each item. */
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { findFormat, formatForFile } from '../formats/registry.js';
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

/**
 * The format: -o's extension when it names one (a contradicting --format is a usage error), else the
 * configured one.
 */
export function chooseFormat(resolved: ResolvedConfig, output: string | undefined): OutputFormat {
  const configured = findFormat(resolved.config.output.format);
  const named = output === undefined ? undefined : formatForFile(output);
  if (!named || named.id === configured.id) return configured;
  if (resolved.sources['output.format']?.kind === 'flag') {
    throw new UsageError(`-o ${output} names a .${named.ext} file, but --format is ${configured.id}`, {
      hint: 'drop one of them, or make them agree',
    });
  }
  return named;
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
