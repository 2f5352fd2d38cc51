/**
 * `imagegen init`: writes .imagegenrc.json from answers given as flags or asked for. Keys are written only
 * when asked for, and then the file is private (mode 600). Without a terminal, every answer must be a flag
 * (or --yes for the defaults): it never waits for input that cannot come. The questions about providers come
 * from the provider registry.
 */
import path from 'node:path';
import { ConfigError, ImagegenError, OutputExistsError, UsageError } from '../kernel/errors.js';
import { exists, writeFileAtomic } from '../kernel/fs.js';
import type { Fs, Prompts } from '../kernel/ports.js';
import { checkValue } from '../kernel/values.js';
import { formatIds } from '../formats/registry.js';
import { providerList } from '../providers/registry.js';
import type { ProviderDescriptor } from '../providers/types.js';
import { configKeys, setPath } from './schema.js';

export interface InitFlags {
  global?: boolean;
  force?: boolean;
  yes?: boolean;
  /** Model per provider id. */
  models?: Record<string, string>;
  colors?: string;
  width?: string;
  format?: string;
  /** true: ask for (or take) keys and write them; false: never write keys. */
  saveKeys?: boolean;
  /** Key per provider id (implies saveKeys). */
  keys?: Record<string, string>;
}

export interface InitDeps {
  fs: Fs;
  cwd: string;
  home: string;
  /** Undefined when no one can answer (not a TTY, or CI). */
  prompts?: Prompts;
}

interface Question {
  flag: string;
  key: string;
  given: string | undefined;
  ask: (prompts: Prompts, def: string, validate: (answer: string) => true | string) => Promise<string>;
}

/** The models init offers for a provider's `model`: the ones imagegen knows how to call. */
function modelChoices(provider: ProviderDescriptor): readonly string[] {
  return provider.models ?? [provider.defaultModel];
}

/** Whether init writes this model: one imagegen knows (a dated snapshot of a known one counts). */
function isKnownModel(provider: ProviderDescriptor, model: string): boolean {
  return provider.modelOf ? provider.modelOf(model) !== undefined : modelChoices(provider).includes(model);
}

/** What the model question asks: the model `edit` or `generate` uses on this provider. */
function modelQuestion(provider: ProviderDescriptor): string {
  // `model` is the generate model where a provider has edit models of their own, else the edit model.
  return `${provider.label} model (${provider.editModels ? 'generate' : 'edit'})`;
}

/** An rc file already there: replaced only with --force or when the person at the terminal says so. */
function existsError(file: string): ImagegenError {
  return new ImagegenError('failure', `${file} already exists`, { hint: 'pass --force to replace it' });
}

export interface InitResult {
  file: string;
  /** false: the file was there and the person chose to keep it. */
  written: boolean;
  wroteKeys: boolean;
}

export async function runInit(flags: InitFlags, deps: InitDeps): Promise<InitResult> {
  const file = path.join(flags.global ? deps.home : deps.cwd, '.imagegenrc.json');
  const keys = configKeys();
  const providers = providerList();
  for (const [flag, given] of [
    ['--model', flags.models],
    ['--key', flags.keys],
  ] as const) {
    const unknown = Object.keys(given ?? {}).filter((id) => !providers.some((p) => p.id === id));
    if (unknown.length)
      throw new UsageError(`${flag}: no provider named ${unknown.join(', ')}`, {
        hint: `known: ${providers.map((p) => p.id).join(', ')}`,
      });
  }
  // A model imagegen cannot call is never written: edit would refuse it later.
  for (const p of providers) {
    const model = flags.models?.[p.id];
    if (model !== undefined && !isKnownModel(p, model)) {
      throw new UsageError(`--model ${p.id}=${model}: not a ${p.label} model imagegen can call`, {
        hint: `${p.label} models: ${modelChoices(p).join(', ')}`,
      });
    }
  }
  // Asked first: no one answers every question only to learn that the file was there.
  let replace = flags.force === true;
  if (!replace && (await exists(deps.fs, file))) {
    if (!deps.prompts || flags.yes) throw existsError(file);
    replace = await deps.prompts.confirm(`${file} already exists. Replace it?`, false);
    if (!replace) return { file, written: false, wroteKeys: false };
  }
  const questions: Question[] = [
    ...providers.map((p) => ({
      flag: `--model ${p.id}=<id>`,
      key: `providers.${p.id}.model`,
      given: flags.models?.[p.id],
      ask: (a: Prompts, d: string) => a.choice(modelQuestion(p), modelChoices(p), d),
    })),
    {
      flag: '--colors',
      key: 'loom.colors',
      given: flags.colors,
      ask: (a, d, v) => a.text('Yarn colours (2-256)', d, v),
    },
    {
      flag: '--width',
      key: 'loom.width',
      given: flags.width,
      ask: (a, d, v) => a.text('Warp ends (output width)', d, v),
    },
    {
      flag: '--format',
      key: 'output.format',
      given: flags.format,
      ask: (a, d) => a.choice('Output format', formatIds(), d),
    },
  ];

  const givenKeys = Object.entries(flags.keys ?? {});
  const missing = questions.filter((q) => q.given === undefined).map((q) => q.flag);
  const keysDecided = flags.saveKeys !== undefined || givenKeys.length > 0;
  if (!deps.prompts && !flags.yes && (missing.length > 0 || !keysDecided)) {
    const needed = [...missing, ...(keysDecided ? [] : ['--save-keys or --no-save-keys'])];
    throw new UsageError('init needs a terminal to ask its questions', {
      hint: `give ${needed.join(', ')}, or --yes to accept the defaults`,
    });
  }

  const data: Record<string, unknown> = {};
  for (const q of questions) {
    const def = keys[q.key];
    const validate = (answer: string): true | string => {
      const result = checkValue(def.spec, answer);
      return result.ok ? true : `expected ${result.expected}`;
    };
    let raw = q.given;
    if (raw === undefined)
      raw = flags.yes || !deps.prompts ? String(def.default) : await q.ask(deps.prompts, String(def.default), validate);
    const result = checkValue(def.spec, raw);
    if (!result.ok) throw new ConfigError(undefined, q.flag, `expected ${result.expected}, got "${raw}"`);
    setPath(data, q.key, result.value);
  }

  let saveKeys = flags.saveKeys ?? givenKeys.length > 0;
  if (flags.saveKeys === undefined && !saveKeys && !flags.yes && deps.prompts) {
    const envNames = providers.map((p) => p.keyEnv[0]).join(' / ');
    saveKeys = await deps.prompts.confirm(`Save API keys in the file? (otherwise use ${envNames})`, false);
  }
  let wroteKeys = false;
  if (saveKeys) {
    for (const p of providers) {
      let key = flags.keys?.[p.id];
      if (key === undefined && deps.prompts && !flags.yes)
        key = await deps.prompts.secret(`${p.label} API key (empty to skip)`);
      if (key && key.trim()) {
        setPath(data, `providers.${p.id}.apiKey`, key.trim());
        wroteKeys = true;
      }
    }
  }

  await writeFileAtomic(deps.fs, file, JSON.stringify(data, null, 2) + '\n', {
    overwrite: replace,
    mode: wroteKeys ? 0o600 : 0o644,
  }).catch((err: unknown) => {
    // Made while the questions were asked: the error names init's way out, not -o's.
    throw err instanceof OutputExistsError ? existsError(file) : err;
  });
  return { file, written: true, wroteKeys };
}
