/**
 * The bridge from the core to the provider clients: limits from config, the remote half of `edit` with its
 * fallback rule, and the planned requests that --dry-run prints.
 */
import type { ResolvedConfig } from './config/resolve.js';
import { describeError, ImagegenError, isImagegenError } from './errors.js';
import type { RemoteEditor } from './edit.js';
import type { StylePreset } from './styles.js';
import type { Ui } from './ui.js';
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, type ProviderDeps, type ProviderLimits } from '../providers/context.js';
import { buildEditRequest, type PlannedRequest } from '../providers/dashscope.js';
import { redactHeaders, shortenBody } from '../providers/http.js';
import { prepareForDashscope } from '../providers/prepare.js';
import { decodeImage } from '../image/decode.js';

export function providerLimits(resolved: ResolvedConfig, maxDownloadMb?: number): ProviderLimits {
  return {
    polling: resolved.config.polling,
    retry: resolved.config.retry,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    maxDownloadBytes: maxDownloadMb === undefined ? DEFAULT_MAX_DOWNLOAD_BYTES : maxDownloadMb * 1000 * 1000,
    downloadTimeoutMs: DEFAULT_DOWNLOAD_TIMEOUT_MS,
  };
}

/** A planned request as --dry-run and --verbose show it: key redacted, base64 shortened. */
export function describeRequest(request: PlannedRequest, secrets: readonly (string | undefined)[]): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url,
    headers: redactHeaders(request.headers, secrets),
    ...(request.json === undefined ? {} : { body: shortenBody(request.json) }),
  };
}

export interface EditOverrides {
  prompt?: string;
  function?: string;
  strength?: number;
  seed?: number;
}

/** The instruction, function and strength sent for a style, after --prompt/--function/--strength. */
export function remoteInstruction(style: StylePreset, overrides: EditOverrides) {
  return {
    function: overrides.function ?? style.function,
    prompt: overrides.prompt ?? style.prompt,
    strength: overrides.strength ?? style.strength,
    seed: overrides.seed,
  };
}

/** Provider failures after which `edit` may finish the picture locally: never usage, key, account or moderation. */
export function mayFallBack(err: unknown): boolean {
  return isImagegenError(err) && (err.kind === 'network' || err.kind === 'rate-limit' || err.kind === 'failure');
}

export interface DashscopeEditorOptions {
  resolved: ResolvedConfig;
  overrides: EditOverrides;
  fallback: boolean;
  limits: ProviderLimits;
  deps: ProviderDeps;
}

export function dashscopeEditor(options: DashscopeEditorOptions): RemoteEditor {
  const { resolved, overrides, limits, deps } = options;
  const settings = { ...resolved.config.providers.dashscope, apiKey: resolved.config.providers.dashscope.apiKey ?? '' };
  return async ({ image, style, file }) => {
    const { runEditTask } = await import('../providers/dashscope.js');
    const { fetchResult } = await import('../providers/result.js');
    try {
      const prepared = await prepareForDashscope(image);
      deps.ui.debug(`DashScope: sending ${prepared.width}×${prepared.height} ${prepared.mime}, ${prepared.bytes} bytes`);
      const task = await runEditTask(settings, { ...remoteInstruction(style, overrides), imageDataUri: prepared.dataUri }, limits, deps);
      const bytes = await fetchResult(task.url, settings.baseUrl, 'dashscope', task.taskId, limits, deps);
      let result;
      try {
        result = await decodeImage(bytes, 'DashScope result');
      } catch (err) {
        throw new ImagegenError('failure', describeError(err), { provider: 'dashscope', taskId: task.taskId });
      }
      return { image: result, meta: { source: 'dashscope', taskId: task.taskId, model: settings.model } };
    } catch (err) {
      if (!options.fallback || !mayFallBack(err)) throw err;
      const e = err as ImagegenError;
      const ids = [e.requestId && `request id ${e.requestId}`, e.taskId && `task id ${e.taskId}`].filter(Boolean).join(', ');
      deps.ui.warn(`${file}: DashScope failed (${e.message}${ids ? '; ' + ids : ''}); finishing with the local pipeline instead`);
      return { image, meta: { source: 'local-fallback', remoteError: e.toJSON(), model: settings.model } };
    }
  };
}

/** The DashScope requests `edit --dry-run` would send for one picture. */
export async function planEditRequests(resolved: ResolvedConfig, style: StylePreset, overrides: EditOverrides, image: Parameters<typeof prepareForDashscope>[0]): Promise<Array<Record<string, unknown>>> {
  const settings = { ...resolved.config.providers.dashscope, apiKey: resolved.config.providers.dashscope.apiKey ?? '(no key configured)' };
  const secrets = [resolved.config.providers.dashscope.apiKey];
  const prepared = await prepareForDashscope(image);
  const submit = buildEditRequest(settings, { ...remoteInstruction(style, overrides), imageDataUri: prepared.dataUri });
  const poll: PlannedRequest = {
    method: 'GET',
    url: `${settings.baseUrl}/api/v1/tasks/{task_id}`,
    headers: { Authorization: `Bearer ${settings.apiKey}` },
  };
  return [describeRequest(submit, secrets), describeRequest(poll, secrets)];
}
