/** Builds the generate request from parsed options and calls the core. */
import type { ResolvedConfig } from '../core/config/resolve.js';
import { runGenerate } from '../core/generate.js';
import { validateGenerate } from '../core/generate-request.js';
import { nodeOutputFs } from '../core/output.js';
import type { CliContext, GlobalOptions } from './context.js';
import { parseMaxDownload, providerDeps, readText } from './shared.js';
import type { TerminalUi } from './ui.js';

export async function runGenerateCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  resolved: ResolvedConfig,
  prompt: string,
  ui: TerminalUi,
): Promise<void> {
  const params = validateGenerate(prompt, {
    model: resolved.config.providers.modelscope.model,
    size: opts.size as string | undefined,
    seed: opts.seed as string | undefined,
    steps: opts.steps as string | undefined,
    guidance: opts.guidance as string | undefined,
    negative: opts.negative as string | undefined,
    lora: opts.lora as string[] | undefined,
  });
  await runGenerate(
    {
      params,
      style: opts.style as string | undefined,
      keepOriginal: opts.keepOriginal === true,
      output: opts.output as string | undefined,
      force: opts.force === true,
      report: opts.report !== false,
      reportPath: typeof opts.report === 'string' ? opts.report : undefined,
      loom: { height: opts.height as string | undefined, density: opts.density as string | undefined, background: opts.background as string | undefined },
      dryRun: opts.dryRun === true,
      maxDownloadMb: parseMaxDownload(opts.maxDownload),
    },
    { ...providerDeps(ctx, opts, resolved, ui), resolved, ui, fs: nodeOutputFs, readText, cwd: ctx.cwd },
  );
}
