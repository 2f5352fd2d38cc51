/**
 * DashScope edits and text to image as documented: wanx2.1-imageedit, wan2.5-i2i-preview, wan2.6-image and the
 * wan text-to-image models as async tasks submitted with `X-DashScope-Async: enable` and polled at
 * /api/v1/tasks/{id} until SUCCEEDED, FAILED, CANCELED or UNKNOWN; the qwen-image-edit family, qwen-image and
 * z-image-turbo as one synchronous call. Pictures are sent as data URIs.
 */
import { randomUUID } from 'node:crypto';
import { ImagegenError, NetworkError, ProviderError, UsageError } from '../../kernel/errors.js';
import type { HttpResponse } from '../../kernel/ports.js';
import type { PlannedRequest } from '../../kernel/redact.js';
import type { RgbaImage } from '../../loom/types.js';
import {
  asCode,
  asObject,
  asObjects,
  asText,
  isTaskId,
  statusOf,
  submittedTaskId,
  taskIdPath,
  unknownTask,
} from '../shared/answer.js';
import { parseJson, parseRetryAfter, providerError } from '../shared/errors.js';
import { fetchResult } from '../shared/result.js';
import type { PollOutcome } from '../shared/poll.js';
import { failed, readKeyAnswer, timedRequest } from '../shared/probe.js';
import { regionOfUrl } from '../shared/regions.js';
import { withRetry } from '../shared/retry.js';
import { journaledAttempt, maybeSubmitted, runAsyncTask } from '../shared/task.js';
import type {
  EditInstruction,
  GenerateParams,
  ListedTask,
  ProbeFinding,
  ProbeReport,
  ProviderClient,
  ProviderContext,
  TaskListQuery,
} from '../types.js';
import { dashscopeGenerateModel, type GenerateModel } from './generate-models.js';
import { DASHSCOPE_REGIONS, dashscopeModel, type DashscopeModel } from './models.js';
import { prepareForDashscope } from './prepare.js';
import {
  ASYNC_SUBMIT_PATH,
  IMAGE_GENERATION_PATH,
  SYNC_EDIT_PATH,
  TEXT2IMAGE_PATH,
  buildEditRequest,
  buildGenerateRequest,
  isSyncFamily,
  secureResultUrl,
  syncResultUrl,
} from './request.js';

type Settings = ProviderContext['settings'];

/** The model a context calls; the descriptor refuses unknown ones before any client is loaded. */
function modelOf(ctx: ProviderContext): DashscopeModel {
  const model = dashscopeModel(ctx.settings.model);
  if (!model) throw new UsageError(`imagegen cannot call the DashScope model ${ctx.settings.model}`);
  return model;
}

function pollRequest(settings: Settings, taskId: string): PlannedRequest {
  return {
    method: 'GET',
    url: `${settings.baseUrl}/api/v1/tasks/${taskId}`,
    headers: { Authorization: `Bearer ${settings.apiKey}` },
  };
}

/** Throttling.AllocationQuota is a quota a minute: without a Retry-After, submits wait this long before the next try. */
const ALLOCATION_QUOTA_WAIT_MS = 20_000;

function errorFrom(ctx: ProviderContext, res: HttpResponse, taskId?: string) {
  const body = parseJson(res.body) ?? {};
  const code = asCode(body.code);
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  return providerError({
    provider: ctx.provider,
    status: res.status,
    code,
    message: asText(body.message) ?? asText(body.msg) ?? (res.body.slice(0, 200) || undefined),
    requestId: asText(body.request_id),
    taskId,
    retryAfterMs: retryAfterMs ?? (code === 'Throttling.AllocationQuota' ? ALLOCATION_QUOTA_WAIT_MS : undefined),
  });
}

/** The edited picture and its references, in order, each within the model's limits as a data URI. */
async function prepare(
  image: RgbaImage,
  instruction: EditInstruction,
  model: DashscopeModel,
  ctx: ProviderContext,
): Promise<string[]> {
  const uris: string[] = [];
  for (const picture of [image, ...(instruction.references ?? [])]) {
    const prepared = await prepareForDashscope(picture, model.input, model.id);
    ctx.ui.debug(`DashScope: sending ${prepared.width}×${prepared.height} ${prepared.mime}, ${prepared.bytes} bytes`);
    uris.push(prepared.dataUri);
  }
  return uris;
}

