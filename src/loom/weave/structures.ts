/**
 * Weave structures: the smallest repeat of an interlacing, as a 0/1 matrix (1 = warp raised over the weft).
 * Coordinates are the loom's: x counts ends from the left, y counts picks from pick 1 at the bottom, so a
 * Z twill's diagonal rises to the right as it does in the cloth seen from the face.
 */

export interface Structure {
  /** Canonical name: `plain`, `twill:2/1/z`, `satin:8:3/warp`, `shade:3/5:3`, or a configured name. */
  name: string;
  width: number;
  height: number;
  /** cells[y * width + x]: 1 where the warp is raised; y = 0 is the bottom pick of the repeat. */
  cells: Uint8Array;
}

/** A name that is not a structure, or a matrix that is not one: the message says why. */
export class StructureError extends Error {}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function build(name: string, width: number, height: number, raised: (x: number, y: number) => boolean): Structure {
  const cells = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) cells[y * width + x] = raised(x, y) ? 1 : 0;
  return { name, width, height, cells };
}

function plain(): Structure {
  return build('plain', 2, 2, (x, y) => (x + y) % 2 === 0);
}

/** An A/B twill: A picks up, B down on each end; z rises to the right, s to the left. */
export function twill(up: number, down: number, direction: 'z' | 's' = 'z'): Structure {
  const n = up + down;
  return build(`twill:${up}/${down}/${direction}`, n, n, (x, y) => {
    const shift = direction === 'z' ? y : -y;
    return (((x - shift) % n) + n) % n < up;
  });
}

/** Moves that give a regular satin on n ends: 1 < move < n − 1, coprime with n. */
export function satinMoves(n: number): number[] {
  const moves: number[] = [];
  for (let m = 2; m < n - 1; m++) if (gcd(m, n) === 1) moves.push(m);
  return moves;
}

function checkSatin(n: number, move: number | undefined): number {
  const moves = satinMoves(n);
  if (moves.length === 0) throw new StructureError(`no regular satin has ${n} ends (5, 7, 8, 9, 10, … do)`);
  if (move === undefined) return moves[0];
  if (!moves.includes(move)) {
    throw new StructureError(`${move} is not a satin move on ${n} ends (valid: ${moves.join(', ')})`);
  }
  return move;
}

/**
 * The shaded satin with `up` ends raised of `up + down` on each pick: the satin's binding points, each
 * widened by the ends to its right. 1/(n−1) is the weft-faced satin, (n−1)/1 the warp-faced one.
 */
function shadedSatin(up: number, down: number, move?: number): Structure {
  const n = up + down;
  const m = checkSatin(n, move);
  return build(`shade:${up}/${down}:${m}`, n, n, (x, y) => (((x - m * y) % n) + n) % n < up);
}

export function satin(n: number, face: 'warp' | 'weft', move?: number): Structure {
  const m = checkSatin(n, move);
  const s = face === 'weft' ? shadedSatin(1, n - 1, m) : shadedSatin(n - 1, 1, m);
  return { ...s, name: `satin:${n}:${m}/${face}` };
}

/** The share of crossings where the warp is on top. */
export function warpCover(s: Structure): number {
  let up = 0;
  for (const c of s.cells) up += c;
  return up / s.cells.length;
}

const MAX_REPEAT = 64;

function count(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new StructureError(`${what} must be a whole number, not "${text}"`);
  const n = Number(text);
  if (n < 1 || n > MAX_REPEAT) throw new StructureError(`${what} must be 1 to ${MAX_REPEAT}, not ${n}`);
  return n;
}

const STRUCTURE_SYNTAX =
  'plain, twill:A/B[/z|/s], satin:N[:move][/warp|/weft], shade:A/B[:move], or a name from `weaves` in the config';

/**
 * Parses a structure name. `named` holds the configured structures (their names win over nothing built in:
 * built-in names contain ':' or are `plain`, which a configured name may not be).
 */
