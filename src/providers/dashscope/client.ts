/**
 * DashScope `wanx2.1-imageedit` as documented: an async task submitted with `X-DashScope-Async: enable`,
 * the image sent as a data URI, then polled at /api/v1/tasks/{id} until SUCCEEDED, FAILED, CANCELED or UNKNOWN.
 */
import { randomUUID } from 'node:crypto';
import { NetworkError, ProviderError } from '../../kernel/errors.js';
import type { HttpResponse } from '../../kernel/ports.js';
import type { PlannedRequest } from '../../kernel/redact.js';
import type { RgbaImage } from '../../loom/types.js';
import { parseJson, parseRetryAfter, providerError } from '../shared/errors.js';
import { fetchResult } from '../shared/result.js';
import type { PollOutcome } from '../shared/poll.js';
import { failed, readKeyAnswer, timedRequest } from '../shared/probe.js';
import { runAsyncTask } from '../shared/task.js';
import type { EditInstruction, ProbeFinding, ProbeReport, ProviderClient, ProviderContext } from '../types.js';
import { prepareForDashscope } from './prepare.js';

const SUBMIT_PATH = '/api/v1/services/aigc/image2image/image-synthesis';
/** Functions whose `parameters` take `strength`. */
const TAKES_STRENGTH = new Set(['stylization_all', 'description_edit']);

type Settings = ProviderContext['settings'];

function buildEditRequest(settings: Settings, instruction: EditInstruction, imageDataUri: string): PlannedRequest {
  const parameters: Record<string, unknown> = { n: 1 };
  if (instruction.strength !== undefined && TAKES_STRENGTH.has(instruction.function ?? ''))
    parameters.strength = instruction.strength;
  if (instruction.seed !== undefined) parameters.seed = instruction.seed;
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
      input: { function: instruction.function, prompt: instruction.prompt, base_image_url: imageDataUri },
      parameters,
    },
  };
}

function pollRequest(settings: Settings, taskId: string): PlannedRequest {
  return {
    method: 'GET',
    url: `${settings.baseUrl}/api/v1/tasks/${taskId}`,
    headers: { Authorization: `Bearer ${settings.apiKey}` },
  };
}

