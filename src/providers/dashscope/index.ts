/**
 * DashScope (Alibaba Cloud Model Studio): image editing with wanx2.1-imageedit, wan2.5-i2i-preview,
 * wan2.6-image and the qwen-image-edit family (src/providers/dashscope/models.ts), and text to image with the
 * qwen-image family, z-image-turbo and the wan t2i models (generate-models.ts). This descriptor is plain data
 * and checks; the client (HTTP, task polling, encoding) is loaded only when a request is made.
 */
import { UsageError } from '../../kernel/errors.js';
import { SEED_RANGE, describeRange, toNumberInRange } from '../../kernel/numbers.js';
import type { EditInstruction, ProviderDescriptor } from '../types.js';
import {
  DASHSCOPE_GENERATE_IDS,
  DASHSCOPE_GENERATE_MODELS,
  dashscopeGenerateModel,
  describeSizes,
  validateDashscopeGenerate,
  type GenerateModel,
} from './generate-models.js';
import {
  DASHSCOPE_MODELS,
  DASHSCOPE_MODEL_IDS,
  DASHSCOPE_REGIONS,
  dashscopeModel,
  isListedTaskModel,
  type DashscopeModel,
} from './models.js';

const DASHSCOPE_FUNCTIONS = [
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

const EXPAND_RANGE = { min: 1, max: 2 };
const UPSCALE_RANGE = { min: 1, max: 4, integer: true };

/** Checks what the instruction asks of the model; an unknown model is refused by `modelOf` before this. */
function checkInstruction(instruction: EditInstruction, modelId: string, typed = false): void {
  const model = dashscopeModel(modelId) ?? DASHSCOPE_MODELS[0];
  const takesFunctions = model.family === 'wanx-imageedit';
  if (typed && !takesFunctions) {
    const dropped = (
      [
        ['--function', instruction.function],
        ['--strength', instruction.strength],
      ] as const
    ).find(([, value]) => value !== undefined);
    if (dropped) {
      throw new UsageError(`${dropped[0]} is a wanx2.1-imageedit option; ${model.id} has no edit functions`, {
        hint: 'use -m wanx2.1-imageedit, or leave it out',
      });
    }
  }
  if (
    instruction.function !== undefined &&
    !(DASHSCOPE_FUNCTIONS as readonly string[]).includes(instruction.function)
  ) {
    throw new UsageError(
      `--function: expected one of ${DASHSCOPE_FUNCTIONS.join(', ')}, got "${instruction.function}"`,
    );
  }
  if (takesFunctions && instruction.function === 'description_edit_with_mask') {
    throw new UsageError('description_edit_with_mask needs a mask image, which imagegen does not send', {
      hint: 'use description_edit',
    });
  }
  if (instruction.strength !== undefined && toNumberInRange(instruction.strength, { min: 0, max: 1 }) === undefined) {
    throw new UsageError(`--strength: expected ${describeRange({ min: 0, max: 1 })}, got ${instruction.strength}`);
  }
  if (instruction.seed !== undefined && toNumberInRange(instruction.seed, SEED_RANGE) === undefined) {
    throw new UsageError(`--seed: expected ${describeRange(SEED_RANGE)}, got ${instruction.seed}`);
  }
  if (instruction.expand !== undefined && toNumberInRange(instruction.expand, EXPAND_RANGE) === undefined) {
    throw new UsageError(`--expand: expected ${describeRange(EXPAND_RANGE)}, got ${instruction.expand}`);
  }
  if (instruction.upscale !== undefined && toNumberInRange(instruction.upscale, UPSCALE_RANGE) === undefined) {
    throw new UsageError(`--upscale: expected ${describeRange(UPSCALE_RANGE)}, got ${instruction.upscale}`);
  }
  // Options that only a wanx2.1-imageedit function takes: refused where they would be dropped unsaid.
  const functionOptions: Array<[string, unknown, string]> = [
    ['--expand', instruction.expand, 'expand'],
    ['--upscale', instruction.upscale, 'super_resolution'],
    ['--sketch', instruction.sketch || undefined, 'doodle'],
  ];
  for (const [flag, value, fn] of functionOptions) {
    if (value === undefined) continue;
    if (!takesFunctions)
      throw new UsageError(`${flag} is a wanx2.1-imageedit option; ${model.id} has no edit functions`, {
        hint: `use -m wanx2.1-imageedit --function ${fn}`,
      });
    if (instruction.function !== undefined && instruction.function !== fn)
      throw new UsageError(`${flag} goes with --function ${fn}, not ${instruction.function}`);
  }
  if (instruction.promptExtend && !model.promptExtend) {
    const taking = DASHSCOPE_MODELS.filter((m) => m.promptExtend).map((m) => m.id);
    throw new UsageError(`--prompt-extend: ${model.id} rewrites no instruction`, {
      hint: `the edit models that take it: ${taking.join(', ')}`,
    });
  }
  if (instruction.prompt.length > model.maxPrompt) {
    throw new UsageError(
      `the instruction has ${instruction.prompt.length} characters; ${model.id} takes at most ${model.maxPrompt} and would cut the rest`,
    );
  }
}

function describeLimits(model: DashscopeModel): string {
  const { minSide, maxSide, maxBytes } = model.input;
  const pictures = model.maxImages > 1 ? `, 1-${model.maxImages} pictures with --ref` : '';
  return `input sides ${minSide}-${maxSide} px, at most ${maxBytes / 1e6} MB each as sent (fitted automatically)${pictures}; instruction at most ${model.maxPrompt} characters`;
}

function describeGenerateLimits(model: GenerateModel): string {
  const negative = model.maxNegative ? `, --negative at most ${model.maxNegative}` : '';
  return `${describeSizes(model)}; prompt at most ${model.maxPrompt} characters${negative}`;
}

export const dashscope: ProviderDescriptor = {
  id: 'dashscope',
  label: 'DashScope',
  keyEnv: ['DASHSCOPE_API_KEY', 'TONGYI_API_KEY'],
  keyShape: 'sk-…',
  keyPrefix: 'sk-',
  baseUrlEnv: 'IMAGEGEN_DASHSCOPE_BASE_URL',
  defaultBaseUrl: 'https://dashscope.aliyuncs.com',
  defaultModel: 'wanx2.1-imageedit',
  modelDescription: `DashScope image-edit model: ${DASHSCOPE_MODEL_IDS.join(', ')}`,
  models: DASHSCOPE_MODEL_IDS,
  modelOf: (model) => dashscopeModel(model)?.id,
  modelNotes: DASHSCOPE_MODELS.map((m) => ({ model: m.id, does: m.does, limits: describeLimits(m) })),
  generateModels: {
    defaultModel: 'qwen-image-plus',
    models: DASHSCOPE_GENERATE_IDS,
    description: `DashScope text-to-image model (generate): ${DASHSCOPE_GENERATE_IDS.join(', ')}`,
    modelOf: (model) => dashscopeGenerateModel(model)?.id,
    notes: DASHSCOPE_GENERATE_MODELS.map((m) => ({ model: m.id, does: m.does, limits: describeGenerateLimits(m) })),
  },
  // ModelScope generates within a free daily allowance, DashScope bills each picture: with both keys,
  // generate stays on ModelScope unless told otherwise.
  rank: { generate: 1 },
  regions: DASHSCOPE_REGIONS,
  apiPath: '/api/v1',
  capabilities: ['edit', 'generate'],
  // wanx2.1-imageedit: 2 tasks in flight and 2 submits a second per account; the other models allow more.
  limits: { tasksInFlight: 2, submitsPerSecond: 2 },
  styleKeys: {
    function: { type: 'enum', values: DASHSCOPE_FUNCTIONS },
    strength: { type: 'number', min: 0, max: 1 },
  },
  hints: {
    auth:
      'check DASHSCOPE_API_KEY: a key works only in its own region and gets 401 in any other; set ' +
      "providers.dashscope.region (beijing, singapore, virginia, hongkong) to the key's region",
    forbidden: 'this DashScope account may not use this model (or the call mode); check the console',
    rateLimit:
      'DashScope allows wanx2.1-imageedit 2 submissions a second and 2 tasks at once, and each model a quota a ' +
      'minute; try later',
  },
  maxPictures: (model) => dashscopeModel(model)?.maxImages ?? 1,
  checkInstruction,
  validateGenerate: async (prompt, options, model) => validateDashscopeGenerate(prompt, options, model),
  listsTasksOf: isListedTaskModel,
  load: () => import('./client.js').then((m) => m.client),
};
