/**
 * The composition root: the real file system, HTTP (loaded with the first request), clock, prompts and the
 * terminal UI, gathered into the one Services container the layers below are given.
 */
import { constants, promises as fsp } from 'node:fs';
import type { ResolvedConfig } from '../config/resolve.js';
import { InputError, InterruptedError } from '../kernel/errors.js';
import type { Fs, HttpClient, Prompts, Services, Sleep, Stdio } from '../kernel/ports.js';
import { appendDurableFile, readRegularFile } from '../kernel/fs.js';
import { Redactor } from '../kernel/redact.js';
import type { CliContext, GlobalOptions } from './context.js';
import { isInteractive } from './context.js';
import type { FlagValue } from '../config/resolve.js';
import { createTerminalUi, type TerminalUi } from './ui.js';

export const nodeFs: Fs = {
  readFile: (file, options) =>
    options?.maxBytes === undefined ? fsp.readFile(file) : readRegularFile(file, options.maxBytes, options),
  writeFile: (file, data, options) => fsp.writeFile(file, data, { mode: options?.mode }),
  rename: fsp.rename,
  link: fsp.link,
  copyFile: (from, to, exclusive) => fsp.copyFile(from, to, exclusive ? constants.COPYFILE_EXCL : 0),
  unlink: fsp.unlink,
  stat: fsp.stat,
  mkdir: fsp.mkdir,
  readdir: (dir) => fsp.readdir(dir),
  appendDurable: appendDurableFile,
  realpath: (file) => fsp.realpath(file),
  glob: async (pattern, cwd) => {
    const { glob } = await import('tinyglobby');
    return glob(pattern, { cwd, onlyFiles: true, absolute: true, expandDirectories: false });
  },
};

/** setTimeout fires at once past this; any pause asked for that long is a bug or a hostile answer. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(ms, LONGEST_TIMER_MS),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** @inquirer/prompts, loaded only when a question is asked, writing to stderr so stdout stays clean. */
async function terminalPrompts(): Promise<Prompts> {
  const inquirer = await import('@inquirer/prompts');
  const context = { output: process.stderr };
  return {
    text: (message, defaultValue, validate) =>
      inquirer.input({ message, default: defaultValue, required: true, validate }, context),
    secret: (message) => inquirer.password({ message, mask: '*' }, context),
    confirm: (message, defaultValue) => inquirer.confirm({ message, default: defaultValue }, context),
    choice: (message, choices, defaultValue) =>
      inquirer.select({ message, choices: choices.map((value) => ({ value })), default: defaultValue }, context),
    search: (message, source) =>
      inquirer.search(
        { message, source: async (term) => (await source(term)).map((value) => ({ value })), pageSize: 10 },
        context,
      ),
  };
}

/** HTTP on got, loaded with the first request: a local run makes none. With --verbose every exchange is logged. */
function lazyHttpClient(verbose: boolean, log: (line: string) => void, redactor: Redactor): HttpClient {
  let client: Promise<HttpClient> | undefined;
  const load = () =>
    (client ??= import('./http.js').then(({ gotHttpClient, loggingHttpClient }) =>
      verbose ? loggingHttpClient(gotHttpClient(), log, redactor) : gotHttpClient(),
    ));
  return {
    request: async (request) => (await load()).request(request),
    download: async (url, options) => (await load()).download(url, options),
  };
}

/** Pictures through the process's own stdin and stdout. */
function processStdio(ctx: CliContext): Stdio {
  return {
    async read(maxBytes) {
      if (ctx.stdinIsTTY) throw new InputError('stdin: is a terminal; pipe a picture in (imagegen edit - < photo.jpg)');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw new InputError(`stdin: more than ${maxBytes / 1e6} MB`);
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    },
    write: (bytes) =>
      new Promise((resolve, reject) => {
        ctx.stdout.write(bytes, (err?: Error | null) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface CliServices extends Services {
  ui: TerminalUi;
}

/** The services for one command; keys are added to the redactor once the config is loaded. */
export async function createServices(ctx: CliContext, global: GlobalOptions): Promise<CliServices> {
  const redactor = new Redactor();
  const terminal = await createTerminalUi({
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    env: ctx.env,
    json: global.json === true,
    quiet: global.quiet === true,
    verbose: global.verbose === true,
    color: global.color !== false,
    redactor,
  });
  const { onResult } = ctx;
  const ui: TerminalUi = onResult
    ? {
        ...terminal,
        result(record) {
          onResult(record);
          terminal.result(record);
        },
      }
    : terminal;
  return {
    fs: nodeFs,
    http: lazyHttpClient(global.verbose === true, (line) => ui.debug(line), redactor),
    sleep: realSleep,
    now: Date.now,
    ui,
    prompts: isInteractive(ctx) ? await terminalPrompts() : undefined,
    signal: ctx.signal,
    redactor,
    stdio: processStdio(ctx),
    cwd: ctx.cwd,
    home: ctx.home,
    env: ctx.env,
  };
}

/** Finds, reads and resolves the config; its keys join the redactor before anything can print them. */
export async function loadConfig(
  ctx: CliContext,
  global: GlobalOptions,
  flags: Record<string, FlagValue | undefined>,
  services: CliServices,
): Promise<ResolvedConfig> {
  const [{ loadConfigFile }, { resolveConfig }, { configuredKeys }] = await Promise.all([
    import('../config/load.js'),
    import('../config/resolve.js'),
    import('../jobs/providers.js'),
  ]);
  const explicitPath = global.config ?? (ctx.env.IMAGEGEN_CONFIG || undefined);
  const file = await loadConfigFile({
    explicitPath,
    cwd: ctx.cwd,
    home: ctx.home,
    fs: services.fs,
    onWarning: (message) => services.ui.warn(message),
  });
  const resolved = resolveConfig({ file, env: ctx.env, flags });
  services.redactor.add(configuredKeys(resolved));
  for (const warning of resolved.warnings) services.ui.warn(warning);
  if (file) services.ui.debug(`config: ${file.path}`);
  return resolved;
}
