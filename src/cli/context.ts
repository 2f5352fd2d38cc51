/** Everything a command needs from the process, gathered once so commands stay testable. */
import type { JobRecord } from '../kernel/records.js';
import type { Writable } from './ui.js';

export interface CliContext {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  stdinIsTTY: boolean;
  signal: AbortSignal;
  version: string;
  /** Sees every result as it is reported (the guided session, to name the files written). */
  onResult?: (record: JobRecord) => void;
  /** Runs `ctx.argv` through the program (set by main: the guided session runs the command it shows). */
  runArgv?: (ctx: CliContext) => Promise<void>;
}

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/** Prompts only when a person can answer: stdin and stderr are TTYs and CI is unset. */
export function isInteractive(ctx: CliContext): boolean {
  return ctx.stdinIsTTY && ctx.stderr.isTTY === true && ctx.env.CI === undefined;
}
