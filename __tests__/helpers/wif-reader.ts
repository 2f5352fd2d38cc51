/**
 * A WIF 1.1 reader written from the published specification, for the tests: it shares no code with the writer.
 * A WIF is a Windows INI file: `[SECTION]` headers, `key=value` lines, `;` comments, names compared without
 * case. [CONTENTS] says which sections the file has; a draft is a threading (end → shafts) and a lift plan
 * (pick → shafts raised, rising shed) or a tie-up and treadling; colours are indices into [COLOR TABLE], whose
 * values run over [COLOR PALETTE] Range.
 */

type Section = Map<string, string>;

export interface WifFile {
  /** Section names in upper case, in file order. */
  order: string[];
  /** Section (upper case) → key (lower case) → value, trimmed. */
  sections: Map<string, Section>;
}

/** Parses the INI text; a line that is neither a header, a key, a comment nor blank is an error, as is a repeat. */
export function parseIni(text: string): WifFile {
  const order: string[] = [];
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  let currentName = '';
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      currentName = header[1].trim().toUpperCase();
      if (sections.has(currentName)) throw new Error(`line ${i + 1}: section [${currentName}] twice`);
      current = new Map();
      sections.set(currentName, current);
      order.push(currentName);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !current) throw new Error(`line ${i + 1}: not a key=value line in a section: ${line}`);
    const key = line.slice(0, eq).trim().toLowerCase();
    if (current.has(key)) throw new Error(`line ${i + 1}: [${currentName}] ${key} twice`);
    current.set(key, line.slice(eq + 1).trim());
  });
  return { order, sections };
}

/** The spec's truth values. */
export function wifBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new Error(`not a WIF truth value: ${value}`);
}

export function get(file: WifFile, section: string, key: string): string | undefined {
  return file.sections.get(section.toUpperCase())?.get(key.toLowerCase());
}

function intOf(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${what}: not a count: ${value}`);
  return Number(value);
}

/** A numbered section (1-based thread or pick → comma list of numbers); an absent number has an empty list. */
function numberedLists(file: WifFile, section: string, count: number): number[][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  for (const [key, value] of file.sections.get(section) ?? []) {
    const n = intOf(key, `[${section}] key`);
    if (n < 1 || n > count) throw new Error(`[${section}] ${n} is outside 1…${count}`);
    out[n - 1] = value === '' ? [] : value.split(',').map((v) => intOf(v.trim(), `[${section}] ${n}`));
  }
  return out;
}

export interface WifDraftRead {
  shafts: number;
  ends: number;
  picks: number;
  risingShed: boolean;
  /** threading[e]: the shafts end e + 1 is on. */
  threading: number[][];
  /** liftplan[p]: the shafts raised on pick p + 1. */
  liftplan: number[][];
  /** cells[p * ends + e] = 1 where end e + 1 is over pick p + 1: the drawdown a reader computes. */
  cells: Uint8Array;
  /** Colour of each end and each pick, as 0–255 r,g,b, from the per-thread sections or the defaults. */
  warpColors: [number, number, number][];
  weftColors: [number, number, number][];
  warp: { units?: string; spacing?: number };
  weft: { units?: string; spacing?: number };
}

/** Reads a lift-plan draft as a weaving program would, rising or sinking shed, into its drawdown. */
export function readLiftplanDraft(file: WifFile): WifDraftRead {
  const has = (s: string) => wifBool(get(file, 'CONTENTS', s)) === true;
  const shafts = intOf(get(file, 'WEAVING', 'Shafts'), 'Shafts');
  const ends = intOf(get(file, 'WARP', 'Threads'), '[WARP] Threads');
  const picks = intOf(get(file, 'WEFT', 'Threads'), '[WEFT] Threads');
  const risingShed = wifBool(get(file, 'WEAVING', 'Rising Shed')) ?? true;
  if (!has('THREADING') || !has('LIFTPLAN')) throw new Error('not a lift-plan draft');
  const threading = numberedLists(file, 'THREADING', ends);
  const liftplan = numberedLists(file, 'LIFTPLAN', picks);
  for (const list of [...threading, ...liftplan])
    for (const s of list) if (s < 1 || s > shafts) throw new Error(`shaft ${s} outside 1…${shafts}`);
  const cells = new Uint8Array(ends * picks);
  for (let p = 0; p < picks; p++) {
    const up = new Set(liftplan[p]);
    for (let e = 0; e < ends; e++) {
      const lifted = threading[e].some((s) => up.has(s));
      cells[p * ends + e] = lifted === risingShed ? 1 : 0;
    }
  }
  const range = (get(file, 'COLOR PALETTE', 'Range') ?? '0,255').split(',').map(Number);
  const table = new Map<number, [number, number, number]>();
  for (const [key, value] of file.sections.get('COLOR TABLE') ?? []) {
    const rgb = value.split(',').map((v) => Math.round(((Number(v) - range[0]) / (range[1] - range[0])) * 255));
    if (rgb.length !== 3 || rgb.some((v) => !(v >= 0 && v <= 255))) throw new Error(`colour ${key}=${value}`);
    table.set(intOf(key, 'colour'), rgb as [number, number, number]);
  }
  const colour = (index: number) => {
    const c = table.get(index);
    if (!c) throw new Error(`colour ${index} is not in [COLOR TABLE]`);
    return c;
  };
  const colours = (section: string, count: number, fallback: string | undefined) => {
    const own = has(section) ? numberedLists(file, section, count) : [];
    // [WARP] Color may be "index" or "index,r,g,b": the index is first.
    const dflt = fallback === undefined ? undefined : intOf(fallback.split(',')[0], 'default colour');
    return Array.from({ length: count }, (_, i) => {
      const index = own[i]?.length ? own[i][0] : dflt;
      if (index === undefined) throw new Error(`${section}: thread ${i + 1} has no colour`);
      return colour(index);
    });
  };
  const sett = (section: string) => {
    const spacing = get(file, section, 'Spacing');
    return { units: get(file, section, 'Units'), spacing: spacing === undefined ? undefined : Number(spacing) };
  };
  return {
    shafts,
    ends,
    picks,
    risingShed,
    threading,
    liftplan,
    cells,
    warpColors: colours('WARP COLORS', ends, get(file, 'WARP', 'Color')),
    weftColors: colours('WEFT COLORS', picks, get(file, 'WEFT', 'Color')),
    warp: sett('WARP'),
    weft: sett('WEFT'),
  };
}
