/**
 * One request builder per DashScope model family, as each is documented:
 * - wanx2.1-imageedit: async task, `input.function` + `base_image_url`, the function's own parameters;
 * - wan2.5-i2i-preview: the same async endpoint, `input.images` (1-3), no function, `n` always sent (its
 *   default is 4, each billed);
 * - qwen-image-edit(-plus/-max): a synchronous multimodal call (no async header: the service refuses it there
 *   with 403), the picture and the instruction as one user message.
 */
import type { PlannedRequest } from '../../kernel/redact.js';
import { asObject, asObjects, asText } from '../shared/answer.js';
import type { EditInstruction, ProviderContext } from '../types.js';
import type { DashscopeModel } from './models.js';

export const ASYNC_SUBMIT_PATH = '/api/v1/services/aigc/image2image/image-synthesis';
export const SYNC_EDIT_PATH = '/api/v1/services/aigc/multimodal-generation/generation';

/** Functions whose `parameters` take `strength`. */
const TAKES_STRENGTH = new Set(['stylization_all', 'description_edit']);
/** How far `expand` grows each side when --expand is not given: the documented 1.0 would add nothing. */
const DEFAULT_EXPAND = 1.5;

type Settings = ProviderContext['settings'];

function headers(settings: Settings, async: boolean): Record<string, string> {
  return {
    Authorization: `Bearer ${settings.apiKey}`,
    'Content-Type': 'application/json',
    ...(async ? { 'X-DashScope-Async': 'enable' } : {}),
  };
}

/** The parameters a wanx2.1-imageedit function needs, beyond `n`, `seed` and `watermark`. */
function functionParameters(instruction: EditInstruction): Record<string, unknown> {
  switch (instruction.function) {
    case 'stylization_all':
    case 'description_edit':
      return instruction.strength === undefined ? {} : { strength: instruction.strength };
    case 'expand': {
      const scale = instruction.expand ?? DEFAULT_EXPAND;
      return { top_scale: scale, bottom_scale: scale, left_scale: scale, right_scale: scale };
    }
    case 'super_resolution':
      return { upscale_factor: instruction.upscale ?? 1 };
    case 'doodle':
      return { is_sketch: instruction.sketch === true };
    default:
      return {};
  }
}

function wanxRequest(settings: Settings, instruction: EditInstruction, imageDataUri: string): PlannedRequest {
  const parameters: Record<string, unknown> = { n: 1, ...functionParameters(instruction), watermark: false };
  if (!TAKES_STRENGTH.has(instruction.function ?? '')) delete parameters.strength;
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
  return {
    method: 'POST',
    url: settings.baseUrl + ASYNC_SUBMIT_PATH,
    headers: headers(settings, true),
    json: {
      model: settings.model,
      input: { function: instruction.function, prompt: instruction.prompt, base_image_url: imageDataUri },
      parameters,
    },
  };
}

function wanI2iRequest(settings: Settings, instruction: EditInstruction, imageDataUri: string): PlannedRequest {
  const parameters: Record<string, unknown> = { n: 1, watermark: false };
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
  return {
    method: 'POST',
    url: settings.baseUrl + ASYNC_SUBMIT_PATH,
    headers: headers(settings, true),
    json: { model: settings.model, input: { prompt: instruction.prompt, images: [imageDataUri] }, parameters },
  };
}

function qwenRequest(settings: Settings, instruction: EditInstruction, imageDataUri: string): PlannedRequest {
  const parameters: Record<string, unknown> = { n: 1, watermark: false };
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
  return {
    method: 'POST',
    url: settings.baseUrl + SYNC_EDIT_PATH,
    headers: headers(settings, false),
    json: {
      model: settings.model,
      input: { messages: [{ role: 'user', content: [{ image: imageDataUri }, { text: instruction.prompt }] }] },
      parameters,
    },
  };
}

export function buildEditRequest(
  model: DashscopeModel,
  settings: Settings,
  instruction: EditInstruction,
  imageDataUri: string,
): PlannedRequest {
  switch (model.family) {
    case 'wanx-imageedit':
      return wanxRequest(settings, instruction, imageDataUri);
    case 'wan-i2i':
      return wanI2iRequest(settings, instruction, imageDataUri);
    case 'qwen-image-edit':
      return qwenRequest(settings, instruction, imageDataUri);
  }
}

/** The first image URL of a synchronous answer: `output.choices[0].message.content[].image`. */
export function syncResultUrl(body: Record<string, unknown> | undefined): string | undefined {
  const [choice] = asObjects(asObject(body?.output)?.choices);
  const content = asObjects(asObject(choice?.message)?.content);
  return content.map((c) => asText(c.image, Infinity)).find((image) => image);
}

/** Result URLs on Alibaba's own storage sometimes come as http://; the same object is served over https. */
export function secureResultUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' && /(^|\.)aliyuncs\.com$/i.test(parsed.hostname)) {
      parsed.protocol = 'https:';
      return parsed.href;
    }
  } catch {
    // checked where it is fetched
  }
  return url;
}
