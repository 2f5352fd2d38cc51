/**
 * ModelScope API-Inference image generation as documented: submit with `X-ModelScope-Async-Mode: true`, then
 * poll /v1/tasks/{id} with `X-ModelScope-Task-Type: image_generation` until SUCCEED or FAILED. Every other
 * status means the task is still running.
 */
import { randomUUID } from 'node:crypto';
import { NetworkError, ProviderError } from '../../kernel/errors.js';
import type { HttpResponse } from '../../kernel/ports.js';
import type { PlannedRequest } from '../../kernel/redact.js';
import { parseJson, parseRetryAfter, providerError } from '../shared/errors.js';
import { fetchResult } from '../shared/result.js';
import type { PollOutcome } from '../shared/poll.js';
import { failed, readKeyAnswer, timedRequest } from '../shared/probe.js';
import { runAsyncTask } from '../shared/task.js';
import type { GenerateParams, ProbeFinding, ProbeReport, ProviderClient, ProviderContext } from '../types.js';

type Settings = ProviderContext['settings'];

function buildGenerateRequest(settings: Settings, params: GenerateParams): PlannedRequest {
  return {
    method: 'POST',
    url: `${settings.baseUrl}/v1/images/generations`,
    headers: {
      Authorization: `Bearer ${settings.apiKey}`,
      'Content-Type': 'application/json',
      'X-ModelScope-Async-Mode': 'true',
    },
    json: params,
  };
}

