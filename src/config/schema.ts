/**
 * The configuration's shape, defaults and per-key validation. One table describes every leaf key so that
 * the rc file, env vars and flags are all checked the same way and `imagegen config` can list them. Each
 * provider's keys come from its descriptor, the format names from the format registry.
 */
import { formatIds } from '../formats/registry.js';
import type { LeafSpec } from '../kernel/values.js';
import { MAX_GRID_SIDE, type LoomSettings } from '../loom/types.js';
import { providerList, providersWith } from '../providers/registry.js';
import type { ProviderSettings } from '../providers/types.js';

/** The configurable loom settings: LoomSettings with the palette as written (hex list or .gpl path). */
export type LoomConfig = Omit<LoomSettings, 'palette' | 'background'> & {
  palette?: string | string[];
  /** '#rrggbb' */
  background: string;
  /** The loom's hooks in all (the lift plan's width); the design's width follows from it. */
  hooks?: number;
  /** The name of the loom preset applied. */
  preset?: string;
};

export interface StyleSettings {
  description?: string;
  function?: string;
  prompt?: string;
  /** The instruction worded for one provider, by provider id, where `prompt` does not suit it. */
  prompts?: Record<string, string>;
  strength?: number;
  loom?: Partial<LoomConfig>;
  /** A weave map used when this style's designs are woven (--weave). */
  weave?: string;
  /** Weft yarns, in shuttle order, for this style's woven designs (--wefts wins). */
  wefts?: string | string[];
}

/** A structure of the rc file's `weaves.<name>`: rows of 0/1, top pick first. */
export interface WeaveDefinition {
  rows: string[];
  /** Accept a row or column that never interlaces. */
  allowUnbound?: boolean;
}

/** How a design becomes a lift plan (the `weave.*` keys). */
interface WeaveConfig {
  map?: string;
  warp: string;
  weft: string;
  wefts?: string | string[];
  maxFloat: number;
  maxBackFloat?: number;
  selectorHooks?: 'left' | 'right';
  selvedge: number;
  selvedgeWeave: string;
  repeats?: number;
  tie: 'straight' | 'point';
  liftFormat: string;
  previewScale?: number;
}

export interface Config {
  providers: Record<string, ProviderSettings>;
  edit: { provider?: string };
  generate: { provider?: string };
  polling: { intervalMs: number; maxIntervalMs: number; timeoutMs: number };
  retry: { retries: number; minTimeoutMs: number };
  output: { dir?: string; format: string };
  loom: LoomConfig;
  styles: Record<string, StyleSettings>;
  weave: WeaveConfig;
  weaves: Record<string, WeaveDefinition>;
  /** Named looms: `looms.<name>` holds values of the keys in LOOM_PRESET_KEYS. */
  looms: Record<string, Record<string, unknown>>;
}

/** What a loom preset (`looms.<name>`, chosen by --loom or loom.preset) may set, and the key each sets. */
export const LOOM_PRESET_KEYS: Record<string, string> = {
  hooks: 'loom.hooks',
  width: 'loom.width',
  density: 'loom.density',
  repeats: 'weave.repeats',
  tie: 'weave.tie',
  selvedge: 'weave.selvedge',
  selvedgeWeave: 'weave.selvedgeWeave',
  selectorHooks: 'weave.selectorHooks',
  maxFloat: 'weave.maxFloat',
  liftFormat: 'weave.liftFormat',
};

/** Looms known without a config: the TC2's two widths (their sett varies with the modules fitted). */
export const BUILT_IN_LOOMS: Record<string, Record<string, unknown>> = {
  'tc2-1320': { hooks: 1320 },
  'tc2-2640': { hooks: 2640 },
};

export interface KeyDef {
  spec: LeafSpec;
  default?: unknown;
  env?: readonly string[];
  description: string;
}

const MINUTE = 60_000;

