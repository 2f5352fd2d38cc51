/**
 * Pure configuration resolution: defaults < rc file < env vars < flags, with the source of every value
 * recorded so that `imagegen config` can explain it. No I/O here; the loader reads the file.
 */
import { ConfigError } from '../kernel/errors.js';
import { maskSecret } from '../kernel/redact.js';
import { checkValue, showValue, type LeafSpec } from '../kernel/values.js';
import { providerList } from '../providers/registry.js';
import { readWeaves } from './weaves.js';
import {
  BUILT_IN_LOOMS,
  LOOM_PRESET_KEYS,
  configKeys,
  defaultConfig,
  editProviderIds,
  getPath,
  setPath,
  styleKeys,
  type Config,
  type KeyDef,
  type StyleSettings,
} from './schema.js';

type ValueSource =
  | { kind: 'default' }
  /** `preset`: the value came from that loom preset (`path` says where it is written). */
  | { kind: 'file'; path: string; preset?: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

export interface FlagValue {
  value: unknown;
  /** The flag as typed, for messages: '--colors'. */
  flag: string;
}

export interface ResolveInput {
  file?: { path: string; data: unknown };
  env: Record<string, string | undefined>;
  /** Flag values keyed by config key path ('loom.colors'). Undefined values are ignored. */
  flags?: Record<string, FlagValue | undefined>;
}

export interface ResolvedConfig {
  config: Config;
  sources: Record<string, ValueSource>;
  /** Unknown keys and other things worth a warning; never fatal. */
  warnings: string[];
  file?: string;
}

/** The entry for `key` if the table has one of its own (never one inherited, such as `toString`). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function sectionsOf(keys: Record<string, KeyDef>): Set<string> {
  return new Set(
    Object.keys(keys).flatMap((path) => {
      const parts = path.split('.');
      return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
    }),
  );
}

interface Schema {
  keys: Record<string, KeyDef>;
  sections: Set<string>;
  styleKeys: Record<string, LeafSpec>;
  /** The ids a style's `prompts` may name: the providers that edit. */
  editProviders: readonly string[];
}

const STYLE_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeGot(spec: LeafSpec, raw: unknown): string {
  return spec.type === 'string' && spec.secret ? '' : `, got ${showValue(raw)}`;
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const keys = configKeys();
  const schema: Schema = {
    keys,
    sections: sectionsOf(keys),
    styleKeys: styleKeys(),
    editProviders: editProviderIds(),
  };
  const config = defaultConfig(keys);
  const sources: Record<string, ValueSource> = {};
  const warnings: string[] = [];
  for (const [path, def] of Object.entries(keys)) {
    if (def.default !== undefined) sources[path] = { kind: 'default' };
  }

  if (input.file) {
    const { path: file, data } = input.file;
    if (data !== undefined && data !== null && !isPlainObject(data)) {
      throw new ConfigError(file, undefined, `expected an object at the top level, got ${showValue(data)}`);
    }
    if (isPlainObject(data)) readSection(schema, data, '', file, config, sources, warnings);
  }

  for (const [path, def] of Object.entries(keys)) {
    for (const name of def.env ?? []) {
      const raw = input.env[name];
      if (raw === undefined || raw.trim() === '') continue;
      const checked = checkValue(def.spec, raw.trim());
      if (!checked.ok) {
        throw new ConfigError(undefined, name, `expected ${checked.expected}${describeGot(def.spec, raw)}`);
      }
      setPath(config, path, checked.value);
      sources[path] = { kind: 'env', name };
      break;
    }
  }

  for (const [path, flag] of Object.entries(input.flags ?? {})) {
    if (!flag || flag.value === undefined) continue;
    const def = own(keys, path);
    if (!def) throw new Error(`flag ${flag.flag} maps to unknown config key ${path}`);
    const checked = checkValue(def.spec, flag.value);
    if (!checked.ok)
      throw new ConfigError(undefined, flag.flag, `expected ${checked.expected}${describeGot(def.spec, flag.value)}`);
    setPath(config, path, checked.value);
    sources[path] = { kind: 'flag', name: flag.flag };
  }

  applyLoomPreset(config, sources, keys, input.file?.path);
  placeProviders(config, sources);
  if (config.polling.maxIntervalMs < config.polling.intervalMs) {
    warnings.push('polling.maxIntervalMs is below polling.intervalMs; polls will use polling.intervalMs');
  }
  return { config, sources, warnings, file: input.file?.path };
}

/**
 * Each provider's base URL: an explicit one (file, env, flag) wins, with the API path the SDKs' variables end
 * with (`…/api/v1`) dropped, as imagegen adds it; otherwise the documented host of the configured region.
 */
