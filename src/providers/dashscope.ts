/**
 * DashScope `wanx2.1-imageedit` as documented: an async task submitted with `X-DashScope-Async: enable`,
 * the image sent as a data URI, then polled at /api/v1/tasks/{id} until SUCCEEDED, FAILED, CANCELED or UNKNOWN.
 */
import { UsageError } from '../core/errors.js';
import type { ProviderDeps, ProviderLimits } from './context.js';
import type { HttpResponse } from './http.js';
import { parseJson, parseRetryAfter, providerError, type ProviderError } from './provider-errors.js';
import { runAsyncTask, type AsyncTaskResult } from './task.js';

export const SUBMIT_PATH = '/api/v1/services/aigc/image2image/image-synthesis';
export const MAX_EDIT_PROMPT = 800;
/** Functions whose `parameters` take `strength`. */
const TAKES_STRENGTH = new Set(['stylization_all', 'description_edit']);

export interface DashscopeSettings {
  apiKey: string;
  baseUrl: string;
  model: string;
}

export interface EditTaskInput {
  function: string;
  prompt: string;
  strength?: number;
  /** data:image/png;base64,… */
  imageDataUri: string;
  seed?: number;
}

export interface PlannedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  json?: unknown;
}

export function buildEditRequest(settings: DashscopeSettings, input: EditTaskInput): PlannedRequest {
  if (input.prompt.length > MAX_EDIT_PROMPT) {
    throw new UsageError(`the instruction has ${input.prompt.length} characters; DashScope takes at most ${MAX_EDIT_PROMPT} and would cut the rest`);
  }
  const parameters: Record<string, unknown> = { n: 1 };
  if (input.strength !== undefined && TAKES_STRENGTH.has(input.function)) parameters.strength = input.strength;
  if (input.seed !== undefined) parameters.seed = input.seed;
  return {
    method: 'POST',
    url: settings.baseUrl + SUBMIT_PATH,
    headers: {
      Authorization: `Bearer ${settings.apiKey}`,
      'Content-Type': 'application/json',
      'X-DashScope-Async': 'enable',
    },
    json: {
      model: settings.model,
      input: { function: input.function, prompt: input.prompt, base_image_url: input.imageDataUri },
      parameters,
    },
  };
}

function errorFrom(res: HttpResponse, taskId?: string): ProviderError {
  const body = parseJson(res.body) ?? {};
  return providerError({
    provider: 'dashscope',
    status: res.status,
    code: typeof body.code === 'string' ? body.code : undefined,
    message: typeof body.message === 'string' ? body.message : typeof body.msg === 'string' ? body.msg : res.body.slice(0, 200) || undefined,
    requestId: typeof body.request_id === 'string' ? body.request_id : undefined,
    taskId,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
}

/** Submits, polls and returns the first result URL. Ctrl-C while the task is queued cancels it. */
export async function runEditTask(settings: DashscopeSettings, input: EditTaskInput, limits: ProviderLimits, deps: ProviderDeps): Promise<AsyncTaskResult> {
  const request = buildEditRequest(settings, input);
  const { http } = deps;
  return runAsyncTask(
    {
      provider: 'dashscope',
      async submit() {
        const res = await http.request({ ...request, timeoutMs: limits.requestTimeoutMs, signal: deps.signal });
        if (res.status !== 200) throw errorFrom(res);
        const body = parseJson(res.body);
        const taskId = (body?.output as Record<string, unknown> | undefined)?.task_id;
        if (typeof taskId !== 'string' || !taskId) {
          throw providerError({ provider: 'dashscope', status: res.status, message: 'the submit answer has no task id', requestId: body?.request_id as string | undefined });
        }
        return { taskId, requestId: body?.request_id as string | undefined };
      },
      async check(taskId) {
        const res = await http.request({
          method: 'GET',
          url: `${settings.baseUrl}/api/v1/tasks/${encodeURIComponent(taskId)}`,
          headers: { Authorization: `Bearer ${settings.apiKey}` },
          timeoutMs: limits.requestTimeoutMs,
          signal: deps.signal,
        });
        if (res.status !== 200) throw errorFrom(res, taskId);
        const body = parseJson(res.body);
        const output = (body?.output ?? {}) as Record<string, unknown>;
        const status = String(output.task_status ?? 'UNKNOWN');
        const requestId = body?.request_id as string | undefined;
        if (status === 'SUCCEEDED') {
          const results = Array.isArray(output.results) ? (output.results as Array<Record<string, unknown>>) : [];
          const first = results.find((r) => typeof r.url === 'string' && r.url);
          if (first) return { done: true, value: first.url as string };
          const failed = results.find((r) => typeof r.code === 'string');
          throw providerError({
            provider: 'dashscope',
            code: (failed?.code as string) ?? 'NoResult',
            message: (failed?.message as string) ?? 'the task succeeded without an image URL',
            requestId,
            taskId,
            taskFailed: true,
          });
        }
        if (status === 'FAILED') {
          throw providerError({ provider: 'dashscope', code: output.code as string | undefined, message: (output.message as string) ?? 'the task failed', requestId, taskId, taskFailed: true });
        }
        if (status === 'CANCELED') throw providerError({ provider: 'dashscope', code: 'CANCELED', message: 'the task was canceled', requestId, taskId });
        if (status === 'UNKNOWN') {
          throw providerError({ provider: 'dashscope', code: 'UNKNOWN', message: 'the task is unknown or has expired (tasks are kept 24 hours)', requestId, taskId });
        }
        return { done: false, status };
      },
      async onInterrupt(taskId, lastStatus) {
        if (lastStatus !== 'PENDING') return 'may still finish';
        return (await cancelTask(settings, taskId, deps)) ? 'was canceled' : 'could not be canceled';
      },
      timeoutHint: 'raise polling.timeoutMs; the task may still finish, and its result stays 24 hours',
    },
    limits,
    deps,
  );
}

/** Best-effort cancel of a queued task; DashScope cancels only PENDING tasks. */
async function cancelTask(settings: DashscopeSettings, taskId: string, deps: ProviderDeps): Promise<boolean> {
  try {
    const res = await deps.http.request({
      method: 'POST',
      url: `${settings.baseUrl}/api/v1/tasks/${encodeURIComponent(taskId)}/cancel`,
      headers: { Authorization: `Bearer ${settings.apiKey}` },
      timeoutMs: 5000,
    });
    return res.status === 200;
  } catch {
    return false;
  }
}
