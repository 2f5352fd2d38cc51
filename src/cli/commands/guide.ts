/**
 * The guided session: on a terminal, `imagegen` alone (or `edit`/`generate` without their input) asks what to
 * do, from lists where there are choices, builds the command line, shows it, and runs that same argv through
 * the program, so that what is shown is what runs and can be typed again.
 */
import path from 'node:path';
import type { ResolvedConfig } from '../../config/resolve.js';
import { BUILT_IN_LOOMS, configKeys } from '../../config/schema.js';
import { styleTable } from '../../config/styles.js';
import { editModelList, editProvider, generateProvider, missingKeyError, modelFor } from '../../jobs/providers.js';
import type { Fs, Prompts } from '../../kernel/ports.js';
import type { JobRecord } from '../../kernel/records.js';
import { checkValue } from '../../kernel/values.js';
import { providersWith } from '../../providers/registry.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { createServices, loadConfig, type CliServices } from '../services.js';

type Command = 'edit' | 'generate';

/** The pictures offered: files with these endings under the current folder. */
const PICTURES = '**/*.{png,jpg,jpeg,jfif,webp,bmp,gif,tif,tiff,PNG,JPG,JPEG,WEBP,BMP,GIF,TIF,TIFF}';
/** The most pictures listed: a home folder would otherwise be walked whole. */
const MOST_PICTURES = 2000;

/** A word as a shell reads it back: quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line as typed: `imagegen` and each argument. */
function commandLine(argv: readonly string[]): string {
  return ['imagegen', ...argv].map(shellWord).join(' ');
}

/** Asks from a list of labels and gives back the value behind the label chosen. */
async function pick<T>(prompts: Prompts, message: string, options: Array<[string, T]>, index = 0): Promise<T> {
  const labels = options.map(([label]) => label);
  const label = await prompts.choice(message, labels, labels[index]);
  return options[labels.indexOf(label)][1];
}

/** A setting's check as a prompt's validator: true, or what it expects. */
function validator(key: string): (answer: string) => true | string {
  const spec = configKeys()[key].spec;
  return (answer) => {
    const result = checkValue(spec, answer.trim());
    return result.ok ? true : `expected ${result.expected}`;
  };
}

/** The pictures under `cwd`, relative to it, nearest first; hidden folders and node_modules left out. */
async function picturesHere(fs: Fs, cwd: string): Promise<string[]> {
  let found: string[];
  try {
    found = await fs.glob(PICTURES, cwd);
  } catch {
    return [];
  }
  return found
    .map((file) => path.relative(cwd, file))
    .filter((file) => !file.split(path.sep).some((part) => part.startsWith('.') || part === 'node_modules'))
    .sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b))
    .slice(0, MOST_PICTURES);
}

/** The picture: picked from the ones here as the name is typed (a path elsewhere is taken when it exists). */
async function askPicture(services: CliServices, cwd: string): Promise<string> {
  const prompts = services.prompts!;
  const pictures = await picturesHere(services.fs, cwd);
  const isFile = async (file: string) => {
    try {
      return (await services.fs.stat(path.resolve(cwd, file))).isFile();
    } catch {
      return false;
    }
  };
  if (!prompts.search) {
    const answer = await prompts.text('Picture to weave', pictures[0], (a) => (a.trim() ? true : 'a file name'));
    return answer.trim();
  }
  return prompts.search('Picture to weave (type to filter)', async (term) => {
    const typed = (term ?? '').trim();
    const matches = pictures.filter((file) => file.toLowerCase().includes(typed.toLowerCase()));
    if (typed && !matches.includes(typed) && (await isFile(typed))) matches.unshift(typed);
    return matches.slice(0, 50);
  });
}

/** The answers, as the options that give them. */
interface Answers {
  argv: string[];
}

async function askLook(prompts: Prompts, resolved: ResolvedConfig, answers: Answers, command: Command) {
  const styles = styleTable(resolved.config.styles);
  const styleIndex = Math.max(
    0,
    styles.findIndex((s) => s.name === 'loom'),
  );
  const style = await pick(
    prompts,
    'Style',
    styles.map((s) => [`${s.name}: ${s.description}`, s] as [string, (typeof styles)[number]]),
    styleIndex,
  );
  // generate keeps the download as it came without a style; the session always makes a loom image.
  if (command === 'generate' || style.name !== 'loom') answers.argv.push('--style', style.name);

  // A style with fixed yarns has its colours already.
  if (!style.loom.palette) {
    const colors = style.loom.colors ?? resolved.config.loom.colors;
    const answer = (await prompts.text('Yarn colours (2-256)', String(colors), validator('loom.colors'))).trim();
    if (answer !== String(colors)) answers.argv.push('--colors', answer);
  }

  const width = resolved.config.loom.width;
  const looms = { ...BUILT_IN_LOOMS, ...resolved.config.looms };
  const size = await pick<string | undefined>(prompts, 'Size', [
    [`${width} warp ends wide (the configured width)`, undefined],
    ['another width', 'width'],
    ...Object.entries(looms).map(([name, preset]): [string, string] => [
      `the ${name} loom${preset.hooks === undefined ? '' : ` (${String(preset.hooks)} hooks)`}`,
      `loom:${name}`,
    ]),
  ]);
  if (size === 'width')
    answers.argv.push('--width', (await prompts.text('Warp ends', String(width), validator('loom.width'))).trim());
  else if (size) answers.argv.push('--loom', size.slice('loom:'.length));

  const weave = await pick(prompts, 'Weave it (a lift plan and a cloth preview)?', [
    ['no, the design only', false],
    ['yes', true],
  ]);
  if (!weave) return;
  answers.argv.push('--weave');
  const yarns = await pick(prompts, 'Weft yarns', [
    [`none chosen: the configured weft (${resolved.config.weave.weft})`, 'none'],
    ['one weft colour', 'one'],
    ['several wefts (a compound cloth)', 'several'],
  ]);
  if (yarns === 'one')
    answers.argv.push(
      '--weft',
      (await prompts.text('Weft colour (#rrggbb)', resolved.config.weave.weft, validator('weave.weft'))).trim(),
    );
  if (yarns === 'several') {
    const check = validator('weave.wefts');
    const wefts = await prompts.text('Weft colours in shuttle order, 2 to 8 (#rrggbb,#rrggbb…)', undefined, (a) => {
      const count = a.split(',').filter((c) => c.trim()).length;
      if (count < 2 || count > 8) return 'two to eight colours, separated by commas';
      return check(a);
    });
    answers.argv.push('--wefts', wefts.replace(/\s+/g, ''));
  }
}

