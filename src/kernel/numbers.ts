/** The one parser for numeric values, whether they come from a flag, an env var or a config file. */

export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
}

/** The range every provider takes for a seed. */
export const SEED_RANGE: NumberRange = { min: 0, max: 2 ** 31 - 1, integer: true };

/** What a value in `range` looks like, for messages: "an integer from 2 to 256". */
export function describeRange(range: NumberRange): string {
  return `${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`;
}

/** The number in `raw` (a number, or a string from argv or env) if it lies in `range`; otherwise undefined. */
export function toNumberInRange(raw: unknown, range: NumberRange): number | undefined {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  if (range.integer && !Number.isInteger(n)) return undefined;
  if (n < range.min || n > range.max) return undefined;
  return n;
}
