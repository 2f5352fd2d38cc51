/**
 * The local end of every job: settings from config, style and flags; the loom pipeline; the image and its
 * report written safely. `edit --local`, the fallback and `generate --style` all end here.
 */
import path from 'node:path';
import type { ResolvedConfig } from './config/resolve.js';
import type { DitherMode, LoomSettings, OutputFormat } from './config/schema.js';
import { UsageError } from './errors.js';
import { assertFree, nextFreeName, writeFileAtomic, type OutputFs } from './output.js';
import type { StylePreset } from './styles.js';
import { parseHex } from '../loom/color.js';
import { runLoomPipeline, type LoomStats } from '../loom/pipeline.js';
import { gridHeight } from '../loom/resize.js';
import type { RgbaImage } from '../loom/types.js';
import { encodeLoomImage } from '../image/encode.js';
import { parsePaletteSpec, type ReadText } from '../image/palette-spec.js';

/** Largest number of ends or picks accepted; far above any loom (AdaCAD caps at 10,000). */
export const MAX_GRID_SIDE = 20_000;

export interface LoomFlags {
  height?: string;
  density?: string;
  background?: string;
}

export interface LoomJobSettings {
  width: number;
  height?: number;
  density?: { ends: number; picks: number; unit: 'cm' | 'in' };
  colors: number;
  dither: DitherMode;
  minRegion: number;
  palette?: Uint8Array;
  /** The palette as given, for the report. */
  paletteSpec?: string | string[];
  background: [number, number, number];
  format: OutputFormat;
}

export function parseDensity(raw: string): { ends: number; picks: number; unit: 'cm' | 'in' } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*(?:\/?\s*(cm|in|inch))?\s*$/i.exec(raw);
  const ends = m ? Number(m[1]) : NaN;
  const picks = m ? Number(m[2]) : NaN;
  if (!m || !(ends > 0) || !(picks > 0)) {
    throw new UsageError(`--density: expected <ends>x<picks> per cm or inch, like 24x30 or 60x80/in, got "${raw}"`);
  }
  return { ends, picks, unit: m[3] && m[3].toLowerCase() !== 'cm' ? 'in' : 'cm' };
}

function parseIntFlag(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/**
 * Effective loom settings: configured values (defaults < file < env), then the style's own settings,
 * then flags, which always win.
 */
export async function resolveLoomSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  flags: LoomFlags,
  readText: ReadText,
): Promise<LoomJobSettings> {
  const fromFlag = (key: keyof LoomSettings) => resolved.sources[`loom.${key}`]?.kind === 'flag';
  const pick = <K extends keyof LoomSettings>(key: K): LoomSettings[K] =>
    fromFlag(key) || style.loom[key] === undefined ? resolved.config.loom[key] : (style.loom[key] as LoomSettings[K]);

  let paletteSpec = pick('palette');
  let colors = pick('colors');
  // An explicit --colors replaces a palette that only the style or config imposed.
  if (fromFlag('colors') && paletteSpec !== undefined && !fromFlag('palette')) paletteSpec = undefined;
  let palette: Uint8Array | undefined;
  if (paletteSpec !== undefined) {
    palette = await parsePaletteSpec(paletteSpec, readText);
    const n = palette.length / 3;
    if (fromFlag('colors') && colors !== n) {
      throw new UsageError(`--colors ${colors} contradicts --palette, which has ${n} colours`);
    }
    colors = n;
  }

  let background: [number, number, number] = [255, 255, 255];
  if (flags.background !== undefined) {
    const rgb = parseHex(flags.background);
    if (!rgb) throw new UsageError(`--background: expected a #rrggbb colour, got "${flags.background}"`);
    background = rgb;
  }

  return {
    width: pick('width'),
    height: flags.height === undefined ? undefined : parseIntFlag('--height', flags.height, 1, MAX_GRID_SIDE),
    density: flags.density === undefined ? undefined : parseDensity(flags.density),
    colors,
    dither: pick('dither'),
    minRegion: pick('minRegion'),
    palette,
    paletteSpec,
    background,
    format: resolved.config.output.format,
  };
}

export interface LoomJobMeta {
  input?: string;
  prompt?: string;
  style: string;
  source: 'local' | 'local-fallback' | 'dashscope' | 'modelscope';
  taskId?: string;
  remoteError?: Record<string, unknown>;
  model?: string;
}

export interface OutputChoice {
  /** -o: an exact path. */
  output?: string;
  /** Folder for derived names. */
  dir: string;
  /** Derived name without extension: cat.loom */
  stem: string;
  force: boolean;
  /** Write the JSON report beside the image (or to `reportPath`). */
  report: boolean;
  reportPath?: string;
}

