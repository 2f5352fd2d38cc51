/**
 * Value specs and their one checker, used for config files, env vars and flags alike, so a value is
 * accepted or refused the same way wherever it comes from.
 */
import { describeRange, toNumberInRange } from './numbers.js';

export type LeafSpec =
  | { type: 'string'; secret?: boolean }
  | { type: 'url' }
  | { type: 'int'; min: number; max: number }
  | { type: 'number'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'palette' }
  | { type: 'color' }
  | { type: 'density' };

export type CheckResult = { ok: true; value: unknown } | { ok: false; expected: string };

const HEX = /^#?[0-9a-fA-F]{6}$/;
const DENSITY = /^\s*(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*(?:\/?\s*(cm|in|inch))?\s*$/i;

/** Checks one value against its spec. Strings from env vars and flags are converted where the spec is numeric. */
export function checkValue(spec: LeafSpec, raw: unknown): CheckResult {
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' && raw.length > 0
        ? { ok: true, value: raw }
        : { ok: false, expected: 'a non-empty string' };
    case 'url': {
      const expected = 'an http(s) URL';
      if (typeof raw !== 'string') return { ok: false, expected };
      try {
        const url = new URL(raw);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, expected };
        return { ok: true, value: raw.replace(/\/+$/, '') };
      } catch {
        return { ok: false, expected };
      }
    }
    case 'int':
    case 'number': {
      const range = { min: spec.min, max: spec.max, integer: spec.type === 'int' };
      const value = toNumberInRange(raw, range);
      return value === undefined ? { ok: false, expected: describeRange(range) } : { ok: true, value };
    }
    case 'enum':
      return typeof raw === 'string' && spec.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: `one of ${spec.values.join(', ')}` };
    case 'palette': {
      const expected = 'a list of #rrggbb colours (string or array) or a .gpl file path';
      if (Array.isArray(raw)) {
        return raw.length >= 1 && raw.every((c) => typeof c === 'string' && HEX.test(c))
          ? { ok: true, value: raw }
          : { ok: false, expected };
      }
      return typeof raw === 'string' && raw.trim() !== '' ? { ok: true, value: raw } : { ok: false, expected };
    }
    case 'color': {
      if (typeof raw !== 'string' || !HEX.test(raw.trim())) return { ok: false, expected: 'a #rrggbb colour' };
      return { ok: true, value: `#${raw.trim().replace(/^#/, '').toLowerCase()}` };
    }
    case 'density': {
      const expected = '<ends>x<picks> per cm or inch, like 24x30 or 60x80/in';
      const m = typeof raw === 'string' ? DENSITY.exec(raw) : null;
      const ends = m ? Number(m[1]) : NaN;
      const picks = m ? Number(m[2]) : NaN;
      if (!m || !(ends > 0) || !(picks > 0)) return { ok: false, expected };
      return { ok: true, value: { ends, picks, unit: m[3] && m[3].toLowerCase() !== 'cm' ? 'in' : 'cm' } };
    }
  }
}

/** A readable rendering of a value for error messages. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