function placeProviders(config: Config, sources: Record<string, ValueSource>): void {
  for (const provider of providerList()) {
    const settings = config.providers[provider.id];
    if (!settings) continue;
    const key = `providers.${provider.id}.baseUrl`;
    const region = provider.regions?.find((r) => r.name === settings.region);
    if (sources[key]?.kind === 'default' && region) {
      if (region.baseUrls.length === 0) {
        const source = sources[`providers.${provider.id}.region`];
        throw new ConfigError(
          source?.kind === 'file' ? source.path : undefined,
          `providers.${provider.id}.region`,
          `${region.label} has no shared ${provider.label} host: set providers.${provider.id}.baseUrl to your ` +
            `workspace's domain, https://<workspace id>.${region.id}.maas.aliyuncs.com`,
        );
      }
      settings.baseUrl = region.baseUrls[0];
      sources[key] = sources[`providers.${provider.id}.region`] ?? { kind: 'default' };
      continue;
    }
    if (!provider.apiPath || !settings.baseUrl) continue;
    const url = new URL(settings.baseUrl);
    const pathname = url.pathname.replace(/\/+$/, '');
    if (pathname.endsWith(provider.apiPath))
      settings.baseUrl = url.origin + pathname.slice(0, -provider.apiPath.length);
  }
}

function readSection(
  schema: Schema,
  data: Record<string, unknown>,
  prefix: string,
  file: string,
  config: Config,
  sources: Record<string, ValueSource>,
  warnings: string[],
): void {
  for (const [key, raw] of Object.entries(data)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (path === 'styles') {
      config.styles = readStyles(schema, raw, file, warnings);
      sources.styles = { kind: 'file', path: file };
      continue;
    }
    if (path === 'weaves') {
      config.weaves = readWeaves(raw, file);
      sources.weaves = { kind: 'file', path: file };
      continue;
    }
    if (path === 'looms') {
      config.looms = readLooms(schema, raw, file);
      sources.looms = { kind: 'file', path: file };
      continue;
    }
    const def = own(schema.keys, path);
    if (def) {
      if (raw === null || raw === undefined) continue;
      const checked = checkValue(def.spec, raw);
      if (!checked.ok) throw new ConfigError(file, path, `expected ${checked.expected}${describeGot(def.spec, raw)}`);
      setPath(config, path, checked.value);
      sources[path] = { kind: 'file', path: file };
    } else if (schema.sections.has(path)) {
      if (!isPlainObject(raw)) throw new ConfigError(file, path, `expected an object, got ${showValue(raw)}`);
      readSection(schema, raw, path, file, config, sources, warnings);
    } else {
      warnings.push(`${file}: unknown key ${path} (ignored)`);
    }
  }
}

/** `looms.<name>`: each a loom preset, its values checked as the keys they set. */
function readLooms(schema: Schema, raw: unknown, file: string): Record<string, Record<string, unknown>> {
  if (!isPlainObject(raw))
    throw new ConfigError(file, 'looms', `expected an object of named looms, got ${showValue(raw)}`);
  const looms: Record<string, Record<string, unknown>> = {};
  for (const [name, body] of Object.entries(raw)) {
    const base = `looms.${name}`;
    if (!STYLE_NAME.test(name)) throw new ConfigError(file, base, 'a loom name is letters, digits, - and _');
    if (!isPlainObject(body)) throw new ConfigError(file, base, `expected an object, got ${showValue(body)}`);
    const loom: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      const target = own(LOOM_PRESET_KEYS, key);
      if (!target) {
        throw new ConfigError(
          file,
          `${base}.${key}`,
          `not a loom setting (${Object.keys(LOOM_PRESET_KEYS).join(', ')})`,
        );
      }
      const spec = schema.keys[target].spec;
      const checked = checkValue(spec, value);
      if (!checked.ok)
        throw new ConfigError(file, `${base}.${key}`, `expected ${checked.expected}, got ${showValue(value)}`);
      loom[key] = checked.value;
    }
    looms[name] = loom;
  }
  return looms;
}

/**
 * The loom chosen by --loom (or loom.preset): its values replace those of the file and env, never a flag's.
 * A name that is neither configured nor built in is an error naming those that are.
 */
function applyLoomPreset(
  config: Config,
  sources: Record<string, ValueSource>,
  keys: Record<string, KeyDef>,
  file: string | undefined,
): void {
  const name = config.loom.preset;
  if (name === undefined) return;
  const known = { ...BUILT_IN_LOOMS, ...config.looms };
  const preset = own(known, name);
  const where = sources['loom.preset']?.kind === 'flag' ? '--loom' : 'loom.preset';
  if (!preset) {
    throw new ConfigError(undefined, where, `no loom named "${name}" (looms: ${Object.keys(known).join(', ')})`);
  }
  const from = own(config.looms, name) && file ? `${file}: looms.${name}` : `built-in loom ${name}`;
  for (const [key, value] of Object.entries(preset)) {
    const path = LOOM_PRESET_KEYS[key];
    if (sources[path]?.kind === 'flag' || !own(keys, path)) continue;
    setPath(config, path, value);
    sources[path] = { kind: 'file', path: from, preset: name };
  }
}