/**
 * Runs that have already warned of a model sent outside its regions, by their settings (which every item of a
 * run shares, with a gate or without, as under --dry-run): one warning a run, not one an item.
 */
const warnedRuns = new WeakSet<object>();

/** Warns when the base URL is a documented host of a region that does not offer the model. */
function warnOfRegion(model: { id: string }, ctx: ProviderContext): void {
  const region = regionOfUrl(DASHSCOPE_REGIONS, ctx.settings.baseUrl);
  if (!region || region.models.includes(model.id)) return;
  if (warnedRuns.has(ctx.settings)) return;
  warnedRuns.add(ctx.settings);
  const offering = DASHSCOPE_REGIONS.filter((r) => r.models.includes(model.id)).map((r) => r.label);
  ctx.ui.warn(
    `${model.id} is documented only for ${offering.join(' and ') || 'other regions'}, not ${region.label} ` +
      `(${ctx.settings.baseUrl}); the service will likely refuse it`,
  );
}

function fetchDashscopeResult(url: string, taskId: string | undefined, ctx: ProviderContext) {
  return fetchResult(secureResultUrl(url), taskId ?? '', ctx);
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

/** A task's answer, every value checked for its type: the one place a DashScope task answer is read. */
interface TaskAnswer {
  status: string;
  requestId?: string;
  /** FAILED: why; SUCCEEDED without a URL: the first result's failure. */
  code?: string;
  message?: string;
  /** SUCCEEDED: the first result's URL. */
  url?: string;
}

function readTaskAnswer(ctx: ProviderContext, body: Record<string, unknown> | undefined, taskId: string): TaskAnswer {
  const output = asObject(body?.output) ?? {};
  const requestId = asText(body?.request_id);
  const status = statusOf(ctx.provider, output.task_status, 'output.task_status', 'UNKNOWN', { requestId, taskId });
  if (status === 'SUCCEEDED') {
    const results = asObjects(output.results);
    // The image-synthesis tasks give `results[].url`; the image-generation ones (wan2.6) `choices`, as the
    // synchronous call does. A task waited for by its id alone may be either.
    const url = results.map((r) => asText(r.url, Infinity)).find((u) => u) ?? syncResultUrl(body);
    if (url) return { status, requestId, url };
    const failed = results.find((r) => asCode(r.code) !== undefined);
    return { status, requestId, code: asCode(failed?.code), message: asText(failed?.message) };
  }
  return { status, requestId, code: asCode(output.code), message: asText(output.message) };
}

/** The task id of a submit answer, checked before anything is done with it. */
function readSubmitAnswer(ctx: ProviderContext, body: Record<string, unknown> | undefined) {
  const requestId = asText(body?.request_id);
  const taskId = submittedTaskId(ctx.provider, asObject(body?.output)?.task_id, 'output.task_id', requestId);
  return { taskId, requestId };
}

/** One poll of a task: its status, or the URL of its first result; a failed task throws. */
async function checkTask(taskId: string, ctx: ProviderContext, timeLeftMs = Infinity): Promise<PollOutcome<string>> {
  const { settings, http, limits } = ctx;
  const poll = pollRequest(settings, taskIdPath(ctx.provider, taskId));
  const timeoutMs = Math.min(limits.requestTimeoutMs, timeLeftMs);
  const res = await http.request({ ...poll, timeoutMs, signal: ctx.signal });
  if (res.status !== 200) throw errorFrom(ctx, res, taskId);
  const answer = readTaskAnswer(ctx, parseJson(res.body), taskId);
  const { status, requestId } = answer;
  const failure = (code: string | undefined, message: string, taskFailed = false) =>
    providerError({ provider: ctx.provider, code, message, requestId, taskId, taskFailed });
  if (status === 'SUCCEEDED') {
    if (answer.url) return { done: true, value: answer.url };
    throw failure(answer.code ?? 'NoResult', answer.message ?? 'the task succeeded without an image URL', true);
  }
  if (status === 'FAILED') throw failure(answer.code, answer.message ?? 'the task failed', true);
  if (status === 'CANCELED') throw failure('CANCELED', 'the task was canceled');
  if (status === 'UNKNOWN') {
    throw unknownTask(ctx.provider, taskId, {
      message: 'the task is unknown or has expired (tasks are kept 24 hours)',
      requestId,
    });
  }
  return { done: false, status };
}

/** Sends the edit the model's way and downloads the first result. */
async function runEdit(image: RgbaImage, instruction: EditInstruction, ctx: ProviderContext) {
  const model = modelOf(ctx);
  if (!ctx.attachTo) warnOfRegion(model, ctx);
  const { settings } = ctx;
  // Prepared before a task slot is taken, so that the slot is held only while the provider works; a task
  // being re-attached needs no picture.
  const request = ctx.attachTo
    ? undefined
    : buildEditRequest(model, settings, instruction, await prepare(image, instruction, model, ctx));
  if (model.family === 'qwen-image-edit' && request) {
    const answer = await runSyncCall(request, `DashScope ${model.id}: editing`, ctx);
    const bytes = await fetchDashscopeResult(answer.url, undefined, ctx);
    return { bytes, requestId: answer.requestId, model: settings.model };
  }
  const task = await runTask(request, ctx);
  const bytes = await fetchDashscopeResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: settings.model };
}

