/**
 * Fixed yarn palettes: '#hex,#hex,…', a JSON array of hex strings, or a GIMP .gpl file.
 */
import { InputError, UsageError } from '../kernel/errors.js';
import { parseHex } from '../loom/color.js';

/** Reads a file: at most `maxBytes` of it, and only a regular file (see Fs.readFile). */
export type ReadFile = (file: string, options: { maxBytes: number }) => Promise<Buffer>;

/** The most of a palette file that is read: 256 colours with long names take a few kilobytes. */
const PALETTE_MAX_BYTES = 1024 * 1024;

/** What a list of colours is for: its name in messages, and how many colours it may have. */
interface ListKind {
  name: string;
  min: number;
  max: number;
  /** What the list is, where its name does not say: "a palette". */
  noun?: string;
}

const PALETTE: ListKind = { name: 'palette', min: 2, max: 256, noun: 'a palette' };

/** A palette named in messages as where it was set: `--palette`, `loom.palette`, `style poster: palette`. */
export function paletteFrom(name: string): ListKind {
  return { ...PALETTE, name };
}

function fromHexList(items: string[], kind: ListKind): Uint8Array {
  const out: number[] = [];
  for (const item of items) {
    const rgb = parseHex(item);
    if (!rgb) throw new UsageError(`${kind.name}: "${item}" is not a #rrggbb colour`);
    out.push(...rgb);
  }
  return checkSize(Uint8Array.from(out), kind, kind.name);
}

function checkSize(palette: Uint8Array, kind: ListKind, origin: string): Uint8Array {
  const n = palette.length / 3;
  if (n < kind.min || n > kind.max) {
    const what = kind.noun ? `${kind.noun} needs` : 'needs';
    throw new UsageError(`${origin}: ${what} ${kind.min} to ${kind.max} colours, got ${n}`);
  }
  return palette;
}

/** Parses the text of a GIMP palette (.gpl). */
function parseGpl(text: string, origin: string, kind: ListKind): Uint8Array {
  const lines = text.split(/\r?\n/);
  if (!/^GIMP Palette\s*$/.test(lines[0] ?? ''))
    throw new InputError(`${origin}: not a GIMP palette (first line must be "GIMP Palette")`);
  const out: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#') || /^(Name|Columns):/i.test(line)) continue;
    const m = /^(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})(\s|$)/.exec(line);
    if (!m) throw new InputError(`${origin}: line ${i + 1} is not "R G B [name]"`);
    const rgb = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (rgb.some((v) => v > 255)) throw new InputError(`${origin}: line ${i + 1} has a value above 255`);
    out.push(...rgb);
  }
  return checkSize(Uint8Array.from(out), kind, origin);
}

/** A list of colours as typed; `kind` names it (default: a palette of 2 to 256 colours). */
export async function parsePaletteSpec(
  spec: string | string[],
  readFile: ReadFile,
  kind: ListKind = PALETTE,
): Promise<Uint8Array> {
  if (Array.isArray(spec)) return fromHexList(spec, kind);
  const trimmed = spec.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new UsageError(`${kind.name}: not a valid JSON array`);
    }
    if (!Array.isArray(parsed) || !parsed.every((c) => typeof c === 'string')) {
      throw new UsageError(`${kind.name}: expected a JSON array of "#rrggbb" strings`);
    }
    return fromHexList(parsed, kind);
  }
  // A list of colours (or one colour): whatever has a comma or a leading '#' is no file name.
  if (/^#?[0-9a-f]{6}(\s*,\s*#?[0-9a-f]{6})*$/i.test(trimmed) || trimmed.includes(',') || trimmed.startsWith('#')) {
    return fromHexList(
      trimmed.split(',').map((s) => s.trim()),
      kind,
    );
  }
  let text: string;
  try {
    text = (await readFile(trimmed, { maxBytes: PALETTE_MAX_BYTES })).toString('utf8');
  } catch (err) {
    throw new InputError(`${kind.name} file ${trimmed}: ${unreadable((err as NodeJS.ErrnoException).code)}`);
  }
  return parseGpl(text, `${kind.name} file ${trimmed}`, kind);
}

/** Why a colour file could not be read, in words. */
function unreadable(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a folder';
    // A pipe would wait for a writer, a device could be read for ever: neither is opened for reading.
    case 'EFTYPE':
      return 'not a regular file (a pipe, a socket or a device)';
    case 'EFBIG':
      return `larger than ${PALETTE_MAX_BYTES / 1024 / 1024} MB: not a palette`;
    default:
      return code ? `cannot be read (${code})` : 'cannot be read';
  }
}