/** Provider and model for edit: local first when no provider has a key, the keyed providers otherwise. */
async function askEditProvider(prompts: Prompts, resolved: ResolvedConfig, answers: Answers, ui: CliServices['ui']) {
  const editors = providersWith('edit');
  const keyed = editors.filter((p) => editProvider(resolved, p.id).keyed);
  const local: [string, string | undefined] = ['local: this computer, no key, no cost', undefined];
  const remote = keyed.map((p): [string, string | undefined] => [`${p.id}: ${p.label} (paid, restyles first)`, p.id]);
  if (keyed.length === 0)
    ui.info(`no provider key set (${editors.map((p) => p.keyEnv[0]).join(', ')}): the picture is woven locally`);
  const choice = await pick(prompts, 'Where to restyle it', keyed.length ? [...remote, local] : [local]);
  if (choice === undefined) {
    answers.argv.push('--local');
    return;
  }
  const provider = keyed.find((p) => p.id === choice)!;
  answers.argv.push('--provider', provider.id);
  const models = editModelList(provider);
  if (!models?.length) return;
  const current = modelFor(provider, resolved, 'edit');
  const model = await prompts.choice(`${provider.label} model`, models, models.includes(current) ? current : models[0]);
  if (model !== current) answers.argv.push('--model', model);
}

/** Provider (the one that generates, with its key) and model for generate. */
async function askGenerateModel(prompts: Prompts, resolved: ResolvedConfig, answers: Answers) {
  const { provider } = generateProvider(resolved);
  const models = provider.models ?? [provider.defaultModel];
  const current = resolved.config.providers[provider.id].model;
  const model = await prompts.choice(`${provider.label} model`, models, models.includes(current) ? current : models[0]);
  if (model !== current) answers.argv.push('--model', model);
}

/** The options typed before the command (--config, --verbose…), kept in what runs. */
function globalArgs(opts: GlobalOptions): string[] {
  return [
    ...(opts.config ? ['--config', opts.config] : []),
    ...(opts.verbose ? ['--verbose'] : []),
    ...(opts.color === false ? ['--no-color'] : []),
  ];
}

/**
 * Asks, shows the command, runs it through the program itself, then names the files written and the command
 * that repeats it. `command`: the command typed without its input (undefined for `imagegen` alone); when it
 * was typed with options, only the input is asked for and the options are kept as typed.
 */
export async function guidedSession(ctx: CliContext, opts: GlobalOptions, command?: Command): Promise<void> {
  const services = await createServices(ctx, opts);
  const prompts = services.prompts!;
  const resolved = await loadConfig(ctx, opts, {}, services);
  const generator = generateProvider(resolved);
  const at = command === undefined ? -1 : ctx.argv.indexOf(command);
  const typed = at < 0 ? [] : ctx.argv.slice(at + 1);
  command ??= await pick<Command>(prompts, 'What would you like to make?', [
    ['a loom image from a picture (edit)', 'edit'],
    [
      `a loom image from words (generate, on ${generator.provider.label}${generator.keyed ? '' : ': no key set'})`,
      'generate',
    ],
  ]);
  // No one types a prompt to learn that it cannot be sent.
  if (command === 'generate' && !generator.keyed && !typed.includes('--dry-run'))
    throw missingKeyError(generator.provider);

  const answers: Answers = { argv: [] };
  const input =
    command === 'edit'
      ? await askPicture(services, ctx.cwd)
      : (await prompts.text('What should it draw?', undefined, (a) => (a.trim() ? true : 'a few words'))).trim();
  if (typed.length === 0) {
    await askLook(prompts, resolved, answers, command);
    if (command === 'edit') await askEditProvider(prompts, resolved, answers, services.ui);
    else await askGenerateModel(prompts, resolved, answers);
  }
  const argv =
    typed.length > 0
      ? [...ctx.argv.slice(0, at + 1), input, ...typed]
      : [...globalArgs(opts), command, input, ...answers.argv];
  const line = commandLine(argv);
  services.ui.info(`$ ${line}`);
  if (!(await prompts.confirm('Run it?', true))) {
    services.ui.info(`not run; to run it later: ${line}`);
    return;
  }

  const records: JobRecord[] = [];
  const run = { ...ctx, argv, onResult: (record: JobRecord) => records.push(record) };
  if (!ctx.runArgv) throw new Error('the guided session needs the program to run the command with');
  await ctx.runArgv(run);
  const written = records.flatMap((r) =>
    [r.output, r.report, r.lift, r.cloth, r.back, r.wefts, r.original].filter(
      (file): file is string => typeof file === 'string' && file !== '-',
    ),
  );
  services.ui.info('written:');
  for (const file of written) services.ui.info(`  ${path.relative(ctx.cwd, file) || file}`);
  services.ui.info(`to do it again: ${line}`);
}