/** Submits an async request (or re-attaches to `ctx.attachTo`) and polls the task to its end. */
function runTask(request: PlannedRequest | undefined, ctx: ProviderContext) {
  const { http, limits } = ctx;
  return runAsyncTask(
    {
      async submit() {
        const res = await http.request({ ...request!, timeoutMs: limits.requestTimeoutMs, signal: ctx.signal });
        if (res.status !== 200) throw errorFrom(ctx, res);
        return readSubmitAnswer(ctx, parseJson(res.body));
      },
      check: (taskId, timeLeftMs) => checkTask(taskId, ctx, timeLeftMs),
      ...waitingFrame(ctx),
    },
    ctx,
  );
}

/** The text-to-image model of checked parameters; validateGenerate refused unknown ones before. */
function generateModelOf(params: GenerateParams): GenerateModel {
  const model = dashscopeGenerateModel(params.model);
  if (!model) throw new UsageError(`imagegen cannot call the DashScope model ${params.model} for generate`);
  return model;
}

/** Text to image the model's way: one synchronous call, or a task (re-attached to on a resumed run). */
async function runGenerate(params: GenerateParams, ctx: ProviderContext) {
  const model = generateModelOf(params);
  if (!ctx.attachTo) warnOfRegion(model, ctx);
  const request = buildGenerateRequest(model, ctx.settings, params);
  if (isSyncFamily(model.family) && !ctx.attachTo) {
    const answer = await runSyncCall(request, `DashScope ${model.id}: generating`, ctx);
    const bytes = await fetchDashscopeResult(answer.url, undefined, ctx);
    return { bytes, requestId: answer.requestId, model: params.model };
  }
  const task = await runTask(request, ctx);
  const bytes = await fetchDashscopeResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId, model: params.model };
}

/**
 * The synchronous models answer the call itself: one request, held as long as the wait for a task would be
 * (polling.timeoutMs), with the elapsed time on the spinner; Ctrl-C aborts it. It holds a task slot and goes
 * through the gate like a submit, so cool-downs and quotas apply to it too.
 */
