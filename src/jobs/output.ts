/** The output choices shared by edit and generate: the format and the target of each item. */
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { findFormat, formatForFile } from '../formats/registry.js';
import type { OutputFormat } from '../formats/types.js';
import { UsageError } from '../kernel/errors.js';
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
