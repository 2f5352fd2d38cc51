/**
 * Which structure each palette colour becomes: a weave map as typed (`auto`, `0=satin:8/warp,#f4f1e8=plain`,
 * `auto,3=twill:2/2`, `*=plain`), checked against the palette, and resolved to one structure per colour.
 */
import { SRGB_TO_LINEAR, parseHex, toHex } from '../color.js';
import { StructureError, parseStructure, satinMoves, shadedFamily, type Structure } from './structures.js';

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

/** The largest satin `auto` widens to when the one asked for has too few steps for the colours. */
export const MAX_AUTO_SATIN = 16;

/** The smallest satin, from `asked` ends up to the largest auto takes, whose shaded family has `colors` steps. */
export function autoSatinFor(colors: number, asked: number): number {
  for (let e = asked; e <= MAX_AUTO_SATIN; e++) if (satinMoves(e).length > 0 && e - 1 >= colors) return e;
  return Math.max(asked, MAX_AUTO_SATIN);
}

/** Colours that share one structure though they differ, and why. */
interface SharedStructure {
  structure: string;
  colors: number[];
  hexes: string[];
  /** L* of each colour, to a tenth. */
  lightness: number[];
  why: string;
}

/** What `auto` chose: a structure per colour it covers, the satin it took, and any colours that share. */
export interface AutoMapping {
  /** structures[i] for palette colour i; undefined for a colour auto does not cover. */
  structures: (Structure | undefined)[];
  /** The satin of the shaded family used, and the one asked for (auto:N, else 8). */
  ends: number;
  asked: number;
  /** Why a larger satin than asked was taken. */
  why?: string;
  shared: SharedStructure[];
}

interface Toned {
  index: number;
  l: number;
  /** The warp cover whose cloth has the colour's L*, clamped to what the yarns can weave. */
  target: number;
}

/**
 * Colours (sorted by target) to steps 1 … steps of a family on `ends` ends, order kept, minimising the squared
 * L* error: every colour its own step (strictly increasing) when there are enough, else all steps used with
 * the fewest colours sharing, where sharing costs the least tone. Returns the step (1-based) of each colour.
 */
function orderedSteps(items: readonly Toned[], ends: number, span: number): number[] {
  const m = items.length;
  const steps = ends - 1;
  if (m === 0) return [];
  const cost = (i: number, j: number) => ((j / ends - items[i].target) * span) ** 2;
  const strict = m <= steps;
  // best[i][j]: least cost of colours 0..i with colour i on step j; from[i][j]: colour i − 1's step.
  const best = Array.from({ length: m }, () => new Float64Array(steps + 1).fill(Infinity));
  const from = Array.from({ length: m }, () => new Int32Array(steps + 1));
  if (strict) {
    for (let j = 1; j <= steps; j++) best[0][j] = cost(0, j);
    for (let i = 1; i < m; i++) {
      let min = Infinity;
      let arg = 0;
      for (let j = i + 1; j <= steps; j++) {
        // The previous colour's best over steps below j, the lowest step on a tie.
        if (best[i - 1][j - 1] < min) [min, arg] = [best[i - 1][j - 1], j - 1];
        best[i][j] = min + cost(i, j);
        from[i][j] = arg;
      }
    }
  } else {
    // Every step used: the lightest colour on step 1, the darkest on the last, each next one the same or +1.
    best[0][1] = cost(0, 1);
    for (let i = 1; i < m; i++) {
      for (let j = 1; j <= Math.min(steps, i + 1); j++) {
        const same = best[i - 1][j];
        const next = best[i - 1][j - 1];
        best[i][j] = Math.min(same, next) + cost(i, j);
        from[i][j] = next <= same ? j - 1 : j;
      }
    }
  }
  let j = 1;
  if (strict) {
    for (let k = 2; k <= steps; k++) if (best[m - 1][k] < best[m - 1][j]) j = k;
  } else j = steps;
  const out = new Array<number>(m);
  for (let i = m - 1; i >= 0; i--) {
    out[i] = j;
    j = from[i][j];
  }
  return out;
}

/** The worst L* error of an assignment. */
function worstError(items: readonly Toned[], steps: readonly number[], ends: number, span: number): number {
  let worst = 0;
  items.forEach((t, i) => (worst = Math.max(worst, Math.abs((steps[i] / ends - t.target) * span))));
  return worst;
}

/**
 * The shaded satins for the colours `auto` covers. The cloth's tone is taken as the yarns' L* weighted by
 * cover, the even ramp a shaded-satin blanket shows (a design indexed to seven greys woven in 1/7 … 7/1);
 * mixing in linear light instead would push every mid tone to the darkest satins.
 *
 * Different colours get different steps, the darker colour more of the darker yarn, each as near its own
 * tone as that allows. When the family on `n` ends has fewer steps than colours, or keeping them apart would
 * move a colour more than two of its steps from its tone, a larger regular satin (up to 16 ends) is taken:
 * the smallest within that, else the one that moves colours least. Only when even 16 ends have too few steps do
 * colours share, the closest in lightness first, and the result says which.
 */
