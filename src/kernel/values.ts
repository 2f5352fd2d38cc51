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

/** The longest rendering of a value in a message, and the deepest it looks into nested values. */
const SHOW_MAX_CHARS = 120;
const SHOW_MAX_DEPTH = 4;

/**
 * A readable rendering of a value for error messages, JSON-like, cut short with `…` past SHOW_MAX_CHARS
 * characters or SHOW_MAX_DEPTH levels. Its work is bounded by its output: a config whose aliases nest a value
 * in itself a billion times over is shown as quickly as any other.
 */
export function showValue(value: unknown): string {
  let text = '';
  let cut = false;
  // Every value visited costs a step, so that empty arrays and objects cannot run on without adding text.
  let steps = 0;
  const full = () => {
    if (text.length >= SHOW_MAX_CHARS || ++steps > SHOW_MAX_CHARS) cut = true;
    return cut;
  };
  const walk = (v: unknown, depth: number, open: Set<object>): void => {
    if (full()) return;
    if (typeof v === 'string') {
      if (v.length > SHOW_MAX_CHARS) cut = true;
      text += JSON.stringify(v.slice(0, SHOW_MAX_CHARS));
      return;
    }
    if (typeof v === 'function') {
      text += '[function]';
      return;
    }
    if (v === null || typeof v !== 'object') {
      text += typeof v === 'number' || typeof v === 'boolean' || v === null ? JSON.stringify(v) : String(v);
      return;
    }
    if (v instanceof Date) {
      text += Number.isNaN(v.getTime()) ? 'null' : JSON.stringify(v.toISOString());
      return;
    }
    const array = Array.isArray(v);
    if (open.has(v) || depth >= SHOW_MAX_DEPTH) {
      text += array ? '[…]' : '{…}';
      return;
    }
    open.add(v);
    text += array ? '[' : '{';
    if (array) {
      for (let i = 0; i < v.length && !full(); i++) {
        if (i > 0) text += ',';
        walk(v[i], depth + 1, open);
      }
    } else {
      let first = true;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (full()) break;
        text += `${first ? '' : ','}${JSON.stringify(key.slice(0, SHOW_MAX_CHARS))}:`;
        first = false;
        walk((v as Record<string, unknown>)[key], depth + 1, open);
      }
    }
    open.delete(v);
    if (!cut) text += array ? ']' : '}';
  };
  walk(value, 0, new Set());
  if (!cut) return text;
  return `${text.slice(0, SHOW_MAX_CHARS)}…`;
}
