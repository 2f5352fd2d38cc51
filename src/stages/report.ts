/** What is written beside a loom image: the JSON report, and the text stored in the image where the format allows. */
import type { ErrorRecord } from '../kernel/errors.js';
import type { LoomResult } from '../loom/pipeline.js';
import type { LoomSettings } from '../loom/types.js';
import type { TextEntry } from '../formats/types.js';

/** Where a finished picture came from. */
export interface OutputMeta {
  input?: string;
  prompt?: string;
  style: string;
  /** 'local', 'local-fallback', or the provider id. */
  source: string;
  provider?: string;
  model?: string;
  taskId?: string;
  requestId?: string;
  seed?: number;
  remoteError?: ErrorRecord;
  /** What was wrong with the input's data when --lenient accepted it. */
  inputWarnings?: string[];
}

export interface SettingsRecord {
  width: number;
  height: number;
  colors: number;
  dither: string;
  minRegion: number;
  palette?: string | string[];
  background: string;
  format: string;
}

function hex(rgb: readonly number[]): string {
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function settingsRecord(
  settings: LoomSettings,
  result: LoomResult,
  format: string,
  paletteSpec?: string | string[],
): SettingsRecord {
  return {
    width: settings.width,
    height: result.image.height,
    colors: settings.colors,
    dither: settings.dither,
    minRegion: settings.minRegion,
    palette: paletteSpec,
    background: hex(settings.background ?? [255, 255, 255]),
    format,
  };
}

export function imageText(meta: OutputMeta, settings: SettingsRecord): TextEntry[] {
  return [
    { keyword: 'Software', text: 'imagegen' },
    { keyword: 'imagegen:style', text: meta.style },
    { keyword: 'imagegen:source', text: meta.source },
    { keyword: 'imagegen:settings', text: JSON.stringify(settings) },
    ...(meta.prompt ? [{ keyword: 'imagegen:prompt', text: meta.prompt }] : []),
    ...(meta.taskId ? [{ keyword: 'imagegen:taskId', text: meta.taskId }] : []),
  ];
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function buildReport(
  imageName: string,
  result: LoomResult,
  loom: LoomSettings,
  settings: SettingsRecord,
  meta: OutputMeta,
  weave?: object,
) {
  const { image, stats } = result;
  const density = loom.density;
  return {
    image: imageName,
    grid: { ends: image.width, picks: image.height },
    density: density ?? null,
    woven:
      density === undefined
        ? null
        : {
            width: round2(image.width / density.ends),
            length: round2(image.height / density.picks),
            unit: density.unit,
          },
    palette: stats.palette,
    regions: {
      count: stats.regions,
      smallest: stats.smallestRegion,
      belowMinRegion: stats.regionsBelowMin,
      specksMerged: stats.specksMerged,
    },
    droppedColors: stats.droppedColors,
    unusedColors: stats.unusedColors,
    settings,
    source: {
      kind: meta.source,
      input: meta.input ?? null,
      prompt: meta.prompt ?? null,
      style: meta.style,
      model: meta.model ?? null,
      taskId: meta.taskId ?? null,
      remoteError: meta.remoteError ?? null,
      ...(meta.inputWarnings ? { inputWarnings: meta.inputWarnings } : {}),
    },
    ...(weave ? { weave } : {}),
  };
}
