/**
 * The terminal side of Ui: results to stdout (paths, or NDJSON with --json), everything else to stderr;
 * an ora spinner only when stderr is a TTY, plain lines otherwise; colour only when allowed.
 */
import { describeError, isImagegenError } from '../kernel/errors.js';
import type { Spinner, Ui } from '../kernel/ports.js';
import { escapeControls, type Redactor } from '../kernel/redact.js';

export interface Writable {
  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): unknown;
}

export interface TerminalOptions {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** false when --no-color was given. */
  color: boolean;
  /** Masks configured keys in everything printed. */
  redactor: Redactor;
}

export interface TerminalUi extends Ui {
  /** Prints an error that ends the run. */
  fatal(err: unknown): void;
  /** For `new Chalk({ level })`: 0 when messages are not coloured. */
  colorLevel: 0 | 1 | 2 | 3;
}

/** FORCE_COLOR wins (as in Node itself), then --no-color, NO_COLOR, a non-TTY stderr and TERM=dumb. */
export function colorLevel(env: Record<string, string | undefined>, isTTY: boolean, colorFlag: boolean): 0 | 1 | 2 | 3 {
  if (!colorFlag) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (env.NO_COLOR) return 0;
  if (!isTTY || env.TERM === 'dumb') return 0;
  return 1;
}

type OraSpinner = {
  start(): unknown;
  succeed(text?: string): unknown;
  fail(text?: string): unknown;
  stop(): unknown;
  clear(): unknown;
  render(): unknown;
  text: string;
};
type OraFactory = (options: Record<string, unknown>) => OraSpinner;

export async function createTerminalUi(options: TerminalOptions): Promise<TerminalUi> {
  const { stdout, stderr, json, quiet, verbose } = options;
  const isTTY = stderr.isTTY === true;
  const level = colorLevel(options.env, isTTY, options.color);
  // Without colour chalk would add nothing: it is loaded only to colour.
  const chalk = level > 0 ? new (await import('chalk')).Chalk({ level }) : undefined;
  const paint = (style: 'dim' | 'gray' | 'red' | 'yellow') => (text: string) => (chalk ? chalk[style](text) : text);
  const [dim, gray, red, yellow] = [paint('dim'), paint('gray'), paint('red'), paint('yellow')];
  const useSpinner = isTTY && !quiet && options.env.CI === undefined;
  const ora: OraFactory | undefined = useSpinner ? ((await import('ora')).default as unknown as OraFactory) : undefined;
  const { redactor } = options;
  /** The batch's live line, kept at the bottom: other lines are printed above it. */
  let statusSpinner: OraSpinner | undefined;
  const line = (text: string) => {
    statusSpinner?.clear();
    stderr.write(text + '\n');
    statusSpinner?.render();
  };
  const makeOra = (text: string) =>
    ora!({ text, stream: stderr, color: level > 0 ? 'cyan' : false, discardStdin: false, isEnabled: true });
  /** What a message from anywhere becomes before it is printed: keys masked, controls (newlines too) escaped. */
  const clean = (text: string) => escapeControls(redactor.text(text));
  /** The frames of a stack trace, a line each (its first lines repeat the message, printed already). */
  const frames = (stack: string) =>
    stack
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .map(clean)
      .join('\n');

  const plainSpinner = (text: string): Spinner => {
    if (!quiet) line(text);
    return {
      update() {},
      succeed(done) {
        if (!quiet && done) line(clean(done));
      },
      fail(failed) {
        if (!quiet && failed) line(clean(failed));
      },
      stop() {},
    };
  };

  return {
    colorLevel: level,
    info(message) {
      if (!quiet) line(dim(clean(message)));
    },
    warn(message) {
      line(`${yellow('warning:')} ${clean(message)}`);
    },
    debug(message) {
      if (verbose) line(gray(clean(message)));
    },
    spinner(raw) {
      const text = clean(raw);
      if (!ora) return plainSpinner(text);
      // Under a batch's status line, item spinners would fight it for the last line.
      if (statusSpinner) return plainSpinner(text);
      const spinner = makeOra(text);
      spinner.start();
      return {
        update(next) {
          spinner.text = clean(next);
        },
        succeed: (done) => void spinner.succeed(done === undefined ? undefined : clean(done)),
        fail: (failed) => void spinner.fail(failed === undefined ? undefined : clean(failed)),
        stop: () => void spinner.stop(),
      };
    },
    result(record) {
      // JSON escapes control characters itself; a bare path line is escaped like any message, so that a name
      // with a newline stays one line (--json gives it exactly).
      if (json) stdout.write(redactor.text(JSON.stringify(record)) + '\n');
      // An image written to stdout (-o -) is the result itself: no path line after it.
      else if (record.status === 'ok' && typeof record.output === 'string' && record.output !== '-')
        stdout.write(clean(record.output) + '\n');
    },
    data(record) {
      stdout.write(redactor.text(JSON.stringify(record)) + '\n');
    },
    summary(summary) {
      if (json) stdout.write(JSON.stringify(summary) + '\n');
      const parts = [`${summary.ok} of ${summary.total} done`];
      if (summary.failed) parts.push(`${summary.failed} failed`);
      if (summary.interrupted) parts.push(`${summary.interrupted} interrupted`);
      if (summary.skipped) parts.push(`${summary.skipped} skipped`);
      if (!quiet)
        line(`${parts.join(', ')} in ${summary.seconds.toFixed(1)} s (${summary.perSecond.toFixed(2)} per second)`);
    },
    status() {
      if (!ora || statusSpinner) return { set() {}, print: (text) => void (quiet || line(clean(text))), stop() {} };
      const spinner = makeOra('');
      statusSpinner = spinner;
      spinner.start();
      return {
        set(text) {
          spinner.text = clean(text);
        },
        print: (text) => void (quiet || line(clean(text))),
        stop() {
          if (statusSpinner !== spinner) return;
          spinner.stop();
          statusSpinner = undefined;
        },
      };
    },
    fatal(err) {
      const message = clean(describeError(err));
      if (isImagegenError(err)) {
        line(`${red('error:')} ${message}`);
        const ids = [err.requestId && `request id ${err.requestId}`, err.taskId && `task id ${err.taskId}`].filter(
          Boolean,
        );
        if (ids.length) line(`  ${clean(ids.join(', '))}`);
        if (err.hint) line(`  ${dim('hint:')} ${clean(err.hint)}`);
        if (verbose && err.stack) line(gray(frames(err.stack)));
      } else {
        line(`${red('error:')} ${message}`);
        if (verbose && err instanceof Error && err.stack) line(gray(frames(err.stack)));
        else line(`  ${dim('this is unexpected; run again with --verbose for details')}`);
      }
    },
  };
}
