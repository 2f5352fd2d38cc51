/** `imagegen generate`: options -> GenerateSpec -> the generate job. */
import type { GenerateSpec } from '../../jobs/generate.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { configFlags, maxDownloadOption, reportChoice, weaveChoice } from '../options.js';
import { createServices, loadConfig } from '../services.js';

export async function generateCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  words: string[],
): Promise<void> {
  const services = await createServices(ctx, opts);
  // Without one, the job asks for the prompt where someone can answer.
  const prompt = words.join(' ');
  const promptsFile = opts.prompts as string | undefined;
  const weave = weaveChoice(opts);
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
    },
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
  await runGenerate(spec, resolved, services);
}
