/**
 * Which structure each palette colour becomes: a weave map as typed (`auto`, `0=satin:8/warp,#f4f1e8=plain`,
 * `auto,3=twill:2/2`, `*=plain`), checked against the palette, and resolved to one structure per colour.
 */
import { SRGB_TO_LINEAR, parseHex, toHex } from '../color.js';
import { StructureError, parseStructure, shadedFamily, warpCover, type Structure } from './structures.js';

export interface WeaveMap {
  /** `auto` or `auto:N`: colours the map does not name get a shaded satin on N ends by lightness. */
  auto?: number;
  byIndex: Map<number, string>;
  byHex: Map<string, string>;
  /** `*=structure`: colours the map does not name. */
  rest?: string;
  /** As typed, for the report. */
  text: string;
}

const AUTO_SATIN = 8;

const WEAVE_MAP_SYNTAX = 'auto, auto:N, or entries like 0=satin:8/warp,1=twill:2/2,#f4f1e8=plain,*=plain';

/** Parses a weave map; every structure name is checked here, so a typo fails before any work. */
export function parseWeaveMap(text: string, named: ReadonlyMap<string, Structure> = new Map()): WeaveMap {
  const map: WeaveMap = { byIndex: new Map(), byHex: new Map(), text };
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new StructureError(`an empty weave map (${WEAVE_MAP_SYNTAX})`);
  for (const entry of entries) {
    const auto = /^auto(?::(\d+))?$/i.exec(entry);
    if (auto) {
      const n = auto[1] === undefined ? AUTO_SATIN : Number(auto[1]);
      try {
        shadedFamily(n);
      } catch (err) {
        throw new StructureError(`"${entry}": ${(err as Error).message}`);
      }
      map.auto = n;
      continue;
    }
    const eq = entry.indexOf('=');
    if (eq < 0) throw new StructureError(`"${entry}" is not a map entry (${WEAVE_MAP_SYNTAX})`);
    const key = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    parseStructure(value, named);
    if (key === '*') {
      map.rest = value;
    } else if (/^\d+$/.test(key)) {
      const index = Number(key);
      if (index > 255) throw new StructureError(`"${entry}": a palette index is 0 to 255`);
      map.byIndex.set(index, value);
    } else {
      const rgb = parseHex(key);
      if (!rgb || !/^#/.test(key)) {
        throw new StructureError(`"${entry}": a colour is a palette index (0, 1, …) or #rrggbb`);
      }
      map.byHex.set(toHex(...rgb), value);
    }
  }
  return map;
}

/**
 * Checks a map against what is known before any picture exists: the number of colours, and the palette
 * when it is fixed. A colour named by hex needs a fixed palette; one the palette lacks is refused.
 */
export function checkWeaveMap(map: WeaveMap, colors: number, palette?: Uint8Array): void {
  for (const index of map.byIndex.keys()) {
    if (index >= colors) {
      throw new StructureError(`colour ${index} is not in the palette: it has ${colors} colours (0 to ${colors - 1})`);
    }
  }
  const hexes: string[] = [];
  if (palette)
    for (let i = 0; i < palette.length; i += 3) hexes.push(toHex(palette[i], palette[i + 1], palette[i + 2]));
  for (const hex of map.byHex.keys()) {
    if (!palette) {
      throw new StructureError(
        `${hex}: a colour named by hex needs a fixed palette (--palette); otherwise the palette is chosen from the picture`,
      );
    }
    if (!hexes.includes(hex)) throw new StructureError(`${hex} is not in the palette (${hexes.join(', ')})`);
  }
  if (map.auto !== undefined || map.rest !== undefined) return;
  const missing: string[] = [];
  for (let i = 0; i < colors; i++) {
    if (!map.byIndex.has(i) && !(palette && map.byHex.has(hexes[i])))
      missing.push(palette ? `${i} (${hexes[i]})` : `${i}`);
  }
  if (missing.length) throw noStructureFor(missing);
}

function noStructureFor(missing: string[]): StructureError {
  return new StructureError(
    `colour ${missing.join(', ')} has no structure: name every colour, or add auto or *=<structure>`,
  );
}

/** Relative luminance (linear light, 0..1) of an sRGB colour. */
function luminance(rgb: ArrayLike<number>, at = 0): number {
  return (
    0.2126729 * SRGB_TO_LINEAR[rgb[at]] +
    0.7151522 * SRGB_TO_LINEAR[rgb[at + 1]] +
    0.072175 * SRGB_TO_LINEAR[rgb[at + 2]]
  );
}

function lightness(y: number): number {
  return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y;
}

export interface Yarns {
  warp: readonly [number, number, number];
  weft: readonly [number, number, number];
}

/**
 * The shaded satin whose cloth is closest in lightness to each colour. The cloth's tone is taken as the
 * yarns' L* weighted by cover, the even ramp a shaded-satin blanket shows (a design indexed to seven greys
 * woven in 1/7 … 7/1); mixing in linear light instead would push every mid tone to the darkest satins.
 * Nearest-in-a-sorted-list is monotone: a darker colour never gets less of the darker yarn.
 */
export function autoStructures(palette: Uint8Array, yarns: Yarns, n = AUTO_SATIN): Structure[] {
  const lWarp = lightness(luminance(yarns.warp));
  const lWeft = lightness(luminance(yarns.weft));
  if (Math.abs(lWarp - lWeft) < 1) {
    throw new StructureError(
      `auto: the warp (${toHex(...yarns.warp)}) and weft (${toHex(...yarns.weft)}) are equally light, so no structure can render a tone`,
    );
  }
  const family = shadedFamily(n);
  const tones = family.map((s) => {
    const c = warpCover(s);
    return c * lWarp + (1 - c) * lWeft;
  });
  const out: Structure[] = [];
  for (let i = 0; i < palette.length / 3; i++) {
    const l = lightness(luminance(palette, i * 3));
    let best = 0;
    for (let k = 1; k < family.length; k++) if (Math.abs(tones[k] - l) < Math.abs(tones[best] - l)) best = k;
    out.push(family[best]);
  }
  return out;
}

/** One structure per palette colour. */
export function assignStructures(
  map: WeaveMap,
  palette: Uint8Array,
  yarns: Yarns,
  named: ReadonlyMap<string, Structure> = new Map(),
): Structure[] {
  const colors = palette.length / 3;
  const auto = map.auto === undefined ? undefined : autoStructures(palette, yarns, map.auto);
  const missing: string[] = [];
  const out: Structure[] = [];
  for (let i = 0; i < colors; i++) {
    const hex = toHex(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]);
    const name = map.byIndex.get(i) ?? map.byHex.get(hex) ?? map.rest;
    if (name !== undefined) out.push(parseStructure(name, named));
    else if (auto) out.push(auto[i]);
    else missing.push(`${i} (${hex})`);
  }
  if (missing.length) throw noStructureFor(missing);
  return out;
}
