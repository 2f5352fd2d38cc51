/**
 * Validation of `generate` options against the ranges ModelScope documents, before anything is sent.
 */
import { UsageError } from '../../kernel/errors.js';
import { SEED_RANGE, describeRange, toNumberInRange } from '../../kernel/numbers.js';
import type { GenerateOptions, GenerateParams } from '../types.js';

const MAX_PROMPT = 1999; // "length < 2000"

/** Documented size ranges per model family; others get the widest documented range. */
export function sizeRange(model: string): [number, number] {
  const id = model.toLowerCase();
  if (id.includes('z-image')) return [512, 2048];
  if (id.startsWith('qwen/qwen-image')) return [64, 1664];
  if (id.includes('flux')) return [64, 1024];
  return [64, 2048];
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const range = { min, max, integer: true };
  const n = toNumberInRange(raw, range);
  if (n === undefined) throw new UsageError(`${flag}: expected ${describeRange(range)}, got "${raw}"`);
  return n;
}

export function parseLoras(specs: readonly string[]): string | Record<string, number> | undefined {
  if (specs.length === 0) return undefined;
  if (specs.length > 6) throw new UsageError(`--lora: at most 6 LoRAs, got ${specs.length}`);
  const entries = specs.map((spec) => {
    const m = /^(.+?)(?::(\d*\.?\d+))?$/.exec(spec.trim());
    if (!m || !m[1]) throw new UsageError(`--lora: expected <id>[:<weight>], got "${spec}"`);
    const weight = m[2] === undefined ? undefined : Number(m[2]);
    if (weight !== undefined && !(weight > 0 && weight <= 1))
      throw new UsageError(`--lora: weight must be above 0 and at most 1, got "${m[2]}"`);
    return { id: m[1], weight };
  });
  if (new Set(entries.map((e) => e.id)).size !== entries.length)
    throw new UsageError('--lora: the same LoRA is given twice');
  if (entries.length === 1 && (entries[0].weight === undefined || entries[0].weight === 1)) return entries[0].id;
  const fixed = entries.reduce((sum, e) => sum + (e.weight ?? 0), 0);
  const open = entries.filter((e) => e.weight === undefined);
  if (open.length > 0) {
    if (fixed >= 1) throw new UsageError('--lora: the given weights already sum to 1; the others would get nothing');
    const share = (1 - fixed) / open.length;
    for (const e of open) e.weight = Math.round(share * 1000) / 1000;
  }
  const sum = entries.reduce((s, e) => s + (e.weight ?? 0), 0);
  if (Math.abs(sum - 1) > 0.01)
    throw new UsageError(`--lora: weights must sum to 1.0, they sum to ${Math.round(sum * 1000) / 1000}`);
  return Object.fromEntries(entries.map((e) => [e.id, e.weight as number]));
}

export function validateGenerate(prompt: string, flags: GenerateOptions, model: string): GenerateParams {
  if (flags.promptExtend)
    throw new UsageError('--prompt-extend is a DashScope option; ModelScope rewrites no prompt', {
      hint: 'leave it out, or use --provider dashscope',
    });
  const text = prompt.trim();
  if (!text) throw new UsageError('generate needs a prompt');
  if (text.length > MAX_PROMPT)
    throw new UsageError(`the prompt has ${text.length} characters; ModelScope takes fewer than 2000`);
  const params: GenerateParams = { model, prompt: text };
  if (flags.negative !== undefined) {
    if (flags.negative.length > MAX_PROMPT) throw new UsageError('--negative: fewer than 2000 characters, please');
    params.negative_prompt = flags.negative;
  }
  if (flags.size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(flags.size.trim());
    if (!m) throw new UsageError(`--size: expected WIDTHxHEIGHT like 1024x1024, got "${flags.size}"`);
    const [min, max] = sizeRange(model);
    const w = Number(m[1]);
    const h = Number(m[2]);
    if (w < min || w > max || h < min || h > max) {
      throw new UsageError(`--size: ${model} takes sides from ${min} to ${max} px, got ${w}x${h}`);
    }
    params.size = `${w}x${h}`;
  }
  if (flags.seed !== undefined) params.seed = integer('--seed', flags.seed, SEED_RANGE.min, SEED_RANGE.max);
  if (flags.steps !== undefined) params.steps = integer('--steps', flags.steps, 1, 100);
  if (flags.guidance !== undefined) {
    const range = { min: 1.5, max: 20 };
    const g = toNumberInRange(flags.guidance, range);
    if (g === undefined) throw new UsageError(`--guidance: expected ${describeRange(range)}, got "${flags.guidance}"`);
    params.guidance = g;
  }
  const loras = parseLoras(flags.lora ?? []);
  if (loras !== undefined) params.loras = loras;
  return params;
}