const COMMON_KEYS: Record<string, KeyDef> = {
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
    description: 'give up waiting for a task this long after its submit',
  },
  'retry.retries': {
    spec: { type: 'int', min: 0, max: 10 },
    default: 3,
    description:
      'retries of a submit after 429, 5xx or a connection that failed before sending (never after a timeout)',
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
  'loom.colors': { spec: { type: 'int', min: 2, max: 256 }, default: 8, description: 'number of yarn colours' },
  'loom.width': {
    spec: { type: 'int', min: 1, max: MAX_GRID_SIDE },
    default: 600,
    description: 'warp ends (output width in pixels)',
  },
  'loom.hooks': {
    spec: { type: 'int', min: 1, max: MAX_GRID_SIDE },
    description:
      "the loom's hooks in all: the lift plan's width, selvedges and selector hooks included (without --weave, the design's width)",
  },
  'loom.preset': {
    spec: { type: 'string' },
    description: 'a loom from `looms` (or tc2-1320, tc2-2640) whose hooks, density, selvedges… apply',
  },
  'loom.height': {
    spec: { type: 'int', min: 1, max: MAX_GRID_SIDE },
    description: 'weft picks (default: from the aspect ratio and loom.density)',
  },
  'loom.density': { spec: { type: 'density' }, description: 'ends x picks per cm (or /in), e.g. 24x30' },
  'loom.minRegion': {
    spec: { type: 'int', min: 1, max: 10_000 },
    default: 4,
    description: 'smallest region in pixels; smaller specks are merged into a neighbour',
  },
  'loom.dither': {
    spec: { type: 'enum', values: ['none', 'ordered', 'fs'] },
    default: 'none',
    description: 'dithering: none, ordered or fs',
  },
  'loom.palette': {
    spec: { type: 'palette' },
    description: 'fixed yarn colours: "#hex,#hex", an array of hex strings, or a .gpl file',
  },
  'loom.background': { spec: { type: 'color' }, default: '#ffffff', description: 'colour under transparent pixels' },
};

function weaveKeys(formats: string[]): Record<string, KeyDef> {
  return {
    'weave.map': {
      spec: { type: 'string' },
      description: 'weave every design with this map: auto, or 0=satin:8/warp,1=twill:2/2,#f4f1e8=plain',
    },
    'weave.warp': { spec: { type: 'color' }, default: '#000000', description: 'warp yarn colour' },
    'weave.weft': { spec: { type: 'color' }, default: '#ffffff', description: 'weft yarn colour' },
    'weave.wefts': {
      spec: { type: 'palette' },
      description: 'weft yarns in shuttle order (2 to 8): a compound cloth with one pick per weft per design row',
    },
    'weave.maxFloat': {
      spec: { type: 'int', min: 2, max: 64 },
      default: 8,
      description: 'longest float in the lift plan, warp and weft, either face',
    },
    'weave.maxBackFloat': {
      spec: { type: 'int', min: 2, max: 128 },
      description: 'with several wefts: longest float of a weft behind the cloth (default twice weave.maxFloat)',
    },
    'weave.selectorHooks': {
      spec: { type: 'enum', values: ['left', 'right'] },
      description: "with several wefts: one extra end per weft at this edge, raised on that weft's picks",
    },
    'weave.selvedge': {
      spec: { type: 'int', min: 0, max: 1000 },
      default: 0,
      description: 'selvedge ends at each side, outside the design',
    },
    'weave.selvedgeWeave': {
      spec: { type: 'string' },
      default: 'plain',
      description: 'structure of the selvedges, e.g. plain or twill:2/2',
    },
    'weave.repeats': {
      spec: { type: 'int', min: 1, max: 1000 },
      description: 'design repeats side by side (default 1, or as many as --hooks holds with --width)',
    },
    'weave.tie': {
      spec: { type: 'enum', values: ['straight', 'point'] },
      default: 'straight',
      description: 'straight: every repeat alike; point: every other repeat mirrored, as a point-tied harness',
    },
    'weave.liftFormat': {
      spec: { type: 'enum', values: ['bmp', ...formats.filter((f) => f !== 'bmp'), 'wif'] },
      default: 'bmp',
      description: 'format of the lift plan: bmp, png or tiff (1-bit images), or wif (a WIF 1.1 draft)',
    },
    'weave.previewScale': {
      spec: { type: 'int', min: 1, max: 64 },
      description: 'pixels per end in the cloth preview (default: 3 or more, and at least 1200 pixels wide)',
    },
  };
}