function pollRequest(settings: Settings, taskId: string): PlannedRequest {
  return {
    method: 'GET',
    url: `${settings.baseUrl}/v1/tasks/${taskId}`,
    headers: { Authorization: `Bearer ${settings.apiKey}`, 'X-ModelScope-Task-Type': 'image_generation' },
  };
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Remaining daily calls, from the rate-limit headers ModelScope sends. */
function quotaNote(res: HttpResponse): string | undefined {
  const user = header(res, 'modelscope-ratelimit-requests-remaining');
  const model = header(res, 'modelscope-ratelimit-model-requests-remaining');
  const parts = [
    user !== undefined && `${user} calls left today`,
    model !== undefined && `${model} for this model`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

function errorFrom(ctx: ProviderContext, res: HttpResponse, taskId?: string) {
  const body = parseJson(res.body) ?? {};
  const errors = (body.errors ?? {}) as Record<string, unknown>;
  const message =
    (typeof errors.message === 'string' && errors.message) ||
    (typeof body.message === 'string' && body.message) ||
    res.body.slice(0, 200) ||
    undefined;
  const code = errors.code ?? body.code;
  return providerError({
    provider: ctx.provider,
    status: res.status,
    code: code === undefined || code === null ? undefined : String(code),
    message,
    requestId: typeof body.request_id === 'string' ? body.request_id : undefined,
    taskId,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    note: res.status === 429 ? quotaNote(res) : undefined,
  });
}

/** One poll of a task: its status, or the URL of its first image; a failed task throws. */
async function checkTask(taskId: string, ctx: ProviderContext): Promise<PollOutcome<string>> {
  const { settings, http, limits } = ctx;
  const poll = pollRequest(settings, encodeURIComponent(taskId));
  const res = await http.request({ ...poll, timeoutMs: limits.requestTimeoutMs, signal: ctx.signal });
  const body = parseJson(res.body);
  if (res.status !== 200 || body?.success === false) throw errorFrom(ctx, res, taskId);
  // An answer that is not JSON says nothing about the task: poll again.
  if (!body)
    throw new NetworkError('ModelScope answered a poll with something that is not JSON', {
      provider: 'modelscope',
      taskId,
    });
  const status = String(body.task_status ?? 'PENDING');
  const requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
  if (status === 'SUCCEED') {
    const images = Array.isArray(body.output_images) ? body.output_images : [];
    const first = images.find((u): u is string => typeof u === 'string' && u.length > 0);
    if (!first)
      throw providerError({
        provider: ctx.provider,
        code: 'NoResult',
        message: 'the task succeeded without an image URL',
        requestId,
        taskId,
      });
    return { done: true, value: first };
  }
  if (status === 'FAILED') {
    const errors = (body.errors ?? {}) as Record<string, unknown>;
    throw providerError({
      provider: ctx.provider,
      code: errors.code === undefined ? undefined : String(errors.code),
      message: typeof errors.message === 'string' ? errors.message : 'the task failed',
      requestId,
      taskId,
      taskFailed: true,
    });
  }
  // PENDING, RUNNING, PROCESSING and anything undocumented: still running.
  return { done: false, status };
}

async function runGenerate(params: GenerateParams, ctx: ProviderContext) {
  const { settings, http, limits, ui } = ctx;
  const request = buildGenerateRequest(settings, params);
  const task = await runAsyncTask(
    {
      async submit() {
        const res = await http.request({ ...request, timeoutMs: limits.requestTimeoutMs, signal: ctx.signal });
        const body = parseJson(res.body);
        // The envelope some ModelScope endpoints use for errors, whatever the status.
        if (res.status !== 200 || body?.success === false) throw errorFrom(ctx, res);
        const taskId = body?.task_id;
        if (typeof taskId !== 'string' || !taskId) {
          throw providerError({
            provider: ctx.provider,
            status: res.status,
            message: 'the submit answer has no task_id',
            requestId: body?.request_id as string | undefined,
          });
        }
        const note = quotaNote(res);
        if (note) ui.debug(`ModelScope: ${note}`);
        return { taskId, requestId: body?.request_id as string | undefined };
      },
      check: (taskId) => checkTask(taskId, ctx),
      timeoutHint: TIMEOUT_HINT,
    },
    ctx,
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: params.model };
}

const TIMEOUT_HINT = 'raise polling.timeoutMs; ModelScope can be slow when busy';

/** Waits for a task submitted earlier and downloads its first image. */
async function waitForTask(taskId: string, ctx: ProviderContext) {
  const task = await runAsyncTask(
    {
      submit: () => Promise.reject(new Error('a task being waited for is never submitted')),
      check: (id) => checkTask(id, ctx),
      timeoutHint: TIMEOUT_HINT,
    },
    { ...ctx, attachTo: { taskId } },
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: ctx.settings.model };
}

/**
 * `imagegen doctor`, at no cost: one query of a random task id. A 401 rejects the key (certain); any other
 * answer to a task that does not exist means the key was not rejected, which ModelScope does not document
 * (inferred). No request is known that ModelScope refuses before making a task, so model access is not asked;
 * the day's allowance is read from the rate-limit headers when the answer carries them.
 */
async function probe(ctx: ProviderContext): Promise<ProbeReport> {
  const { res, latencyMs } = await timedRequest(ctx, pollRequest(ctx.settings, randomUUID()));
  const body = parseJson(res.body);
  const answered = [200, 400, 404].includes(res.status) && body?.success !== false;
  const { key, account } = readKeyAnswer(answered ? undefined : errorFrom(ctx, res), {
    status: 'ok',
    certainty: 'inferred',
    message: `not rejected: a query of a task id that does not exist answered HTTP ${res.status}, not 401`,
  });
  if (key.status !== 'ok' || account) return { latencyMs, key, account };
  return { latencyMs, key, account: allowance(ctx, res) };
}

/** The day's allowance from the rate-limit headers, if the answer has them. */
function allowance(ctx: ProviderContext, res: HttpResponse): ProbeFinding {
  const user = header(res, 'modelscope-ratelimit-requests-remaining');
  const model = header(res, 'modelscope-ratelimit-model-requests-remaining');
  if (user === undefined && model === undefined) {
    return {
      status: 'warning',
      certainty: 'inferred',
      message: `access to ${ctx.settings.model} and the day's allowance not known: ModelScope refuses no request before making a task, and this answer has no rate-limit headers`,
    };
  }
  const note = quotaNote(res)!;
  if (user === '0' || model === '0') {
    return failed(
      new ProviderError('quota', `ModelScope: no calls left today (${note})`, {
        provider: ctx.provider.id,
        hint: 'the allowance comes back at 00:00 (UTC+8)',
      }),
    );
  }
  return { status: 'ok', certainty: 'certain', message: `${note}, by the answer's rate-limit headers` };
}

export const client: ProviderClient = {
  doctor: { probe },
  task: { check: checkTask, wait: waitForTask },
  generate: {
    plan: (params, ctx) => [buildGenerateRequest(ctx.settings, params), pollRequest(ctx.settings, '{task_id}')],
    run: runGenerate,
  },
};
