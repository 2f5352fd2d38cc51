/**
 * argv -> options -> core. Each action turns commander's options into a request, resolves config and calls
 * the core; nothing here decides exit codes or writes results itself.
 */
import { Command, Option } from 'commander';
import { homedir } from 'node:os';
import { nodeOutputFs } from '../core/output.js';
import { UsageError } from '../core/errors.js';
import { isInteractive, type CliContext, type GlobalOptions } from './context.js';
import { EXIT_CODE_HELP } from './exit-codes.js';
import { addLoomOptions, addOutputOptions, configFlags, loadConfig, prompts, readText, terminalUi } from './shared.js';

const EXAMPLES = `
Examples:
  $ imagegen edit samples/grace-hopper.jpg --local            # no key needed
  $ imagegen edit photo.jpg --style silhouette --format bmp
  $ imagegen edit *.jpg --colors 6 --width 1320 --out-dir woven --json
  $ imagegen generate "a red fox among ferns" --style loom
  $ imagegen styles
  $ imagegen config

${EXIT_CODE_HELP}`;

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('imagegen')
    .description('Turn a text prompt or a picture into a loom-ready indexed-colour image.')
    .version(ctx.version, '-V, --version', 'print the version')
    .option('--config <path>', 'read this config file instead of searching for one')
    .option('--json', 'print results as NDJSON on stdout (one object per result)')
    .addOption(new Option('-q, --quiet', 'print nothing but results and warnings').conflicts('verbose'))
    .option('--verbose', 'print details, including requests (keys redacted)')
    .option('--no-color', 'no colour in messages')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .addHelpText('after', EXAMPLES);

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>;

  // edit
  const edit = program
    .command('edit')
    .description('turn pictures into loom-ready images (DashScope restyle, or local with --local or without a key)')
    .argument('[input...]', 'image files (PNG, JPEG, BMP, GIF, TIFF)')
    .option('-s, --style <name>', 'style preset (see `imagegen styles`)', 'loom')
    .option('--local', 'do not call DashScope; run the local loom pipeline only', false)
    .option('-p, --prompt <text>', 'instruction for the remote model (replaces the style\'s)')
    .option('--function <name>', 'DashScope function (replaces the style\'s)')
    .option('--strength <0-1>', 'DashScope strength (replaces the style\'s)')
    .option('-m, --model <id>', 'DashScope model (default wanx2.1-imageedit)')
    .option('--seed <n>', 'DashScope seed, 0 to 2147483647')
    .option('--no-fallback', 'fail instead of falling back to the local pipeline when DashScope fails')
    .option('--max-download <MB>', 'largest result download (default 50)')
    .option('--max-pixels <MP>', 'refuse inputs over this many megapixels, checked before decoding (default 100)')
    .option('--dry-run', 'print the requests that would be sent, send nothing', false)
    .option('--report <file>', 'write the JSON report here (default: beside the image)')
    .option('--no-report', 'do not write the JSON report');
  addOutputOptions(edit);
  addLoomOptions(edit);
  edit.action(async (inputs: string[], _opts, cmd: Command) => {
    const opts = globals(cmd);
    const ui = await terminalUi(ctx, opts);
    if (inputs.length === 0) {
      if (!isInteractive(ctx)) throw new UsageError('edit needs at least one input image', { hint: 'imagegen edit <input...>' });
      inputs = [await (await prompts()).text('Image to edit')];
    }
    const resolved = await loadConfig(
      ctx,
      opts,
      configFlags(opts, { 'providers.dashscope.model': opts.model === undefined ? undefined : { value: opts.model, flag: '--model' } }),
      ui,
    );
    const { runEditCommand } = await import('./edit-command.js');
    await runEditCommand(ctx, opts, resolved, inputs, ui);
  });

  // generate
  const generate = program
    .command('generate')
    .description('generate a picture from a prompt on ModelScope, then finish it with a style')
    .argument('[prompt...]', 'what to draw')
    .option('-m, --model <id>', 'ModelScope model id (default Qwen/Qwen-Image)')
    .option('--size <WxH>', 'image size, e.g. 1024x1024')
    .option('--seed <n>', 'seed, 0 to 2147483647')
    .option('--steps <n>', 'sampling steps, 1 to 100')
    .option('--guidance <x>', 'guidance, 1.5 to 20')
    .option('--negative <text>', 'negative prompt')
    .option('--lora <id[:weight]>', 'LoRA to apply (repeatable, at most 6, weights sum to 1)', (v: string, all: string[] = []) => [...all, v])
    .option('-s, --style <name>', 'finish the picture with this style\'s local loom pipeline (e.g. loom)')
    .option('--keep-original', 'with --style, also keep the raw download', false)
    .option('--max-download <MB>', 'largest result download (default 50)')
    .option('--dry-run', 'print the requests that would be sent, send nothing', false)
    .option('--report <file>', 'with --style: write the JSON report here')
    .option('--no-report', 'with --style: do not write the JSON report');
  addOutputOptions(generate);
  addLoomOptions(generate);
  generate.action(async (words: string[], _opts, cmd: Command) => {
    const opts = globals(cmd);
    const ui = await terminalUi(ctx, opts);
    let prompt = words.join(' ');
    if (!prompt.trim()) {
      if (!isInteractive(ctx)) throw new UsageError('generate needs a prompt', { hint: 'imagegen generate "a cat on a rug"' });
      prompt = await (await prompts()).text('Prompt');
    }
    const resolved = await loadConfig(
      ctx,
      opts,
      configFlags(opts, { 'providers.modelscope.model': opts.model === undefined ? undefined : { value: opts.model, flag: '--model' } }),
      ui,
    );
    const { runGenerateCommand } = await import('./generate-command.js');
    await runGenerateCommand(ctx, opts, resolved, prompt, ui);
  });

  // styles
  program
    .command('styles')
    .description('list the style presets (built-in and from your config)')
    .action(async (_opts, cmd: Command) => {
      const opts = globals(cmd);
      const ui = await terminalUi(ctx, opts);
      const resolved = await loadConfig(ctx, opts, {}, ui);
      const { styleTable } = await import('../core/styles.js');
      for (const style of styleTable(resolved.config.styles)) {
        if (opts.json) {
          ctx.stdout.write(JSON.stringify({ ...style }) + '\n');
          continue;
        }
        const loom = Object.entries(style.loom)
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
          .join(' ');
        ctx.stdout.write(
          `${ui.chalk.bold(style.name)}${style.builtIn ? '' : ' (config)'}  ${style.description}\n` +
            `  remote: ${style.function}${style.strength === undefined ? '' : `, strength ${style.strength}`}: "${style.prompt}"\n` +
            `  local:  ${loom || 'the configured loom settings'}\n`,
        );
      }
    });

  // config
  const config = program
    .command('config')
    .description('show the resolved configuration and where each value comes from (keys redacted)');
  addLoomOptions(config).option('--out-dir <dir>', 'output folder');
  config.action(async (_opts, cmd: Command) => {
    const opts = globals(cmd);
    const ui = await terminalUi(ctx, opts);
    const resolved = await loadConfig(ctx, opts, configFlags(opts), ui);
    const { configRows } = await import('../core/config/resolve.js');
    const rows = configRows(resolved);
    if (opts.json) {
      for (const row of rows) ctx.stdout.write(JSON.stringify(row) + '\n');
      return;
    }
    const width = Math.max(...rows.map((r) => r.key.length));
    ctx.stdout.write(`config file: ${resolved.file ?? '(none found)'}\n`);
    for (const row of rows) {
      const value = row.value === undefined ? ui.chalk.dim('(unset)') : typeof row.value === 'string' ? row.value : JSON.stringify(row.value);
      ctx.stdout.write(`${row.key.padEnd(width)}  ${value}  ${ui.chalk.dim(`(${row.source})`)}\n`);
    }
  });

  // init
  program
    .command('init')
    .description('write .imagegenrc.json here (or in your home folder with --global), asking for the settings')
    .option('--global', 'write to the home folder', false)
    .option('--force', 'replace an existing file', false)
    .option('-y, --yes', 'accept the defaults for every setting not given as a flag', false)
    .option('--modelscope-model <id>', 'ModelScope model')
    .option('--dashscope-model <id>', 'DashScope model')
    .option('--colors <n>', 'yarn colours')
    .option('--width <ends>', 'warp ends')
    .option('--format <fmt>', 'png or bmp')
    .option('--save-keys', 'write API keys into the file (mode 600)')
    .option('--no-save-keys', 'do not write API keys')
    .option('--modelscope-key <key>', 'ModelScope key to write (implies --save-keys)')
    .option('--dashscope-key <key>', 'DashScope key to write (implies --save-keys)')
    .action(async (_opts, cmd: Command) => {
      const opts = globals(cmd);
      await terminalUi(ctx, opts);
      const { runInit } = await import('../core/init.js');
      const { file, wroteKeys } = await runInit(
        {
          global: opts.global as boolean,
          force: opts.force as boolean,
          yes: opts.yes as boolean,
          modelscopeModel: opts.modelscopeModel as string | undefined,
          dashscopeModel: opts.dashscopeModel as string | undefined,
          colors: opts.colors as string | undefined,
          width: opts.width as string | undefined,
          format: opts.format as string | undefined,
          saveKeys: opts.saveKeys as boolean | undefined,
          modelscopeKey: opts.modelscopeKey as string | undefined,
          dashscopeKey: opts.dashscopeKey as string | undefined,
        },
        { fs: nodeOutputFs, cwd: ctx.cwd, home: ctx.home || homedir(), ask: isInteractive(ctx) ? await prompts() : undefined },
      );
      if (opts.json) ctx.stdout.write(JSON.stringify({ status: 'ok', output: file, keys: wroteKeys }) + '\n');
      else ctx.stdout.write(file + '\n');
    });

  return program;
}
