/** `imagegen init`: options -> the questions, then the rc file. */
import { runInit } from '../../config/init.js';
import { UsageError } from '../../kernel/errors.js';
import { providerList } from '../../providers/registry.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { createServices } from '../services.js';

/** `--model dashscope=wanx2.1-imageedit` style pairs, keyed by provider id. */
function pairs(flag: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const m = /^([a-z0-9_-]+)=(.+)$/i.exec(value);
    if (!m) throw new UsageError(`${flag}: expected <provider>=<value>, got "${value}"`);
    out[m[1]] = m[2];
  }
  return out;
}

export async function initCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const models = pairs('--model', opts.model as string[] | undefined);
  const keys = pairs('--key', opts.key as string[] | undefined);
  // The named forms of the two built-in providers, kept for scripts that use them.
  if (opts.modelscopeModel !== undefined) models.modelscope = opts.modelscopeModel as string;
  if (opts.dashscopeModel !== undefined) models.dashscope = opts.dashscopeModel as string;
  if (opts.modelscopeKey !== undefined) keys.modelscope = opts.modelscopeKey as string;
  if (opts.dashscopeKey !== undefined) keys.dashscope = opts.dashscopeKey as string;
  services.redactor.add(Object.values(keys));
  const { file, written, wroteKeys } = await runInit(
    {
      global: opts.global as boolean,
      force: opts.force as boolean,
      yes: opts.yes as boolean,
      models,
      colors: opts.colors as string | undefined,
      width: opts.width as string | undefined,
      format: opts.format as string | undefined,
      saveKeys: opts.saveKeys as boolean | undefined,
      keys,
    },
    { fs: services.fs, cwd: ctx.cwd, home: ctx.home, prompts: services.prompts },
  );
  if (!written) {
    if (opts.json) services.ui.data({ status: 'skipped', output: file, reason: 'kept the file already there' });
    services.ui.info(`kept ${file}; nothing written`);
    return;
  }
  if (opts.json) services.ui.data({ status: 'ok', output: file, keys: wroteKeys });
  else ctx.stdout.write(file + '\n');
  services.ui.info(nextStep(ctx, wroteKeys));
}

/** What to run after init: a key first if there is none, then doctor, then a first picture. */
function nextStep(ctx: CliContext, wroteKeys: boolean): string {
  const keyed = wroteKeys || providerList().some((p) => p.keyEnv.some((name) => ctx.env[name]));
  if (keyed) return 'next: imagegen doctor (checks keys and hosts at no cost), then imagegen edit photo.jpg';
  const names = providerList()
    .map((p) => p.keyEnv[0])
    .join(' or ');
  return `next: set ${names} and run imagegen doctor; imagegen edit photo.jpg --local needs no key`;
}