async function runSyncCall(request: PlannedRequest, doing: string, ctx: ProviderContext) {
  const { http, limits, gate } = ctx;
  const call = async () => {
    const started = ctx.now();
    const spinner = ctx.ui.spinner(doing);
    const ticker = setInterval(() => spinner.update(`${doing}, ${Math.round((ctx.now() - started) / 1000)} s`), 1000);
    ticker.unref();
    const label = doing.slice(0, doing.lastIndexOf(':'));
    try {
      const res = await http.request({ ...request, timeoutMs: limits.polling.timeoutMs, signal: ctx.signal });
      if (res.status !== 200) throw errorFrom(ctx, res);
      const body = parseJson(res.body);
      const requestId = asText(body?.request_id);
      const url = syncResultUrl(body);
      if (!url) {
        const output = asObject(body?.output);
        throw providerError({
          provider: ctx.provider,
          status: res.status,
          code: asCode(output?.code) ?? 'NoResult',
          message: asText(output?.message) ?? 'the answer has no image URL',
          requestId,
          taskFailed: true,
        });
      }
      spinner.succeed(`${label}: done`);
      return { url, requestId };
    } catch (err) {
      spinner.fail(
        `${label}: ${err instanceof ImagegenError && err.kind === 'interrupted' ? 'interrupted' : 'failed'}`,
      );
      throw err;
    } finally {
      clearInterval(ticker);
    }
  };
  // The call is the paid work itself: the journal is told of it as of a submit, and one that got no answer
  // is never sent again.
  const watched = journaledAttempt(ctx, call);
  const attempt = gate ? () => gate.submit(watched, ctx.signal) : watched;
  const run = () =>
    withRetry(attempt, {
      retries: limits.retry.retries,
      minTimeoutMs: limits.retry.minTimeoutMs,
      sleep: ctx.sleep,
      signal: ctx.signal,
      onRetry: (message) => ctx.ui.warn(`DashScope: ${message}`),
      retryRateLimit: !gate,
    }).catch((err: unknown) => {
      throw maybeSubmitted(err, ctx);
    });
  return gate ? gate.task(run, ctx.signal) : run();
}

