/**
 * The settings of a job that weaves (--weave, or `weave.map`): the map against the configured structures and
 * the palette, the yarns, the float limit, the selvedge and the loom's layout.
 */
import { InputError, UsageError } from '../kernel/errors.js';
import { parseHex, toHex } from '../loom/color.js';
import type { LoomSettings } from '../loom/types.js';
import { autoSatinFor, autoStructures, checkWeaveMap, parseWeaveMap } from '../loom/weave/assign.js';
import { effectColors, nearestEffects, weftEffects } from '../loom/weave/effects.js';
import { LayoutError, layoutLoom, type LoomLayout } from '../loom/weave/layout.js';
import { closingUnit, nearestClosing } from '../loom/weave/repeat.js';
import { StructureError, parseStructure, shadedFamily, type Structure } from '../loom/weave/structures.js';
import { longestFloats, longestWarpWeft, plainSeams } from '../loom/weave/floats.js';
import { hasWidth } from './loom.js';
import { parsePaletteSpec, type ReadFile } from './palette.js';
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
  /** Several weft yarns in shuttle order: a compound cloth. Absent: one weft, `weft`. */
  wefts?: [number, number, number][];
  /** The shaded satins' ends for the effects of several wefts (auto:N). */
  effectEnds: number;
  /** With --tile fit: the satin auto takes, fixed, as the grid was sized for it. */
  autoEnds?: number;
  maxFloat: number;
  maxBackFloat: number;
  selectorHooks?: 'left' | 'right';
  /** With several wefts and a fixed palette: each colour asked for, the effect colour it became, and how far. */
  askedColors?: { asked: string; hex: string; deltaE: number }[];
  selvedge: number;
  /** The selvedges' structure, by name (default plain). */
  selvedgeWeave?: string;
  /** The hooks: selector hooks, selvedges and the design's repeats (default: one repeat, `selvedge` each side). */
  layout?: LoomLayout;
  /** Hooks a whole number of repeats could not use, woven into the selvedges. */
  spareHooks?: number;
  tile: boolean;
  invert: boolean;
  liftFormat: string;
  previewScale?: number;
}

export interface WeaveFlags {
  /** --weave given, with or without a map. */
  weave: boolean;
  tile: boolean;
  /** --tile fit: the grid is sized so that every structure closes at the seams. */
  tileFit?: boolean;
  invert: boolean;
}

/** The widest cloth picture drawn: wider ones no image viewer opens whole. */
const PREVIEW_MAX_SIDE = 32_768;

/** Most wefts a compound cloth takes: the shuttles or rapier colours of a usual weft selector. */
const MAX_WEFTS = 8;

/**
 * The weave settings of a job that weaves, and the loom settings the design is made with: with several wefts
 * its palette is taken among the colours the yarns can weave, or a fixed palette is moved to the nearest of them.
 */
