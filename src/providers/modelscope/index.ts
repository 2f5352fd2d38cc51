/**
 * ModelScope API-Inference: text-to-image generation. This descriptor is plain data; option checks and the
 * client are loaded only when `generate` runs.
 */
import type { ProviderDescriptor } from '../types.js';

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

export const modelscope: ProviderDescriptor = {
  id: 'modelscope',
  label: 'ModelScope',
  keyEnv: ['MODELSCOPE_API_KEY'],
  keyShape: 'ms-…',
  keyPrefix: 'ms-',
  baseUrlEnv: 'IMAGEGEN_MODELSCOPE_BASE_URL',
  defaultBaseUrl: 'https://api-inference.modelscope.cn',
  defaultModel: 'Qwen/Qwen-Image',
  modelDescription: 'ModelScope text-to-image model id',
  // Text-to-image models seen in ModelScope's samples and active clients; the service offers many more.
  models: TEXT_TO_IMAGE_MODELS,
  regions: [
    {
      id: 'cn',
      name: 'cn',
      label: 'modelscope.cn',
      baseUrls: ['https://api-inference.modelscope.cn'],
      models: TEXT_TO_IMAGE_MODELS,
    },
  ],
  apiPath: '/v1',
  capabilities: ['generate'],
  // API-Inference promises one task at a time; more is allowed only as the service sees fit.
  limits: { tasksInFlight: 1, submitsPerSecond: 1 },
  hints: {
    auth: 'check MODELSCOPE_API_KEY (an access token from modelscope.cn/my/myaccesstoken, no spaces)',
    forbidden:
      'the ModelScope account must be bound to a real-name-verified Alibaba Cloud account, and the model open to it',
    rateLimit: 'ModelScope allows about 2000 calls a day per user and fewer per model; try later',
  },
  validateGenerate: (prompt, options, model) =>
    import('./request.js').then((m) => m.validateGenerate(prompt, options, model)),
  load: () => import('./client.js').then((m) => m.client),
};
