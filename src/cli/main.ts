/**
 * The process boundary: builds the context, runs the program, prints a fatal error once, and maps errors to
 * exit codes (the only place that does).
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { isInteractive, type CliContext } from './context.js';
import { EXIT_CODES, exitCodeFor, exitCodeForSignal } from './exit-codes.js';
import { InterruptedError } from '../kernel/errors.js';
import { liveTempFiles } from '../kernel/fs.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

/** Runs the CLI and returns the exit code; never exits by itself. */
export async function run(given: CliContext): Promise<number> {
  // The version alone is printed as commander would print it, without loading commander and the commands.
  if (given.argv.length === 1 && (given.argv[0] === '--version' || given.argv[0] === '-V')) {
    given.stdout.write(`${given.version}\n`);
    return EXIT_CODES.ok;
  }
  const { CommanderError, SHORT_USAGE, buildProgram } = await import('./program.js');
  const ctx: CliContext = {
    ...given,
    runArgv: async (c) => void (await buildProgram(c).parseAsync(c.argv, { from: 'user' })),
  };
  // `imagegen` alone in a script or CI: a few lines on what to type, not the whole help.
  if (ctx.argv.length === 0 && !isInteractive(ctx)) {
    ctx.stderr.write(SHORT_USAGE);
    return EXIT_CODES.usage;
  }
  const program = buildProgram(ctx);
  try {
    if (ctx.argv.length === 0) {
      // Someone at a terminal typed `imagegen` alone: ask what to do.
      const { guidedSession } = await import('./commands/guide.js');
      await guidedSession(ctx, {});
    } else await program.parseAsync(ctx.argv, { from: 'user' });
    return EXIT_CODES.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse error is a usage error (commander printed it).
      return err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const argv = ctx.argv;
    const [{ createTerminalUi }, { Redactor }] = await Promise.all([import('./ui.js'), import('../kernel/redact.js')]);
    // Keys from the environment are masked here too: an error may quote one.
    const redactor = new Redactor(
      Object.entries(ctx.env)
        .filter(([name]) => /API_KEY$/.test(name))
        .map(([, value]) => value),
    );
    const ui = await createTerminalUi({
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      env: ctx.env,
      json: false,
      quiet: false,
      verbose: argv.includes('--verbose'),
      color: !argv.includes('--no-color'),
      redactor,
    });
    const name = (err as { name?: string })?.name;
    // @inquirer/prompts throws ExitPromptError on Ctrl-C at a prompt.
    ui.fatal(name === 'ExitPromptError' ? new InterruptedError() : err);
    return name === 'ExitPromptError' ? EXIT_CODES.interrupted : exitCodeFor(err);
  }
}

/** Entry point for bin/imagegen.js. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      // Quitting at once: the writes under way do not get to remove their temporary files.
      for (const file of liveTempFiles()) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
      // Ended by the signal itself: an exit would first wait for a decode under way in native code (libvips)
      // to end. A shell sees the same status (128 + the signal's number).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    stoppedBy = signal;
    process.stderr.write(
      signal === 'SIGINT'
        ? '\ninterrupted: stopping (press Ctrl-C again to quit at once)\n'
        : `\n${signal}: stopping\n`,
    );
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Node ends a process whose event loop is empty even while the run still awaits (exit 13, silently). That
  // would be a bug, but a script must still see a failure and a reason, not a run that seems to have ended.
  let ended = false;
  // A crash says what it is by itself (Node prints it); the note below is for a run that ended quietly.
  let crashed = false;
  process.on('uncaughtExceptionMonitor', () => {
    crashed = true;
  });
  process.on('exit', () => {
    if (ended || crashed) return;
    if (stoppedBy) {
      process.exitCode = exitCodeForSignal(stoppedBy);
      return;
    }
    process.stderr.write(
      'error: imagegen stopped before the run ended, with work still waiting (this is a bug); items not reported were not done\n',
    );
    process.exitCode = EXIT_CODES.failure;
  });
  // A closed pipe (`imagegen … | head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      ended = true;
      process.exit(EXIT_CODES.ok);
    }
  });
  const code = await run({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    signal: controller.signal,
    version: packageVersion(),
  });
  ended = true;
  // Stopped by SIGTERM: the run ended as interrupted, and says which signal it was.
  process.exitCode = stoppedBy && code === EXIT_CODES.interrupted ? exitCodeForSignal(stoppedBy) : code;
}