export async function weaveSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  loom: LoomSettings,
  flags: WeaveFlags,
  readFile: ReadFile,
): Promise<{ weave?: WeaveSettings; loom: LoomSettings }> {
  const { config, sources } = resolved;
  const mapSource = sources['weave.map'];
  const fromFlag = (key: string) => sources[key]?.kind === 'flag';
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
  const named = namedStructures(config.weaves);
  let parsed: ReturnType<typeof parseWeaveMap>;
  try {
    parsed = parseWeaveMap(map, named);
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
  // A WIF names the shafts raised on each pick: no colours to swap, and a flipped plan would be another cloth.
  if (flags.invert && config.weave.liftFormat === 'wif') {
    throw new UsageError('--invert applies to image lift plans: a WIF lift plan lists the raised ends by number', {
      hint: 'drop --invert, or give --lift-format bmp, png or tiff',
    });
  }
  const maxFloat = config.weave.maxFloat;
  const settings: WeaveSettings = {
    map,
    weaves: config.weaves,
    warp,
    weft,
    effectEnds: parsed.auto ?? 8,
    maxFloat,
    maxBackFloat: config.weave.maxBackFloat ?? 2 * maxFloat,
    selvedge,
    selvedgeWeave: config.weave.selvedgeWeave,
    tile: flags.tile,
    invert: flags.invert,
    liftFormat: config.weave.liftFormat,
    previewScale: config.weave.previewScale,
  };
  const yarns = await weftYarns(resolved, style, readFile);
  if (!yarns) {
    for (const key of ['weave.maxBackFloat', 'weave.selectorHooks']) {
      if (fromFlag(key)) throw new UsageError(`${flagName(key)} applies to several wefts: add --wefts`);
    }
    if (!flags.tileFit) return laidOut(resolved, settings, loom, 1);
    // auto would take a larger satin for many colours: the grid is sized for the one it will take, and kept to.
    const autoEnds =
      parsed.auto === undefined
        ? undefined
        : autoSatinFor(loom.palette ? loom.palette.length / 3 : loom.colors, parsed.auto);
    const possible = [
      ...[...parsed.byIndex.values(), ...parsed.byHex.values(), ...(parsed.rest ? [parsed.rest] : [])].map((name) =>
        parseStructure(name, named),
      ),
      ...(autoEnds !== undefined ? shadedFamily(autoEnds) : []),
    ];
    return laidOut(resolved, { ...settings, ...(autoEnds ? { autoEnds } : {}) }, loom, 1, closingUnit(possible));
  }
  if (parsed.auto === undefined || parsed.byIndex.size || parsed.byHex.size || parsed.rest) {
    throw new UsageError(
      `${where}: with ${yarns.where}, each colour is an effect of the yarns and takes its structure from them; the map can only be auto or auto:N`,
      { hint: `write --weave auto (or auto:10 for 10-end satins)` },
    );
  }
  yarns.wefts.forEach((weft, k) => {
    const same = yarns.wefts.findIndex((other) => other.every((v, i) => v === weft[i]));
    if (same < k) {
      throw new UsageError(`${yarns.where}: weft ${k + 1} (${toHex(...weft)}) is the same colour as weft ${same + 1}`, {
        hint: 'each weft is a shuttle of its own colour; give each once',
      });
    }
  });
  // The face weft keeps at least half its pick lowered: a float of half the satin, which the limit must allow.
  const shortest = Math.ceil(settings.effectEnds / 2);
  if (maxFloat < shortest) {
    throw new UsageError(
      `--max-float ${maxFloat}: with several wefts on ${settings.effectEnds}-end satins the face weft floats at least ${shortest} ends`,
      { hint: `raise --max-float to ${shortest} or more, or weave on a smaller satin (--weave auto:5)` },
    );
  }
  const effects = weftEffects(warp, yarns.wefts, settings.effectEnds, { mixes: true });
  const laid = laidOut(
    resolved,
    { ...settings, wefts: yarns.wefts, selectorHooks: config.weave.selectorHooks },
    loom,
    yarns.wefts.length,
    flags.tileFit ? closingUnit(effects.map((e) => e.structure)) : undefined,
  );
  const woven = laid.weave;
  loom = laid.loom;
  if (!loom.palette) return { weave: woven, loom: { ...loom, candidates: effectColors(effects) } };
  // A fixed palette: each colour becomes the effect nearest to it, said in the report; two that meet are one.
  const nearest = nearestEffects(loom.palette, effects);
  const kept: number[] = [];
  const seen = new Set<string>();
  for (const n of nearest) {
    const hex = toHex(...n.effect.rgb);
    if (seen.has(hex)) continue;
    seen.add(hex);
    kept.push(...n.effect.rgb);
  }
  const palette = Uint8Array.from(kept);
  if (palette.length < 6) {
    throw new UsageError(
      `--palette: its colours all come to one effect of the yarns (${toHex(palette[0], palette[1], palette[2])}): a design needs two`,
      { hint: 'give colours the yarns can weave apart (imagegen weaves --wefts … lists them)' },
    );
  }
  return {
    weave: {
      ...woven,
      askedColors: nearest.map((n) => ({
        asked: n.asked,
        hex: toHex(...n.effect.rgb),
        deltaE: Math.round(n.deltaE * 100) / 100,
      })),
    },
    loom: { ...loom, palette, colors: palette.length / 3 },
  };
}

/**
 * The loom laid out: the design's width from --width, or from --hooks less the selvedges and selector hooks;
 * the selvedge structure checked against the shuttle order and the float limit. With --tile fit (`closing`),
 * the grid every structure closes in: the design's ends a multiple of the unit (the largest that fits the hooks,
 * else the nearest), the picks too (those from the aspect ratio are rounded when the picture is known).
 */
function laidOut(
  resolved: ResolvedConfig,
  settings: WeaveSettings,
  loom: LoomSettings,
  wefts: number,
  closing?: { ends: number; picks: number },
): { weave: WeaveSettings; loom: LoomSettings } {
  const { config } = resolved;
  const hooks = config.loom.hooks;
  const selector = settings.selectorHooks ? { side: settings.selectorHooks, ends: wefts } : undefined;
  const request = {
    hooks,
    unit: hooks === undefined || hasWidth(resolved) ? loom.width : undefined,
    repeats: config.weave.repeats,
    tie: config.weave.tie,
    selvedge: settings.selvedge,
    ...(selector ? { selector } : {}),
  };
  let layout;
  try {
    layout = layoutLoom(request);
    if (closing) {
      const fitted =
        hooks === undefined
          ? nearestClosing(layout.unit, closing.ends)
          : Math.floor(layout.unit / closing.ends) * closing.ends;
      if (fitted < 1) {
        throw new LayoutError(
          `--tile fit: its structures close every ${closing.ends} ends, more than the ${layout.unit} the design has on --hooks ${hooks}`,
        );
      }
      layout = layoutLoom({ ...request, unit: fitted, repeats: layout.repeats });
    }
  } catch (err) {
    if (err instanceof LayoutError) throw new UsageError(err.message);
    throw err;
  }
  const edge = selvedgeStructure(settings, resolved, wefts);
  const scale = config.weave.previewScale;
  if (scale !== undefined && scale * layout.hooks > PREVIEW_MAX_SIDE) {
    throw new UsageError(
      `--preview-scale ${scale}: ${layout.hooks} ends at ${scale} pixels each make a picture ${scale * layout.hooks} pixels wide, more than ${PREVIEW_MAX_SIDE}`,
      { hint: `give --preview-scale ${Math.max(1, Math.floor(PREVIEW_MAX_SIDE / layout.hooks))} or less` },
    );
  }
  const { spare, ...plain } = layout;
  return {
    weave: { ...settings, layout: plain, spareHooks: spare, selvedgeWeave: edge.name },
    loom: {
      ...loom,
      width: layout.unit,
      ...(closing
        ? {
            ...(loom.height === undefined ? {} : { height: nearestClosing(loom.height, closing.picks) }),
            heightStep: closing.picks,
          }
        : {}),
    },
  };
}

/**
 * The selvedges' structure: a known one, whose floats keep to the limit, and with several wefts one whose
 * picks divide into two rounds of the shuttles, so that the edge end catches every weft.
 */
function selvedgeStructure(settings: WeaveSettings, resolved: ResolvedConfig, wefts: number): Structure {
  const where = resolved.sources['weave.selvedgeWeave']?.kind === 'flag' ? '--selvedge-weave' : 'weave.selvedgeWeave';
  const name = settings.selvedgeWeave ?? 'plain';
  let edge: Structure;
  try {
    edge = parseStructure(name, namedStructures(resolved.config.weaves));
  } catch (err) {
    if (err instanceof StructureError) {
      throw new UsageError(`${where} ${name}: ${err.message}`, { hint: 'imagegen weaves lists the structures' });
    }
    throw err;
  }
  if (wefts > 1 && (2 * wefts) % edge.height !== 0) {
    throw new UsageError(
      `${where} ${name}: its repeat of ${edge.height} picks does not divide into the shuttle order of ${wefts} wefts (${2 * wefts} picks), so the edge end would miss a weft`,
      {
        hint: `give a structure of ${[1, 2, wefts, 2 * wefts].filter((h, i, all) => h > 1 && all.indexOf(h) === i).join(', ')} picks, e.g. plain`,
      },
    );
  }
  const floats = longestWarpWeft(
    longestFloats({ width: edge.width, height: edge.height, cells: edge.cells }, plainSeams(edge.width, true)),
  );
  const longest = Math.max(floats.warp, floats.weft);
  if (longest > settings.maxFloat) {
    throw new UsageError(
      `${where} ${name}: it floats over ${Number.isFinite(longest) ? longest : 'every'} threads, more than --max-float ${settings.maxFloat}`,
      { hint: 'give a tighter selvedge structure, e.g. plain' },
    );
  }
  return edge;
}

function flagName(key: string): string {
  return key === 'weave.maxBackFloat' ? '--max-back-float' : '--selector-hooks';
}

/** The weft yarns, from --wefts, else the style's, else weave.wefts; undefined for one weft. */
async function weftYarns(
  resolved: ResolvedConfig,
  style: StylePreset,
  readFile: ReadFile,
): Promise<{ wefts: [number, number, number][]; where: string } | undefined> {
  const source = resolved.sources['weave.wefts'];
  const fromConfig = resolved.config.weave.wefts;
  if (source?.kind === 'flag' || (style.wefts === undefined && fromConfig !== undefined)) {
    const where = source?.kind === 'flag' ? '--wefts' : 'weave.wefts';
    return fromConfig === undefined ? undefined : { wefts: await parseWefts(fromConfig, where, readFile), where };
  }
  if (style.wefts === undefined) return undefined;
  const where = `style ${style.name}: wefts`;
  return { wefts: await parseWefts(style.wefts, where, readFile), where };
}

/** A list of weft yarns as typed (`where` names it in errors): 2 to 8 colours. */
export async function parseWefts(
  spec: string | string[],
  where: string,
  readFile: ReadFile,
): Promise<[number, number, number][]> {
  // A yarn list that cannot be read is the option's fault: exit 2, as for a bad colour.
  const palette = await parsePaletteSpec(spec, readFile, { name: where, min: 2, max: MAX_WEFTS }).catch((err) => {
    throw err instanceof InputError ? new UsageError(err.message) : err;
  });
  const wefts: [number, number, number][] = [];
  for (let i = 0; i < palette.length; i += 3) wefts.push([palette[i], palette[i + 1], palette[i + 2]]);
  return wefts;
}