export function parseStructure(text: string, named: ReadonlyMap<string, Structure> = new Map()): Structure {
  const spec = text.trim().toLowerCase();
  const own = named.get(text.trim());
  if (own) return own;
  if (spec === 'plain' || spec === 'tabby') return plain();
  const [kind, rest = ''] = spec.split(/:(.*)/s);
  if (kind === 'twill') {
    const m = /^(\d+)\/(\d+)(?:\/([zs]))?$/.exec(rest);
    if (!m) throw new StructureError(`"${text}": a twill is twill:A/B or twill:A/B/z or /s, e.g. twill:2/1/z`);
    const up = count(m[1], 'twill ends up');
    const down = count(m[2], 'twill ends down');
    if (up + down < 3) throw new StructureError(`"${text}": a twill repeats on 3 or more ends (1/1 is plain)`);
    return twill(up, down, (m[3] as 'z' | 's' | undefined) ?? 'z');
  }
  if (kind === 'satin') {
    const m = /^(\d+)(?::(\d+))?(?:\/(warp|weft))?$/.exec(rest);
    if (!m) throw new StructureError(`"${text}": a satin is satin:N, satin:N:move, satin:N/warp or satin:N/weft`);
    const n = count(m[1], 'satin ends');
    try {
      return satin(n, (m[3] as 'warp' | 'weft' | undefined) ?? 'warp', m[2] === undefined ? undefined : Number(m[2]));
    } catch (err) {
      throw new StructureError(`"${text}": ${(err as Error).message}`);
    }
  }
  if (kind === 'shade') {
    const m = /^(\d+)\/(\d+)(?::(\d+))?$/.exec(rest);
    if (!m) throw new StructureError(`"${text}": a shaded satin is shade:A/B or shade:A/B:move, e.g. shade:3/5`);
    const up = count(m[1], 'shade ends up');
    const down = count(m[2], 'shade ends down');
    try {
      return shadedSatin(up, down, m[3] === undefined ? undefined : Number(m[3]));
    } catch (err) {
      throw new StructureError(`"${text}": ${(err as Error).message}`);
    }
  }
  throw new StructureError(`unknown structure "${text}" (${STRUCTURE_SYNTAX})`);
}

/** The shaded satins on one satin, lightest (least warp) first: 1/(n−1) … (n−1)/1. */
export function shadedFamily(n: number, move?: number): Structure[] {
  const m = checkSatin(n, move);
  const family: Structure[] = [];
  for (let up = 1; up < n; up++) family.push(shadedSatin(up, n - up, m));
  return family;
}

const STRUCTURE_NAME = /^[a-z][a-z0-9_-]*$/i;

/**
 * A structure from rows of '0'/'1' as written (and as `imagegen weaves` draws them): the first row is the top
 * pick of the repeat, the first character the leftmost end. Every row and column must both rise and fall
 * unless `allowUnbound` (a thread that never interlaces floats across the whole design).
 */
export function structureFromRows(name: string, rows: readonly string[], allowUnbound = false): Structure {
  if (!STRUCTURE_NAME.test(name) || name.toLowerCase() === 'plain' || name.toLowerCase() === 'tabby') {
    throw new StructureError('a structure name is letters, digits, - and _, starts with a letter, and is not plain');
  }
  if (rows.length === 0) throw new StructureError('needs at least one row');
  const width = rows[0].length;
  if (rows.length > MAX_REPEAT || width > MAX_REPEAT)
    throw new StructureError(`at most ${MAX_REPEAT} × ${MAX_REPEAT} crossings`);
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new StructureError(`row ${i + 1} has ${row.length} crossings, row 1 has ${width}: rows must be equal`);
    }
    const bad = /[^01]/.exec(row);
    if (bad) throw new StructureError(`row ${i + 1} has "${bad[0]}": only 0 (down) and 1 (up) are allowed`);
  });
  if (width === 0) throw new StructureError('rows are empty');
  const height = rows.length;
  const cells = new Uint8Array(width * height);
  rows.forEach((row, i) => {
    const y = height - 1 - i;
    for (let x = 0; x < width; x++) cells[y * width + x] = row.charCodeAt(x) === 49 ? 1 : 0;
  });
  if (!allowUnbound) {
    for (let i = 0; i < height; i++) {
      const row = rows[i];
      if (!row.includes('0') || !row.includes('1')) {
        throw new StructureError(`row ${i + 1} is all ${row[0]}: its pick never interlaces (allowUnbound to accept)`);
      }
    }
    for (let x = 0; x < width; x++) {
      const column = rows.map((row) => row[x]).join('');
      if (!column.includes('0') || !column.includes('1')) {
        throw new StructureError(
          `column ${x + 1} is all ${column[0]}: its end never interlaces (allowUnbound to accept)`,
        );
      }
    }
  }
  return { name, width, height, cells };
}

/** The repeat as text, top pick first: '#' where the warp is raised, '.' where it is down. */
export function drawStructure(s: Structure, up = '#', down = '.'): string[] {
  const lines: string[] = [];
  for (let y = s.height - 1; y >= 0; y--) {
    let line = '';
    for (let x = 0; x < s.width; x++) line += s.cells[y * s.width + x] ? up : down;
    lines.push(line);
  }
  return lines;
}

/** The built-in structures `imagegen weaves` lists. */
export function builtInStructures(): Structure[] {
  return [
    plain(),
    twill(1, 2),
    twill(2, 1),
    twill(2, 2),
    twill(2, 2, 's'),
    twill(1, 3),
    twill(3, 1),
    satin(5, 'warp'),
    satin(5, 'weft'),
    satin(8, 'warp'),
    satin(8, 'weft'),
    ...shadedFamily(8),
  ];
}
