/**
 * ModelScope API-Inference image tasks as documented: generation and editing are both submitted to
 * /v1/images/generations with `X-ModelScope-Async-Mode: true` (an edit adds the picture in `image_url`), then
 * polled at /v1/tasks/{id} with `X-ModelScope-Task-Type: image_generation` until SUCCEED or FAILED. Every
 * other status means the task is still running.
 */
import { randomUUID } from 'node:crypto';
import { NetworkError, ProviderError } from '../../kernel/errors.js';
import type { HttpResponse } from '../../kernel/ports.js';
import type { PlannedRequest } from '../../kernel/redact.js';
import type { RgbaImage } from '../../loom/types.js';
import { asCode, asObject, asText, statusOf, submittedTaskId, taskIdPath, unknownTask } from '../shared/answer.js';
import { parseJson, parseRetryAfter, providerError } from '../shared/errors.js';
import { fetchResult } from '../shared/result.js';
import type { PollOutcome } from '../shared/poll.js';
import { failed, readKeyAnswer, timedRequest } from '../shared/probe.js';
import { runAsyncTask } from '../shared/task.js';
import type {
  EditInstruction,
  GenerateParams,
  ProbeFinding,
  ProbeReport,
  ProviderClient,
  ProviderContext,
} from '../types.js';
import { prepareForModelscope } from './prepare.js';

type Settings = ProviderContext['settings'];

/** Our id for each submit, sent as X-Request-Id, so that a submit left unanswered can still be named. */
const REQUEST_ID_HEADER = 'X-Request-Id';

function submitRequest(settings: Settings, body: Record<string, unknown>, requestId: string): PlannedRequest {
  return {
    method: 'POST',
    url: `${settings.baseUrl}/v1/images/generations`,
    headers: {
      Authorization: `Bearer ${settings.apiKey}`,
      'Content-Type': 'application/json',
      'X-ModelScope-Async-Mode': 'true',
      [REQUEST_ID_HEADER]: requestId,
    },
    json: body,
  };
}

/**
 * An edit: the generation body plus the pictures in `image_url`, an array of data URIs as the documented
 * Base64 example sends it: the edited one first, then the references.
 */
function buildEditRequest(
  settings: Settings,
  instruction: EditInstruction,
  imageDataUris: readonly string[],
  requestId: string,
): PlannedRequest {
  const body: Record<string, unknown> = {
    model: settings.model,
    prompt: instruction.prompt,
    image_url: imageDataUris,
  };
  if (instruction.seed !== undefined) body.seed = instruction.seed;
  return submitRequest(settings, body, requestId);
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
  const errors = asObject(body.errors) ?? {};
  const message = asText(errors.message) || asText(body.message) || res.body.slice(0, 200) || undefined;
  return providerError({
    provider: ctx.provider,
    status: res.status,
    code: asCode(errors.code) ?? asCode(body.code),
    message,
    requestId: asText(body.request_id),
    taskId,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    note: res.status === 429 ? quotaNote(res) : undefined,
  });
}

/** A task's answer, every value checked for its type: the one place a ModelScope task answer is read. */
function readTaskAnswer(ctx: ProviderContext, body: Record<string, unknown>, taskId: string) {
  const requestId = asText(body.request_id);
  // No status at all: the task is taken to be still running, as for any status not documented.
  const status = statusOf(ctx.provider, body.task_status, 'task_status', 'PENDING', { requestId, taskId });
  const images = Array.isArray(body.output_images) ? (body.output_images as unknown[]) : [];
  const image = images.map((u) => asText(u, Infinity)).find((u) => u);
  const errors = asObject(body.errors) ?? {};
  return { status, requestId, image, code: asCode(errors.code), message: asText(errors.message) };
}

/** The task id of a submit answer, checked before anything is done with it. */
function readSubmitAnswer(ctx: ProviderContext, body: Record<string, unknown> | undefined, sentId: string) {
  const requestId = asText(body?.request_id) ?? sentId;
  // ModelScope may give the id as a number, which is taken as it is.
  return { taskId: submittedTaskId(ctx.provider, body?.task_id, 'task_id', requestId, true), requestId };
}

/** One poll of a task, its request bounded by the time left: its status, or the URL of its first image. */
async function checkTask(taskId: string, ctx: ProviderContext, timeLeftMs = Infinity): Promise<PollOutcome<string>> {
  const { settings, http, limits } = ctx;
  const poll = pollRequest(settings, taskIdPath(ctx.provider, taskId));
  const timeoutMs = Math.min(limits.requestTimeoutMs, timeLeftMs);
  const res = await http.request({ ...poll, timeoutMs, signal: ctx.signal });
  const body = parseJson(res.body);
  // The task path of a task it does not know: a 404, which is about the task, not the model or the path.
  if (res.status === 404)
    throw unknownTask(ctx.provider, taskId, {
      message: 'the task is unknown or has expired',
      status: 404,
      requestId: asText(body?.request_id),
    });
  if (res.status !== 200 || body?.success === false) throw errorFrom(ctx, res, taskId);
  // An answer that is not JSON says nothing about the task: poll again.
  if (!body)
    throw new NetworkError('ModelScope answered a poll with something that is not JSON', {
      provider: 'modelscope',
      taskId,
    });
  const answer = readTaskAnswer(ctx, body, taskId);
  const { status, requestId } = answer;
  if (status === 'SUCCEED') {
    if (!answer.image)
      throw providerError({
        provider: ctx.provider,
        code: 'NoResult',
        message: 'the task succeeded without an image URL',
        requestId,
        taskId,
      });
    return { done: true, value: answer.image };
  }
  if (status === 'FAILED') {
    throw providerError({
      provider: ctx.provider,
      code: answer.code,
      message: answer.message ?? 'the task failed',
      requestId,
      taskId,
      taskFailed: true,
    });
  }
  // PENDING, RUNNING, PROCESSING and anything undocumented: still running.
  return { done: false, status };
}

