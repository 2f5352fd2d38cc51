/**
 * `imagegen init`: writes .imagegenrc.json from answers given as flags or asked for. Keys are written only
 * when asked for, and then the file is private (mode 600). Without a terminal, every answer must be a flag
 * (or --yes for the defaults): it never waits for input that cannot come.
 */
import path from 'node:path';
import { KEYS, OUTPUT_FORMATS, checkValue } from './config/schema.js';
import { ConfigError, UsageError } from './errors.js';
import { writeFileAtomic, type OutputFs } from './output.js';

export interface Asker {
  /** `validate` returns true, or what is wrong, so a bad answer is asked again at once. */
  text(message: string, defaultValue?: string, validate?: (answer: string) => true | string): Promise<string>;
  secret(message: string): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  choice(message: string, choices: readonly string[], defaultValue: string): Promise<string>;
}

export interface InitFlags {
  global?: boolean;
  force?: boolean;
  yes?: boolean;
  modelscopeModel?: string;
  dashscopeModel?: string;
  colors?: string;
  width?: string;
  format?: string;
  /** true: ask for (or take) keys and write them; false: never write keys. */
  saveKeys?: boolean;
  modelscopeKey?: string;
  dashscopeKey?: string;
}

export interface InitDeps {
  fs: OutputFs;
  cwd: string;
  home: string;
  /** Undefined when no one can answer (not a TTY, or CI). */
  ask?: Asker;
}

interface Question {
  flag: string;
  key: string;
  given: string | undefined;
  ask: (asker: Asker, def: string, validate: (answer: string) => true | string) => Promise<string>;
}

function checked(key: string, flag: string, raw: string): unknown {
  const result = checkValue(KEYS[key].spec, raw);
  if (!result.ok) throw new ConfigError(undefined, flag, `expected ${result.expected}, got "${raw}"`);
  return result.value;
}

export async function runInit(flags: InitFlags, deps: InitDeps): Promise<{ file: string; wroteKeys: boolean }> {
  const file = path.join(flags.global ? deps.home : deps.cwd, '.imagegenrc.json');
  const questions: Question[] = [
    { flag: '--modelscope-model', key: 'providers.modelscope.model', given: flags.modelscopeModel, ask: (a, d, v) => a.text('ModelScope text-to-image model', d, v) },
    { flag: '--dashscope-model', key: 'providers.dashscope.model', given: flags.dashscopeModel, ask: (a, d, v) => a.text('DashScope image-edit model', d, v) },
    { flag: '--colors', key: 'loom.colors', given: flags.colors, ask: (a, d, v) => a.text('Yarn colours (2-256)', d, v) },
    { flag: '--width', key: 'loom.width', given: flags.width, ask: (a, d, v) => a.text('Warp ends (output width)', d, v) },
    { flag: '--format', key: 'output.format', given: flags.format, ask: (a, d) => a.choice('Output format', OUTPUT_FORMATS, d) },
  ];

  const missing = questions.filter((q) => q.given === undefined).map((q) => q.flag);
  const keysDecided = flags.saveKeys !== undefined || flags.modelscopeKey !== undefined || flags.dashscopeKey !== undefined;
  if (!deps.ask && !flags.yes && (missing.length > 0 || !keysDecided)) {
    const needed = [...missing, ...(keysDecided ? [] : ['--save-keys or --no-save-keys'])];
    throw new UsageError('init needs a terminal to ask its questions', {
      hint: `give ${needed.join(', ')}, or --yes to accept the defaults`,
    });
  }

  const data: Record<string, Record<string, unknown>> = {};
  const set = (key: string, value: unknown) => {
    const [section, ...rest] = key.split('.');
    let cur = (data[section] ??= {}) as Record<string, unknown>;
    for (const part of rest.slice(0, -1)) cur = (cur[part] ??= {}) as Record<string, unknown>;
    cur[rest[rest.length - 1]] = value;
  };

  for (const q of questions) {
    const def = String(KEYS[q.key].default);
    const validate = (answer: string): true | string => {
      const result = checkValue(KEYS[q.key].spec, answer);
      return result.ok ? true : `expected ${result.expected}`;
    };
    let raw = q.given;
    if (raw === undefined) raw = flags.yes || !deps.ask ? def : await q.ask(deps.ask, def, validate);
    set(q.key, checked(q.key, q.flag, raw));
  }

  let saveKeys = flags.saveKeys ?? (flags.modelscopeKey !== undefined || flags.dashscopeKey !== undefined);
  if (flags.saveKeys === undefined && !saveKeys && !flags.yes && deps.ask) {
    saveKeys = await deps.ask.confirm('Save API keys in the file? (otherwise use MODELSCOPE_API_KEY / DASHSCOPE_API_KEY)', false);
  }
  let wroteKeys = false;
  if (saveKeys) {
    for (const [provider, given] of [
      ['modelscope', flags.modelscopeKey],
      ['dashscope', flags.dashscopeKey],
    ] as const) {
      let key = given;
      if (key === undefined && deps.ask && !flags.yes) key = await deps.ask.secret(`${provider === 'modelscope' ? 'ModelScope' : 'DashScope'} API key (empty to skip)`);
      if (key && key.trim()) {
        set(`providers.${provider}.apiKey`, key.trim());
        wroteKeys = true;
      }
    }
  }

  await writeFileAtomic(deps.fs, file, JSON.stringify(data, null, 2) + '\n', {
    overwrite: flags.force === true,
    mode: wroteKeys ? 0o600 : 0o644,
  });
  return { file, wroteKeys };
}