/**
 * Every leaf key outside `styles`, with its default and env vars (first listed wins). Built on each call so
 * that a provider registered later (an extension, a test) has its keys too.
 */
export function configKeys(): Record<string, KeyDef> {
  const keys: Record<string, KeyDef> = {};
  for (const p of providerList()) {
    keys[`providers.${p.id}.apiKey`] = {
      spec: { type: 'string', secret: true },
      env: p.keyEnv,
      description: `${p.label} API key (${p.keyShape})`,
    };
    keys[`providers.${p.id}.baseUrl`] = {
      spec: { type: 'url' },
      default: p.defaultBaseUrl,
      env: [p.baseUrlEnv],
      description: `${p.label} base URL`,
    };
    if ((p.regions?.length ?? 0) > 1) {
      keys[`providers.${p.id}.region`] = {
        spec: { type: 'enum', values: p.regions!.map((r) => r.name) },
        default: p.regions![0].name,
        description: `${p.label} region: its documented host is the base URL unless baseUrl is set`,
      };
    }
    keys[`providers.${p.id}.model`] = {
      spec: { type: 'string' },
      default: p.defaultModel,
      description: p.modelDescription,
    };
    if (p.editModels) {
      keys[`providers.${p.id}.editModel`] = {
        spec: { type: 'string' },
        default: p.editModels.defaultModel,
        description: p.editModels.description,
      };
    }
    if (p.generateModels) {
      keys[`providers.${p.id}.generateModel`] = {
        spec: { type: 'string' },
        default: p.generateModels.defaultModel,
        description: p.generateModels.description,
      };
    }
    keys[`providers.${p.id}.limits.tasksInFlight`] = {
      spec: { type: 'int', min: 1, max: 64 },
      default: p.limits.tasksInFlight,
      description: `${p.label} tasks at once (the account's limit)`,
    };
    keys[`providers.${p.id}.limits.submitsPerSecond`] = {
      spec: { type: 'number', min: 0.1, max: 100 },
      default: p.limits.submitsPerSecond,
      description: `${p.label} task submissions per second`,
    };
  }
  const editors = editProviderIds();
  keys['edit.provider'] = {
    spec: { type: 'enum', values: editors },
    description: `provider for \`edit\` (default: the first with a key, in the order ${editors.join(', ')})`,
  };
  const generators = providersWith('generate').map((p) => p.id);
  keys['generate.provider'] = {
    spec: { type: 'enum', values: generators },
    description: `provider for \`generate\` (default: the first with a key, in the order ${generators.join(', ')})`,
  };
  Object.assign(keys, COMMON_KEYS);
  const formats = formatIds();
  keys['output.format'] = {
    spec: { type: 'enum', values: formats },
    default: formats[0],
    description: 'output image format',
  };
  Object.assign(keys, weaveKeys(formats));
  return keys;
}

/** Keys allowed inside `styles.<name>`, with those the providers add; `loom` takes the loom.* keys. */
export function styleKeys(): Record<string, LeafSpec> {
  const keys: Record<string, LeafSpec> = {
    description: { type: 'string' },
    prompt: { type: 'string' },
    weave: { type: 'string' },
    wefts: { type: 'palette' },
  };
  for (const p of providerList()) Object.assign(keys, p.styleKeys);
  return keys;
}

/** The providers that edit, in the order `edit` tries them when none is named. */
export function editProviderIds(): string[] {
  return providersWith('edit').map((p) => p.id);
}

export function defaultConfig(keys = configKeys()): Config {
  const config = { styles: {}, providers: {}, edit: {}, generate: {}, weaves: {}, looms: {} } as unknown as Config;
  for (const [path, def] of Object.entries(keys)) {
    if (def.default !== undefined) setPath(config, path, def.default);
  }
  // Keep every section present even when none of its keys has a default.
  setPath(config, 'output.dir', undefined);
  return config;
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function setPath(obj: object, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(cur, part) || cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}
