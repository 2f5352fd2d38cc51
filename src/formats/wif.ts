/**
 * The lift plan as a WIF 1.1 draft (Weaving Information File, the INI-style text that weaving programs
 * exchange): a jacquard written as a dobby with one shaft per end, threaded straight (end n on shaft n), and a
 * lift plan naming the shafts raised on each pick. Warp and weft colours, and the sett from the density.
 */
import type { LiftPlan } from '../loom/weave/plan.js';

/** What `--lift-format` and the report call it, and the file's extension. */
export const WIF = { id: 'wif', ext: 'wif' } as const;

interface WifDraft {
  plan: LiftPlan;
  warp: readonly number[];
  /** The weft yarns in shuttle order: pick p (0-based) is woven with wefts[p % wefts.length]. */
  wefts: readonly (readonly number[])[];
  /** Ends and picks per unit; with several wefts `picks` counts design rows, each woven as one pick per weft. */
  density?: { ends: number; picks: number; unit: 'cm' | 'in' };
}

/** Windows INI text: 1997 readers expect CR LF, and later ones take it. */
const EOL = '\r\n';

/** Lines are gathered into chunks of about this many characters, so that no single string grows too long. */
const CHUNK_CHARS = 1 << 20;

/** A length as a plain decimal, never in exponent notation, to a millionth of its size. */
function decimal(value: number): string {
  const places = Math.min(20, Math.max(0, 5 - Math.floor(Math.log10(value))));
  const text = value.toFixed(places);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

export function encodeWif(draft: WifDraft): Uint8Array {
  const { plan, warp, wefts, density } = draft;
  const { width, height, cells } = plan;
  const W = wefts.length;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  const line = (text: string) => {
    pending.push(text);
    pendingChars += text.length + EOL.length;
    if (pendingChars >= CHUNK_CHARS) flush();
  };
  const flush = () => {
    if (pending.length) chunks.push(encoder.encode(pending.join(EOL) + EOL));
    pending = [];
    pendingChars = 0;
  };
  const section = (name: string, entries: Record<string, string | number>) => {
    line(`[${name}]`);
    for (const [key, value] of Object.entries(entries)) line(`${key}=${value}`);
    line('');
  };

  const sections = [
    'COLOR PALETTE',
    'COLOR TABLE',
    'WEAVING',
    'WARP',
    'WEFT',
    'THREADING',
    'WARP COLORS',
    'LIFTPLAN',
    'WEFT COLORS',
  ];
  // The spec's own date and contact: the header names the version of WIF followed, not this file.
  section('WIF', {
    Version: '1.1',
    Date: 'April 20, 1997',
    Developers: 'wif@mhsoft.com',
    'Source Program': 'imagegen',
  });
  section('CONTENTS', Object.fromEntries(sections.map((name) => [name, 'yes'])));
  section('COLOR PALETTE', { Entries: 1 + W, Form: 'RGB', Range: '0,255' });
  // Colour 1 is the warp, colours 2 … W + 1 the wefts in shuttle order.
  section('COLOR TABLE', Object.fromEntries([warp, ...wefts].map((c, i) => [i + 1, `${c[0]},${c[1]},${c[2]}`])));
  // A lift plan has no treadles: each pick names its shafts directly.
  section('WEAVING', { Shafts: width, Treadles: 0, 'Rising Shed': 'yes' });
  // Spacing is the room one thread takes: one over the threads per unit.
  const sett = (perUnit: number): Record<string, string> =>
    density ? { Units: density.unit === 'cm' ? 'Centimeters' : 'Inches', Spacing: decimal(1 / perUnit) } : {};
  section('WARP', { Threads: width, Color: 1, ...sett(density?.ends ?? 1) });
  section('WEFT', { Threads: height, Color: 2, ...sett((density?.picks ?? 1) * W) });

  line('[THREADING]');
  for (let x = 1; x <= width; x++) line(`${x}=${x}`);
  line('');
  // Every end and pick is listed with its colour, for readers that take colours only from these sections.
  line('[WARP COLORS]');
  for (let x = 1; x <= width; x++) line(`${x}=1`);
  line('');
  line('[LIFTPLAN]');
  const raised: number[] = [];
  for (let y = 0; y < height; y++) {
    raised.length = 0;
    const row = y * width;
    for (let x = 0; x < width; x++) if (cells[row + x]) raised.push(x + 1);
    // A pick with nothing raised has no entry: an absent pick lifts no shaft.
    if (raised.length) line(`${y + 1}=${raised.join(',')}`);
  }
  line('');
  line('[WEFT COLORS]');
  for (let y = 0; y < height; y++) line(`${y + 1}=${(y % W) + 2}`);
  flush();

  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