/** Best-effort cancel of a queued task; DashScope cancels only PENDING tasks. */
async function cancelTask(ctx: ProviderContext, taskId: string): Promise<boolean> {
  try {
    const res = await ctx.http.request({
      method: 'POST',
      url: `${ctx.settings.baseUrl}/api/v1/tasks/${taskIdPath(ctx.provider, taskId)}/cancel`,
      headers: { Authorization: `Bearer ${ctx.settings.apiKey}` },
      timeoutMs: 5000,
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Tasks asked for a page; the service's largest page is not documented. */
const LIST_PAGE_SIZE = 100;
/** Pages read at most: the account's tasks of a day, far more than a run makes. */
const LIST_MAX_PAGES = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYYMMDDhhmmss` of an instant, in UTC. */
function listTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/\D/g, '');
}

/** `YYYY-MM-DD hh:mm:ss[.SSS]` read as if it were UTC; undefined for any other form. */
function wallClock(text: string | undefined): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text ?? '');
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const value = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The account's tasks between two instants, page by page. The time zone of the window is not documented, so
 * it is widened by a day on each side; the caller matches on the times the answer gives.
 */
async function listTasks(query: TaskListQuery, ctx: ProviderContext): Promise<ListedTask[]> {
  const { settings, http, limits } = ctx;
  const tasks: ListedTask[] = [];
  const seen = new Set<string>();
  for (let page = 1; page <= LIST_MAX_PAGES; page++) {
    const params = new URLSearchParams({
      start_time: listTime(query.from - DAY_MS),
      end_time: listTime(query.to + DAY_MS),
      ...(query.model ? { model_name: query.model } : {}),
      page_no: String(page),
      page_size: String(LIST_PAGE_SIZE),
    });
    const res = await http.request({
      method: 'GET',
      url: `${settings.baseUrl}/api/v1/tasks?${params.toString()}`,
      headers: { Authorization: `Bearer ${settings.apiKey}` },
      timeoutMs: limits.requestTimeoutMs,
      signal: ctx.signal,
    });
    if (res.status !== 200) throw errorFrom(ctx, res);
    const body = parseJson(res.body) ?? {};
    // Where the list sits is not documented: at the top, or in `output` as other answers have it.
    const items = asObjects(body.data ?? asObject(body.output)?.data);
    for (const item of items) {
      const taskId = asText(item.task_id, Infinity);
      if (!taskId || !isTaskId(taskId) || seen.has(taskId)) continue;
      seen.add(taskId);
      const submitTime = asText(item.submit_time, 64) ?? asText(item.gmt_create, 64) ?? asText(item.create_time, 64);
      tasks.push({
        taskId,
        status: asText(item.task_status, 64) ?? asText(item.status, 64) ?? 'UNKNOWN',
        model: asText(item.model_name, 200) ?? asText(item.model, 200),
        submitTime,
        submitWall: wallClock(submitTime),
      });
    }
    const total = typeof body.total === 'number' ? body.total : undefined;
    if (items.length < LIST_PAGE_SIZE || (total !== undefined && page * LIST_PAGE_SIZE >= total)) break;
  }
  return tasks;
}

/** Waits for a task submitted earlier and downloads its first result. */
async function waitForTask(taskId: string, ctx: ProviderContext) {
  const task = await runAsyncTask(
    {
      submit: () => Promise.reject(new Error('a task being waited for is never submitted')),
      check: (id, timeLeftMs) => checkTask(id, ctx, timeLeftMs),
      ...waitingFrame(ctx),
    },
    { ...ctx, attachTo: { taskId } },
  );
  const bytes = await fetchDashscopeResult(task.url, task.taskId, ctx);
  return { bytes, taskId: task.taskId, requestId: task.requestId };
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
  const status = asText(asObject(parseJson(res.body)?.output)?.task_status, 64) ?? 'no status';
  const { key, account } = readKeyAnswer(error, {
    status: 'ok',
    certainty: 'certain',
    message: `accepted: a query of a task id that does not exist answered ${status}`,
  });
  if (key.status !== 'ok' || account) return { latencyMs, key, account };
  const editModel = dashscopeModel(ctx.settings.model);
  const editPath =
    editModel?.family === 'qwen-image-edit'
      ? SYNC_EDIT_PATH
      : editModel?.family === 'wan-image'
        ? IMAGE_GENERATION_PATH
        : ASYNC_SUBMIT_PATH;
  const report: ProbeReport = { latencyMs, key, account: await probeAccount(ctx, ctx.settings.model, editPath) };
  // The text-to-image model is asked the same way, on its own endpoint.
  const generateId = ctx.settings.generateModel;
  const generateModel = generateId === undefined ? undefined : dashscopeGenerateModel(generateId);
  if (generateId !== undefined && generateModel)
    report.generate = await probeAccount(ctx, generateId, GENERATE_PROBE_PATHS[generateModel.family]);
  return report;
}

const GENERATE_PROBE_PATHS = {
  multimodal: SYNC_EDIT_PATH,
  'image-generation': IMAGE_GENERATION_PATH,
  text2image: TEXT2IMAGE_PATH,
} as const;

/** An empty submit of `model` to `path`: the synchronous endpoint without the async header, the others with it. */
async function probeAccount(ctx: ProviderContext, model: string, path: string): Promise<ProbeFinding> {
  const { settings } = ctx;
  let res: HttpResponse;
  try {
    // The synchronous endpoint refuses the async header (403), the async ones its absence.
    const sync = path === SYNC_EDIT_PATH;
    ({ res } = await timedRequest(ctx, {
      method: 'POST',
      url: settings.baseUrl + path,
      headers: {
        Authorization: `Bearer ${settings.apiKey}`,
        'Content-Type': 'application/json',
        ...(sync ? {} : { 'X-DashScope-Async': 'enable' }),
      },
      // No function, prompt, message or picture: nothing a task or an image could be made of.
      json: { model, input: {} },
    }));
  } catch (err) {
    if (err instanceof NetworkError) return failed(err);
    throw err;
  }
  const body = parseJson(res.body);
  if (res.status === 200) {
    const taskId = asObject(body?.output)?.task_id;
    if (typeof taskId !== 'string' || !isTaskId(taskId))
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
    const message = asText(body?.message);
    const said = message ? ` ("${message}")` : '';
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
    list: listTasks,
  },
  edit: {
    async plan(image, instruction, ctx) {
      const model = modelOf(ctx);
      warnOfRegion(model, ctx);
      const request = buildEditRequest(model, ctx.settings, instruction, await prepare(image, instruction, model, ctx));
      return model.family === 'qwen-image-edit' ? [request] : [request, pollRequest(ctx.settings, '{task_id}')];
    },
    run: runEdit,
  },
  generate: {
    plan(params, ctx) {
      const model = generateModelOf(params);
      warnOfRegion(model, ctx);
      const request = buildGenerateRequest(model, ctx.settings, params);
      return isSyncFamily(model.family) ? [request] : [request, pollRequest(ctx.settings, '{task_id}')];
    },
    run: runGenerate,
  },
};