/** The report beside an image: cat.loom.png -> cat.loom.json. */
export function reportFileFor(imageFile: string): string {
  return imageFile.replace(/\.[^./\\]+$/, '') + '.json';
}

/**
 * Fails before any work (and before a billed remote call) when an exact target (-o, --report, or the report
 * beside -o) already exists and --force was not given. Derived names pick a free name later instead.
 */
export async function checkExactTargets(out: OutputChoice, fs: OutputFs): Promise<void> {
  if (out.force) return;
  const files: string[] = [];
  if (out.output) files.push(path.resolve(out.output));
  if (out.report && out.reportPath) files.push(path.resolve(out.reportPath));
  else if (out.report && out.output) files.push(reportFileFor(path.resolve(out.output)));
  await assertFree(fs, files);
}

export interface LoomJobResult {
  record: Record<string, unknown>;
  stats: LoomStats;
}

export async function runLoomJob(
  source: RgbaImage,
  settings: LoomJobSettings,
  meta: LoomJobMeta,
  out: OutputChoice,
  fs: OutputFs,
): Promise<LoomJobResult> {
  const height = settings.height ?? gridHeight(settings.width, source.width, source.height, settings.density);
  if (height > MAX_GRID_SIDE) {
    throw new UsageError(`the grid would be ${settings.width} × ${height}; at most ${MAX_GRID_SIDE} picks are allowed`, {
      hint: 'give a smaller --width or an explicit --height',
    });
  }
  const { image, stats } = runLoomPipeline(source, {
    width: settings.width,
    height,
    colors: settings.colors,
    dither: settings.dither,
    minRegion: settings.minRegion,
    palette: settings.palette,
    background: settings.background,
  });

  const ext = settings.format;
  let file: string;
  if (out.output) {
    file = path.resolve(out.output);
  } else {
    await fs.mkdir(out.dir, { recursive: true });
    file = await nextFreeName(fs, out.dir, out.stem, ext, out.report && !out.reportPath ? ['json'] : []);
  }
  const reportFile = !out.report ? undefined : out.reportPath ? path.resolve(out.reportPath) : reportFileFor(file);

  const settingsRecord = {
    width: settings.width,
    height,
    colors: settings.colors,
    dither: settings.dither,
    minRegion: settings.minRegion,
    palette: settings.paletteSpec,
    background: `#${settings.background.map((v) => v.toString(16).padStart(2, '0')).join('')}`,
    format: settings.format,
  };
  const text = [
    { keyword: 'Software', text: 'imagegen' },
    { keyword: 'imagegen:style', text: meta.style },
    { keyword: 'imagegen:source', text: meta.source },
    { keyword: 'imagegen:settings', text: JSON.stringify(settingsRecord) },
    ...(meta.prompt ? [{ keyword: 'imagegen:prompt', text: meta.prompt }] : []),
    ...(meta.taskId ? [{ keyword: 'imagegen:taskId', text: meta.taskId }] : []),
  ];
  await writeFileAtomic(fs, file, encodeLoomImage(image, settings.format, text), { overwrite: out.force });

  if (reportFile) {
    const report = {
      image: path.basename(file),
      grid: { ends: image.width, picks: image.height },
      density: settings.density ?? null,
      woven:
        settings.density === undefined
          ? null
          : {
              width: round2(image.width / settings.density.ends),
              length: round2(image.height / settings.density.picks),
              unit: settings.density.unit,
            },
      palette: stats.palette,
      regions: { count: stats.regions, smallest: stats.smallestRegion, belowMinRegion: stats.regionsBelowMin, specksMerged: stats.specksMerged },
      droppedColors: stats.droppedColors,
      unusedColors: stats.unusedColors,
      settings: settingsRecord,
      source: {
        kind: meta.source,
        input: meta.input ?? null,
        prompt: meta.prompt ?? null,
        style: meta.style,
        model: meta.model ?? null,
        taskId: meta.taskId ?? null,
        remoteError: meta.remoteError ?? null,
      },
    };
    await writeFileAtomic(fs, reportFile, JSON.stringify(report, null, 2) + '\n', { overwrite: out.force });
  }

  const record: Record<string, unknown> = {
    status: 'ok',
    input: meta.input ?? null,
    output: file,
    style: meta.style,
    source: meta.source,
    width: image.width,
    height: image.height,
    colors: image.palette.length / 3,
  };
  if (reportFile) record.report = reportFile;
  if (meta.prompt !== undefined) record.prompt = meta.prompt;
  if (meta.taskId) record.taskId = meta.taskId;
  if (meta.remoteError) record.remoteError = meta.remoteError;
  return { record, stats };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
