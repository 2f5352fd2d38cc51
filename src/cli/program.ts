/**
 * argv -> options -> a command. The command definitions only: each action loads its command module when it
 * runs, so `imagegen --help` loads commander and nothing else of the tool.
 */
import { Command, Option } from 'commander';
export { CommanderError } from 'commander';
import type { CliContext, GlobalOptions } from './context.js';
import { EXIT_CODE_HELP } from './exit-codes.js';
import { addJournalOptions, addLoomOptions, addOutputOptions, addWeaveOptions } from './options.js';

const EXAMPLES = `
Examples:
  $ imagegen edit photo.jpg --local                          # no key needed
  $ imagegen edit photo.jpg --style silhouette --format bmp
  $ imagegen edit *.jpg --colors 6 --width 1320 --out-dir woven --json
  $ imagegen generate "a red fox among ferns" --style loom
  $ imagegen edit photo.jpg --local --weave auto --width 1320   # also the lift plan and a cloth preview
  $ imagegen styles
  $ imagegen config
  $ imagegen doctor                                          # before a batch: keys, hosts, balance

${EXIT_CODE_HELP}`;

/** What `imagegen` alone prints when no one can be asked what to do: a few lines, not the whole help. */
export const SHORT_USAGE = `Usage: imagegen <command> [options]
  imagegen edit photo.jpg --local      a picture -> a loom-ready image, no key needed
  imagegen generate "a red fox"        a prompt -> a picture (ModelScope key)
  imagegen --help                      every command and option
`;

