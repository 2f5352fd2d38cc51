/**
 * What the core needs from the terminal. The CLI provides an implementation that follows the output rules
 * (spinners only on a TTY, nothing but results on stdout); tests pass a recording one.
 */
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
  /** One result: a path line, or an NDJSON object with --json. */
  result(record: Record<string, unknown>): void;
  /** A JSON line on stdout whatever the mode (--dry-run's planned requests). */
  data(record: Record<string, unknown>): void;
}
