/**
 * `imagegen task show|wait|cancel <provider>:<task-id>`: one task submitted earlier (by a run that timed out
 * or was stopped). `wait` finishes it like `edit` would: through the loom pipeline of a style. `task find`
 * lists the account's tasks made since a time, to find one whose submit got no answer.
 */
import path from 'node:path';
import { checkBaseUrl } from '../config/base-url.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle } from '../config/styles.js';
import { NO_WEAVE, resolveJobSettings, weaveFileExts, type WeaveFlags } from '../config/weave.js';
import { ProviderError, UsageError, throwIfAborted } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import type { ListedTask } from '../providers/types.js';
import { findProvider, providerList } from '../providers/registry.js';
import { TASK_ID_RULE, UNKNOWN_TASK, describeValue, isTaskId } from '../providers/shared/answer.js';
import { decodeResult } from '../stages/acquire.js';
import { finishAndWeave, wovenWarnings } from '../stages/finish.js';
import { checkTargets, writeLoomImage, writtenFields } from '../stages/write.js';
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
  const { result: finished, woven } = await finishAndWeave(image, loom, weave, services.signal);
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
    ...writtenFields(written),
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

export interface TaskFindSpec {
  /** A time (`2026-12-01T10:00`, local unless it names a zone) or how long ago (`30m`, `2h`). */
  since: string;
  model?: string;
  provider?: string;
}

export interface FoundTask extends ListedTask {
  provider: string;
}

const SINCE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** How long the providers keep tasks, and so list them. */
const LISTED_FOR_MS = 24 * 3_600_000;
/** The service's clock, read as in the journal when nothing gives it away: China time, or UTC. */
const SERVICE_OFFSETS_MS = [8 * 3_600_000, 0];
/** How far this machine's clock and the service's may be apart. */
const CLOCK_SLACK_MS = 60_000;

/** `--since` as an instant (ms). */
function parseSince(text: string, now: number): number {
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  const at = ago ? now - Number(ago[1]) * SINCE_UNITS[ago[2]] : Date.parse(text);
  if (!Number.isFinite(at)) {
    throw new UsageError(`--since: expected a time or how long ago, got ${describeValue(text)}`, {
      hint: 'such as 2026-12-01T10:00 (local time unless it names a zone, as 10:00Z does) or 2h',
    });
  }
  if (at > now) throw new UsageError(`--since: ${new Date(at).toISOString()} is in the future`);
  return at;
}

/**
 * The account's tasks made since a time (of one model), newest first, as the provider lists them. Its times
 * are the service's clock, at an offset it does not state: a task counts when, at one of the usual offsets, it
 * was made between then and now.
 */
export async function findTasks(
  spec: TaskFindSpec,
  resolved: ResolvedConfig,
  services: Services,
): Promise<FoundTask[]> {
  const provider = findProvider(spec.provider ?? 'dashscope');
  if (!provider) {
    throw new UsageError(`no provider ${describeValue(spec.provider)}`, {
      hint: `providers: ${providerList()
        .map((p) => p.id)
        .join(', ')}`,
    });
  }
  const now = services.now();
  const since = parseSince(spec.since, now);
  if (!resolved.config.providers[provider.id]?.apiKey) throw missingKeyError(provider);
  checkBaseUrl(resolved, provider);
  checkKeyCharacters(provider, resolved, services.env);
  const list = (await provider.load()).task?.list;
  if (!list) throw new UsageError(`${provider.label} has no task list to look in`);
  if (now - since > LISTED_FOR_MS)
    services.ui.warn(`${provider.label} keeps tasks 24 hours: older ones are not listed`);
  const ctx = providerContext(provider, resolved, services, taskLimits(resolved));
  const listed = await list({ from: since, to: now, model: spec.model }, ctx);
  const found = listed
    .filter(
      (task) =>
        task.submitWall === undefined ||
        SERVICE_OFFSETS_MS.some((offset) => {
          const at = task.submitWall! - offset;
          return at >= since - CLOCK_SLACK_MS && at <= now + CLOCK_SLACK_MS;
        }),
    )
    .map((task) => ({ provider: provider.id, ...task }));
  const what = `${found.length === 1 ? 'task' : 'tasks'}${spec.model ? ` of ${spec.model}` : ''}`;
  services.ui.info(
    `${found.length === 0 ? 'no' : found.length} ${what} at ${provider.label} since ${new Date(since).toISOString()}` +
      (found.length ? ` (times as ${provider.label} gives them, on its own clock)` : ''),
  );
  return found;
}
