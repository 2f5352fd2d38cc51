/** `imagegen generate`: options -> GenerateSpec -> the generate job. */
import type { GenerateSpec } from '../../jobs/generate.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { checkSheetOption, configFlags, maxDownloadOption, reportChoice, weaveChoice } from '../options.js';
import { createServices, loadConfig } from '../services.js';

export async function generateCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  words: string[],
): Promise<void> {
  const services = await createServices(ctx, opts);
  // Without one, on a terminal, the guided session asks for it.
  const prompt = words.join(' ');
  const promptsFile = opts.prompts as string | undefined;
  const weave = weaveChoice(opts);
  if (!prompt.trim() && promptsFile === undefined && services.prompts) {
    const { guidedSession } = await import('./guide.js');
    return guidedSession(ctx, opts, 'generate');
  }
  const spec: GenerateSpec = {
    prompt,
    promptsFile,
    options: {
      size: opts.size as string | undefined,
      seed: opts.seed as string | undefined,
      steps: opts.steps as string | undefined,
      guidance: opts.guidance as string | undefined,
      negative: opts.negative as string | undefined,
      lora: opts.lora as string[] | undefined,
      ...(opts.promptExtend === true ? { promptExtend: true } : {}),
    },
    provider: opts.provider as string | undefined,
    model: opts.model as string | undefined,
    style: opts.style as string | undefined,
    keepOriginal: opts.keepOriginal === true,
    dryRun: opts.dryRun === true,
    output: opts.output as string | undefined,
    force: opts.force === true,
    report: reportChoice(opts),
    journal: opts.journal as string | undefined,
    resume: opts.resume === true,
    again: opts.again === true,
    maxDownloadMb: maxDownloadOption(opts.maxDownload),
    weave: weave.flags,
  };
  const resolved = await loadConfig(ctx, opts, configFlags(opts, weave.map), services);
  const { runGenerate } = await import('../../jobs/generate.js');
  if (opts.sheet !== true) return runGenerate(spec, resolved, services);
  checkSheetOption(opts);
  const { sheetDir, withSheet } = await import('./sheet.js');
  await withSheet(ctx, services, sheetDir(ctx, resolved, spec.output), spec.force, (s) =>
    runGenerate(spec, resolved, s),
  );
}
