/**
 * The DashScope edit models imagegen can call, one family per request shape, with each model's documented
 * input limits, and the regions that offer them. Plain data, loaded with the descriptor on every run.
 */

import type { ProviderRegion } from '../types.js';

/** How a family is called: the async image2image task (two body shapes), or the synchronous multimodal call. */
type DashscopeFamily = 'wanx-imageedit' | 'wan-i2i' | 'qwen-image-edit';

export interface InputLimits {
  /** Shortest and longest side accepted, in pixels. */
  minSide: number;
  maxSide: number;
  /** Largest encoded picture. */
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
}

const MB10 = 10 * 1024 * 1024;

export const DASHSCOPE_MODELS: readonly DashscopeModel[] = [
  {
    id: 'wanx2.1-imageedit',
    family: 'wanx-imageedit',
    does: 'one of ten edit functions (--function), async task; China (Beijing) only',
    input: { minSide: 512, maxSide: 4096, maxBytes: MB10 },
    maxPrompt: 800,
  },
  {
    id: 'wan2.5-i2i-preview',
    family: 'wan-i2i',
    does: 'instruction edit keeping the subject, async task (1-2 min); no --function; Beijing and Singapore',
    input: { minSide: 384, maxSide: 5000, maxBytes: MB10 },
    maxPrompt: 2000,
  },
  {
    id: 'qwen-image-edit',
    family: 'qwen-image-edit',
    does: 'instruction edit, text in pictures too; one synchronous call; no --function; Beijing and Singapore',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
  },
  {
    id: 'qwen-image-edit-plus',
    family: 'qwen-image-edit',
    does: 'as qwen-image-edit, newer (dated snapshots such as qwen-image-edit-plus-2025-10-30 too)',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
  },
  {
    id: 'qwen-image-edit-max',
    family: 'qwen-image-edit',
    does: 'as qwen-image-edit-plus, the largest of the family',
    input: { minSide: 384, maxSide: 3072, maxBytes: MB10 },
    maxPrompt: 800,
  },
];

export const DASHSCOPE_MODEL_IDS = DASHSCOPE_MODELS.map((m) => m.id);

// Model Studio's DashScope domains, one per region; a key works only in its own region (401 elsewhere).
// Every region also answers on workspace domains, <workspace>.<region id>.maas.aliyuncs.com; Germany
// (Frankfurt) has no shared domain, only those. wanx2.1-imageedit is documented only for China (Beijing);
// wan2.5-i2i-preview and the qwen-image-edit family for Beijing and Singapore.
export const DASHSCOPE_REGIONS: readonly ProviderRegion[] = [
  {
    id: 'cn-beijing',
    name: 'beijing',
    label: 'China (Beijing)',
    baseUrls: ['https://dashscope.aliyuncs.com'],
    workspaceDomains: true,
    models: DASHSCOPE_MODEL_IDS,
  },
  {
    id: 'ap-southeast-1',
    name: 'singapore',
    label: 'Singapore',
    baseUrls: ['https://dashscope-intl.aliyuncs.com'],
    workspaceDomains: true,
    models: DASHSCOPE_MODEL_IDS.filter((id) => id !== 'wanx2.1-imageedit'),
  },
  {
    id: 'us-east-1',
    name: 'virginia',
    label: 'US (Virginia)',
    baseUrls: ['https://dashscope-us.aliyuncs.com'],
    workspaceDomains: true,
    models: [],
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
  return family === 'wanx-imageedit' || family === 'wan-i2i';
}
