/**
 * Style presets: what `edit` asks the remote model to do, and how the local loom pipeline finishes the image.
 * One instruction serves every provider unless a provider needs other wording (`prompts.<provider id>`):
 * DashScope's wanx2.1-imageedit is told how far to go by `strength`, while ModelScope's editing models have no
 * strength and must be told in words what to keep. User config (`styles.<name>`) adds presets or overrides
 * fields of the built-in ones.
 */
import { UsageError } from '../kernel/errors.js';
import type { EditInstruction, ProviderDescriptor } from '../providers/types.js';
import type { LoomConfig, StyleSettings } from './schema.js';

export interface StylePreset {
  name: string;
  description: string;
  /** DashScope wanx2.1-imageedit `input.function`. */
  function: string;
  /** The instruction sent to the remote model. */
  prompt: string;
  /** The instruction worded for one provider, by provider id, where `prompt` does not suit it. */
  prompts: Record<string, string>;
  /** `parameters.strength` (0–1) for functions that take it. */
  strength?: number;
  /** Local loom settings this style imposes over the configured ones; flags still win. */
  loom: Partial<LoomConfig>;
  /** The weave map used when its designs are woven; --weave MAP wins. */
  weave?: string;
  /** Weft yarns in shuttle order for its woven designs; --wefts, then the configured weave.wefts, win. */
  wefts?: string | string[];
  builtIn: boolean;
}

const BUILT_IN_STYLES: readonly StylePreset[] = [
  {
    name: 'loom',
    description: 'flat-colour jacquard design: the configured number of yarn colours, hard edges, no specks',
    function: 'description_edit',
    prompt:
      'Redraw this picture as a flat jacquard weaving design: a few solid colour areas with clean hard edges, ' +
      'no gradients, no shading, no texture, no text, plain background.',
    prompts: {
      modelscope:
        'Turn this picture into a flat jacquard weaving design. Keep the subject, its outline and the composition. ' +
        'Use a few solid colour areas with clean hard edges; no gradients, no shading, no texture, no text; ' +
        'a plain background.',
    },
    strength: 0.6,
    loom: {},
    builtIn: true,
  },
  {
    name: 'silhouette',
    description: 'two-colour silhouette (black figure on white ground) for a two-structure weave',
    function: 'description_edit',
    prompt:
      'Turn this picture into a bold black silhouette on a plain white background, with smooth clean outlines ' +
      'and no inner detail, no grey.',
    prompts: {
      modelscope:
        'Turn the subject of this picture into a solid black silhouette on a plain white background. Keep its ' +
        'outline, pose and position; smooth clean edges, no inner detail, no grey, nothing else in the picture.',
    },
    strength: 0.7,
    loom: { colors: 2, palette: ['#000000', '#ffffff'], minRegion: 9 },
    builtIn: true,
  },
  {
    name: 'poster',
    description: 'six-colour poster with a fixed yarn palette (black, white, red, gold, blue, green)',
    function: 'description_edit',
    prompt:
      'Redraw this picture as a bold flat poster with a few saturated solid colours and thick clean shapes, ' +
      'no gradients, no fine detail.',
    prompts: {
      modelscope:
        'Redraw this picture as a bold flat poster. Keep the subject and the composition. Use a few saturated ' +
        'solid colours and thick clean shapes; no gradients, no fine detail, no text.',
    },
    strength: 0.6,
    loom: { palette: ['#1a1a1a', '#f4f1e8', '#b8262b', '#d9a43b', '#234e8c', '#2f7a4a'], minRegion: 6 },
    builtIn: true,
  },
];

/** Built-in presets with the user's `styles.<name>` entries merged over them. */
export function styleTable(userStyles: Record<string, StyleSettings> = {}): StylePreset[] {
  const table = new Map<string, StylePreset>(
    BUILT_IN_STYLES.map((style) => [style.name, { ...style, prompts: { ...style.prompts }, loom: { ...style.loom } }]),
  );
  for (const [name, user] of Object.entries(userStyles)) {
    const base = table.get(name);
    if (base) {
      // A new `prompt` replaces the built-in wordings for every provider, unless the user words one too.
      const prompts = user.prompt === undefined ? base.prompts : {};
      table.set(name, {
        ...base,
        ...definedFields(user),
        prompts: { ...prompts, ...(user.prompts ?? {}) },
        loom: { ...base.loom, ...(user.loom ?? {}) },
        builtIn: true,
      });
    } else {
      table.set(name, {
        name,
        description: user.description ?? 'user-defined style',
        function: user.function ?? 'description_edit',
        prompt: user.prompt ?? BUILT_IN_STYLES[0].prompt,
        prompts: user.prompt === undefined ? { ...BUILT_IN_STYLES[0].prompts, ...user.prompts } : { ...user.prompts },
        strength: user.strength,
        loom: { ...(user.loom ?? {}) },
        ...(user.weave === undefined ? {} : { weave: user.weave }),
        ...(user.wefts === undefined ? {} : { wefts: user.wefts }),
        builtIn: false,
      });
    }
  }
  return [...table.values()];
}

function definedFields(user: StyleSettings): Partial<StylePreset> {
  const out: Record<string, unknown> = {};
  for (const key of ['description', 'function', 'prompt', 'strength', 'weave', 'wefts'] as const) {
    if (user[key] !== undefined) out[key] = user[key];
  }
  return out as Partial<StylePreset>;
}

/**
 * What a style asks of one provider: the instruction worded for it if the style has one, else the common one;
 * the function and strength only where the provider's styles take them.
 */
export function styleInstruction(
  style: StylePreset,
  provider: Pick<ProviderDescriptor, 'id' | 'styleKeys'>,
): EditInstruction {
  const takes = (key: string) => provider.styleKeys !== undefined && Object.hasOwn(provider.styleKeys, key);
  return {
    prompt: Object.hasOwn(style.prompts, provider.id) ? style.prompts[provider.id] : style.prompt,
    ...(takes('function') ? { function: style.function } : {}),
    ...(takes('strength') && style.strength !== undefined ? { strength: style.strength } : {}),
  };
}

export function findStyle(name: string, userStyles: Record<string, StyleSettings> = {}): StylePreset {
  const table = styleTable(userStyles);
  const style = table.find((s) => s.name === name);
  if (!style) {
    throw new UsageError(`unknown style "${name}"`, { hint: `known styles: ${table.map((s) => s.name).join(', ')}` });
  }
  return style;
}
