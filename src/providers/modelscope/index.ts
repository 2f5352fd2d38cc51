/**
 * ModelScope API-Inference: text-to-image generation. This descriptor is plain data; option checks and the
 * client are loaded only when `generate` runs.
 */
import type { ProviderDescriptor } from '../types.js';

export const modelscope: ProviderDescriptor = {
  id: 'modelscope',
  label: 'ModelScope',
  keyEnv: ['MODELSCOPE_API_KEY'],
  keyShape: 'ms-…',
  baseUrlEnv: 'IMAGEGEN_MODELSCOPE_BASE_URL',
  defaultBaseUrl: 'https://api-inference.modelscope.cn',
  defaultModel: 'Qwen/Qwen-Image',
  modelDescription: 'ModelScope text-to-image model id',
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
