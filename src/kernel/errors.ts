/**
 * Typed errors. Each carries a `kind`; the CLI maps kinds to exit codes in one place
 * (src/cli/exit-codes.ts). Messages are single lines meant for users; `hint` says what to do.
 */
export type ErrorKind =
  | 'failure' // 1: generic failure, bad input file, a task that failed at the provider
  | 'usage' // 2: wrong options, malformed config
  | 'auth' // 3: missing or rejected key
  | 'quota' // 4: no balance, quota used up, model not activated
  | 'network' // 5: network, timeout, server-side failure
  | 'rate-limit' // 6: still rate limited after retries
  | 'moderation' // 7: refused by content moderation
  | 'partial' // 8: some items of a batch failed
  | 'interrupted'; // 130: Ctrl-C

export interface ErrorDetails {
  hint?: string;
  provider?: string;
  status?: number;
  code?: string;
  requestId?: string;
  taskId?: string;
  cause?: unknown;
}

/** The plain form of an error in --json records and reports. */
export interface ErrorRecord {
  kind: ErrorKind;
  message: string;
  hint?: string;
  provider?: string;
  status?: number;
  code?: string;
  requestId?: string;
  taskId?: string;
}

export class ImagegenError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly provider?: string;
  readonly status?: number;
  readonly code?: string;
  readonly requestId?: string;
  readonly taskId?: string;

  constructor(kind: ErrorKind, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.hint = details.hint;
    this.provider = details.provider;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.taskId = details.taskId;
  }

  toJSON(): ErrorRecord {
    const out: ErrorRecord = { kind: this.kind, message: this.message };
    for (const key of ['hint', 'provider', 'code', 'requestId', 'taskId'] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    if (this.status !== undefined) out.status = this.status;
    return out;
  }
}

export class UsageError extends ImagegenError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('usage', message, details);
  }
}

/** A config file or value that is malformed; names the file and the key path. */
export class ConfigError extends UsageError {
  constructor(
    readonly file: string | undefined,
    readonly keyPath: string | undefined,
    message: string,
  ) {
    super([file, keyPath].filter(Boolean).join(': ') + (file || keyPath ? ': ' : '') + message);
  }
}

/** An input that cannot be used: missing file, directory, not an image, corrupt, too large. */
export class InputError extends ImagegenError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('failure', message, details);
  }
}

export class OutputExistsError extends ImagegenError {
  constructor(path: string) {
    super('failure', `${path} already exists`, { hint: 'pass --force to overwrite it, or choose another -o' });
  }
}

/**
 * A file that could not be written: names the file the user asked for (never the temporary file written on
 * the way) and the cause in words.
 */
export class OutputError extends ImagegenError {
  constructor(file: string, err: unknown, details: ErrorDetails = {}) {
    super('failure', `${file}: cannot write (${describeIoError(err)})`, { cause: err, ...details });
  }
}

/** What the system codes a write can fail with mean, in words. */
const IO_CAUSES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'its folder does not exist',
  EEXIST: 'a file is in the way',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error on the device',
  EFBIG: 'the file is too large for the file system',
};

/** A system error as a short cause ("the disk is full (ENOSPC)"); other errors by their message. */
export function describeIoError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && Object.hasOwn(IO_CAUSES, code)) return `${IO_CAUSES[code]}, ${code}`;
  if (typeof code === 'string') return code;
  return describeError(err);
}

export class InterruptedError extends ImagegenError {
  constructor(message = 'interrupted', details: ErrorDetails = {}) {
    super('interrupted', message, details);
  }
}

/** Some items of a batch failed; the others were written. */
export class PartialBatchError extends ImagegenError {
  constructor(
    readonly failed: number,
    readonly total: number,
  ) {
    super('partial', `${failed} of ${total} items failed`);
  }
}

export class AuthError extends ImagegenError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('auth', message, details);
  }
}

/** No HTTP answer: refused, unresolvable, reset, timed out. `code` is the system error code. */
export class NetworkError extends ImagegenError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('network', message, details);
  }
}

/** An answer from a provider (an HTTP error, a failed task), classified into a kind with a hint. */
export class ProviderError extends ImagegenError {
  /** Milliseconds the provider asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs?: number;
  /**
   * Waiting will not help (the day's allowance, the balance or a free quota is used up, a bill is overdue):
   * the provider's items that have not started are skipped.
   */
  readonly exhausted: boolean;
  /** A task failed because of its own item's input: the other items of a batch go on. */
  readonly inputFault: boolean;
  constructor(
    kind: ErrorKind,
    message: string,
    details: ErrorDetails & { retryAfterMs?: number; exhausted?: boolean; inputFault?: boolean } = {},
  ) {
    super(kind, message, details);
    this.retryAfterMs = details.retryAfterMs;
    this.exhausted = details.exhausted === true;
    this.inputFault = details.inputFault === true;
  }
}

/** An item of a batch that was not attempted, with the reason (`cause`). */
export class SkippedError extends ImagegenError {
  constructor(readonly reason: ImagegenError) {
    super(reason.kind, `not attempted: ${reason.message}`, { ...reason, cause: reason });
  }
}

/** An error rebuilt from its record (one that crossed a worker thread, where classes do not survive). */
export function errorFromRecord(record: ErrorRecord): ImagegenError {
  return new ImagegenError(record.kind, record.message, record);
}

export function isImagegenError(err: unknown): err is ImagegenError {
  return err instanceof ImagegenError;
}

/** A short human-readable description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The error as a record, for --json and reports; plain errors become kind 'failure'. */
export function errorRecord(err: unknown): ErrorRecord {
  return isImagegenError(err) ? err.toJSON() : { kind: 'failure', message: describeError(err) };
}

/** Throws InterruptedError when the signal has fired; called between stages and in long loops. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