function errorFrom(ctx: ProviderContext, res: HttpResponse, taskId?: string) {
  const body = parseJson(res.body) ?? {};
  return providerError({
    provider: ctx.provider,
    status: res.status,
    code: typeof body.code === 'string' ? body.code : undefined,
    message:
      typeof body.message === 'string'
        ? body.message
        : typeof body.msg === 'string'
          ? body.msg
          : res.body.slice(0, 200) || undefined,
    requestId: typeof body.request_id === 'string' ? body.request_id : undefined,
    taskId,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
}

async function prepare(image: RgbaImage, ctx: ProviderContext) {
  const prepared = await prepareForDashscope(image);
  ctx.ui.debug(`DashScope: sending ${prepared.width}×${prepared.height} ${prepared.mime}, ${prepared.bytes} bytes`);
  return prepared;
}

/** How a wait ends on Ctrl-C (a queued task is canceled) and what a timeout advises. */
function waitingFrame(ctx: ProviderContext) {
  return {
    async onInterrupt(taskId: string, lastStatus: string) {
      if (lastStatus !== 'PENDING') return 'may still finish';
      return (await cancelTask(ctx, taskId)) ? 'was canceled' : 'could not be canceled';
    },
    timeoutHint: 'raise polling.timeoutMs; the task may still finish, and its result stays 24 hours',
  };
}

/** One poll of a task: its status, or the URL of its first result; a failed task throws. */
async function checkTask(taskId: string, ctx: ProviderContext): Promise<PollOutcome<string>> {
  const { settings, http, limits } = ctx;
  const poll = pollRequest(settings, encodeURIComponent(taskId));
  const res = await http.request({ ...poll, timeoutMs: limits.requestTimeoutMs, signal: ctx.signal });
  if (res.status !== 200) throw errorFrom(ctx, res, taskId);
  const body = parseJson(res.body);
  const output = (body?.output ?? {}) as Record<string, unknown>;
  const status = String(output.task_status ?? 'UNKNOWN');
  const requestId = body?.request_id as string | undefined;
  const failure = (code: string | undefined, message: string, taskFailed = false) =>
    providerError({ provider: ctx.provider, code, message, requestId, taskId, taskFailed });
  if (status === 'SUCCEEDED') {
    const results = Array.isArray(output.results) ? (output.results as Array<Record<string, unknown>>) : [];
    const first = results.find((r) => typeof r.url === 'string' && r.url);
    if (first) return { done: true, value: first.url as string };
    const failed = results.find((r) => typeof r.code === 'string');
    throw failure(
      (failed?.code as string) ?? 'NoResult',
      (failed?.message as string) ?? 'the task succeeded without an image URL',
      true,
    );
  }
  if (status === 'FAILED')
    throw failure(output.code as string | undefined, (output.message as string) ?? 'the task failed', true);
  if (status === 'CANCELED') throw failure('CANCELED', 'the task was canceled');
  if (status === 'UNKNOWN') throw failure('UNKNOWN', 'the task is unknown or has expired (tasks are kept 24 hours)');
  return { done: false, status };
}

/** Submits, polls and downloads the first result. Ctrl-C while the task is queued cancels it. */
async function runEdit(image: RgbaImage, instruction: EditInstruction, ctx: ProviderContext) {
  const { settings, http, limits } = ctx;
  // Prepared before a task slot is taken, so that the slot is held only while the provider works; a task
  // being re-attached needs no picture.
  const request = ctx.attachTo
    ? undefined
    : buildEditRequest(settings, instruction, (await prepare(image, ctx)).dataUri);
  const task = await runAsyncTask(
    {
      async submit() {
        const res = await http.request({ ...request!, timeoutMs: limits.requestTimeoutMs, signal: ctx.signal });
        if (res.status !== 200) throw errorFrom(ctx, res);
        const body = parseJson(res.body);
        const taskId = (body?.output as Record<string, unknown> | undefined)?.task_id;
        if (typeof taskId !== 'string' || !taskId) {
          throw providerError({
            provider: ctx.provider,
            status: res.status,
            message: 'the submit answer has no task id',
            requestId: body?.request_id as string | undefined,
          });
        }
        return { taskId, requestId: body?.request_id as string | undefined };
      },
      check: (taskId) => checkTask(taskId, ctx),
      ...waitingFrame(ctx),
    },
    ctx,
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: settings.model };
}

/** Best-effort cancel of a queued task; DashScope cancels only PENDING tasks. */
async function cancelTask(ctx: ProviderContext, taskId: string): Promise<boolean> {
  try {
    const res = await ctx.http.request({
      method: 'POST',
      url: `${ctx.settings.baseUrl}/api/v1/tasks/${encodeURIComponent(taskId)}/cancel`,
      headers: { Authorization: `Bearer ${ctx.settings.apiKey}` },
      timeoutMs: 5000,
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Waits for a task submitted earlier and downloads its first result. */
async function waitForTask(taskId: string, ctx: ProviderContext) {
  const task = await runAsyncTask(
    {
      submit: () => Promise.reject(new Error('a task being waited for is never submitted')),
      check: (id) => checkTask(id, ctx),
      ...waitingFrame(ctx),
    },
    { ...ctx, attachTo: { taskId } },
  );
  const bytes = await fetchResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: ctx.settings.model };
}

/**
 * `imagegen doctor`, at no cost. The key: a query of a random task id, which a valid key gets answered with
 * UNKNOWN and a rejected one (or one of another region) with 401. Balance and model access: a submit with an
 * empty input, which cannot become a task; DashScope answers it with a parameter error when the account may
 * use the model, and with Arrearage or AccessDenied.Unpurchased when it may not. That the account is checked
 * before the parameters is not documented, so a parameter error is an inferred pass; a refusal is certain.
 */
async function probe(ctx: ProviderContext): Promise<ProbeReport> {
  const { res, latencyMs } = await timedRequest(ctx, pollRequest(ctx.settings, randomUUID()));
  let error: ProviderError | undefined;
  if (res.status === 404) {
    error = new ProviderError('usage', `DashScope HTTP 404: the host has no task API at ${ctx.settings.baseUrl}`, {
      provider: ctx.provider.id,
      status: 404,
      hint: 'check providers.dashscope.baseUrl: the host only, such as https://dashscope.aliyuncs.com',
    });
  } else if (res.status !== 200) error = errorFrom(ctx, res);
  const status = String(
    (parseJson(res.body)?.output as Record<string, unknown> | undefined)?.task_status ?? 'no status',
  );
  const { key, account } = readKeyAnswer(error, {
    status: 'ok',
    certainty: 'certain',
    message: `accepted: a query of a task id that does not exist answered ${status}`,
  });
  if (key.status !== 'ok' || account) return { latencyMs, key, account };
  return { latencyMs, key, account: await probeAccount(ctx) };
}

async function probeAccount(ctx: ProviderContext): Promise<ProbeFinding> {
  const { settings } = ctx;
  const model = settings.model;
  let res: HttpResponse;
  try {
    ({ res } = await timedRequest(ctx, {
      method: 'POST',
      url: settings.baseUrl + SUBMIT_PATH,
      headers: {
        Authorization: `Bearer ${settings.apiKey}`,
        'Content-Type': 'application/json',
        'X-DashScope-Async': 'enable',
      },
      // No function, prompt or picture: nothing a task could be made of.
      json: { model, input: {} },
    }));
  } catch (err) {
    if (err instanceof NetworkError) return failed(err);
    throw err;
  }
  const body = parseJson(res.body);
  if (res.status === 200) {
    const taskId = (body?.output as Record<string, unknown> | undefined)?.task_id;
    if (typeof taskId !== 'string' || !taskId)
      return {
        status: 'warning',
        certainty: 'inferred',
        message: 'not known: DashScope took an empty submit without making a task',
      };
    // Never expected: take it back at once.
    const canceled = await cancelTask(ctx, taskId);
    return failed(
      new ProviderError(
        'failure',
        `DashScope made task ${taskId} of an empty submit; it ${canceled ? 'was canceled' : 'could not be canceled'}`,
        {
          provider: ctx.provider.id,
          taskId,
          hint: 'DashScope no longer refuses an empty submit: run doctor --offline',
        },
      ),
    );
  }
  const err = errorFrom(ctx, res);
  if (err.kind === 'usage' && res.status === 400) {
    const said = typeof body?.message === 'string' ? ` ("${body.message}")` : '';
    return {
      status: 'ok',
      certainty: 'inferred',
      message:
        `balance and access to ${model} not refused: an empty submit was answered ${err.code ?? 'HTTP 400'}${said}, ` +
        'not Arrearage or AccessDenied.Unpurchased, and made no task',
    };
  }
  if (err.kind === 'rate-limit' || err.kind === 'moderation' || err.kind === 'failure')
    return { status: 'warning', certainty: 'inferred', message: `not known: ${err.message}`, error: err };
  return failed(err);
}

export const client: ProviderClient = {
  doctor: { probe },
  task: {
    check: checkTask,
    wait: waitForTask,
    cancel: (taskId, ctx) => cancelTask(ctx, taskId),
  },
  edit: {
    async plan(image, instruction, ctx) {
      const prepared = await prepare(image, ctx);
      return [buildEditRequest(ctx.settings, instruction, prepared.dataUri), pollRequest(ctx.settings, '{task_id}')];
    },
    run: runEdit,
  },
};
