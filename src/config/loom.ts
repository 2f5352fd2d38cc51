/**
 * The loom settings a job runs with: configured values (defaults < file < env), then the style's own
 * settings, then flags, which always win. The palette file, if any, is read here.
 */
import { UsageError } from '../kernel/errors.js';
import type { Fs } from '../kernel/ports.js';
import { parseHex } from '../loom/color.js';
import type { LoomSettings } from '../loom/types.js';
import { paletteFrom, parsePaletteSpec } from './palette.js';
import type { ResolvedConfig } from './resolve.js';
import type { LoomConfig } from './schema.js';
import type { StylePreset } from './styles.js';

export interface JobLoomSettings {
  loom: LoomSettings;
  /** The palette as written, for the report. */
  paletteSpec?: string | string[];
}

export async function resolveLoomSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  fs: Pick<Fs, 'readFile'>,
): Promise<JobLoomSettings> {
  const fromFlag = (key: keyof LoomConfig) => resolved.sources[`loom.${key}`]?.kind === 'flag';
  const pick = <K extends keyof LoomConfig>(key: K): LoomConfig[K] =>
    fromFlag(key) || style.loom[key] === undefined ? resolved.config.loom[key] : (style.loom[key] as LoomConfig[K]);

  let paletteSpec = pick('palette');
  let colors = pick('colors');
  // An explicit --colors replaces a palette that only the style or config imposed.
  if (fromFlag('colors') && paletteSpec !== undefined && !fromFlag('palette')) paletteSpec = undefined;
  let palette: Uint8Array | undefined;
  if (paletteSpec !== undefined) {
    const where = fromFlag('palette')
      ? '--palette'
      : style.loom.palette !== undefined
        ? `style ${style.name}: palette`
        : 'loom.palette';
    palette = await parsePaletteSpec(paletteSpec, (file, options) => fs.readFile(file, options), paletteFrom(where));
    const n = palette.length / 3;
    if (fromFlag('colors') && colors !== n) {
      throw new UsageError(`--colors ${colors} contradicts --palette, which has ${n} colours`);
    }
    colors = n;
  }
  // Validated as #rrggbb by the config schema.
  const background = parseHex(pick('background'))!;
  return {
    loom: {
      width: pick('width'),
      height: pick('height'),
      density: pick('density'),
      colors,
      dither: pick('dither'),
      minRegion: pick('minRegion'),
      palette,
      background,
    },
    paletteSpec,
  };
}

/**
 * Whether the design's width was asked for with the hooks: typed (--width) or part of the loom preset. A width
 * from the config file or env is the usual design width, and yields to --hooks.
 */
export function hasWidth(resolved: ResolvedConfig): boolean {
  const source = resolved.sources['loom.width'];
  return source?.kind === 'flag' || (source?.kind === 'file' && source.preset !== undefined);
}
