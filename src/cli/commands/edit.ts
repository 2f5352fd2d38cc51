/** `imagegen edit`: options -> EditSpec -> the edit job. */
import type { EditSpec } from '../../jobs/edit.js';
import type { CliContext, GlobalOptions } from '../context.js';
import {
  configFlags,
  jobsOption,
  maxDownloadOption,
  maxPixelsOption,
  numberOption,
  reportChoice,
  weaveChoice,
} from '../options.js';
import { finishPool } from '../pool.js';
import { createServices, loadConfig, nodeFs } from '../services.js';
import { UsageError } from '../../kernel/errors.js';
import { checkSheetOption } from '../options.js';
import type { WorkPool } from '../../kernel/ports.js';

export async function editCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  inputs: string[],
): Promise<void> {
  if (opts.output === '-' && opts.json) {
    throw new UsageError('-o - writes the image to stdout, where --json would write records', {
      hint: 'drop --json, or write the image to a file',
    });
  }
  const jobs = jobsOption(opts.jobs);
  const pool = finishPool(jobs);
  // A batch's threads boot while the terminal, the configuration and the inputs are set up, rather than
  // after; from here on every way out closes the pool.
  if (opts.dryRun !== true) {
    void import('../../jobs/inputs.js')
      .then(({ mayNameSeveral }) => mayNameSeveral(inputs, ctx.cwd, nodeFs))
      .then((several) => several && pool.prestart())
      .catch(() => undefined); // only a head start: the run itself starts the threads if they are needed
  }
  try {
    await editWith(ctx, opts, inputs, pool);
  } finally {
    await pool.close();
  }
}

async function editWith(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  inputs: string[],
  pool: WorkPool,
): Promise<void> {
  const services = { ...(await createServices(ctx, opts)), pool };
  // Before the inputs are looked at: `--tile photo.jpg` took the input as its value.
  const weave = weaveChoice(opts);
  if (inputs.length === 0) {
    if (!services.prompts)
      throw new UsageError('edit needs at least one input image', {
        hint:
          typeof opts.weave === 'string'
            ? `--weave took "${opts.weave}" as its map: write --weave auto, or put --weave after the inputs`
            : 'imagegen edit <input...>',
      });
    const { guidedSession } = await import('./guide.js');
    return guidedSession(ctx, opts, 'edit');
  }
  const spec: EditSpec = {
    inputs,
    style: opts.style as string,
    local: opts.local === true,
    provider: opts.provider as string | undefined,
    model: opts.model as string | undefined,
    fallback: opts.fallback !== false,
    dryRun: opts.dryRun === true,
    output: opts.output as string | undefined,
    force: opts.force === true,
    report: reportChoice(opts),
    journal: opts.journal as string | undefined,
    resume: opts.resume === true,
    again: opts.again === true,
    instruction: {
      prompt: opts.prompt as string | undefined,
      function: opts.function as string | undefined,
      strength: numberOption('--strength', opts.strength),
      seed: numberOption('--seed', opts.seed),
      expand: numberOption('--expand', opts.expand),
      upscale: numberOption('--upscale', opts.upscale),
      sketch: opts.sketch === true ? true : undefined,
      promptExtend: opts.promptExtend === true ? true : undefined,
    },
    refs: opts.ref as string[] | undefined,
    maxPixels: maxPixelsOption(opts.maxPixels),
    lenient: opts.lenient === true,
    maxDownloadMb: maxDownloadOption(opts.maxDownload),
    weave: weave.flags,
  };
  const resolved = await loadConfig(ctx, opts, configFlags(opts, weave.map), services);
  const { runEdit } = await import('../../jobs/edit.js');
  if (opts.sheet !== true) return runEdit(spec, resolved, services);
  checkSheetOption(opts);
  const { sheetDir, withSheet } = await import('./sheet.js');
  const dir = sheetDir(ctx, resolved, spec.output);
  await withSheet(ctx, services, dir, spec.force, (s) => runEdit(spec, resolved, { ...s, pool }));
}