/**
 * One submit. It carries a fresh request id of ours; when no answer comes (a timeout, a reset), the error
 * carries that id, as the service may have made the task.
 */
async function submit(ctx: ProviderContext, build: (requestId: string) => PlannedRequest) {
  const { http, limits, ui } = ctx;
  const sentId = randomUUID();
  const request = build(sentId);
  let res: HttpResponse;
  try {
    res = await http.request({
      ...request,
      timeoutMs: Math.min(limits.requestTimeoutMs, limits.polling.timeoutMs),
      signal: ctx.signal,
    });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    throw new NetworkError(err.message, {
      code: err.code,
      hint: err.hint,
      provider: ctx.provider.id,
      requestId: sentId,
      cause: err,
    });
  }
  const body = parseJson(res.body);
  // The envelope some ModelScope endpoints use for errors, whatever the status.
  if (res.status !== 200 || body?.success === false) throw errorFrom(ctx, res);
  const { taskId, requestId } = readSubmitAnswer(ctx, body, sentId);
  const note = quotaNote(res);
  if (note) ui.debug(`ModelScope: ${note}`);
  return { taskId, requestId };
}

async function runGenerate(params: GenerateParams, ctx: ProviderContext) {
  const task = await runAsyncTask(
    {
      submit: () => submit(ctx, (id) => submitRequest(ctx.settings, params, id)),
      check: (taskId, timeLeftMs) => checkTask(taskId, ctx, timeLeftMs),
      timeoutHint: TIMEOUT_HINT,
    },
    ctx,
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: params.model };
}

/** The edited picture and its references, each as a data URI. */
async function prepare(image: RgbaImage, instruction: EditInstruction, ctx: ProviderContext): Promise<string[]> {
  const uris: string[] = [];
  for (const picture of [image, ...(instruction.references ?? [])]) {
    const prepared = await prepareForModelscope(picture, ctx.settings.model);
    ctx.ui.debug(`ModelScope: sending ${prepared.width}×${prepared.height} ${prepared.mime}, ${prepared.bytes} bytes`);
    uris.push(prepared.dataUri);
  }
  return uris;
}

/** Submits an edit, polls and downloads the first image; a task being re-attached needs no picture. */
async function runEdit(image: RgbaImage, instruction: EditInstruction, ctx: ProviderContext) {
  const { settings } = ctx;
  // Prepared before a task slot is taken, so that the slot is held only while the service works.
  const dataUris = ctx.attachTo ? [] : await prepare(image, instruction, ctx);
  const task = await runAsyncTask(
    {
      submit: () => submit(ctx, (id) => buildEditRequest(settings, instruction, dataUris, id)),
      check: (taskId, timeLeftMs) => checkTask(taskId, ctx, timeLeftMs),
      timeoutHint: TIMEOUT_HINT,
    },
    ctx,
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: settings.model };
}

const TIMEOUT_HINT = 'raise polling.timeoutMs; ModelScope can be slow when busy';

/** Waits for a task submitted earlier and downloads its first image. */
async function waitForTask(taskId: string, ctx: ProviderContext) {
  const task = await runAsyncTask(
    {
      submit: () => Promise.reject(new Error('a task being waited for is never submitted')),
      check: (id, timeLeftMs) => checkTask(id, ctx, timeLeftMs),
      timeoutHint: TIMEOUT_HINT,
    },
    { ...ctx, attachTo: { taskId } },
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId };
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
        hint: 'the allowance comes back at 00:00 China time (UTC+8)',
      }),
    );
  }
  return { status: 'ok', certainty: 'certain', message: `${note}, by the answer's rate-limit headers` };
}

export const client: ProviderClient = {
  doctor: { probe },
  task: { check: checkTask, wait: waitForTask },
  generate: {
    plan: (params, ctx) => [
      submitRequest(ctx.settings, params, '{request_id}'),
      pollRequest(ctx.settings, '{task_id}'),
    ],
    run: runGenerate,
  },
  edit: {
    plan: async (image, instruction, ctx) => [
      buildEditRequest(ctx.settings, instruction, await prepare(image, instruction, ctx), '{request_id}'),
      pollRequest(ctx.settings, '{task_id}'),
    ],
    run: runEdit,
  },
};
