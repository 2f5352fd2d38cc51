/**
 * The DashScope text-to-image models imagegen can call, one family per request shape, with each model's
 * documented sizes and prompt limits, and the checks of `generate`'s options against them (before anything is
 * sent). Plain data and checks, loaded with the descriptor.
 */
import { UsageError } from '../../kernel/errors.js';
import { SEED_RANGE, describeRange, toNumberInRange } from '../../kernel/numbers.js';
import type { GenerateOptions, GenerateParams } from '../types.js';

/**
 * How a family is called: the synchronous multimodal call (a message of one text), the async
 * image-generation task (wan2.6-t2i, the same message), or the async text2image task (`input.prompt`).
 */
export type GenerateFamily = 'multimodal' | 'image-generation' | 'text2image';

/** The sizes a model makes: a fixed list, a range of total pixels (and of aspect), or a range per side. */
type SizeRule =
  | { kind: 'list'; sizes: readonly string[] }
  | { kind: 'pixels'; min: number; max: number; aspect?: number }
  | { kind: 'sides'; min: number; max: number };

export interface GenerateModel {
  id: string;
  family: GenerateFamily;
  /** What it does, for `imagegen styles` and the README. */
  does: string;
  sizes: SizeRule;
  /** Sent when no --size is given: some services' defaults are documented differently in different places. */
  defaultSize: string;
  /** The service cuts the prompt after this many characters. */
  maxPrompt: number;
  /** The longest negative prompt, or 0 where the model takes none. */
  maxNegative: number;
  /** Whether it takes `watermark`. */
  watermark: boolean;
}

const QWEN_SIZES = ['1664*928', '1472*1104', '1328*1328', '1104*1472', '928*1664'];
const WAN_V2_PIXELS: SizeRule = { kind: 'pixels', min: 1280 * 1280, max: 1440 * 1440, aspect: 4 };
const WAN_SIDES: SizeRule = { kind: 'sides', min: 512, max: 1440 };

function qwen(id: string, does: string): GenerateModel {
  return {
    id,
    family: 'multimodal',
    does,
    sizes: { kind: 'list', sizes: QWEN_SIZES },
    defaultSize: '1328*1328',
    maxPrompt: 800,
    maxNegative: 500,
    watermark: true,
  };
}

function wanT2i(id: string, does: string): GenerateModel {
  return {
    id,
    family: 'text2image',
    does,
    sizes: WAN_SIDES,
    defaultSize: '1024*1024',
    maxPrompt: 500,
    maxNegative: 500,
    watermark: true,
  };
}

export const DASHSCOPE_GENERATE_MODELS: readonly GenerateModel[] = [
  qwen('qwen-image', 'text to image, text in pictures too; one synchronous call (dated snapshots too)'),
  qwen('qwen-image-plus', 'as qwen-image, newer'),
  qwen('qwen-image-max', 'as qwen-image-plus, the largest of the family'),
  {
    id: 'z-image-turbo',
    family: 'multimodal',
    does: 'fast text to image; one synchronous call; no --negative',
    sizes: { kind: 'pixels', min: 512 * 512, max: 2048 * 2048 },
    defaultSize: '1024*1024',
    maxPrompt: 800,
    maxNegative: 0,
    watermark: false,
  },
  {
    id: 'wan2.6-t2i',
    family: 'image-generation',
    does: 'text to image, async task; n always 1 (its default is 4, each billed)',
    sizes: WAN_V2_PIXELS,
    defaultSize: '1280*1280',
    maxPrompt: 2100,
    maxNegative: 500,
    watermark: true,
  },
  {
    ...wanT2i('wan2.5-t2i-preview', 'text to image, async task'),
    sizes: WAN_V2_PIXELS,
    defaultSize: '1280*1280',
    maxPrompt: 2000,
  },
  wanT2i('wan2.2-t2i-plus', 'text to image, async task'),
  wanT2i('wan2.2-t2i-flash', 'text to image, faster, async task'),
  wanT2i('wanx2.1-t2i-plus', 'text to image, async task'),
  wanT2i('wanx2.1-t2i-turbo', 'text to image, faster, async task'),
];

export const DASHSCOPE_GENERATE_IDS = DASHSCOPE_GENERATE_MODELS.map((m) => m.id);

/** A dated snapshot: `qwen-image-plus-2026-01-09`. */
const SNAPSHOT = /^(qwen-image(?:-plus|-max)?)-\d{4}-\d{2}-\d{2}$/;

