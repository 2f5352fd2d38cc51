/** Options the commands share, and the flags that set config keys. Only commander here: --help loads nothing else. */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { FlagValue } from '../config/resolve.js';
import { UsageError } from '../kernel/errors.js';
import { describeRange, toNumberInRange, type NumberRange } from '../kernel/numbers.js';

/** Flags that set config keys: option attribute -> [key path, flag as typed]. */
const CONFIG_FLAGS: Record<string, [string, string]> = {
  colors: ['loom.colors', '--colors'],
  width: ['loom.width', '--width'],
  hooks: ['loom.hooks', '--hooks'],
  loom: ['loom.preset', '--loom'],
  repeats: ['weave.repeats', '--repeats'],
  tie: ['weave.tie', '--tie'],
  selvedgeWeave: ['weave.selvedgeWeave', '--selvedge-weave'],
  height: ['loom.height', '--height'],
  density: ['loom.density', '--density'],
  minRegion: ['loom.minRegion', '--min-region'],
  dither: ['loom.dither', '--dither'],
  palette: ['loom.palette', '--palette'],
  background: ['loom.background', '--background'],
  outDir: ['output.dir', '--out-dir'],
  format: ['output.format', '--format'],
  warp: ['weave.warp', '--warp'],
  weft: ['weave.weft', '--weft'],
  wefts: ['weave.wefts', '--wefts'],
  maxFloat: ['weave.maxFloat', '--max-float'],
  maxBackFloat: ['weave.maxBackFloat', '--max-back-float'],
  selectorHooks: ['weave.selectorHooks', '--selector-hooks'],
  selvedge: ['weave.selvedge', '--selvedge'],
  liftFormat: ['weave.liftFormat', '--lift-format'],
  previewScale: ['weave.previewScale', '--preview-scale'],
};

export function addLoomOptions(cmd: Command): Command {
  return cmd
    .option('--colors <n>', 'number of yarn colours, 2-256 (default 8)')
    .option('--width <ends>', 'warp ends of the design (one repeat): output width in pixels (default 600)')
    .option(
      '--hooks <n>',
      "the loom's hooks in all: with --weave the lift plan's width, selvedges and selector hooks included, the design taking the rest",
    )
    .option('--loom <name>', 'a loom from the config (looms.<name>: hooks, density, selvedge…), or tc2-1320, tc2-2640')
    .option('--height <picks>', 'weft picks: output height (default: from the aspect ratio and --density)')
    .option(
      '--density <e>x<p>',
      'ends x picks per cm (or per inch with /in), e.g. 24x30; keeps proportions in the cloth',
    )
    .option('--min-region <px>', 'merge regions smaller than this many pixels (default 4)')
    .option('--dither <mode>', 'none, ordered or fs (default none: weavers avoid dithering)')
    .option('--palette <colours>', 'fixed yarn colours: "#hex,#hex,...", a JSON array, or a GIMP .gpl file')
    .option('--background <hex>', 'colour under transparent pixels (default #ffffff)')
    .option('--format <fmt>', 'png, bmp or tiff (default png; -o with such a name picks it too)');
}

/**
 * Weaving the design into a lift plan (edit and generate). --invert has no default value: commander would
 * print "(default: false)" after the one its text gives.
 */
export function addWeaveOptions(cmd: Command): Command {
  return cmd
    .option(
      '--weave [map]',
      "also write the lift plan and a cloth preview; map: auto (default, or the style's), or e.g. 0=satin:8/warp,1=twill:2/2,#f4f1e8=plain",
    )
    .option('--warp <hex>', 'warp yarn colour, for auto and the preview (default #000000)')
    .option('--weft <hex>', 'weft yarn colour, for auto and the preview (default #ffffff)')
    .option(
      '--wefts <colours>',
      'several weft yarns in shuttle order (2 to 8: "#hex,#hex", a JSON array or a .gpl file): a compound cloth, ' +
        'one pick per weft per design row, the palette chosen among what the yarns can weave',
    )
    .option(
      '--max-float <n>',
      'longest float on either face, warp and weft; longer ones get binding points (default 8)',
    )
    .option('--max-back-float <n>', 'with --wefts: longest float of a weft behind the cloth (default 2 x --max-float)')
    .option('--selector-hooks <side>', 'with --wefts: left or right, one extra end per weft raised on its picks')
    .option(
      '--tile [fit]',
      'the design repeats: floats are held across the seams too; --tile fit also sizes the grid so that every structure closes at the seams',
    )
    .option('--selvedge <ends>', 'selvedge ends at each side, outside the design (default 0)')
    .option('--selvedge-weave <structure>', 'structure of the selvedges (default plain)')
    .option('--repeats <k>', 'design repeats side by side across the hooks (default 1)')
    .option('--tie <tie>', 'straight (every repeat alike) or point (every other repeat mirrored) (default straight)')
    .option(
      '--lift-format <fmt>',
      'lift plan format: bmp, png or tiff, all 1-bit, or wif, a WIF 1.1 draft with one shaft per end (default bmp)',
    )
    .option('--invert', 'lift plan with white = warp raised (default: black = raised)')
    .option('--preview-scale <n>', 'cloth preview pixels per end (default: 3 or more, and at least 1200 pixels wide)');
}

