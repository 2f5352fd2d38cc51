/**
 * The configuration's shape, defaults and per-key validation. One table describes every leaf key so that
 * the rc file, env vars and flags are all checked the same way and `imagegen config` can list them.
 */
export type DitherMode = 'none' | 'ordered' | 'fs';
export type OutputFormat = 'png' | 'bmp';

export interface LoomSettings {
  colors: number;
  width: number;
  minRegion: number;
  dither: DitherMode;
  /** Fixed yarn colours: '#hex,#hex', a JSON array of hex strings, or a path to a GIMP .gpl file. */
  palette?: string | string[];
}

export interface ProviderSettings {
  apiKey?: string;
  baseUrl: string;
  model: string;
}

export interface StyleSettings {
  description?: string;
  function?: string;
  prompt?: string;
  strength?: number;
  loom?: Partial<LoomSettings>;
}

export interface Config {
  providers: { modelscope: ProviderSettings; dashscope: ProviderSettings };
  polling: { intervalMs: number; maxIntervalMs: number; timeoutMs: number };
  retry: { retries: number; minTimeoutMs: number };
  output: { dir?: string; format: OutputFormat };
  loom: LoomSettings;
  styles: Record<string, StyleSettings>;
}

export type LeafSpec =
  | { type: 'string'; secret?: boolean }
  | { type: 'url' }
  | { type: 'int'; min: number; max: number }
  | { type: 'number'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'palette' };

export interface KeyDef {
  spec: LeafSpec;
  default?: unknown;
  env?: readonly string[];
  description: string;
}

export const DITHER_MODES = ['none', 'ordered', 'fs'] as const;
export const OUTPUT_FORMATS = ['png', 'bmp'] as const;
export const DASHSCOPE_FUNCTIONS = [
  'stylization_all',
  'stylization_local',
  'description_edit',
  'description_edit_with_mask',
  'remove_watermark',
  'expand',
  'super_resolution',
  'colorization',
  'doodle',
  'control_cartoon_feature',
] as const;

const MINUTE = 60_000;

/** Every leaf key outside `styles`, with its default and env vars (first listed wins). */
export const KEYS: Record<string, KeyDef> = {
  'providers.modelscope.apiKey': {
    spec: { type: 'string', secret: true },
    env: ['MODELSCOPE_API_KEY'],
    description: 'ModelScope access token (ms-…)',
  },
  'providers.modelscope.baseUrl': {
    spec: { type: 'url' },
    default: 'https://api-inference.modelscope.cn',
    env: ['IMAGEGEN_MODELSCOPE_BASE_URL'],
    description: 'ModelScope API-Inference base URL',
  },
  'providers.modelscope.model': {
    spec: { type: 'string' },
    default: 'Qwen/Qwen-Image',
    description: 'ModelScope text-to-image model id',
  },
  'providers.dashscope.apiKey': {
    spec: { type: 'string', secret: true },
    env: ['DASHSCOPE_API_KEY', 'TONGYI_API_KEY'],
    description: 'DashScope API key (sk-…), Beijing region',
  },
  'providers.dashscope.baseUrl': {
    spec: { type: 'url' },
    default: 'https://dashscope.aliyuncs.com',
    env: ['IMAGEGEN_DASHSCOPE_BASE_URL'],
    description: 'DashScope base URL',
  },
  'providers.dashscope.model': {
    spec: { type: 'string' },
    default: 'wanx2.1-imageedit',
    description: 'DashScope image-edit model',
  },
  'polling.intervalMs': {
    spec: { type: 'int', min: 1, max: MINUTE },
    default: 1000,
    description: 'first pause between task polls',
  },
  'polling.maxIntervalMs': {
    spec: { type: 'int', min: 1, max: 10 * MINUTE },
    default: 5000,
    description: 'longest pause between task polls',
  },
  'polling.timeoutMs': {
    spec: { type: 'int', min: 1, max: 24 * 60 * MINUTE },
    default: 5 * MINUTE,
    description: 'give up waiting for a task after this long',
  },
  'retry.retries': {
    spec: { type: 'int', min: 0, max: 10 },
    default: 3,
    description: 'retries of a submit after 429, 5xx or a network error',
  },
  'retry.minTimeoutMs': {
    spec: { type: 'int', min: 1, max: 10 * MINUTE },
    default: 1000,
    description: 'first pause before a retry (doubles each time)',
  },
  'output.dir': {
    spec: { type: 'string' },
    description: 'folder for derived output names (default: the current folder)',
  },
  'output.format': {
    spec: { type: 'enum', values: OUTPUT_FORMATS },
    default: 'png',
    description: 'output image format',
  },
  'loom.colors': {
    spec: { type: 'int', min: 2, max: 256 },
    default: 8,
    description: 'number of yarn colours',
  },
  'loom.width': {
    spec: { type: 'int', min: 1, max: 20_000 },
    default: 600,
    description: 'warp ends (output width in pixels)',
  },
  'loom.minRegion': {
    spec: { type: 'int', min: 1, max: 10_000 },
    default: 4,
    description: 'smallest region in pixels; smaller specks are merged into a neighbour',
  },
  'loom.dither': {
    spec: { type: 'enum', values: DITHER_MODES },
    default: 'none',
    description: 'dithering: none, ordered or fs',
  },
  'loom.palette': {
    spec: { type: 'palette' },
    description: 'fixed yarn colours: "#hex,#hex", an array of hex strings, or a .gpl file',
  },
};

/** Keys allowed inside `styles.<name>`; `loom` takes the loom.* keys. */
export const STYLE_KEYS: Record<string, LeafSpec> = {
  description: { type: 'string' },
  function: { type: 'enum', values: DASHSCOPE_FUNCTIONS },
  prompt: { type: 'string' },
  strength: { type: 'number', min: 0, max: 1 },
};

export type CheckResult = { ok: true; value: unknown } | { ok: false; expected: string };

const HEX = /^#?[0-9a-fA-F]{6}$/;

/** Checks one value against its spec. Strings from env vars and flags are converted where the spec is numeric. */
export function checkValue(spec: LeafSpec, raw: unknown): CheckResult {
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' && raw.length > 0 ? { ok: true, value: raw } : { ok: false, expected: 'a non-empty string' };
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
      const isInt = spec.type === 'int';
      const expected = `${isInt ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n)) return { ok: false, expected };
      if (isInt && !Number.isInteger(n)) return { ok: false, expected };
      if (n < spec.min || n > spec.max) return { ok: false, expected };
      return { ok: true, value: n };
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

export function defaultConfig(): Config {
  const config = { styles: {} } as unknown as Config;
  for (const [path, def] of Object.entries(KEYS)) {
    if (def.default !== undefined) setPath(config, path, def.default);
  }
  // Keep every section present even when none of its keys has a default.
  setPath(config, 'output.dir', undefined);
  return config;
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function setPath(obj: object, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === undefined || cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}
