/**
 * One request builder per DashScope model family, as each is documented:
 * - wanx2.1-imageedit: async task, `input.function` + `base_image_url`, the function's own parameters;
 * - wan2.5-i2i-preview: the same async endpoint, `input.images` (1-3), no function, `n` always sent (its
 *   default is 4, each billed);
 * - wan2.6-image: async task on the image-generation endpoint, one user message of the text and 1-4 pictures,
 *   `n` always sent (default 4) and `enable_interleave` false (an edit, not text and pictures interleaved);
 * - qwen-image-edit(-plus/-max): a synchronous multimodal call (no async header: the service refuses it there
 *   with 403), the pictures and the instruction as one user message;
 * and for text to image:
 * - qwen-image(-plus/-max) and z-image-turbo: the same synchronous call, a message of one text;
 * - wan2.6-t2i: async task on the image-generation endpoint, the same message, `n` always sent (default 4);
 * - wan2.5-t2i-preview, wan2.2-t2i-*, wanx2.1-t2i-*: async text2image task, `input.prompt`, `n` always sent.
 * Where a model takes `prompt_extend` (on by default: an LLM rewrites the text) it is sent false unless asked.
 */
import type { PlannedRequest } from '../../kernel/redact.js';
import { asObject, asObjects, asText } from '../shared/answer.js';
import type { EditInstruction, GenerateParams, ProviderContext } from '../types.js';
import type { GenerateFamily, GenerateModel } from './generate-models.js';
import type { DashscopeModel } from './models.js';

export const ASYNC_SUBMIT_PATH = '/api/v1/services/aigc/image2image/image-synthesis';
export const SYNC_EDIT_PATH = '/api/v1/services/aigc/multimodal-generation/generation';
export const IMAGE_GENERATION_PATH = '/api/v1/services/aigc/image-generation/generation';
export const TEXT2IMAGE_PATH = '/api/v1/services/aigc/text2image/image-synthesis';

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

/** A POST of `json` to `path`; `async` adds the header that makes a task of it. */
function post(settings: Settings, path: string, async: boolean, json: Record<string, unknown>): PlannedRequest {
  return { method: 'POST', url: settings.baseUrl + path, headers: headers(settings, async), json };
}

function wanxRequest(settings: Settings, instruction: EditInstruction, imageDataUri: string): PlannedRequest {
  const parameters: Record<string, unknown> = { n: 1, ...functionParameters(instruction), watermark: false };
  if (!TAKES_STRENGTH.has(instruction.function ?? '')) delete parameters.strength;
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
  return post(settings, ASYNC_SUBMIT_PATH, true, {
    model: settings.model,
    input: { function: instruction.function, prompt: instruction.prompt, base_image_url: imageDataUri },
    parameters,
  });
}

/** `n`, `watermark`, the seed, and `prompt_extend` where the model takes it. */
function editParameters(model: DashscopeModel, instruction: EditInstruction): Record<string, unknown> {
  const parameters: Record<string, unknown> = { n: 1, watermark: false };
  if (model.promptExtend) parameters.prompt_extend = instruction.promptExtend === true;
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
  return parameters;
}

function wanI2iRequest(
  model: DashscopeModel,
  settings: Settings,
  instruction: EditInstruction,
  images: readonly string[],
): PlannedRequest {
  return post(settings, ASYNC_SUBMIT_PATH, true, {
    model: settings.model,
    input: { prompt: instruction.prompt, images },
    parameters: editParameters(model, instruction),
  });
}

function wanImageRequest(
  model: DashscopeModel,
  settings: Settings,
  instruction: EditInstruction,
  images: readonly string[],
): PlannedRequest {
  return post(settings, IMAGE_GENERATION_PATH, true, {
    model: settings.model,
    input: {
      messages: [{ role: 'user', content: [{ text: instruction.prompt }, ...images.map((image) => ({ image }))] }],
    },
    parameters: { ...editParameters(model, instruction), enable_interleave: false },
  });
}

function qwenRequest(
  model: DashscopeModel,
  settings: Settings,
  instruction: EditInstruction,
  images: readonly string[],
): PlannedRequest {
  return post(settings, SYNC_EDIT_PATH, false, {
    model: settings.model,
    input: {
      messages: [{ role: 'user', content: [...images.map((image) => ({ image })), { text: instruction.prompt }] }],
    },
    parameters: editParameters(model, instruction),
  });
}

/** The edit request: `images` holds the edited picture first, then the references, each a data URI. */
export function buildEditRequest(
  model: DashscopeModel,
  settings: Settings,
  instruction: EditInstruction,
  images: readonly string[],
): PlannedRequest {
  switch (model.family) {
    case 'wanx-imageedit':
      return wanxRequest(settings, instruction, images[0]);
    case 'wan-i2i':
      return wanI2iRequest(model, settings, instruction, images);
    case 'wan-image':
      return wanImageRequest(model, settings, instruction, images);
    case 'qwen-image-edit':
      return qwenRequest(model, settings, instruction, images);
  }
}

const GENERATE_PATHS: Record<GenerateFamily, string> = {
  multimodal: SYNC_EDIT_PATH,
  'image-generation': IMAGE_GENERATION_PATH,
  text2image: TEXT2IMAGE_PATH,
};

/** Whether a family answers the call itself (no task, no async header). */
export function isSyncFamily(family: GenerateFamily): boolean {
  return family === 'multimodal';
}

/** The text-to-image request, from checked parameters (validateDashscopeGenerate). */
export function buildGenerateRequest(model: GenerateModel, settings: Settings, params: GenerateParams): PlannedRequest {
  const negative = typeof params.negative_prompt === 'string' ? params.negative_prompt : undefined;
  const parameters: Record<string, unknown> = { size: params.size };
  // The multimodal models make one picture; the others make 4 unless told, each billed.
  if (!isSyncFamily(model.family)) parameters.n = 1;
  parameters.prompt_extend = params.prompt_extend === true;
  if (model.watermark) parameters.watermark = false;
  if (negative !== undefined && model.family !== 'text2image') parameters.negative_prompt = negative;
  if (params.seed !== undefined) parameters.seed = params.seed;
  const input =
    model.family === 'text2image'
      ? { prompt: params.prompt, ...(negative === undefined ? {} : { negative_prompt: negative }) }
      : { messages: [{ role: 'user', content: [{ text: params.prompt }] }] };
  return post(settings, GENERATE_PATHS[model.family], !isSyncFamily(model.family), {
    model: params.model,
    input,
    parameters,
  });
}

/**
 * The first image URL of a synchronous answer, or of a finished image-generation task:
 * `output.choices[0].message.content[].image`.
 */
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