/** --weave, --tile and --invert as the jobs take them, and --weave's map as a config flag. */
export function weaveChoice(opts: Record<string, unknown>): {
  flags: { weave: boolean; tile: boolean; tileFit: boolean; invert: boolean };
  map: Record<string, FlagValue | undefined>;
} {
  if (typeof opts.tile === 'string' && opts.tile !== 'fit') {
    // `--tile photo.jpg` takes the input as its value: commander reads an optional value greedily.
    throw new UsageError(`--tile takes no value but fit, not "${opts.tile}"`, {
      hint: `if "${opts.tile}" is an input, put --tile after the inputs, or write --tile fit`,
    });
  }
  return {
    flags: {
      weave: opts.weave !== undefined,
      tile: opts.tile === true || opts.tile === 'fit',
      tileFit: opts.tile === 'fit',
      invert: opts.invert === true,
    },
    map: { 'weave.map': typeof opts.weave === 'string' ? { value: opts.weave, flag: '--weave' } : undefined },
  };
}

/** `outputHelp`: what -o does in this command, as its help says it. */
export function addOutputOptions(cmd: Command, outputHelp: string): Command {
  return cmd
    .option('-o, --output <file>', outputHelp)
    .option('--out-dir <dir>', 'folder for the results (default: the current folder)')
    .option('--force', 'overwrite existing files', false)
    .option('--report <file>', 'write the JSON report here (default: beside the image)')
    .option('--no-report', 'do not write the JSON report');
}

/** The config keys set by flags, with `extra` for command-specific ones. */
export function configFlags(
  opts: Record<string, unknown>,
  extra: Record<string, FlagValue | undefined> = {},
): Record<string, FlagValue | undefined> {
  const flags: Record<string, FlagValue | undefined> = {};
  for (const [attr, [key, flag]] of Object.entries(CONFIG_FLAGS)) {
    if (opts[attr] !== undefined) flags[key] = { value: opts[attr], flag };
  }
  return { ...flags, ...extra };
}

/** --sheet needs files to show: not with --dry-run, nor with the image on stdout. */
export function checkSheetOption(opts: Record<string, unknown>): void {
  if (opts.dryRun === true) throw new UsageError('--sheet with --dry-run: nothing is written to show');
  if (opts.output === '-') throw new UsageError('--sheet with -o -: the image goes to stdout, not beside a sheet');
}

/** A batch's journal, for edit and generate. */
export function addJournalOptions(cmd: Command): Command {
  return cmd
    .option(
      '--journal <file>',
      'write every step of every item to this file as it happens (JSON Lines; default for a run that calls a provider: <out-dir>/.imagegen/journal.jsonl)',
    )
    .option('--resume', 'with the journal: also hold back items whose submit got no answer (a task may exist)')
    .option('--again', 'pay for every item anew, even one the journal holds as done or running')
    .option(
      '--sheet',
      'also write index.html beside the outputs: a contact sheet of every item (pictures, palette, report, failures)',
    );
}

/** --report FILE, --no-report, or neither. */
export function reportChoice(opts: Record<string, unknown>): boolean | string {
  return typeof opts.report === 'string' ? opts.report : opts.report !== false;
}

/** A number typed as a flag's value; its range is checked where the value is used. */
export function numberOption(
  flag: string,
  raw: unknown,
  range: NumberRange = { min: -Infinity, max: Infinity },
): number | undefined {
  if (raw === undefined) return undefined;
  const n = toNumberInRange(raw, range);
  if (n === undefined) {
    const what = Number.isFinite(range.min) ? describeRange(range) : 'a number';
    throw new UsageError(`${flag}: expected ${what}, got "${String(raw)}"`);
  }
  return n;
}

/** --jobs: worker threads for the loom pipeline; by default one per core. */
export function jobsOption(raw: unknown): number {
  if (raw === undefined) return availableParallelism();
  const n = numberOption('--jobs', raw, { min: 1, max: 256 });
  if (n === undefined || !Number.isInteger(n))
    throw new UsageError(`--jobs: expected a whole number of threads, got "${String(raw)}"`);
  return n;
}

/** --max-download in megabytes. */
export function maxDownloadOption(raw: unknown): number | undefined {
  return numberOption('--max-download', raw, { min: 1, max: 1000 });
}

/** --max-pixels in megapixels (decimal allowed), returned in pixels. */
export function maxPixelsOption(raw: unknown): number | undefined {
  const mp = numberOption('--max-pixels', raw, { min: 0.01, max: 1000 });
  return mp === undefined ? undefined : Math.round(mp * 1e6);
}
