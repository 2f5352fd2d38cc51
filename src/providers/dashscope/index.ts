/**
 * DashScope (Alibaba Cloud Model Studio): image editing with wanx2.1-imageedit. This descriptor is plain data
 * and checks; the client (HTTP, task polling, encoding) is loaded only when a request is made.
 */
import { UsageError } from '../../kernel/errors.js';
import { SEED_RANGE, describeRange, toNumberInRange } from '../../kernel/numbers.js';
import type { EditInstruction, ProviderDescriptor } from '../types.js';

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

/** The service cuts an instruction after this many characters. */
const MAX_EDIT_PROMPT = 800;

function checkInstruction(instruction: EditInstruction): void {
  if (
    instruction.function !== undefined &&
    !(DASHSCOPE_FUNCTIONS as readonly string[]).includes(instruction.function)
  ) {
    throw new UsageError(
      `--function: expected one of ${DASHSCOPE_FUNCTIONS.join(', ')}, got "${instruction.function}"`,
    );
  }
  if (instruction.function === 'description_edit_with_mask') {
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
  if (instruction.prompt.length > MAX_EDIT_PROMPT) {
    throw new UsageError(
      `the instruction has ${instruction.prompt.length} characters; DashScope takes at most ${MAX_EDIT_PROMPT} and would cut the rest`,
    );
  }
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
  modelDescription: 'DashScope image-edit model',
  // The request imagegen builds is wanx2.1-imageedit's; newer edit models take other bodies.
  models: ['wanx2.1-imageedit'],
  // Model Studio's DashScope domains, one per region; a key works only in its own region (401 elsewhere).
  // Workspace domains are <workspace>.<region id>.maas.aliyuncs.com. wanx2.1-imageedit is documented only
  // for China (Beijing).
  regions: [
    {
      id: 'cn-beijing',
      label: 'China (Beijing)',
      baseUrls: ['https://dashscope.aliyuncs.com'],
      hostPattern: /^[a-z0-9-]+\.cn-beijing\.maas\.aliyuncs\.com$/,
      models: ['wanx2.1-imageedit'],
    },
    {
      id: 'ap-southeast-1',
      label: 'Singapore',
      baseUrls: ['https://dashscope-intl.aliyuncs.com'],
      hostPattern: /^[a-z0-9-]+\.ap-southeast-1\.maas\.aliyuncs\.com$/,
      models: [],
    },
    { id: 'us-east-1', label: 'US (Virginia)', baseUrls: ['https://dashscope-us.aliyuncs.com'], models: [] },
    {
      id: 'cn-hongkong',
      label: 'China (Hong Kong)',
      baseUrls: ['https://cn-hongkong.dashscope.aliyuncs.com'],
      models: [],
    },
  ],
  apiPath: '/api/v1',
  capabilities: ['edit'],
  // wanx2.1-imageedit: 2 tasks in flight and 2 submits a second per account.
  limits: { tasksInFlight: 2, submitsPerSecond: 2 },
  styleKeys: {
    function: { type: 'enum', values: DASHSCOPE_FUNCTIONS },
    strength: { type: 'number', min: 0, max: 1 },
  },
  hints: {
    auth: 'check DASHSCOPE_API_KEY: wanx2.1-imageedit needs a key of the China (Beijing) region',
    forbidden: 'this DashScope account may not use this model (or the call mode); check the console',
    rateLimit: 'DashScope allows 2 submissions a second and 2 tasks at once; try later',
  },
  checkInstruction,
  load: () => import('./client.js').then((m) => m.client),
};
