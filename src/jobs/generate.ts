/**
 * `imagegen generate`: a prompt becomes a picture at a provider; with --style, the local loom pipeline
 * finishes it (and --keep-original keeps the download too).
 */
import { resolveLoomSettings } from '../config/loom.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle } from '../config/styles.js';
import type { Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import { describeRequest } from '../kernel/redact.js';
import type { GenerateOptions } from '../providers/types.js';
import { remoteGenerate } from '../stages/acquire.js';
import { finishLoom } from '../stages/finish.js';
import { checkTargets, writeLoomImage, writePair } from '../stages/write.js';
import { slugify } from './names.js';
import { chooseFormat, targetFor, type OutputSpec } from './output.js';
import { chooseProvider, missingKeyError, openGate, providerContext, taskLimits } from './providers.js';

export interface GenerateSpec extends OutputSpec {
  prompt: string;
  options: GenerateOptions;
  provider?: string;
  /** -m, over the provider's configured model. */
  model?: string;
  /** Finish the picture with this style's loom pipeline. */
  style?: string;
  keepOriginal: boolean;
  dryRun: boolean;
  maxDownloadMb?: number;
}

export async function runGenerate(spec: GenerateSpec, resolved: ResolvedConfig, services: Services): Promise<void> {
  const { ui, fs, cwd } = services;
  const { provider, keyed } = chooseProvider(resolved, 'generate', spec.provider);
  const model = spec.model ?? resolved.config.providers[provider.id].model;
  const params = await provider.validateGenerate!(spec.prompt, spec.options, model);
  const style = spec.style === undefined ? undefined : findStyle(spec.style, resolved.config.styles);
  const settings = style ? await resolveLoomSettings(resolved, style, fs) : undefined;
  const format = chooseFormat(resolved, style ? spec.output : undefined);
  const ctx = providerContext(provider, resolved, services, taskLimits(resolved, spec.maxDownloadMb), model);

  if (spec.dryRun) {
    const client = await provider.load();
    for (const planned of client.generate!.plan(params, ctx)) ui.data(describeRequest(planned, services.redactor));
    if (!keyed) ui.warn(`no ${provider.label} key is configured: a real run would stop with exit code 3`);
    return;
  }
  if (!keyed) throw missingKeyError(provider);
  ctx.gate = await openGate(ctx, resolved, services);

  const slug = slugify(params.prompt);
  const target = targetFor(
    { ...spec, report: style ? spec.report : false },
    resolved,
    cwd,
    style ? `${slug}.${style.name}` : slug,
  );
  // Before the (billed) generation: an exact target that exists stops the run unless --force.
  await checkTargets(target, fs);

  const started = services.now();
  const generated = await remoteGenerate(provider, params, ctx);
  const meta = {
    prompt: params.prompt,
    model: generated.model,
    taskId: generated.taskId,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
  };
  const ids = { provider: provider.id, ...(generated.requestId ? { requestId: generated.requestId } : {}) };
  const seconds = () => Math.round(services.now() - started) / 1000;
  const original = (exact: boolean) =>
    writePair(
      fs,
      { ...target, exact: exact ? target.exact : undefined, stem: slug, report: false },
      { ext: generated.ext, render: () => generated.bytes },
      undefined,
      services.signal,
    );

  if (!style || !settings) {
    const written = await original(true);
    const record: JobRecord = {
      status: 'ok',
      input: null,
      output: written.image,
      source: provider.id,
      style: null,
      width: generated.image.width,
      height: generated.image.height,
      colors: null,
      ...ids,
      ...meta,
    };
    ui.result({ ...record, seconds: seconds() });
    return;
  }
  const kept = spec.keepOriginal ? await original(false) : undefined;
  const result = finishLoom(generated.image, settings.loom, services.signal);
  const written = await writeLoomImage(
    services,
    target,
    {
      result,
      loom: settings.loom,
      paletteSpec: settings.paletteSpec,
      format,
      meta: { ...meta, style: style.name, source: provider.id },
    },
    services.signal,
  );
  ui.result({
    status: 'ok',
    input: null,
    output: written.image,
    ...(written.report ? { report: written.report } : {}),
    style: style.name,
    source: provider.id,
    width: result.image.width,
    height: result.image.height,
    colors: result.image.palette.length / 3,
    ...ids,
    ...meta,
    ...(kept ? { original: kept.image } : {}),
    seconds: seconds(),
  });
}
