/**
 * The DashScope edit models imagegen can call, one family per request shape, with each model's documented
 * input limits, and the regions that offer them (text-to-image models: generate-models.ts). Plain data, loaded
 * with the descriptor on every run.
 */

import type { ProviderRegion } from '../types.js';
import { DASHSCOPE_GENERATE_IDS, dashscopeGenerateModel } from './generate-models.js';

/**
 * How a family is called: the async image2image task (two body shapes), the async image-generation task
 * (wan2.6-image, a message of text and pictures), or the synchronous multimodal call.
 */
type DashscopeFamily = 'wanx-imageedit' | 'wan-i2i' | 'wan-image' | 'qwen-image-edit';

export interface InputLimits {
  /** Shortest and longest side accepted, in pixels. */
  minSide: number;
  maxSide: number;
  /** Largest picture as sent: its data URI, Base64 and prefix included. */
  maxBytes: number;
}

export interface DashscopeModel {
  /** The documented model id (a dated snapshot names its family's model). */
  id: string;
  family: DashscopeFamily;
  /** What it does, for `imagegen styles` and the README. */
  does: string;
  input: InputLimits;
  /** The service cuts the instruction after this many characters. */
  maxPrompt: number;
  /** Pictures one request takes: the edited one and its references (--ref). */
  maxImages: number;
  /** Whether it takes `prompt_extend` (an LLM rewrite of the instruction, on unless sent false). */
  promptExtend: boolean;
}

/**
 * The 10 MB the services allow a picture applies to what is sent, the data URI; counted in decimal
 * megabytes, the smaller reading of "10 MB".
 */
const MB10 = 10 * 1000 * 1000;

export const DASHSCOPE_MODELS: readonly DashscopeModel[] = [
  {
    id: 'wanx2.1-imageedit',
    family: 'wanx-imageedit',
    does: 'one of ten edit functions (--function), async task; China (Beijing) only',
    input: { minSide: 512, maxSide: 4096, maxBytes: MB10 },
    maxPrompt: 800,
    maxImages: 1,
    promptExtend: false,
  },
  {
    id: 'wan2.5-i2i-preview',
    family: 'wan-i2i',
    does: 'instruction edit keeping the subject, async task (1-2 min); no --function; Beijing and Singapore',
    input: { minSide: 384, maxSide: 5000, maxBytes: MB10 },
    maxPrompt: 2000,
    maxImages: 3,
    promptExtend: true,
  },
  {
    id: 'wan2.6-image',
    family: 'wan-image',
    does: 'instruction edit of 1-4 pictures (--ref), async task (1-2 min); no --function',
    input: { minSide: 240, maxSide: 8000, maxBytes: MB10 },
    maxPrompt: 2000,
    maxImages: 4,
    promptExtend: true,
  },
  {
    id: 'qwen-image-edit',
    family: 'qwen-image-edit',
    does: 'instruction edit, text in pictures too; one synchronous call; no --function; Beijing and Singapore',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
    maxImages: 1,
    promptExtend: false,
  },
  {
    id: 'qwen-image-edit-plus',
    family: 'qwen-image-edit',
    does: 'as qwen-image-edit, newer (dated snapshots such as qwen-image-edit-plus-2025-10-30 too)',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
    maxImages: 3,
    promptExtend: true,
  },
  {
    id: 'qwen-image-edit-max',
    family: 'qwen-image-edit',
    does: 'as qwen-image-edit-plus, the largest of the family',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
    maxImages: 3,
    promptExtend: true,
  },
];

export const DASHSCOPE_MODEL_IDS = DASHSCOPE_MODELS.map((m) => m.id);

/** Every model imagegen calls on DashScope, edit and text-to-image, for the regions' lists. */
const ALL_IDS = [...DASHSCOPE_MODEL_IDS, ...DASHSCOPE_GENERATE_IDS];

// Model Studio's DashScope domains, one per region; a key works only in its own region (401 elsewhere).
// Every region also answers on workspace domains, <workspace>.<region id>.maas.aliyuncs.com; Germany
// (Frankfurt) has no shared domain, only those. wanx2.1-imageedit is documented only for China (Beijing);
// wan2.5-i2i-preview and the qwen-image-edit family for Beijing and Singapore; the wan2.6 models for US
// (Virginia) too.
export const DASHSCOPE_REGIONS: readonly ProviderRegion[] = [
  {
    id: 'cn-beijing',
    name: 'beijing',
    label: 'China (Beijing)',
    baseUrls: ['https://dashscope.aliyuncs.com'],
    workspaceDomains: true,
    models: ALL_IDS,
  },
  {
    id: 'ap-southeast-1',
    name: 'singapore',
    label: 'Singapore',
    baseUrls: ['https://dashscope-intl.aliyuncs.com'],
    workspaceDomains: true,
    models: ALL_IDS.filter((id) => id !== 'wanx2.1-imageedit'),
  },
  {
    id: 'us-east-1',
    name: 'virginia',
    label: 'US (Virginia)',
    baseUrls: ['https://dashscope-us.aliyuncs.com'],
    workspaceDomains: true,
    models: ['wan2.6-t2i', 'wan2.6-image'],
  },
  {
    id: 'cn-hongkong',
    name: 'hongkong',
    label: 'China (Hong Kong)',
    baseUrls: ['https://cn-hongkong.dashscope.aliyuncs.com'],
    workspaceDomains: true,
    models: [],
  },
  {
    id: 'eu-central-1',
    name: 'frankfurt',
    label: 'Germany (Frankfurt)',
    baseUrls: [],
    workspaceDomains: true,
    models: [],
  },
];

/** A dated snapshot: `qwen-image-edit-plus-2025-10-30`. */
const SNAPSHOT = /^(qwen-image-edit(?:-plus|-max)?)-\d{4}-\d{2}-\d{2}$/;

/** The model a configured id names, or undefined when imagegen cannot call it. */
export function dashscopeModel(id: string): DashscopeModel | undefined {
  const base = SNAPSHOT.exec(id)?.[1] ?? id;
  return DASHSCOPE_MODELS.find((m) => m.id === base);
}

/** Models whose submit makes an async task, which the account's task list shows (the synchronous calls make none). */
export function isListedTaskModel(id: string): boolean {
  const family = dashscopeModel(id)?.family;
  if (family !== undefined) return family === 'wanx-imageedit' || family === 'wan-i2i' || family === 'wan-image';
  const generate = dashscopeGenerateModel(id)?.family;
  return generate === 'image-generation' || generate === 'text2image';
}
