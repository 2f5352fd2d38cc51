/**
 * `imagegen task show|wait|cancel <provider>:<task-id>`: one task submitted earlier (by a run that timed out
 * or was stopped). `wait` finishes it like `edit` would: through the loom pipeline of a style.
 */
import path from 'node:path';
import { checkBaseUrl } from '../config/base-url.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle } from '../config/styles.js';
import { NO_WEAVE, resolveJobSettings, weaveFileExts, type WeaveFlags } from '../config/weave.js';
import { ProviderError, UsageError, throwIfAborted } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import { findProvider, providerList } from '../providers/registry.js';
import { TASK_ID_RULE, UNKNOWN_TASK, describeValue, isTaskId } from '../providers/shared/answer.js';
import { decodeResult } from '../stages/acquire.js';
import { finishLoom, wovenWarnings } from '../stages/finish.js';
import { weaveStage } from '../stages/weave.js';
import { checkTargets, writeLoomImage } from '../stages/write.js';
import { chooseFormat, targetFor, type OutputSpec } from './output.js';
import { checkKeyCharacters, missingKeyError, openGate, providerContext, taskLimits } from './providers.js';

export type TaskAction = 'show' | 'wait' | 'cancel';

export interface TaskSpec extends OutputSpec {
  action: TaskAction;
  /** `<provider>:<task-id>` */
  ref: string;
  /** wait: the style whose loom pipeline finishes the result. */
  style: string;
  maxDownloadMb?: number;
  /** wait: --weave, --tile, --invert, as for edit. */
  weave?: WeaveFlags;
}

function parseRef(ref: string) {
  const m = /^([a-z0-9-]+):([^]+)$/i.exec(ref.trim());
  const provider = m ? findProvider(m[1].toLowerCase()) : undefined;
  if (!m || !provider) {
    throw new UsageError(`expected <provider>:<task-id>, got ${describeValue(ref)}`, {
      hint: `providers: ${providerList()
        .map((p) => p.id)
        .join(', ')}`,
    });
  }
  // Checked as an answer's id is: it goes into a URL path with the key.
  if (!isTaskId(m[2])) {
    throw new UsageError(`${describeValue(m[2])} is not a task id: a task id is ${TASK_ID_RULE}`, {
      hint: 'copy the id from the error or the journal that named it',
    });
  }
  return { provider, taskId: m[2] };
}

export async function runTask(spec: TaskSpec, resolved: ResolvedConfig, services: Services): Promise<void> {
  const { ui, fs, cwd } = services;
  const { provider, taskId } = parseRef(spec.ref);
  if (!resolved.config.providers[provider.id]?.apiKey) throw missingKeyError(provider);
  // Every action sends the key, show and cancel before any gate is opened.
  checkBaseUrl(resolved, provider);
  checkKeyCharacters(provider, resolved, services.env);
  const ctx = providerContext(provider, resolved, services, taskLimits(resolved, spec.maxDownloadMb));
  const client = (await provider.load()).task;
  if (!client) throw new UsageError(`${provider.label} tasks cannot be looked up`);

  if (spec.action === 'show') {
    let status: Record<string, unknown>;
    try {
      const outcome = await client.check(taskId, ctx);
      status = outcome.done ? { status: 'SUCCEEDED', resultUrl: outcome.value } : { status: outcome.status };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      // A task the provider does not know is no status of a task: the record says so, and the run fails.
      if (err.code === UNKNOWN_TASK) {
        ui.data({ provider: provider.id, taskId, status: UNKNOWN_TASK, error: err.toJSON() });
        throw err;
      }
      status = { status: 'FAILED', error: err.toJSON() };
    }
    ui.info(`${provider.label} task ${taskId}: ${String(status.status)}`);
    ui.data({ provider: provider.id, taskId, ...status });
    return;
  }

  if (spec.action === 'cancel') {
    if (!client.cancel) throw new UsageError(`${provider.label} tasks cannot be canceled`);
    const canceled = await client.cancel(taskId, ctx);
    ui.data({ provider: provider.id, taskId, canceled });
    if (!canceled) {
      throw new ProviderError('failure', `${provider.label} did not cancel task ${taskId}`, {
        provider: provider.id,
        taskId,
        hint: 'only a task still waiting in the queue (PENDING) can be canceled',
      });
    }
    ui.info(`${provider.label} task ${taskId}: canceled`);
    return;
  }

  const style = findStyle(spec.style, resolved.config.styles);
  const { loom, paletteSpec, weave } = await resolveJobSettings(resolved, style, spec.weave ?? NO_WEAVE, fs);
  const format = chooseFormat(resolved, spec.output);
  // The whole id, as checked by parseRef: safe in a file name, and the name says which task it was.
  const stem = `${provider.id}-${taskId}.${style.name}`;
  const target = targetFor(spec, resolved, cwd, stem);
  await checkTargets(target, fs, { companions: weave ? weaveFileExts(weave) : [] });
  ctx.gate = await openGate(ctx, resolved, services);
  const started = services.now();
  const result = await client.wait(taskId, ctx);
  throwIfAborted(services.signal);
  const image = await decodeResult(result.bytes, provider, taskId);
  const finished = await finishLoom(image, loom, services.signal);
  throwIfAborted(services.signal);
  const woven = weave ? weaveStage(finished, weave, loom) : undefined;
  for (const warning of wovenWarnings(woven)) ui.warn(`${provider.label} task ${taskId}: ${warning}`);
  const meta = { style: style.name, source: provider.id, provider: provider.id, taskId };
  const written = await writeLoomImage(
    services,
    target,
    { result: finished, loom, paletteSpec, format, meta },
    services.signal,
    undefined,
    woven,
  );
  ui.info(`${provider.label} task ${taskId} → ${path.relative(cwd, written.image) || written.image}`);
  ui.result({
    status: 'ok',
    input: null,
    output: written.image,
    ...(written.report ? { report: written.report } : {}),
    ...(written.lift ? { lift: written.lift, cloth: written.cloth } : {}),
    ...(written.back ? { back: written.back, wefts: written.wefts } : {}),
    style: style.name,
    source: provider.id,
    provider: provider.id,
    taskId,
    ...(result.requestId ? { requestId: result.requestId } : {}),
    width: finished.image.width,
    height: finished.image.height,
    colors: finished.image.palette.length / 3,
    seconds: Math.round(services.now() - started) / 1000,
  });
}
