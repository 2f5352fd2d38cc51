/**
 * `imagegen edit`: each input picture becomes a loom-ready image. With a key for the edit provider the
 * picture is first restyled remotely; without one, or with --local, the local pipeline does it all.
 */
import path from 'node:path';
import { resolveLoomSettings } from '../config/loom.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle, type StylePreset } from '../config/styles.js';
import { UsageError, throwIfAborted } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import { describeRequest } from '../kernel/redact.js';
import type { EditInstruction } from '../providers/types.js';
import { readPicture, remoteEdit, type RemotePicture } from '../stages/acquire.js';
import { finishLoom } from '../stages/finish.js';
import type { OutputMeta } from '../stages/report.js';
import { checkTargets, writeLoomImage } from '../stages/write.js';
import { inputStem } from './names.js';
import { chooseFormat, targetFor, type OutputSpec } from './output.js';
import { chooseProvider, providerContext, taskLimits } from './providers.js';
import { runJobs } from './run.js';

export interface EditSpec extends OutputSpec {
  inputs: string[];
  style: string;
  /** --local: never call a provider. */
  local: boolean;
  /** --provider, over config's edit.provider. */
  provider?: string;
  /** -m, over the provider's configured model. */
  model?: string;
  /** false with --no-fallback. */
  fallback: boolean;
  /** Print the requests that would be sent; send and write nothing. */
  dryRun: boolean;
  /** --prompt, --function, --strength, --seed: replace the style's instruction. */
  instruction: Partial<EditInstruction>;
  /** Refuse inputs whose header declares more pixels than this (--max-pixels). */
  maxPixels?: number;
  maxDownloadMb?: number;
}

function checkSpec(spec: EditSpec): void {
  if (spec.inputs.length === 0) throw new UsageError('edit needs at least one input image');
  if (spec.output && spec.inputs.length > 1)
    throw new UsageError('-o/--output names one file; use --out-dir with several inputs');
  if (typeof spec.report === 'string' && spec.inputs.length > 1) {
    throw new UsageError('--report names one file; with several inputs each report is written beside its image');
  }
}

function instructionFor(style: StylePreset, given: Partial<EditInstruction>): EditInstruction {
  return {
    function: given.function ?? style.function,
    prompt: given.prompt ?? style.prompt,
    strength: given.strength ?? style.strength,
    seed: given.seed,
  };
}

export async function runEdit(spec: EditSpec, resolved: ResolvedConfig, services: Services): Promise<void> {
  checkSpec(spec);
  const { ui, fs, cwd, signal } = services;
  const style = findStyle(spec.style, resolved.config.styles);
  const { loom, paletteSpec } = await resolveLoomSettings(resolved, style, fs);
  const format = chooseFormat(resolved, spec.output);
  const { provider, keyed } = chooseProvider(resolved, 'edit', spec.provider ?? resolved.config.edit.provider);
  const instruction = instructionFor(style, spec.instruction);
  // Options typed on the command line are checked even for a local run; the whole instruction only when sent.
  provider.checkInstruction?.({ ...spec.instruction, prompt: '' });
  const remote = keyed && !spec.local;
  if (remote || (spec.dryRun && !spec.local)) provider.checkInstruction?.(instruction);
  const limits = taskLimits(resolved, spec.maxDownloadMb);
  const ctx = providerContext(provider, resolved, services, limits, spec.model);

  if (spec.dryRun) {
    if (spec.local) return ui.info('--local sends nothing; nothing to show');
    if (!keyed) ui.warn(`no ${provider.label} key is configured: a real run would be local`);
    const client = await provider.load();
    for (const input of spec.inputs) {
      const picture = await readPicture(fs, path.resolve(cwd, input), input, spec.maxPixels);
      for (const planned of await client.edit!.plan(picture, instruction, ctx))
        ui.data({ input, ...describeRequest(planned, services.redactor) });
    }
    return;
  }
  if (!remote)
    ui.info(
      spec.local
        ? 'running the local loom pipeline (--local)'
        : `no ${provider.label} key configured: running the local loom pipeline`,
    );

  await runJobs({
    items: spec.inputs,
    label: (input) => input,
    ui,
    now: services.now,
    signal,
    run: async (input): Promise<JobRecord> => {
      const target = targetFor(spec, resolved, cwd, `${inputStem(input)}.${style.name}`);
      await checkTargets(target, fs);
      const picture = await readPicture(fs, path.resolve(cwd, input), input, spec.maxPixels);
      throwIfAborted(signal);
      let acquired: RemotePicture | undefined;
      if (remote)
        acquired = await remoteEdit(provider, picture, instruction, ctx, { fallback: spec.fallback, label: input, ui });
      throwIfAborted(signal);
      const meta: OutputMeta = {
        input,
        style: style.name,
        source: acquired?.source ?? 'local',
        provider: acquired ? provider.id : undefined,
        model: acquired?.model,
        taskId: acquired?.taskId,
        requestId: acquired?.requestId,
        remoteError: acquired?.remoteError,
      };
      const spinner = ui.spinner(`${input}: weaving ${loom.width} ends, ${loom.colors} colours`);
      try {
        const result = finishLoom(acquired?.image ?? picture, loom, signal);
        const written = await writeLoomImage(
          fs,
          target,
          { result, loom, paletteSpec, format, meta },
          services.redactor,
          signal,
        );
        spinner.succeed(`${input} → ${path.relative(cwd, written.image) || written.image}`);
        return {
          status: 'ok',
          input,
          output: written.image,
          ...(written.report ? { report: written.report } : {}),
          style: style.name,
          source: meta.source,
          ...(meta.provider ? { provider: meta.provider, model: meta.model } : {}),
          ...(meta.taskId ? { taskId: meta.taskId } : {}),
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
          width: result.image.width,
          height: result.image.height,
          colors: result.image.palette.length / 3,
          ...(meta.remoteError ? { remoteError: meta.remoteError } : {}),
        };
      } catch (err) {
        spinner.fail(`${input}: failed`);
        throw err;
      }
    },
  });
}
