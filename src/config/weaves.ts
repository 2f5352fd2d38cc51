/** The rc file's `weaves.<name>`: user structures as rows of 0/1, checked as they are read. */
import { ConfigError } from '../kernel/errors.js';
import { showValue } from '../kernel/values.js';
import { StructureError, structureFromRows, type Structure } from '../loom/weave/structures.js';
import type { WeaveDefinition } from './schema.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isRows(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((row) => typeof row === 'string');
}

/**
 * Reads `weaves`: each entry is an array of rows (`["1100", "0110", "0011", "1001"]`, top pick first) or
 * `{ "rows": [...], "allowUnbound": true }`. A malformed one is a config error naming it.
 */
export function readWeaves(raw: unknown, file: string): Record<string, WeaveDefinition> {
  if (!isPlainObject(raw))
    throw new ConfigError(file, 'weaves', `expected an object of named structures, got ${showValue(raw)}`);
  const out: Record<string, WeaveDefinition> = {};
  for (const [name, body] of Object.entries(raw)) {
    const where = `weaves.${name}`;
    const def: WeaveDefinition | undefined = isRows(body)
      ? { rows: body }
      : isPlainObject(body) &&
          isRows(body.rows) &&
          (body.allowUnbound === undefined || typeof body.allowUnbound === 'boolean')
        ? { rows: body.rows, ...(body.allowUnbound ? { allowUnbound: true } : {}) }
        : undefined;
    if (!def) {
      throw new ConfigError(
        file,
        where,
        `expected rows of 0 and 1 like ["1100", "0110", "0011", "1001"], or { "rows": [...], "allowUnbound": true }; got ${showValue(body)}`,
      );
    }
    try {
      structureFromRows(name, def.rows, def.allowUnbound);
    } catch (err) {
      if (err instanceof StructureError) throw new ConfigError(file, where, err.message);
      throw err;
    }
    out[name] = def;
  }
  return out;
}

/** The configured structures by name (already checked when the file was read). */
export function namedStructures(weaves: Record<string, WeaveDefinition>): Map<string, Structure> {
  return new Map(
    Object.entries(weaves).map(([name, def]) => [name, structureFromRows(name, def.rows, def.allowUnbound)]),
  );
}