/** The text-to-image model a configured id names, or undefined when imagegen cannot call it. */
export function dashscopeGenerateModel(id: string): GenerateModel | undefined {
  const base = SNAPSHOT.exec(id)?.[1] ?? id;
  return DASHSCOPE_GENERATE_MODELS.find((m) => m.id === base);
}

const x = (size: string) => size.replace('*', 'x');

/** The model's sizes in words, for errors and `imagegen styles`. */
export function describeSizes(model: GenerateModel): string {
  const rule = model.sizes;
  if (rule.kind === 'list') return `sizes ${rule.sizes.map(x).join(', ')}`;
  if (rule.kind === 'sides') return `sides of ${rule.min}-${rule.max} px`;
  const side = (n: number) => Math.round(Math.sqrt(n));
  const aspect = rule.aspect ? `, aspect 1:${rule.aspect} to ${rule.aspect}:1` : '';
  return `${side(rule.min)}x${side(rule.min)} to ${side(rule.max)}x${side(rule.max)} pixels in all${aspect}`;
}

/** `1024x1024` (or `1024*1024`) as the model's `W*H`, checked against what it makes: a usage error otherwise. */
function dashscopeSize(model: GenerateModel, typed: string): string {
  const m = /^(\d{1,5})\s*[x*×]\s*(\d{1,5})$/i.exec(typed.trim());
  if (!m) throw new UsageError(`--size: expected WIDTHxHEIGHT like 1328x1328, got "${typed}"`);
  const w = Number(m[1]);
  const h = Number(m[2]);
  const size = `${w}*${h}`;
  const rule = model.sizes;
  const fits =
    rule.kind === 'list'
      ? rule.sizes.includes(size)
      : rule.kind === 'sides'
        ? Math.min(w, h) >= rule.min && Math.max(w, h) <= rule.max
        : w * h >= rule.min &&
          w * h <= rule.max &&
          Math.min(w, h) > 0 &&
          (rule.aspect === undefined || Math.max(w, h) / Math.min(w, h) <= rule.aspect);
  if (!fits) throw new UsageError(`--size: ${model.id} takes ${describeSizes(model)}; got ${w}x${h}`);
  return size;
}

/** The ModelScope options no DashScope text-to-image model takes: refused rather than dropped unsaid. */
const MODELSCOPE_ONLY = [
  ['--steps', 'steps'],
  ['--guidance', 'guidance'],
] as const;

export function validateDashscopeGenerate(prompt: string, options: GenerateOptions, modelId: string): GenerateParams {
  const model = dashscopeGenerateModel(modelId);
  if (!model)
    throw new UsageError(`DashScope model "${modelId}" is not a text-to-image model imagegen can call`, {
      provider: 'dashscope',
      hint: `DashScope text-to-image models: ${DASHSCOPE_GENERATE_IDS.join(', ')}`,
    });
  const given = MODELSCOPE_ONLY.find(([, key]) => options[key] !== undefined);
  if (given) throw new UsageError(`${given[0]} is a ModelScope option; DashScope's models do not take it`);
  if ((options.lora ?? []).length > 0)
    throw new UsageError("--lora is a ModelScope option; DashScope's models do not take it");
  const text = prompt.trim();
  if (!text) throw new UsageError('generate needs a prompt');
  if (text.length > model.maxPrompt)
    throw new UsageError(
      `the prompt has ${text.length} characters; ${model.id} takes at most ${model.maxPrompt} and would cut the rest`,
    );
  const params: GenerateParams = {
    model: modelId,
    prompt: text,
    size: options.size === undefined ? model.defaultSize : dashscopeSize(model, options.size),
    prompt_extend: options.promptExtend === true,
  };
  if (options.negative !== undefined) {
    if (model.maxNegative === 0) throw new UsageError(`--negative: ${model.id} takes no negative prompt`);
    if (options.negative.length > model.maxNegative)
      throw new UsageError(`--negative: ${model.id} takes at most ${model.maxNegative} characters`);
    params.negative_prompt = options.negative;
  }
  if (options.seed !== undefined) {
    const seed = toNumberInRange(options.seed, { ...SEED_RANGE, integer: true });
    if (seed === undefined)
      throw new UsageError(`--seed: expected ${describeRange(SEED_RANGE)}, got "${options.seed}"`);
    params.seed = seed;
  }
  return params;
}
