/**
 * `generate --prompts FILE`: one prompt per line (blank lines and `#` comments skipped), or JSON Lines whose
 * objects give `prompt` and, optionally, `output`, `seed`, `size`, `style` and `negative` for that line.
 * The command line's options are every line's defaults.
 */
import { UsageError } from '../kernel/errors.js';

export interface PromptLine {
  /** 1-based line in the file, for messages. */
  line: number;
  prompt: string;
  output?: string;
  seed?: string;
  size?: string;
  style?: string;
  negative?: string;
}

const FIELDS = new Set(['prompt', 'output', 'seed', 'size', 'style', 'negative']);

export function parsePrompts(text: string, file: string): PromptLine[] {
  const out: PromptLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (!trimmed.startsWith('{')) {
      out.push({ line, prompt: trimmed });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      throw new UsageError(`${file}:${line}: not valid JSON (${(err as Error).message})`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(`${file}:${line}: expected a JSON object with a "prompt"`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!FIELDS.has(key)) {
        throw new UsageError(`${file}:${line}: unknown field "${key}"`, { hint: `fields: ${[...FIELDS].join(', ')}` });
      }
    }
    const text = (key: string): string | undefined => {
      const v = record[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'number' && key === 'seed') return String(v);
      if (typeof v !== 'string') throw new UsageError(`${file}:${line}: "${key}" must be a string`);
      return v;
    };
    const prompt = text('prompt')?.trim();
    if (!prompt) throw new UsageError(`${file}:${line}: "prompt" is missing or empty`);
    out.push({
      line,
      prompt,
      output: text('output'),
      seed: text('seed'),
      size: text('size'),
      style: text('style'),
      negative: text('negative'),
    });
  });
  if (out.length === 0) throw new UsageError(`${file}: has no prompts`);
  return out;
}
