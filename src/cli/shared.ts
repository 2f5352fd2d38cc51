/** Pieces the command adapters share: config loading with flag mapping, the terminal UI, prompts. */
import { Option, type Command } from 'commander';
import { promises as fsp } from 'node:fs';
import { loadConfigFile } from '../core/config/load.js';
import { resolveConfig, type FlagValue, type ResolvedConfig } from '../core/config/resolve.js';
import { UsageError } from '../core/errors.js';
import type { ProviderDeps } from '../providers/context.js';
import { gotHttpClient, loggingHttpClient } from '../providers/http.js';
import { realSleep } from '../providers/poll.js';
import type { CliContext, GlobalOptions } from './context.js';
import { createTerminalUi, type TerminalUi } from './ui.js';

/** Flags that set config keys: option attribute -> [key path, flag as typed]. */
export const CONFIG_FLAGS: Record<string, [string, string]> = {
  colors: ['loom.colors', '--colors'],
  width: ['loom.width', '--width'],
  hooks: ['loom.width', '--hooks'],
  minRegion: ['loom.minRegion', '--min-region'],
  dither: ['loom.dither', '--dither'],
  palette: ['loom.palette', '--palette'],
  outDir: ['output.dir', '--out-dir'],
  format: ['output.format', '--format'],
};

export function addLoomOptions(cmd: Command): Command {
  return cmd
    .option('--colors <n>', 'number of yarn colours, 2-256 (default 8)')
    .option('--width <ends>', 'warp ends: output width in pixels (default 600)')
    .addOption(new Option('--hooks <ends>', 'same as --width').hideHelp())
    .option('--height <picks>', 'weft picks: output height (default: from the aspect ratio and --density)')
    .option('--density <e>x<p>', 'ends x picks per cm (or per inch with /in), e.g. 24x30; keeps proportions in the cloth')
    .option('--min-region <px>', 'merge regions smaller than this many pixels (default 4)')
    .option('--dither <mode>', 'none, ordered or fs (default none: weavers avoid dithering)')
    .option('--palette <colours>', 'fixed yarn colours: "#hex,#hex,...", a JSON array, or a GIMP .gpl file')
    .option('--background <hex>', 'colour under transparent pixels (default #ffffff)')
    .option('--format <fmt>', 'png or bmp (default png)');
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <file>', 'write the result to this file (one input only)')
    .option('--out-dir <dir>', 'folder for the results (default: the current folder)')
    .option('--force', 'overwrite existing files', false);
}

export function configFlags(opts: Record<string, unknown>, extra: Record<string, FlagValue | undefined> = {}): Record<string, FlagValue | undefined> {
  const flags: Record<string, FlagValue | undefined> = {};
  for (const [attr, [key, flag]] of Object.entries(CONFIG_FLAGS)) {
    if (opts[attr] !== undefined) flags[key] = { value: opts[attr], flag };
  }
  return { ...flags, ...extra };
}

export async function loadConfig(ctx: CliContext, global: GlobalOptions, flags: Record<string, FlagValue | undefined>, ui: TerminalUi): Promise<ResolvedConfig> {
  const explicitPath = global.config ?? (ctx.env.IMAGEGEN_CONFIG || undefined);
  const file = await loadConfigFile({ explicitPath, cwd: ctx.cwd, home: ctx.home });
  const resolved = resolveConfig({ file, env: ctx.env, flags });
  for (const warning of resolved.warnings) ui.warn(warning);
  if (file) ui.debug(`config: ${file.path}`);
  return resolved;
}

export function terminalUi(ctx: CliContext, global: GlobalOptions): Promise<TerminalUi> {
  return createTerminalUi({
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    env: ctx.env,
    json: global.json === true,
    quiet: global.quiet === true,
    verbose: global.verbose === true,
    color: global.color !== false,
  });
}

export const readText = (file: string) => fsp.readFile(file, 'utf8');

/** @inquirer/prompts, loaded only when a question is asked, writing to stderr so stdout stays clean. */
export async function prompts() {
  const inquirer = await import('@inquirer/prompts');
  const context = { output: process.stderr };
  return {
    text: (message: string, defaultValue?: string, validate?: (answer: string) => true | string) =>
      inquirer.input({ message, default: defaultValue, required: true, validate }, context),
    secret: (message: string) => inquirer.password({ message, mask: '*' }, context),
    confirm: (message: string, defaultValue: boolean) => inquirer.confirm({ message, default: defaultValue }, context),
    choice: (message: string, choices: readonly string[], defaultValue: string) =>
      inquirer.select({ message, choices: choices.map((value) => ({ value })), default: defaultValue }, context),
  };
}

/** The real HTTP client, clock and sleep; with --verbose every exchange is logged, keys redacted. */
export function providerDeps(ctx: CliContext, global: GlobalOptions, resolved: ResolvedConfig, ui: TerminalUi): ProviderDeps {
  const secrets = [resolved.config.providers.dashscope.apiKey, resolved.config.providers.modelscope.apiKey];
  const http = global.verbose ? loggingHttpClient(gotHttpClient(), (line) => ui.debug(line), secrets) : gotHttpClient();
  return { http, sleep: realSleep, now: Date.now, ui, signal: ctx.signal };
}

export function parseMaxDownload(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0 && n <= 1000)) throw new UsageError(`--max-download: expected megabytes from 1 to 1000, got "${String(raw)}"`);
  return n;
}

/** --max-pixels in megapixels (decimal allowed): 0.01 to 1000. */
export function parseMaxPixels(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const mp = Number(raw);
  if (String(raw).trim() === '' || !(mp >= 0.01 && mp <= 1000)) throw new UsageError(`--max-pixels: expected megapixels from 0.01 to 1000, got "${String(raw)}"`);
  return Math.round(mp * 1e6);
}