function readStyles(schema: Schema, raw: unknown, file: string, warnings: string[]): Record<string, StyleSettings> {
  if (!isPlainObject(raw))
    throw new ConfigError(file, 'styles', `expected an object of named styles, got ${showValue(raw)}`);
  const styles: Record<string, StyleSettings> = {};
  for (const [name, body] of Object.entries(raw)) {
    const base = `styles.${name}`;
    if (!STYLE_NAME.test(name)) throw new ConfigError(file, base, 'a style name is letters, digits, - and _');
    if (!isPlainObject(body)) throw new ConfigError(file, base, `expected an object, got ${showValue(body)}`);
    const style: StyleSettings = {};
    for (const [key, value] of Object.entries(body)) {
      const path = `${base}.${key}`;
      if (key === 'loom') {
        if (!isPlainObject(value)) throw new ConfigError(file, path, `expected an object, got ${showValue(value)}`);
        const loom: Record<string, unknown> = {};
        for (const [loomKey, loomValue] of Object.entries(value)) {
          const def = own(schema.keys, `loom.${loomKey}`);
          if (!def) {
            warnings.push(`${file}: unknown key ${path}.${loomKey} (ignored)`);
            continue;
          }
          const checked = checkValue(def.spec, loomValue);
          if (!checked.ok)
            throw new ConfigError(
              file,
              `${path}.${loomKey}`,
              `expected ${checked.expected}, got ${showValue(loomValue)}`,
            );
          loom[loomKey] = checked.value;
        }
        style.loom = loom;
        continue;
      }
      if (key === 'prompts') {
        style.prompts = readPrompts(schema, value, path, file, warnings);
        continue;
      }
      const spec = own(schema.styleKeys, key);
      if (!spec) {
        warnings.push(`${file}: unknown key ${path} (ignored)`);
        continue;
      }
      const checked = checkValue(spec, value);
      if (!checked.ok) throw new ConfigError(file, path, `expected ${checked.expected}, got ${showValue(value)}`);
      (style as Record<string, unknown>)[key] = checked.value;
    }
    styles[name] = style;
  }
  return styles;
}

/** `styles.<name>.prompts`: one instruction per edit provider, by its id. */
function readPrompts(
  schema: Schema,
  value: unknown,
  path: string,
  file: string,
  warnings: string[],
): Record<string, string> {
  if (!isPlainObject(value))
    throw new ConfigError(file, path, `expected an object of instructions by provider, got ${showValue(value)}`);
  const prompts: Record<string, string> = {};
  for (const [provider, prompt] of Object.entries(value)) {
    if (!schema.editProviders.includes(provider)) {
      warnings.push(
        `${file}: unknown key ${path}.${provider} (ignored; edit providers: ${schema.editProviders.join(', ')})`,
      );
      continue;
    }
    const checked = checkValue({ type: 'string' }, prompt);
    if (!checked.ok)
      throw new ConfigError(file, `${path}.${provider}`, `expected ${checked.expected}, got ${showValue(prompt)}`);
    prompts[provider] = checked.value as string;
  }
  return prompts;
}

/** Shows a secret as its first three and last four characters: `sk-…abcd`. */
export function redactSecret(secret: string | undefined): string | undefined {
  return secret === undefined ? undefined : maskSecret(secret);
}

function describeSource(source: ValueSource | undefined): string {
  if (!source) return 'unset';
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.path}`;
    case 'env':
      return `env ${source.name}`;
    case 'flag':
      return `flag ${source.name}`;
  }
}

/** The resolved values as rows for `imagegen config`, secrets redacted. */
export function configRows(resolved: ResolvedConfig): Array<{ key: string; value: unknown; source: string }> {
  const rows = Object.entries(configKeys()).map(([key, def]) => {
    const value = getPath(resolved.config, key);
    const secret = def.spec.type === 'string' && def.spec.secret;
    return {
      key,
      value: secret ? redactSecret(value as string | undefined) : value,
      source: describeSource(resolved.sources[key]),
    };
  });
  for (const name of Object.keys(resolved.config.styles)) {
    rows.push({
      key: `styles.${name}`,
      value: resolved.config.styles[name],
      source: describeSource(resolved.sources.styles),
    });
  }
  for (const name of Object.keys(resolved.config.looms)) {
    rows.push({
      key: `looms.${name}`,
      value: resolved.config.looms[name],
      source: describeSource(resolved.sources.looms),
    });
  }
  for (const name of Object.keys(resolved.config.weaves)) {
    rows.push({
      key: `weaves.${name}`,
      value: resolved.config.weaves[name],
      source: describeSource(resolved.sources.weaves),
    });
  }
  return rows;
}