export function autoMapping(
  palette: Uint8Array,
  yarns: Yarns,
  n = AUTO_SATIN,
  covered?: readonly number[],
  fixed = false,
): AutoMapping {
  const lWarp = lightness(luminance(yarns.warp));
  const lWeft = lightness(luminance(yarns.weft));
  if (Math.abs(lWarp - lWeft) < 1) {
    throw new StructureError(
      `auto: the warp (${toHex(...yarns.warp)}) and weft (${toHex(...yarns.weft)}) are equally light, so no structure can render a tone`,
    );
  }
  shadedFamily(n);
  const span = lWarp - lWeft;
  const colors = palette.length / 3;
  const items: Toned[] = (covered ?? Array.from({ length: colors }, (_, i) => i)).map((index) => {
    const l = lightness(luminance(palette, index * 3));
    return { index, l, target: (l - lWeft) / span };
  });
  // Lightest in the cloth's terms first (least of the darker yarn); beyond the yarns, still in order of L*.
  items.sort((a, b) => a.target - b.target || a.index - b.index);
  const clamped = items.map((t) => ({ ...t, target: Math.min(1, Math.max(0, t.target)) }));
  const m = items.length;
  const sizes = [n];
  // `fixed`: the satin is chosen already (a tiled grid was sized for it), colours share on it if they must.
  if (!fixed) for (let e = n + 1; e <= MAX_AUTO_SATIN; e++) if (satinMoves(e).length > 0) sizes.push(e);
  const fitting = sizes.filter((e) => e - 1 >= m);
  const tolerance = (2 * Math.abs(span)) / n;
  let ends = fitting.length ? fitting[0] : sizes[sizes.length - 1];
  let steps = orderedSteps(clamped, ends, span);
  const reasons: string[] = [];
  if (n - 1 < m) reasons.push(`${m} colours need ${m} steps: the ${n}-end satin has ${n - 1}`);
  const first = worstError(clamped, steps, ends, span);
  if (fitting.length > 1 && first > tolerance) {
    let worst = first;
    for (const e of fitting.slice(1)) {
      const s = orderedSteps(clamped, e, span);
      const w = worstError(clamped, s, e, span);
      if (w < worst) [ends, steps, worst] = [e, s, w];
      if (w <= tolerance) break;
    }
    if (ends !== fitting[0]) {
      reasons.push(
        `kept apart on the ${fitting[0]}-end satin, colours would stray up to ${first.toFixed(1)} L* from their tones, ` +
          `more than two steps of the ${n}-end satin (${tolerance.toFixed(1)} L*)`,
      );
    }
  }
  const why = reasons.length ? reasons.join('; ') : undefined;
  const family = shadedFamily(ends);
  const structures: (Structure | undefined)[] = new Array<Structure | undefined>(colors).fill(undefined);
  items.forEach((t, i) => (structures[t.index] = family[steps[i] - 1]));
  const shared: SharedStructure[] = [];
  for (let i = 0; i < m;) {
    let k = i;
    while (k + 1 < m && steps[k + 1] === steps[i]) k++;
    if (k > i) {
      const group = items.slice(i, k + 1).sort((a, b) => a.index - b.index);
      const ls = group.map((t) => Math.round(t.l * 10) / 10);
      shared.push({
        structure: family[steps[i] - 1].name,
        colors: group.map((t) => t.index),
        hexes: group.map((t) => toHex(palette[t.index * 3], palette[t.index * 3 + 1], palette[t.index * 3 + 2])),
        lightness: ls,
        why: ls.every((l) => l === ls[0])
          ? `the same lightness (L* ${ls[0]})`
          : `${m} colours, and the ${ends}-end satin${ends === MAX_AUTO_SATIN ? ', the largest auto takes,' : ''} has ${ends - 1} steps: these are among the closest in lightness`,
      });
    }
    i = k + 1;
  }
  shared.sort((a, b) => a.colors[0] - b.colors[0]);
  return { structures, ends, asked: n, ...(why ? { why } : {}), shared };
}

/** The structure `auto` gives each palette colour (see autoMapping). */
export function autoStructures(palette: Uint8Array, yarns: Yarns, n = AUTO_SATIN): Structure[] {
  return autoMapping(palette, yarns, n).structures as Structure[];
}

/** One structure per palette colour, and what `auto` chose for the colours it covers. */
export function assignWeave(
  map: WeaveMap,
  palette: Uint8Array,
  yarns: Yarns,
  named: ReadonlyMap<string, Structure> = new Map(),
  fixedAuto = false,
): { structures: Structure[]; auto?: AutoMapping } {
  const colors = palette.length / 3;
  const names: (string | undefined)[] = [];
  const uncovered: number[] = [];
  for (let i = 0; i < colors; i++) {
    const hex = toHex(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]);
    names.push(map.byIndex.get(i) ?? map.byHex.get(hex) ?? map.rest);
    if (names[i] === undefined) uncovered.push(i);
  }
  const auto = map.auto === undefined ? undefined : autoMapping(palette, yarns, map.auto, uncovered, fixedAuto);
  if (!auto && uncovered.length) {
    throw noStructureFor(
      uncovered.map((i) => `${i} (${toHex(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2])})`),
    );
  }
  const structures = names.map((name, i) => (name === undefined ? auto!.structures[i]! : parseStructure(name, named)));
  return { structures, ...(auto ? { auto } : {}) };
}

/** One structure per palette colour. */
export function assignStructures(
  map: WeaveMap,
  palette: Uint8Array,
  yarns: Yarns,
  named: ReadonlyMap<string, Structure> = new Map(),
): Structure[] {
  return assignWeave(map, palette, yarns, named).structures;
}
