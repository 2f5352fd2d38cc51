/**
 * Where a tiled design's structures close: laid in global phase, a structure of w ends by h picks meets
 * itself at the seam of a repeat only when the repeat is a multiple of w ends and h picks. The sizes that close
 * for a set of structures are the multiples of the least common multiples of their sides.
 */
import type { Structure } from './structures.js';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const lcm = (a: number, b: number) => (a / gcd(a, b)) * b;

/** What closing needs of a structure: its name and the sides of its repeat. */
type Sized = Pick<Structure, 'name' | 'width' | 'height'>;

/** The smallest repeat, in ends and picks, in which every structure closes. */
export function closingUnit(structures: readonly Sized[]): { ends: number; picks: number } {
  let ends = 1;
  let picks = 1;
  for (const s of structures) {
    ends = lcm(ends, s.width);
    picks = lcm(picks, s.height);
  }
  return { ends, picks };
}

/** The multiple of `unit` nearest `n` (at least `unit`; halfway goes up). */
export function nearestClosing(n: number, unit: number): number {
  return Math.max(unit, Math.round(n / unit) * unit);
}

/** The multiples of `unit` just below and above `n` (the one below left out when it is 0). */
export function closingAround(n: number, unit: number): number[] {
  const below = Math.floor(n / unit) * unit;
  return below > 0 ? [below, below + unit] : [below + unit];
}

/**
 * A note when a tiled repeat of `ends` × `picks` does not close for its structures: which sizes would, so that
 * the seam does not break a twill's diagonal or a satin's order. Undefined when it closes.
 */
export function seamNote(
  ends: number,
  picks: number,
  structures: readonly Sized[],
  flag = '--tile',
): string | undefined {
  const unit = closingUnit(structures);
  const parts: string[] = [];
  if (ends % unit.ends) parts.push(`${closingAround(ends, unit.ends).join(' or ')} ends`);
  if (picks % unit.picks) parts.push(`${closingAround(picks, unit.picks).join(' or ')} picks`);
  if (!parts.length) return undefined;
  const names = [...new Set(structures.map((s) => s.name))].join(', ');
  return (
    `${flag}: the repeat is ${ends} ends × ${picks} picks, but its structures (${names}) close only every ` +
    `${unit.ends} ends${unit.picks > 1 ? ` and ${unit.picks} picks` : ''}, so the seam breaks them; ${parts.join(' and ')} would close ` +
    `(--tile fit chooses them)`
  );
}