type Options = GlobalOptions & Record<string, unknown>;

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

  const globals = (cmd: Command) => cmd.optsWithGlobals() as Options;

  const edit = program
    .command('edit')
    .description('turn pictures into loom-ready images (remote restyle, or local with --local or without a key)')
    .argument('[input...]', 'pictures (PNG, JPEG, WebP, BMP, GIF, TIFF), folders of them, quoted globs, or - for stdin')
    .option('-s, --style <name>', 'style preset (see `imagegen styles`)', 'loom')
    .option('--local', 'do not call a provider; run the local loom pipeline only', false)
    .option(
      '--provider <id>',
      'edit provider: dashscope or modelscope (default: edit.provider, else the first with a key, DashScope first)',
    )
    .option('-p, --prompt <text>', "instruction for the remote model (replaces the style's)")
    .option('--function <name>', "DashScope function (replaces the style's)")
    .option('--strength <0-1>', "DashScope strength (replaces the style's)")
    .option('--expand <1-2>', 'DashScope expand: how far every side grows (default 1.5; implies --function expand)')
    .option('--upscale <1-4>', 'DashScope super_resolution factor (default 1, sharpen only; implies the function)')
    .option('--sketch', 'DashScope doodle: the picture already is a line drawing (implies --function doodle)')
    .option(
      '-m, --model <id>',
      "the provider's edit model (default: its configured one); DashScope: wanx2.1-imageedit, wan2.5-i2i-preview, " +
        'wan2.6-image, qwen-image-edit, qwen-image-edit-plus, qwen-image-edit-max; ModelScope: ' +
        'Qwen/Qwen-Image-Edit-2509, Qwen/Qwen-Image-Edit-2511, Qwen/Qwen-Image-Edit, black-forest-labs/FLUX.1-Kontext-dev',
    )
    .option(
      '--ref <picture>',
      'a reference picture sent after the edited one (repeatable, in order; models that take several: ' +
        'wan2.5-i2i-preview and the qwen-image-edit family 3 in all, wan2.6-image 4, Qwen/Qwen-Image-Edit-2509/2511 3)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--prompt-extend',
      'let DashScope rewrite the instruction first (models that take prompt_extend; off by default)',
    )
    .option('--seed <n>', 'seed, 0 to 2147483647')
    .option('--no-fallback', 'fail instead of falling back to the local pipeline when the provider fails')
    .option('--max-download <MB>', 'largest result download, 1 to 1000 (default 50)')
    .option(
      '--max-pixels <MP>',
      'refuse inputs over this many megapixels, checked before decoding (default 100; a PNG over 16 is decoded at reduced size, other formats take about 9 bytes of memory a pixel: 0.9 GB at 100)',
    )
    .option('--lenient', 'accept pictures with missing or corrupt data that can still be read, with a warning', false)
    .option('-j, --jobs <n>', 'pictures woven at once, on worker threads (default: one per core)')
    .option('--dry-run', 'print the requests that would be sent, send nothing', false);
  addOutputOptions(edit, 'write the result to this .png, .bmp, .tif or .tiff file (one input only; - for stdout)');
  addJournalOptions(edit);
  addLoomOptions(edit);
  addWeaveOptions(edit);
  edit.action(async (inputs: string[], _opts, cmd: Command) => {
    const { editCommand } = await import('./commands/edit.js');
    await editCommand(ctx, globals(cmd), inputs);
  });

  const generate = program
    .command('generate')
    .description('generate a picture from a prompt on ModelScope or DashScope, then finish it with a style')
    .argument('[prompt...]', 'what to draw')
    .option('--prompts <file>', 'one prompt per line, or JSON Lines with per-line fields (- for stdin)')
    .option(
      '--provider <id>',
      'modelscope or dashscope (default: generate.provider, else the first with a key, ModelScope first)',
    )
    .option(
      '-m, --model <id>',
      'model id (default: the configured one); ModelScope: Qwen/Qwen-Image and others; DashScope: qwen-image, ' +
        'qwen-image-plus, qwen-image-max, z-image-turbo, wan2.6-t2i, wan2.5-t2i-preview, wan2.2-t2i-plus, ' +
        'wan2.2-t2i-flash, wanx2.1-t2i-plus, wanx2.1-t2i-turbo',
    )
    .option('--size <WxH>', "image size, e.g. 1024x1024 (checked against the model's sizes)")
    .option('--seed <n>', 'seed, 0 to 2147483647')
    .option('--steps <n>', 'sampling steps, 1 to 100')
    .option('--guidance <x>', 'guidance, 1.5 to 20')
    .option('--negative <text>', 'negative prompt')
    .option('--prompt-extend', 'DashScope: let the service rewrite the prompt first (off by default)')
    .option(
      '--lora <id[:weight]>',
      'LoRA to apply (repeatable, at most 6, weights sum to 1)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('-s, --style <name>', "finish the picture with this style's local loom pipeline (e.g. loom)")
    .option('--keep-original', 'with --style, also keep the raw download', false)
    .option('--max-download <MB>', 'largest result download, 1 to 1000 (default 50)')
    .option('--dry-run', 'print the requests that would be sent, send nothing', false);
  addOutputOptions(
    generate,
    'write the result to this file (one prompt only): .png, .bmp, .tif or .tiff with --style, else .png, .jpg or .webp as downloaded',
  );
  addJournalOptions(generate);
  addLoomOptions(generate);
  addWeaveOptions(generate);
  generate.action(async (words: string[], _opts, cmd: Command) => {
    const { generateCommand } = await import('./commands/generate.js');
    await generateCommand(ctx, globals(cmd), words);
  });

  const task = program
    .command('task')
    .description(
      'look at, wait for (and finish) or cancel a task submitted earlier; or find the tasks made since a time',
    )
    .argument('<action>', 'show, wait, cancel or find')
    .argument('[provider:task-id]', 'the task, e.g. dashscope:0385dc79-5ff8-4d82-bcb6-xxxxxx (not for find)')
    .option('-s, --style <name>', "wait: finish the result with this style's loom pipeline", 'loom')
    .option('--max-download <MB>', 'largest result download, 1 to 1000 (default 50)')
    .option(
      '--since <time>',
      'find: tasks made since this time (2026-12-01T10:00, local unless zoned) or this long ago (2h)',
    )
    .option('--model <id>', 'find: only tasks of this model')
    .option('--provider <id>', 'find: the provider whose task list to read (default dashscope)');
  addOutputOptions(task, 'wait: write the result to this .png, .bmp, .tif or .tiff file');
  addLoomOptions(task);
  addWeaveOptions(task);
  task.action(async (action: string, ref: string | undefined, _opts, cmd: Command) => {
    const { taskCommand } = await import('./commands/task.js');
    // The options typed, for show and cancel, which take none of them.
    const typed = cmd.options
      .filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli')
      .map((o) => o.long ?? o.flags);
    await taskCommand(ctx, globals(cmd), action, ref, typed);
  });

  program
    .command('weaves')
    .description(
      'list the weave structures (built-in and from your config) with a picture of each; with --wefts, the colours those yarns can weave',
    )
    .option('--wefts <colours>', 'weft yarns in shuttle order (2 to 8): list the effects they can weave')
    .option('--warp <hex>', 'warp yarn colour for --wefts (default: weave.warp, #000000)')
    .action(async (_opts, cmd: Command) => {
      const { weavesCommand } = await import('./commands/weaves.js');
      await weavesCommand(ctx, globals(cmd));
    });

  program
    .command('styles')
    .description('list the style presets (built-in and from your config)')
    .action(async (_opts, cmd: Command) => {
      const { stylesCommand } = await import('./commands/info.js');
      await stylesCommand(ctx, globals(cmd));
    });

  const config = program
    .command('config')
    .description('show the resolved configuration and where each value comes from (keys redacted)');
  addLoomOptions(config).option('--out-dir <dir>', 'output folder');
  config.action(async (_opts, cmd: Command) => {
    const { configCommand } = await import('./commands/info.js');
    await configCommand(ctx, globals(cmd));
  });

  program
    .command('doctor')
    .description('check config, keys, hosts, models, balance, output folder and loom settings, at no cost')
    .option('--offline', 'only the checks that need no network', false)
    .option('--out-dir <dir>', 'output folder to check')
    .action(async (_opts, cmd: Command) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      await doctorCommand(ctx, globals(cmd));
    });

  program
    .command('sheet')
    .description('write index.html in a folder of earlier results: a contact sheet of its reports and failures')
    .argument('<folder>', 'the output folder of an earlier edit or generate run')
    .option('--journal <file>', "read failures from this journal (default: the folder's .imagegen/journal.jsonl)")
    .option('--force', 'replace an index.html already there', false)
    .action(async (folder: string, _opts, cmd: Command) => {
      const { sheetCommand } = await import('./commands/sheet.js');
      await sheetCommand(ctx, globals(cmd), folder);
    });

  const repeat = (v: string, all: string[] = []) => [...all, v];
  program
    .command('init')
    .description('write .imagegenrc.json here (or in your home folder with --global), asking for the settings')
    .option('--global', 'write to the home folder', false)
    .option('--force', 'replace an existing file', false)
    .option('-y, --yes', 'accept the defaults for every setting not given as a flag', false)
    .option('--model <provider=id>', 'model for a provider, e.g. dashscope=wanx2.1-imageedit (repeatable)', repeat)
    .option('--key <provider=key>', 'key to write for a provider (repeatable; implies --save-keys)', repeat)
    .addOption(new Option('--modelscope-model <id>', 'same as --model modelscope=<id>').hideHelp())
    .addOption(new Option('--dashscope-model <id>', 'same as --model dashscope=<id>').hideHelp())
    .addOption(new Option('--modelscope-key <key>', 'same as --key modelscope=<key>').hideHelp())
    .addOption(new Option('--dashscope-key <key>', 'same as --key dashscope=<key>').hideHelp())
    .option('--colors <n>', 'yarn colours')
    .option('--width <ends>', 'warp ends')
    .option('--format <fmt>', 'png, bmp or tiff')
    .option('--save-keys', 'write API keys into the file (mode 600)')
    .option('--no-save-keys', 'do not write API keys')
    .action(async (_opts, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      await initCommand(ctx, globals(cmd));
    });

  return program;
}
