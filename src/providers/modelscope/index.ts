/**
 * ModelScope API-Inference: text-to-image generation and image editing, both async tasks on one endpoint.
 * This descriptor is plain data and cheap checks; option checks and the client are loaded only when a request
 * is to be made.
 */
import { UsageError } from '../../kernel/errors.js';
import { SEED_RANGE, describeRange, toNumberInRange } from '../../kernel/numbers.js';
import type { EditInstruction, ProviderDescriptor } from '../types.js';

const TEXT_TO_IMAGE_MODELS = [
  'Qwen/Qwen-Image',
  'Qwen/Qwen-Image-2512',
  'Tongyi-MAI/Z-Image-Turbo',
  'Tongyi-MAI/Z-Image',
  'MAILAND/majicflus_v1',
  'black-forest-labs/FLUX.1-Krea-dev',
  'black-forest-labs/FLUX.2-dev',
  'MusePublic/14_ckpt_SD_XL',
  'MusePublic/majicMIX_realistic',
];

/** The editing models imagegen sends pictures to; the first is the default. */
const EDIT_MODELS = [
  'Qwen/Qwen-Image-Edit-2509',
  'Qwen/Qwen-Image-Edit-2511',
  'Qwen/Qwen-Image-Edit',
  'black-forest-labs/FLUX.1-Kontext-dev',
];

/** The editing models that take several pictures in `image_url` (the edited one first, then --ref). */
const MULTI_PICTURE: Record<string, number> = { 'Qwen/Qwen-Image-Edit-2509': 3, 'Qwen/Qwen-Image-Edit-2511': 3 };

/** What each editing model does, and what imagegen sends it, for `imagegen styles`. */
const SENT =
  'at most 10 MB (fitted automatically, sent as a PNG data URI in image_url); ' +
  'instruction fewer than 2000 characters; --seed, no --function or --strength; one task at a time, ' +
  'metered in magicubes against a daily allowance';
const EDIT_MODEL_NOTES: Record<string, { does: string; limits: string }> = {
  'Qwen/Qwen-Image-Edit-2509': {
    does: 'instruction edit keeping what the instruction names, 1-3 pictures (--ref), async task',
    limits: `input sides 64-1664 px, ${SENT}`,
  },
  'Qwen/Qwen-Image-Edit-2511': {
    does: 'as Qwen/Qwen-Image-Edit-2509, newer (the newest Qwen editor), 1-3 pictures (--ref), async task',
    limits: `input sides 64-1664 px, ${SENT}`,
  },
  'Qwen/Qwen-Image-Edit': {
    does: 'instruction edit (the first Qwen editor), async task',
    limits: `input sides 64-1664 px, ${SENT}`,
  },
  'black-forest-labs/FLUX.1-Kontext-dev': {
    does: 'instruction edit keeping the composition closely, async task',
    limits: `input sides 64-1024 px, ${SENT}`,
  },
};

/** "length < 2000", as for generation. */
const MAX_EDIT_PROMPT = 1999;

/** DashScope's options, which no ModelScope editing model takes. */
const DASHSCOPE_ONLY = [
  ['--prompt-extend', 'promptExtend'],
  ['--expand', 'expand'],
  ['--upscale', 'upscale'],
  ['--sketch', 'sketch'],
  ['--function', 'function'],
  ['--strength', 'strength'],
] as const;

function checkInstruction(instruction: EditInstruction): void {
  const given = DASHSCOPE_ONLY.find(([, key]) => instruction[key] !== undefined);
  if (given) {
    throw new UsageError(
      `${given[0]} is a DashScope option; ModelScope editing models take an instruction (--prompt) and --seed only`,
    );
  }
  if (instruction.seed !== undefined && toNumberInRange(instruction.seed, SEED_RANGE) === undefined) {
    throw new UsageError(`--seed: expected ${describeRange(SEED_RANGE)}, got ${instruction.seed}`);
  }
  if (instruction.prompt.length > MAX_EDIT_PROMPT) {
    throw new UsageError(
      `the instruction has ${instruction.prompt.length} characters; ModelScope takes fewer than ${MAX_EDIT_PROMPT + 1}`,
    );
  }
}

export const modelscope: ProviderDescriptor = {
  id: 'modelscope',
  label: 'ModelScope',
  keyEnv: ['MODELSCOPE_API_KEY'],
  keyShape: 'ms-…',
  keyPrefix: 'ms-',
  baseUrlEnv: 'IMAGEGEN_MODELSCOPE_BASE_URL',
  defaultBaseUrl: 'https://api-inference.modelscope.cn',
  defaultModel: 'Qwen/Qwen-Image',
  modelDescription: 'ModelScope text-to-image model id (generate)',
  editModels: {
    defaultModel: EDIT_MODELS[0],
    models: EDIT_MODELS,
    description: `ModelScope image-editing model (edit): ${EDIT_MODELS.join(', ')}`,
  },
  // Text-to-image models seen in ModelScope's samples and active clients; the service offers many more.
  models: TEXT_TO_IMAGE_MODELS,
  regions: [
    {
      id: 'cn',
      name: 'cn',
      label: 'modelscope.cn',
      baseUrls: ['https://api-inference.modelscope.cn'],
      models: [...TEXT_TO_IMAGE_MODELS, ...EDIT_MODELS],
    },
  ],
  apiPath: '/v1',
  capabilities: ['generate', 'edit'],
  // API-Inference promises one task at a time; more is allowed only as the service sees fit.
  limits: { tasksInFlight: 1, submitsPerSecond: 1 },
  hints: {
    auth: 'check MODELSCOPE_API_KEY (an access token from modelscope.cn/my/myaccesstoken, no spaces)',
    forbidden:
      'the ModelScope account must be bound to a real-name-verified Alibaba Cloud account, and the model open to it',
    rateLimit:
      'ModelScope meters calls in magicubes against a daily allowance and limits how many run at once as it sees fit; try later',
    dailyQuota:
      "the day's ModelScope allowance (metered in magicubes) is used up; it comes back at 00:00 China time (UTC+8)",
  },
  modelNotes: EDIT_MODELS.map((model) => ({ model, ...EDIT_MODEL_NOTES[model] })),
  maxPictures: (model) => MULTI_PICTURE[model] ?? 1,
  checkInstruction,
  validateGenerate: (prompt, options, model) =>
    import('./request.js').then((m) => m.validateGenerate(prompt, options, model)),
  load: () => import('./client.js').then((m) => m.client),
};
