/**
 * The weave settings a job runs with, checked in full before any picture is fetched or woven: the map (from
 * --weave, else the style's, else `weave.map`, else auto) against the configured structures and the palette,
 * the yarns, the float limit and the selvedge.
 */
import { UsageError } from '../kernel/errors.js';
import { parseHex } from '../loom/color.js';
import type { LoomSettings } from '../loom/types.js';
import { autoStructures, checkWeaveMap, parseWeaveMap } from '../loom/weave/assign.js';
import { StructureError } from '../loom/weave/structures.js';
import type { ResolvedConfig } from './resolve.js';
import type { WeaveDefinition } from './schema.js';
import type { StylePreset } from './styles.js';
import { namedStructures } from './weaves.js';

/** Plain data: it crosses to the worker that weaves. */
export interface WeaveSettings {
  map: string;
  weaves: Record<string, WeaveDefinition>;
  warp: [number, number, number];
  weft: [number, number, number];
  maxFloat: number;
  selvedge: number;
  tile: boolean;
  invert: boolean;
  liftFormat: string;
  previewScale?: number;
}

export interface WeaveFlags {
  /** --weave given, with or without a map. */
  weave: boolean;
  tile: boolean;
  invert: boolean;
}

export const NO_WEAVE: WeaveFlags = { weave: false, tile: false, invert: false };

/** The extensions of the files a woven design adds beside its image. */
export function weaveFileExts(settings: WeaveSettings): string[] {
  return [`lift.${settings.liftFormat}`, 'cloth.png'];
}

/** Undefined when nothing asks for weaving (no --weave and no `weave.map`). */
export function resolveWeaveSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  loom: LoomSettings,
  flags: WeaveFlags,
): WeaveSettings | undefined {
  const { config, sources } = resolved;
  const mapSource = sources['weave.map'];
  if (!flags.weave && mapSource === undefined) {
    for (const [flag, on] of [
      ['--tile', flags.tile],
      ['--invert', flags.invert],
    ] as const) {
      if (on) throw new UsageError(`${flag} applies to the lift plan: add --weave`);
    }
    return undefined;
  }
  let map: string;
  let where: string;
  if (mapSource?.kind === 'flag' || (style.weave === undefined && config.weave.map !== undefined)) {
    map = config.weave.map!;
    where = mapSource?.kind === 'flag' ? '--weave' : 'weave.map';
  } else if (style.weave !== undefined) {
    map = style.weave;
    where = `style ${style.name}: weave`;
  } else {
    map = 'auto';
    where = '--weave';
  }
  const warp = parseHex(config.weave.warp)!;
  const weft = parseHex(config.weave.weft)!;
  try {
    const parsed = parseWeaveMap(map, namedStructures(config.weaves));
    checkWeaveMap(parsed, loom.colors, loom.palette);
    if (parsed.auto !== undefined) autoStructures(new Uint8Array(0), { warp, weft }, parsed.auto);
  } catch (err) {
    if (err instanceof StructureError) {
      // `--weave photo.jpg` takes the input as the map: commander reads an optional value greedily.
      const swallowed = where === '--weave' && !map.includes('=') && !/^auto/i.test(map.trim());
      throw new UsageError(`${where}: ${err.message}`, {
        hint: swallowed
          ? `if "${map}" is an input, write --weave auto, or put --weave after the inputs`
          : 'imagegen weaves lists the structures',
      });
    }
    throw err;
  }
  const selvedge = config.weave.selvedge;
  if (selvedge * 2 >= loom.width) {
    throw new UsageError(
      `--selvedge ${selvedge}: two selvedges of ${selvedge} ends leave no design in ${loom.width} ends`,
    );
  }
  return {
    map,
    weaves: config.weaves,
    warp,
    weft,
    maxFloat: config.weave.maxFloat,
    selvedge,
    tile: flags.tile,
    invert: flags.invert,
    liftFormat: config.weave.liftFormat,
    previewScale: config.weave.previewScale,
  };
}
