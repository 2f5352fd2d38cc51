/**
 * The ports: what the layers above need from the outside world, as interfaces. The CLI builds one Services
 * container from the real process (src/cli/services.ts) and passes it down; tests pass their own.
 */
import type { BatchSummary, JobRecord } from './records.js';
import type { Redactor } from './redact.js';

/** The input that means standard input. */
export const STDIN = '-';

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface Ui {
  /** Progress and notes, to stderr; silent with --quiet. */
  info(message: string): void;
  /** Warnings, to stderr, even with --quiet. */
  warn(message: string): void;
  /** Details for --verbose, to stderr. */
  debug(message: string): void;
  spinner(text: string): Spinner;
  /** One result: a path line, or an NDJSON record with --json. */
  result(record: JobRecord): void;
  /** A JSON line on stdout whatever the mode (--dry-run's planned requests, listings). */
  data(record: Record<string, unknown>): void;
  /** The end of a batch: a summary record with --json, else a line on stderr. */
  summary(summary: BatchSummary): void;
  /** One live line at the bottom of a terminal (a batch's progress); elsewhere `set` prints nothing. */
  status(): StatusLine;
}

interface StatusLine {
  set(text: string): void;
  /** A line printed above the status line (a finished item). */
  print(text: string): void;
  stop(): void;
}

export interface Stdio {
  /** All of stdin; fails (InputError) past maxBytes. */
  read(maxBytes: number): Promise<Buffer>;
  /** Bytes to stdout, waiting until they are taken. */
  write(bytes: Uint8Array): Promise<void>;
}

/** What a pool's worker module posts once it has loaded, with its thread id. */
export const WORKER_LOADED = 'imagegen:worker-loaded';

/** Runs CPU-heavy work on worker threads: a named export of the worker module, plain data in and out. */
export interface WorkPool {
  readonly threads: number;
  /** Starts the threads ahead of the first task, so that they boot while the caller does other work. */
  prestart(): void;
  run(task: string, input: unknown, options?: { signal?: AbortSignal; transfer?: ArrayBuffer[] }): Promise<unknown>;
  close(): Promise<void>;
}

/** The file-system calls the tool makes; tests pass a failing or recording one. */
export interface Fs {
  /**
   * With `maxBytes`, reads no more than that (fails with code EFBIG when the file holds more, even if it grew
   * after a stat), and fails with code EFTYPE, without waiting for a writer, when `file` is not a regular file;
   * with `noFollow` too, fails with code ELOOP when `file` is a symbolic link.
   */
  readFile(file: string, options?: { maxBytes?: number; noFollow?: boolean }): Promise<Buffer>;
  writeFile(file: string, data: Uint8Array | string, options?: { mode?: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Fails with EEXIST when `target` exists: the atomic no-overwrite step. */
  link(existing: string, target: string): Promise<void>;
  /** With `exclusive`, fails with EEXIST when `target` exists (for file systems without hard links). */
  copyFile(from: string, to: string, exclusive: boolean): Promise<void>;
  unlink(file: string): Promise<void>;
  /** `mode` (permission bits included) and `uid` (the owner) are what config files are checked by. */
  stat(file: string): Promise<{ isDirectory(): boolean; isFile(): boolean; size: number; mode: number; uid: number }>;
  mkdir(dir: string, options: { recursive: true }): Promise<unknown>;
  /** The names in a folder. */
  readdir(dir: string): Promise<string[]>;
  /**
   * Appends text and waits until it is on the disk (fsync), so that a crash cannot lose it. Fails with ELOOP
   * when `file` is a symbolic link, and with EFTYPE, without blocking, when it is not a regular file.
   */
  appendDurable(file: string, text: string): Promise<void>;
  /** The path with every symbolic link resolved; fails with ENOENT when some part is missing. */
  realpath(file: string): Promise<string>;
  /** Files matching a glob pattern (relative to `cwd`, or absolute), as given back by the matcher. */
  glob(pattern: string, cwd: string): Promise<string[]>;
}

interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  json?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The largest answer body read (default 1 MB); past it the request fails (ProviderError, kind failure). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface DownloadResult {
  status: number;
  bytes: Buffer;
  contentType?: string;
  /** A redirect's target (absolute), never followed by the client: the caller checks it before fetching it. */
  redirectTo?: string;
}

/**
 * Requests resolve for any HTTP status but a redirect, which is never followed; they reject with NetworkError
 * (or InterruptedError), or with a ProviderError of kind failure for a redirect or an answer larger than the
 * request's maxBytes.
 */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Streams a body, stopping as soon as it passes maxBytes. Non-2xx statuses resolve with an empty body. */
  download(url: string, options: DownloadOptions): Promise<DownloadResult>;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Questions asked on the terminal; absent when no one can answer. */
export interface Prompts {
  /** `validate` returns true, or what is wrong, so a bad answer is asked again at once. */
  text(message: string, defaultValue?: string, validate?: (answer: string) => true | string): Promise<string>;
  secret(message: string): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  choice(message: string, choices: readonly string[], defaultValue: string): Promise<string>;
  /** One of the choices `source` gives for what is typed so far, the list narrowing as one types. */
  search?(message: string, source: (term: string | undefined) => Promise<readonly string[]>): Promise<string>;
}

type Env = Record<string, string | undefined>;

/** Everything below the CLI needs from outside, in one container. */
export interface Services {
  fs: Fs;
  http: HttpClient;
  sleep: Sleep;
  now: () => number;
  ui: Ui;
  /** Undefined when no one can answer questions (not a TTY, or CI). */
  prompts?: Prompts;
  /** Fires on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  /** Keys to mask in everything that leaves the process. */
  redactor: Redactor;
  /** The process's standard streams for pictures (`-` as input, `-o -`); absent where there are none. */
  stdio?: Stdio;
  /** Worker threads for the loom pipeline (--jobs); without one, the work runs on the main thread. */
  pool?: WorkPool;
  cwd: string;
  home: string;
  env: Env;
}
