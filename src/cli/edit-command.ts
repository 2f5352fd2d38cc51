/** Builds the edit request and its dependencies from parsed options, then calls the core. */
import type { ResolvedConfig } from '../core/config/resolve.js';
import { runEdit, type EditRequest } from '../core/edit.js';
import { UsageError } from '../core/errors.js';
import { nodeOutputFs } from '../core/output.js';
import { dashscopeEditor, providerLimits } from '../core/providers.js';
import type { CliContext, GlobalOptions } from './context.js';
import { parseMaxDownload, parseMaxPixels, providerDeps, readText } from './shared.js';
import type { TerminalUi } from './ui.js';

function number(flag: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${String(raw)}"`);
  return n;
}

export async function runEditCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  resolved: ResolvedConfig,
  inputs: string[],
  ui: TerminalUi,
): Promise<void> {
  const request: EditRequest = {
    inputs,
    style: opts.style as string,
    local: opts.local === true,
    output: opts.output as string | undefined,
    force: opts.force === true,
    report: opts.report !== false,
    reportPath: typeof opts.report === 'string' ? opts.report : undefined,
    loom: {
      height: opts.height as string | undefined,
      density: opts.density as string | undefined,
      background: opts.background as string | undefined,
    },
    dryRun: opts.dryRun === true,
    overrides: {
      prompt: opts.prompt as string | undefined,
      function: opts.function as string | undefined,
      strength: number('--strength', opts.strength),
      seed: number('--seed', opts.seed),
    },
    maxPixels: parseMaxPixels(opts.maxPixels),
  };
  const hasKey = Boolean(resolved.config.providers.dashscope.apiKey);
  const remote =
    hasKey && !request.local && !request.dryRun
      ? dashscopeEditor({
          resolved,
          overrides: request.overrides ?? {},
          fallback: opts.fallback !== false,
          limits: providerLimits(resolved, parseMaxDownload(opts.maxDownload)),
          deps: providerDeps(ctx, opts, resolved, ui),
        })
      : undefined;
  await runEdit(request, { resolved, ui, fs: nodeOutputFs, readText, cwd: ctx.cwd, signal: ctx.signal, remote });
}
