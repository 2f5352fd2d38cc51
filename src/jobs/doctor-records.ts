/** The records of `imagegen doctor`: one per check, and the helpers that make them. */
import { describeError, isImagegenError, type ErrorKind } from '../kernel/errors.js';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Certainty } from '../providers/types.js';

type CheckStatus = 'ok' | 'warning' | 'failure';

/** One check's outcome: one line, or one NDJSON record with --json. */
export interface CheckRecord {
  /** What was checked: `config.file`, `dashscope.auth`, … */
  check: string;
  provider?: string;
  status: CheckStatus;
  /** `certain`: the config, the disk or the service says so; `inferred`: it follows from what they say. */
  certainty: Certainty;
  message: string;
  hint?: string;
  /** A failure's kind, which decides the exit code. */
  kind?: ErrorKind;
  /** A host's round trip, in milliseconds. */
  ms?: number;
}

export const ok = (check: string, message: string, extra: Partial<CheckRecord> = {}): CheckRecord => ({
  check,
  status: 'ok',
  certainty: 'certain',
  message,
  ...extra,
});

export const warning = (check: string, message: string, extra: Partial<CheckRecord> = {}): CheckRecord => ({
  check,
  status: 'warning',
  certainty: 'certain',
  message,
  ...extra,
});

export function failure(
  check: string,
  message: string,
  kind: ErrorKind,
  extra: Partial<CheckRecord> = {},
): CheckRecord {
  return { check, status: 'failure', certainty: 'certain', message, kind, ...extra };
}

/** A failure from a thrown error: its message, hint and kind. */
export function failureFrom(check: string, err: unknown, extra: Partial<CheckRecord> = {}): CheckRecord {
  const kind = isImagegenError(err) ? err.kind : 'failure';
  const hint = isImagegenError(err) ? err.hint : undefined;
  return failure(check, describeError(err), kind, { ...(hint ? { hint } : {}), ...extra });
}

type Source = ResolvedConfig['sources'][string];

export function describeSource(source: Source | undefined): string {
  if (!source || source.kind === 'default') return 'the default';
  if (source.kind === 'file') return source.path;
  return `${source.kind} ${source.name}`;
}
