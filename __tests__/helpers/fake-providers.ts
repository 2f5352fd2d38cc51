/**
 * A local stand-in for ModelScope API-Inference and DashScope on 127.0.0.1:0, speaking their documented HTTP
 * contracts: auth and async headers are checked, bodies have the documented shapes, tasks move through
 * scripted statuses (or finish after a set time), and results are served from /results/. With `limits` on it
 * also refuses submits as the services do: DashScope allows 2 submits a second and 2 tasks in flight,
 * ModelScope 1 task in flight; `dailyQuotaExhausted` makes ModelScope refuse every submit for the day.
 * `dashscopeAccount` and `modelscopeAccount` stand for an account in arrears, without the model, or not
 * verified: DashScope refuses every submit before looking at its parameters (so an empty submit, which a
 * good account gets InvalidParameter for, gets the account's refusal), ModelScope every request.
 * DashScope's image2image endpoint checks each model's own body (wanx2.1-imageedit: function and its
 * parameters; wan2.5-i2i-preview: 1-3 `images` of 384-5000 px, `n` 1-4, default 4); the qwen-image-edit
 * family answers synchronously on the multimodal endpoint and refuses the async header there with 403.
 * Text to image: qwen-image(-plus/-max) and z-image-turbo answer synchronously on that endpoint too (one
 * text, a size from their list or pixel range); wan2.6-t2i and wan2.6-image are async tasks on the
 * image-generation endpoint (a message of one text and, for wan2.6-image, 1-4 pictures of 240-8000 px; `n`
 * 1-4, default 4) whose finished tasks answer in `choices` as the synchronous call does; the wan t2i models
 * are async tasks on text2image (`input.prompt`, `size` W*H within each model's range, `n` 1-4, default 4)
 * answering in `results[].url`. Every picture sent as a data URI must be at most 10 MB as a URI.
 * ModelScope edits arrive on the generation endpoint with the picture in `image_url` (a public URL or a
 * Base64 data URI, alone or in an array as the documented Base64 example sends it); editing models need it and
 * other models refuse it. Faults the services show now and then can be switched on: polls answered 429 or 500
 * (`pollFaults`), task ids given as numbers (`modelscopeNumericTaskIds`, as ModelScope sometimes does), and
 * requests that are never answered (`hang`): a hung submit has made its task first, as a slow real one may.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Pads the JSON body with spaces (still valid JSON) to this many bytes, streamed in chunks without a
   * Content-Length, for as long as the client keeps reading: an answer too large to hold.
   */
  padTo?: number;
}

/** A task status step: a status name, a failure, or a raw HTTP reply (e.g. a 503). */
export type Step = string | { status: 'FAILED'; code: string | number; message: string } | Reply;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

type Provider = 'dashscope' | 'modelscope';

/** Submit limits of one provider; an undefined field is not enforced. */
export interface ProviderLimits {
  /** Tasks in flight at once for the key (the fake knows one key per provider). */
  maxInFlight?: number;
  /** Accepted submits in any rolling 1000 ms. */
  submitsPerSecond?: number;
  /** When set, limit 429s carry `Retry-After` with this many seconds. */
  retryAfterSeconds?: number;
}

/** Why a submit was refused with 429. */
export type RefusalReason = 'rate' | 'inFlight' | 'dailyQuota';

export interface ProviderStats {
  /** The most tasks in flight at once. */
  peakInFlight: number;
  /** Date.now() of every submit past validation and scripted replies, accepted or refused. */
  submitTimes: number[];
  /** Limit 429s given, by reason. */
  refused: Record<RefusalReason, number>;
  /** Every accepted submit in order, with its request body. */
  accepted: { taskId: string; body: unknown; at: number }[];
}

export interface FakeOptions {
  dashscopeKey: string;
  modelscopeKey: string;
  /**
   * Enforce the submit limits. Default false: the provider suites share one fake across tests, and some end a
   * client's wait on a task that never finishes, which would hold ModelScope's single in-flight slot.
   */
  limits?: boolean;
  /** Overrides of the documented limits (DashScope 2 in flight, 2 a second; ModelScope 1 in flight). */
  dashscopeLimits?: ProviderLimits;
  modelscopeLimits?: ProviderLimits;
  /** ModelScope refuses every submit with a daily-quota 429, whether or not `limits` is on. */
  dailyQuotaExhausted?: boolean;
  /** When set, tasks finish this many ms after their submit instead of following the scripted steps. */
  taskDurationMs?: number;
}

/** The documented limits: wanx2.1-imageedit 2 RPS and 2 tasks in flight; ModelScope promises single concurrency. */
const DEFAULT_LIMITS: Readonly<Record<Provider, Readonly<ProviderLimits>>> = {
  dashscope: { maxInFlight: 2, submitsPerSecond: 2 },
  modelscope: { maxInFlight: 1 },
};

/** The message of ModelScope's daily-quota 429 (its real wording is not documented). */
export const MODELSCOPE_DAILY_QUOTA_MESSAGE =
  'You have exceeded your daily quota for API-Inference; the quota resets at 00:00 (UTC+8). Please try again tomorrow.';
/** The message of ModelScope's too-many-tasks 429 (its real wording is not documented). */
export const MODELSCOPE_CONCURRENCY_MESSAGE =
  'Too many concurrent requests: the number of running tasks exceeds your limit. Please try again later.';

/** ModelScope's editing models, which take (and need) `image_url`. */
const MODELSCOPE_EDIT_MODELS = [
  'Qwen/Qwen-Image-Edit',
  'Qwen/Qwen-Image-Edit-2509',
  'Qwen/Qwen-Image-Edit-2511',
  'black-forest-labs/FLUX.1-Kontext-dev',
  'DiffSynth-Studio/Qwen-Image-Edit-F2P',
];

/** The images an edit may carry at once (the multi-image Qwen editing models take up to three). */
const MAX_EDIT_IMAGES = 3;

/**
 * Why `image_url` is unusable, or undefined when it is fine: each entry a public http(s) URL or a
 * `data:image/…;base64,` URI whose data decodes to something.
 */
function imageUrlProblem(value: unknown): string | undefined {
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0 || entries.length > MAX_EDIT_IMAGES)
    return `image_url takes 1 to ${MAX_EDIT_IMAGES} images, got ${entries.length}`;
  for (const entry of entries) {
    if (typeof entry !== 'string') return 'image_url must be a URL or a list of URLs';
    if (/^https?:\/\/\S+$/.test(entry)) continue;
    const data = /^data:image\/(png|jpeg|jpg|webp|bmp);base64,([A-Za-z0-9+/]+={0,2})$/.exec(entry);
    if (!data || Buffer.from(data[2], 'base64').length === 0) return 'image_url is not a valid image URL or data URI';
  }
  return undefined;
}

/** Which requests get no answer at all: the next `submits` submits and `polls` polls, of either provider. */
export interface HangPlan {
  submits?: number;
  polls?: number;
}

/** Now and then a poll is answered with a fault instead of the task's status: every `every`-th, in turn. */
export interface PollFaults {
  every: number;
  replies: Reply[];
  /** Polls seen since these faults were set. */
  seen?: number;
}

const DASHSCOPE_TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN'];
const MODELSCOPE_TERMINAL = ['SUCCEED', 'FAILED'];

// Bound at load so jest fake timers cannot stop the clock the limits are counted on.
const realNow = Date.now.bind(Date);

interface Task {
  provider: Provider;
  /** Where a finished DashScope task puts its picture: `results[].url`, or `choices` (image-generation). */
  answer?: 'results' | 'choices';
  /** The model the submit named, and when the task was made (real ms): what the task list shows. */
  model?: string;
  createdAt: number;
  /** A task made outside the client under test lists with this status. */
  listedStatus?: string;
  /** This task's own status steps, when it was given some (`dashscopeTaskSteps`). */
  steps?: Step[];
  polls: number;
  canceled: boolean;
  /** Time mode: when the task finishes. */
  doneAt?: number;
  /** Scripted mode: a poll returned a terminal status (or releaseAll() let it go). */
  ended: boolean;
}

function emptyStats(): ProviderStats {
  return { peakInFlight: 0, submitTimes: [], refused: { rate: 0, inFlight: 0, dailyQuota: 0 }, accepted: [] };
}

const DASHSCOPE_FUNCTIONS = [
  'stylization_all',
  'stylization_local',
  'description_edit',
  'description_edit_with_mask',
  'remove_watermark',
  'expand',
  'super_resolution',
  'colorization',
  'doodle',
  'control_cartoon_feature',
];

/** DashScope's per-minute model quota 429, as its code table words it. */
export const DASHSCOPE_ALLOCATION_QUOTA: Reply = {
  status: 429,
  body: { code: 'Throttling.AllocationQuota', message: 'Allocated quota exceeded, please increase your quota limit.' },
};

const QWEN_EDIT_MODEL = /^qwen-image-edit(-plus|-max)?(-\d{4}-\d{2}-\d{2})?$/;
/** The qwen-image text-to-image family, dated snapshots too. */
const QWEN_IMAGE_MODEL = /^qwen-image(-plus|-max)?(-\d{4}-\d{2}-\d{2})?$/;
const QWEN_IMAGE_SIZES = ['1664*928', '1472*1104', '1328*1328', '1104*1472', '928*1664'];

/** The largest data URI a picture may be sent as (the larger reading of "10 MB"). */
const MAX_DATA_URI = 10 * 1024 * 1024;

/** Each text2image model's documented sizes: total pixels and aspect, or each side. */
const TEXT2IMAGE_MODELS: Record<string, { pixels?: [number, number]; sides?: [number, number]; prompt: number }> = {
  'wan2.5-t2i-preview': { pixels: [1280 * 1280, 1440 * 1440], prompt: 2000 },
  'wan2.2-t2i-plus': { sides: [512, 1440], prompt: 500 },
  'wan2.2-t2i-flash': { sides: [512, 1440], prompt: 500 },
  'wanx2.1-t2i-plus': { sides: [512, 1440], prompt: 500 },
  'wanx2.1-t2i-turbo': { sides: [512, 1440], prompt: 500 },
};

/** A `W*H` size within a total-pixel range and an aspect of at most 4:1, or with each side in range. */
function sizeOk(value: unknown, rule: { pixels?: [number, number]; sides?: [number, number] }): boolean {
  const m = typeof value === 'string' ? /^(\d+)\*(\d+)$/.exec(value) : null;
  if (!m) return false;
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (rule.sides) return Math.min(w, h) >= rule.sides[0] && Math.max(w, h) <= rule.sides[1];
  const [min, max] = rule.pixels!;
  return w * h >= min && w * h <= max && Math.max(w, h) <= 4 * Math.min(w, h);
}

/** A message's content as sent: its pictures and its texts. */
function messageContent(input: unknown): { images: unknown[]; texts: unknown[]; ok: boolean } {
  const messages = (input as { messages?: unknown } | undefined)?.messages;
  const list = Array.isArray(messages) ? (messages as Array<Record<string, unknown>>) : [];
  const content = Array.isArray(list[0]?.content) ? (list[0].content as Array<Record<string, unknown>>) : [];
  return {
    images: content.filter((c) => 'image' in c).map((c) => c.image),
    texts: content.filter((c) => 'text' in c).map((c) => c.text),
    ok: list.length === 1 && list[0].role === 'user',
  };
}

const optionalBoolean = (parameters: Record<string, unknown>, key: string) =>
  !(key in parameters) || typeof parameters[key] === 'boolean';

/** Width and height of a PNG or JPEG data URI (or a URL, taken as fitting), from its header only. */
function pictureSize(value: unknown): { width: number; height: number } | 'url' | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^https?:\/\//.test(value)) return 'url';
  // The services' 10 MB is on the data URI as sent, not on the file it encodes.
  if (value.length > MAX_DATA_URI) return undefined;
  const m = /^data:image\/[a-z]+;base64,(.+)$/.exec(value);
  if (!m) return undefined;
  const bytes = Buffer.from(m[1], 'base64');
  if (bytes.subarray(1, 4).toString('latin1') === 'PNG')
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  for (let i = 2; i + 9 < bytes.length;) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker >= 0xc0 && marker <= 0xc3)
      return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  return undefined;
}

function fits(value: unknown, min: number, max: number): boolean {
  const size = pictureSize(value);
  if (size === 'url') return true;
  return size !== undefined && Math.min(size.width, size.height) >= min && Math.max(size.width, size.height) <= max;
}

function inRange(value: unknown, min: number, max: number, integer = false): boolean {
  return typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
}

/** Whether a wanx2.1-imageedit body is as documented: the function, its parameters, the picture's sides. */
function wanxBodyOk(input: Record<string, unknown>, parameters: Record<string, unknown>): boolean {
  const optional = (key: string, check: (v: unknown) => boolean) => !(key in parameters) || check(parameters[key]);
  return (
    DASHSCOPE_FUNCTIONS.includes(String(input.function)) &&
    typeof input.prompt === 'string' &&
    fits(input.base_image_url, 512, 4096) &&
    optional('n', (v) => inRange(v, 1, 4, true)) &&
    optional('strength', (v) => inRange(v, 0, 1)) &&
    ['top_scale', 'bottom_scale', 'left_scale', 'right_scale'].every((k) => optional(k, (v) => inRange(v, 1, 2))) &&
    optional('upscale_factor', (v) => inRange(v, 1, 4, true)) &&
    optional('is_sketch', (v) => typeof v === 'boolean') &&
    optional('watermark', (v) => typeof v === 'boolean')
  );
}

/** Whether a wan2.5-i2i-preview body is as documented: 1-3 images of 384-5000 px, prompt under 2000, n 1-4. */
function wanI2iBodyOk(input: Record<string, unknown>, parameters: Record<string, unknown>): boolean {
  const images = input.images;
  return (
    typeof input.prompt === 'string' &&
    input.prompt.length <= 2000 &&
    Array.isArray(images) &&
    images.length >= 1 &&
    images.length <= 3 &&
    images.every((image) => fits(image, 384, 5000)) &&
    (!('n' in parameters) || inRange(parameters.n, 1, 4, true)) &&
    optionalBoolean(parameters, 'prompt_extend')
  );
}

/** A qwen-image-edit call: 1-3 pictures of 384-3072 px (plain qwen-image-edit: one) and one text. */
function qwenEditOk(
  model: string,
  oneMessage: boolean,
  images: unknown[],
  texts: unknown[],
  parameters: Record<string, unknown>,
): boolean {
  // qwen-image-edit makes one image from one picture; the -plus and -max series 1-6 from 1-3.
  const plain = /^qwen-image-edit(-\d{4}-\d{2}-\d{2})?$/.test(model);
  const maxN = plain ? 1 : 6;
  return (
    oneMessage &&
    images.length >= 1 &&
    images.length <= (plain ? 1 : 3) &&
    images.every((image) => fits(image, 384, 3072)) &&
    texts.length === 1 &&
    typeof texts[0] === 'string' &&
    (!('n' in parameters) || inRange(parameters.n, 1, maxN, true)) &&
    // Only the -plus and -max series take prompt_extend.
    (plain ? !('prompt_extend' in parameters) : optionalBoolean(parameters, 'prompt_extend'))
  );
}

/** qwen-image(-plus/-max) or z-image-turbo: one text of at most 800 characters, a size each takes. */
function textToImageOk(
  model: string,
  oneMessage: boolean,
  images: unknown[],
  texts: unknown[],
  parameters: Record<string, unknown>,
): boolean {
  const qwen = QWEN_IMAGE_MODEL.test(model);
  if (!qwen && model !== 'z-image-turbo') return false;
  const size = parameters.size;
  const sizeFits =
    size === undefined ||
    (qwen ? QWEN_IMAGE_SIZES.includes(String(size)) : sizeOk(size, { pixels: [512 * 512, 2048 * 2048] }));
  return (
    oneMessage &&
    images.length === 0 &&
    texts.length === 1 &&
    typeof texts[0] === 'string' &&
    texts[0].length <= 800 &&
    sizeFits &&
    (!('n' in parameters) || parameters.n === 1) &&
    optionalBoolean(parameters, 'prompt_extend') &&
    // z-image-turbo takes no negative prompt.
    (qwen || !('negative_prompt' in parameters))
  );
}

/** wan2.6-t2i (one text, 1280²-1440² pixels) or wan2.6-image (one text and 1-4 pictures) on image-generation. */
function imageGenerationBodyOk(model: string, input: unknown, parameters: Record<string, unknown>): boolean {
  const { images, texts, ok } = messageContent(input);
  const common =
    ok &&
    texts.length === 1 &&
    typeof texts[0] === 'string' &&
    (!('n' in parameters) || inRange(parameters.n, 1, 4, true)) &&
    optionalBoolean(parameters, 'prompt_extend') &&
    optionalBoolean(parameters, 'watermark');
  if (model === 'wan2.6-t2i')
    return (
      common &&
      images.length === 0 &&
      (texts[0] as string).length <= 2100 &&
      (!('size' in parameters) || sizeOk(parameters.size, { pixels: [1280 * 1280, 1440 * 1440] }))
    );
  if (model === 'wan2.6-image')
    return (
      common &&
      (texts[0] as string).length <= 2000 &&
      // An edit (enable_interleave false, the default) takes 1-4 pictures.
      parameters.enable_interleave !== true &&
      images.length >= 1 &&
      images.length <= 4 &&
      images.every((image) => fits(image, 240, 8000))
    );
  return false;
}

/** A text2image body: `input.prompt` within the model's length, `size` within its range, `n` 1-4. */
function text2imageBodyOk(model: string, input: unknown, parameters: Record<string, unknown>): boolean {
  const rule = TEXT2IMAGE_MODELS[model];
  const prompt = (input as { prompt?: unknown } | undefined)?.prompt;
  return (
    rule !== undefined &&
    typeof prompt === 'string' &&
    prompt.length <= rule.prompt &&
    (!('size' in parameters) || sizeOk(parameters.size, rule)) &&
    (!('n' in parameters) || inRange(parameters.n, 1, 4, true)) &&
    optionalBoolean(parameters, 'prompt_extend')
  );
}

export class FakeProviders {
  url = '';
  requests: RecordedRequest[] = [];
  /** Replies returned, in order, before the normal submit behaviour (async submits and synchronous edits). */
  dashscopeSubmitReplies: Reply[] = [];
  /** How long the synchronous edit endpoint takes to answer. */
  dashscopeSyncDelayMs = 0;
  /** Synchronous calls answered (edits and text to image), with their bodies. */
  dashscopeSyncEdits: unknown[] = [];
  /** Pictures the image-generation and text2image tasks were asked for (`n`, 4 where not sent). */
  imagesBilled = 0;
  modelscopeSubmitReplies: Reply[] = [];
  /** Status steps for every new task; the last step repeats. */
  dashscopeSteps: Step[] = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  /** Steps for the next DashScope tasks made, one list each, in order; the others follow `dashscopeSteps`. */
  dashscopeTaskSteps: Step[][] = [];
  modelscopeSteps: Step[] = ['PENDING', 'PROCESSING', 'SUCCEED'];
  /** What /results/<name> serves. */
  result: { status: number; body: Buffer; contentType?: string } = {
    status: 200,
    body: Buffer.alloc(0),
    contentType: 'image/png',
  };
  /** Result URL base; defaults to this server. */
  resultBase?: string;
  modelscopeHeaders: Record<string, string> = {
    'modelscope-ratelimit-requests-limit': '2000',
    'modelscope-ratelimit-requests-remaining': '1999',
    'modelscope-ratelimit-model-requests-limit': '200',
    'modelscope-ratelimit-model-requests-remaining': '199',
  };
  canceled: string[] = [];
  /** Bytes of padding written for `padTo` replies (the client may stop reading long before the end). */
  paddingSent = 0;
  /** Enforce dashscopeLimits and modelscopeLimits on submits. */
  limits: boolean;
  dashscopeLimits: ProviderLimits;
  modelscopeLimits: ProviderLimits;
  /** ModelScope answers every submit with a daily-quota 429 (independent of `limits`). */
  dailyQuotaExhausted: boolean;
  /** Tasks submitted while this is set finish that many ms after submit; undefined = scripted steps. */
  taskDurationMs?: number;
  /** The DashScope account: in good standing, in arrears (400 Arrearage), or without the model (403 Unpurchased). */
  dashscopeAccount: 'ok' | 'arrearage' | 'unpurchased' = 'ok';
  /** The ModelScope account: fine, or not bound to a verified Alibaba Cloud account (403 on every request). */
  modelscopeAccount: 'ok' | 'unverified' = 'ok';
  /**
   * ModelScope's answer to a query of an unknown task carries the rate-limit headers too (whether the real
   * service sends them there is not known).
   */
  modelscopeQuotaOnQuery = false;
  /** ModelScope gives task ids as JSON numbers (its answers have been seen with both). */
  modelscopeNumericTaskIds = false;
  /** Polls answered with a fault now and then; the task's own steps are not used up by them. */
  pollFaults?: PollFaults;
  /** Requests left unanswered (the connection stays open until the client gives up). */
  hang: HangPlan = {};
  /** Requests that got no answer so far. */
  hung = 0;
  /** What the limits saw, per provider; cleared by resetStats(). */
  stats: Record<Provider, ProviderStats> = { dashscope: emptyStats(), modelscope: emptyStats() };

  private server?: Server;
  private tasks = new Map<string, Task>();
  /** Accepted submit times inside the rolling window, per provider. */
  private recent: Record<Provider, number[]> = { dashscope: [], modelscope: [] };
  private counter = 0;

  constructor(private readonly options: FakeOptions) {
    this.limits = options.limits ?? false;
    this.dashscopeLimits = { ...DEFAULT_LIMITS.dashscope, ...options.dashscopeLimits };
    this.modelscopeLimits = { ...DEFAULT_LIMITS.modelscope, ...options.modelscopeLimits };
    this.dailyQuotaExhausted = options.dailyQuotaExhausted ?? false;
    this.taskDurationMs = options.taskDurationMs;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Every task ever created, by any provider (tests that must create none count them). */
  get tasksCreated(): number {
    return this.tasks.size;
  }

  count(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  /** Tasks of a provider now in flight: submitted, not cancelled, and not yet finished. */
  inFlight(provider: Provider): number {
    const now = realNow();
    let n = 0;
    for (const task of this.tasks.values()) if (task.provider === provider && this.isInFlight(task, now)) n++;
    return n;
  }

  /** Zeroes the counters in `stats`. */
  resetStats(): void {
    this.stats = { dashscope: emptyStats(), modelscope: emptyStats() };
  }

  /** Lets every task go and empties the rate windows, so the next submit meets no limit; tasks stay pollable. */
  releaseAll(): void {
    for (const task of this.tasks.values()) task.ended = true;
    this.recent = { dashscope: [], modelscope: [] };
  }

  /** Forgets every task, as a new account would have none: the task list is then empty. */
  clearTasks(): void {
    this.tasks.clear();
  }

  /**
   * A DashScope task of this account made elsewhere (another program, the console), at `createdAt` (real ms):
   * the task list shows it; it is not in flight.
   */
  addDashscopeTask(model: string, createdAt: number, status = 'SUCCEEDED'): string {
    const id = `ds-task-${++this.counter}-0123456789abcdef`;
    this.tasks.set(id, {
      provider: 'dashscope',
      model,
      createdAt,
      listedStatus: status,
      polls: 0,
      canceled: false,
      ended: true,
    });
    return id;
  }

  /** The service's clock for the task list's times: China time, UTC+8. */
  private static readonly SERVICE_OFFSET_MS = 8 * 60 * 60 * 1000;

  private isInFlight(task: Task, now: number): boolean {
    if (task.canceled || task.ended) return false;
    return task.doneAt === undefined || now < task.doneAt;
  }

  /** Checks a submit against the limits; undefined means it may go ahead. */
  private refusal(provider: Provider): RefusalReason | undefined {
    const now = realNow();
    this.stats[provider].submitTimes.push(now);
    if (provider === 'modelscope' && this.dailyQuotaExhausted) return this.refuse(provider, 'dailyQuota');
    if (!this.limits) return undefined;
    const limits = provider === 'dashscope' ? this.dashscopeLimits : this.modelscopeLimits;
    const recent = (this.recent[provider] = this.recent[provider].filter((t) => now - t < 1000));
    if (limits.submitsPerSecond !== undefined && recent.length >= limits.submitsPerSecond)
      return this.refuse(provider, 'rate');
    if (limits.maxInFlight !== undefined && this.inFlight(provider) >= limits.maxInFlight)
      return this.refuse(provider, 'inFlight');
    return undefined;
  }

  private refuse(provider: Provider, reason: RefusalReason): RefusalReason {
    this.stats[provider].refused[reason]++;
    return reason;
  }

  private retryAfter(provider: Provider): Record<string, string> {
    const seconds = (provider === 'dashscope' ? this.dashscopeLimits : this.modelscopeLimits).retryAfterSeconds;
    return seconds === undefined ? {} : { 'retry-after': String(seconds) };
  }

  /** The status a poll reports in time mode, or the next scripted step. */
  private nextStep(task: Task, steps: Step[], done: string): Step {
    if (task.doneAt !== undefined) return realNow() >= task.doneAt ? done : 'RUNNING';
    return steps[Math.min(task.polls++, steps.length - 1)];
  }

  /** Scripted mode: a terminal status or a failure ends the task's time in flight. */
  private noteStep(task: Task, step: Step, terminal: string[]): void {
    const status = typeof step === 'string' ? step : step.status;
    if (typeof status === 'string' && terminal.includes(status)) task.ended = true;
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers = { 'content-type': 'application/json', ...(reply.headers ?? {}) };
    res.writeHead(reply.status, headers);
    const text =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    if (reply.padTo === undefined) {
      res.end(text);
      return;
    }
    res.write(text);
    let left = reply.padTo - Buffer.byteLength(text);
    const spaces = Buffer.alloc(64 * 1024, ' ');
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= spaces.length ? spaces : spaces.subarray(0, left);
        left -= piece.length;
        this.paddingSent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  private requestId(): string {
    return `req-${++this.counter}`;
  }

  /** Takes one from the hang plan: true when this request is to get no answer. */
  private hangs(kind: keyof HangPlan): boolean {
    const left = this.hang[kind] ?? 0;
    if (left <= 0) return false;
    this.hang[kind] = left - 1;
    this.hung++;
    return true;
  }

  /** The fault a poll gets instead of its answer, if this one is due for one. */
  private pollFault(): Reply | undefined {
    const faults = this.pollFaults;
    if (!faults || faults.replies.length === 0) return undefined;
    const n = (faults.seen = (faults.seen ?? 0) + 1);
    if (n % faults.every !== 0) return undefined;
    return faults.replies[(n / faults.every - 1) % faults.replies.length];
  }

  private newTask(provider: Provider, body: unknown, answer?: Task['answer']): string {
    const id =
      provider === 'modelscope' && this.modelscopeNumericTaskIds
        ? String(7_000_000 + ++this.counter)
        : `${provider === 'dashscope' ? 'ds' : 'ms'}-task-${++this.counter}-0123456789abcdef`;
    const now = realNow();
    const doneAt = this.taskDurationMs === undefined ? undefined : now + this.taskDurationMs;
    const steps = provider === 'dashscope' ? this.dashscopeTaskSteps.shift() : undefined;
    const model =
      typeof (body as { model?: unknown })?.model === 'string' ? (body as { model: string }).model : undefined;
    this.tasks.set(id, {
      provider,
      answer,
      model,
      createdAt: now,
      steps,
      polls: 0,
      canceled: false,
      doneAt,
      ended: false,
    });
    this.recent[provider].push(now);
    const stats = this.stats[provider];
    stats.accepted.push({ taskId: id, body, at: now });
    stats.peakInFlight = Math.max(stats.peakInFlight, this.inFlight(provider));
    return id;
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // keep raw
    }
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    if (req.method === 'GET' && path.startsWith('/results/')) {
      const { status, body: bytes, contentType } = this.result;
      res.writeHead(status, {
        'content-type': contentType ?? 'application/octet-stream',
        'content-length': String(bytes.length),
      });
      res.end(bytes);
      return;
    }
    if (path.startsWith('/api/v1/')) return this.dashscope(req, res, path, body);
    if (path.startsWith('/v1/')) return this.modelscope(req, res, path, body);
    this.send(res, { status: 404, body: { message: 'not found' } });
  }

  private dashscope(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    const request_id = this.requestId();
    const auth = req.headers.authorization;
    if (!auth)
      return this.send(res, {
        status: 401,
        body: { code: 'InvalidApiKey', message: 'No API-key provided.', request_id },
      });
    if (auth !== `Bearer ${this.options.dashscopeKey}`)
      return this.send(res, {
        status: 401,
        body: { code: 'InvalidApiKey', message: 'Invalid API-key provided.', request_id },
      });

    if (req.method === 'POST' && path === '/api/v1/services/aigc/image2image/image-synthesis') {
      const refusal = this.accountRefusal(request_id);
      if (refusal) return this.send(res, refusal);
      if (req.headers['x-dashscope-async'] !== 'enable') {
        return this.send(res, {
          status: 403,
          body: { code: 'AccessDenied', message: 'current user api does not support synchronous calls', request_id },
        });
      }
      const b = body as
        { model?: unknown; input?: Record<string, unknown>; parameters?: Record<string, unknown> } | undefined;
      const input = b?.input;
      const parameters = b?.parameters ?? {};
      const model = b?.model;
      if (typeof model === 'string' && QWEN_EDIT_MODEL.test(model))
        return this.send(res, {
          status: 400,
          body: { code: 'InvalidParameter', message: 'url error, please check url!', request_id },
        });
      const ok =
        typeof model === 'string' &&
        input !== undefined &&
        typeof parameters === 'object' &&
        (model.startsWith('wan2.5-i2i') ? wanI2iBodyOk(input, parameters) : wanxBodyOk(input, parameters));
      if (!ok) {
        return this.send(res, {
          status: 400,
          body: {
            code: 'InvalidParameter',
            message: 'Required parameter(s) missing or invalid, please check the request parameters.',
            request_id,
          },
        });
      }
      const scripted = this.dashscopeSubmitReplies.shift();
      if (scripted) return this.send(res, { ...scripted, body: { request_id, ...(scripted.body as object) } });
      const refused = this.refusal('dashscope');
      if (refused) {
        // Per the documented code table: RateQuota is the per-second rate, plain Throttling the rest.
        const [code, message] =
          refused === 'rate'
            ? ['Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.']
            : ['Throttling', 'Requests throttling triggered.'];
        return this.send(res, {
          status: 429,
          headers: this.retryAfter('dashscope'),
          body: { request_id, code, message },
        });
      }
      const task_id = this.newTask('dashscope', body);
      if (this.hangs('submits')) return;
      return this.send(res, { status: 200, body: { output: { task_status: 'PENDING', task_id }, request_id } });
    }
    if (req.method === 'POST' && path === '/api/v1/services/aigc/multimodal-generation/generation')
      return this.dashscopeSync(req, res, body, request_id);
    if (req.method === 'POST' && path === '/api/v1/services/aigc/image-generation/generation')
      return this.dashscopeAsync(req, res, body, request_id, imageGenerationBodyOk, 'choices');
    if (req.method === 'POST' && path === '/api/v1/services/aigc/text2image/image-synthesis')
      return this.dashscopeAsync(req, res, body, request_id, text2imageBodyOk, 'results');
    if (req.method === 'GET' && path === '/api/v1/tasks') return this.dashscopeList(req, res, request_id);
    const cancel = /^\/api\/v1\/tasks\/([^/]+)\/cancel$/.exec(path);
    if (req.method === 'POST' && cancel) {
      const task = this.tasks.get(cancel[1]);
      if (!task)
        return this.send(res, { status: 404, body: { code: 'NotFound', message: 'task not found', request_id } });
      task.canceled = true;
      this.canceled.push(cancel[1]);
      return this.send(res, { status: 200, body: { request_id } });
    }
    const poll = /^\/api\/v1\/tasks\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && poll) {
      if (this.hangs('polls')) return;
      const fault = this.pollFault();
      if (fault) return this.send(res, { ...fault, body: { request_id, ...(fault.body as object) } });
      const task_id = poll[1];
      const task = this.tasks.get(task_id);
      if (!task)
        return this.send(res, { status: 200, body: { request_id, output: { task_id, task_status: 'UNKNOWN' } } });
      if (task.canceled)
        return this.send(res, { status: 200, body: { request_id, output: { task_id, task_status: 'CANCELED' } } });
      const step = this.nextStep(task, task.steps ?? this.dashscopeSteps, 'SUCCEEDED');
      this.noteStep(task, step, DASHSCOPE_TERMINAL);
      if (typeof step === 'object' && 'status' in step && typeof step.status === 'number')
        return this.send(res, step as Reply);
      if (typeof step === 'object') {
        const f = step as { code: string; message: string };
        return this.send(res, {
          status: 200,
          body: {
            request_id,
            output: {
              task_id,
              task_status: 'FAILED',
              code: f.code,
              message: f.message,
              task_metrics: { TOTAL: 1, SUCCEEDED: 0, FAILED: 1 },
            },
          },
        });
      }
      const output: Record<string, unknown> = { task_id, task_status: step, submit_time: '2026-11-21 10:00:00.000' };
      if (step === 'SUCCEEDED') {
        const url = `${this.resultBase ?? this.url}/results/${task_id}.png?Expires=1`;
        if (task.answer === 'choices') {
          output.finished = true;
          output.choices = [
            { finish_reason: 'stop', message: { role: 'assistant', content: [{ image: url, type: 'image' }] } },
          ];
        } else {
          output.results = [{ url }];
          output.task_metrics = { TOTAL: 1, SUCCEEDED: 1, FAILED: 0 };
        }
      }
      return this.send(res, {
        status: 200,
        body: { request_id, output, ...(step === 'SUCCEEDED' ? { usage: { image_count: 1 } } : {}) },
      });
    }
    this.send(res, { status: 404, body: { code: 'NotFound', message: 'no such path', request_id } });
  }

  /**
   * The account's tasks of the last 24 hours, newest first, filtered by `start_time`/`end_time`
   * (`YYYYMMDDhhmmss`), `model_name` and `status`, a page at a time (`page_no` from 1, `page_size` default 10).
   * Times, in the window and in the answer, are the service's clock: China time here (UTC+8), with no zone
   * written, as its task answers give them. The largest page is not documented; the fake takes up to 100.
   */
  private dashscopeList(req: IncomingMessage, res: ServerResponse, request_id: string): void {
    const q = new URL(req.url ?? '/', 'http://fake').searchParams;
    const offset = FakeProviders.SERVICE_OFFSET_MS;
    const bad = (message: string) =>
      this.send(res, { status: 400, body: { code: 'InvalidParameter', message, request_id } });
    const time = (name: string): number | undefined | null => {
      const raw = q.get(name);
      if (raw === null) return undefined;
      const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw);
      if (!m) return null;
      const [y, mo, d, h, mi, sec] = m.slice(1).map(Number);
      return Date.UTC(y, mo - 1, d, h, mi, sec) - offset;
    };
    const start = time('start_time');
    const end = time('end_time');
    if (start === null || end === null) return bad('start_time and end_time are YYYYMMDDhhmmss');
    const pageNo = Number(q.get('page_no') ?? '1');
    const pageSize = Math.min(100, Number(q.get('page_size') ?? '10'));
    if (!Number.isInteger(pageNo) || pageNo < 1 || !Number.isInteger(pageSize) || pageSize < 1)
      return bad('page_no and page_size are positive integers');
    const now = realNow();
    const listed = [...this.tasks.entries()]
      .filter(([, t]) => t.provider === 'dashscope' && now - t.createdAt <= 24 * 60 * 60 * 1000)
      .filter(([, t]) => (start === undefined || t.createdAt >= start) && (end === undefined || t.createdAt <= end))
      .filter(([, t]) => q.get('model_name') === null || t.model === q.get('model_name'))
      .map(([task_id, t]) => ({ task_id, t, status: this.listedStatus(t) }))
      .filter((x) => q.get('status') === null || x.status === q.get('status'))
      .sort((a, b) => b.t.createdAt - a.t.createdAt);
    const wall = (ms: number) => new Date(ms + offset).toISOString().replace('T', ' ').replace('Z', '');
    const data = listed.slice((pageNo - 1) * pageSize, pageNo * pageSize).map(({ task_id, t, status }) => ({
      task_id,
      status,
      model_name: t.model ?? '',
      submit_time: wall(t.createdAt),
      region: 'cn-beijing',
    }));
    this.send(res, {
      status: 200,
      body: { request_id, total: listed.length, page_no: pageNo, page_size: pageSize, data },
    });
  }

  /** What the task list says of a task: made elsewhere, canceled, or where its scripted steps have got to. */
  private listedStatus(task: Task): string {
    if (task.listedStatus) return task.listedStatus;
    if (task.canceled) return 'CANCELED';
    if (task.doneAt !== undefined) return realNow() >= task.doneAt ? 'SUCCEEDED' : 'RUNNING';
    if (task.polls === 0) return 'PENDING';
    const steps = task.steps ?? this.dashscopeSteps;
    const step = steps[Math.min(task.polls - 1, steps.length - 1)];
    const status = typeof step === 'string' ? step : step.status;
    return typeof status === 'string' ? status : 'RUNNING';
  }

  /** How DashScope refuses every paid call of an account in arrears or without the model bought. */
  private accountRefusal(request_id: string): Reply | undefined {
    if (this.dashscopeAccount === 'arrearage')
      return {
        status: 400,
        body: {
          code: 'Arrearage',
          message: 'Access denied, plesase make sure your account is in good standing.',
          request_id,
        },
      };
    if (this.dashscopeAccount === 'unpurchased')
      return {
        status: 403,
        body: {
          code: 'AccessDenied.Unpurchased',
          message: 'Access to model denied. Please make sure you are eligible for using the model.',
          request_id,
        },
      };
    return undefined;
  }

  /**
   * An async submit to the image-generation or text2image endpoint: the async header, the model's own body
   * (`bodyOk`), then a task whose result comes in `answer`'s shape; `n` defaults to 4, as documented.
   */
  private dashscopeAsync(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    request_id: string,
    bodyOk: (model: string, input: unknown, parameters: Record<string, unknown>) => boolean,
    answer: Task['answer'],
  ): void {
    const refusal = this.accountRefusal(request_id);
    if (refusal) return this.send(res, refusal);
    if (req.headers['x-dashscope-async'] !== 'enable') {
      return this.send(res, {
        status: 403,
        body: { code: 'AccessDenied', message: 'current user api does not support synchronous calls', request_id },
      });
    }
    const b = body as { model?: unknown; input?: unknown; parameters?: Record<string, unknown> } | undefined;
    const parameters = b?.parameters ?? {};
    if (typeof b?.model !== 'string' || !bodyOk(b.model, b.input, parameters)) {
      return this.send(res, {
        status: 400,
        body: {
          code: 'InvalidParameter',
          message: 'Required parameter(s) missing or invalid, please check the request parameters.',
          request_id,
        },
      });
    }
    const scripted = this.dashscopeSubmitReplies.shift();
    if (scripted) return this.send(res, { ...scripted, body: { request_id, ...(scripted.body as object) } });
    const refused = this.refusal('dashscope');
    if (refused)
      return this.send(res, {
        status: 429,
        headers: this.retryAfter('dashscope'),
        body: { request_id, code: 'Throttling', message: 'Requests throttling triggered.' },
      });
    // Each picture is billed: without `n` the service makes four.
    this.imagesBilled += typeof parameters.n === 'number' ? parameters.n : 4;
    const task_id = this.newTask('dashscope', body, answer);
    if (this.hangs('submits')) return;
    return this.send(res, { status: 200, body: { output: { task_status: 'PENDING', task_id }, request_id } });
  }

  /**
   * The synchronous multimodal call: the qwen-image-edit family's edit (one user message of pictures and one
   * text), or qwen-image / z-image-turbo text to image (one text).
   */
  private dashscopeSync(req: IncomingMessage, res: ServerResponse, body: unknown, request_id: string): void {
    const refusal = this.accountRefusal(request_id);
    if (refusal) return this.send(res, refusal);
    if (req.headers['x-dashscope-async'] !== undefined) {
      return this.send(res, {
        status: 403,
        body: { code: 'AccessDenied', message: 'current user api does not support asynchronous calls', request_id },
      });
    }
    const b = body as
      { model?: unknown; input?: { messages?: unknown }; parameters?: Record<string, unknown> } | undefined;
    const model = typeof b?.model === 'string' ? b.model : '';
    const { images, texts, ok: oneMessage } = messageContent(b?.input);
    const parameters = b?.parameters ?? {};
    const ok = QWEN_EDIT_MODEL.test(model)
      ? qwenEditOk(model, oneMessage, images, texts, parameters)
      : textToImageOk(model, oneMessage, images, texts, parameters);
    if (!ok)
      return this.send(res, {
        status: 400,
        body: {
          code: 'InvalidParameter',
          message: 'Required parameter(s) missing or invalid, please check the request parameters.',
          request_id,
        },
      });
    const answer = () => {
      const scripted = this.dashscopeSubmitReplies.shift();
      if (scripted) return this.send(res, { ...scripted, body: { request_id, ...(scripted.body as object) } });
      this.dashscopeSyncEdits.push(body);
      const n = typeof parameters.n === 'number' ? parameters.n : 1;
      const name = `sync-${++this.counter}`;
      this.send(res, {
        status: 200,
        body: {
          output: {
            choices: [
              {
                finish_reason: 'stop',
                message: {
                  role: 'assistant',
                  content: Array.from({ length: n }, (_, i) => ({
                    image: `${this.resultBase ?? this.url}/results/${name}-${i}.png?Expires=1`,
                  })),
                },
              },
            ],
          },
          usage: { width: 1024, height: 1024, image_count: n },
          request_id,
        },
      });
    };
    if (this.dashscopeSyncDelayMs > 0) {
      const timer = setTimeout(answer, this.dashscopeSyncDelayMs);
      res.on('close', () => clearTimeout(timer));
    } else answer();
  }

  private modelscope(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    const request_id = this.requestId();
    const auth = req.headers.authorization;
    // ModelScope's 401 body is not documented; the only observed error shape is {errors:{message}, request_id}.
    if (auth !== `Bearer ${this.options.modelscopeKey}`)
      return this.send(res, { status: 401, body: { errors: { message: 'Authentication failed' }, request_id } });
    if (this.modelscopeAccount === 'unverified')
      return this.send(res, {
        status: 403,
        body: {
          errors: { message: 'Please bind your Alibaba Cloud account and complete real-name verification' },
          request_id,
        },
      });

    if (req.method === 'POST' && path === '/v1/images/generations') {
      if (req.headers['x-modelscope-async-mode'] !== 'true') {
        return this.send(res, {
          status: 400,
          body: {
            errors: {
              message:
                'image-gen task currently does not support synchronous calls. Please refer to the documentation and set header X-ModelScope-Async-Mode=true to switch to asynchronous calling mode',
            },
            request_id,
          },
        });
      }
      const b = body as Record<string, unknown> | undefined;
      if (typeof b?.model !== 'string' || typeof b.prompt !== 'string' || b.prompt.length >= 2000) {
        return this.send(res, {
          status: 400,
          body: { errors: { message: 'submit image generation task error' }, request_id },
        });
      }
      const editing = MODELSCOPE_EDIT_MODELS.includes(b.model);
      const problem =
        b.image_url === undefined
          ? editing
            ? `${b.model} edits an image: image_url is required`
            : undefined
          : editing
            ? imageUrlProblem(b.image_url)
            : `${b.model} does not take image_url`;
      if (problem) return this.send(res, { status: 400, body: { errors: { message: problem }, request_id } });
      const scripted = this.modelscopeSubmitReplies.shift();
      if (scripted)
        return this.send(res, {
          ...scripted,
          headers: { ...this.modelscopeHeaders, ...(scripted.headers ?? {}) },
          body: { request_id, ...(scripted.body as object) },
        });
      const refused = this.refusal('modelscope');
      if (refused === 'dailyQuota') {
        // A used-up allowance does not clear in seconds, so no Retry-After; the quota headers say 0 left.
        return this.send(res, {
          status: 429,
          headers: {
            ...this.modelscopeHeaders,
            'modelscope-ratelimit-requests-remaining': '0',
            'modelscope-ratelimit-model-requests-remaining': '0',
          },
          body: { errors: { message: MODELSCOPE_DAILY_QUOTA_MESSAGE }, request_id },
        });
      }
      if (refused) {
        const message =
          refused === 'rate' ? 'Too many requests, please try again later.' : MODELSCOPE_CONCURRENCY_MESSAGE;
        return this.send(res, {
          status: 429,
          headers: { ...this.modelscopeHeaders, ...this.retryAfter('modelscope') },
          body: { errors: { message }, request_id },
        });
      }
      const task_id = this.newTask('modelscope', body);
      if (this.hangs('submits')) return;
      return this.send(res, {
        status: 200,
        headers: this.modelscopeHeaders,
        body: { task_id: this.modelscopeNumericTaskIds ? Number(task_id) : task_id, request_id },
      });
    }
    const poll = /^\/v1\/tasks\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && poll) {
      if (req.headers['x-modelscope-task-type'] !== 'image_generation') {
        return this.send(res, { status: 400, body: { errors: { message: 'task type header required' }, request_id } });
      }
      if (this.hangs('polls')) return;
      const fault = this.pollFault();
      if (fault) return this.send(res, { ...fault, body: { request_id, ...(fault.body as object) } });
      const raw = poll[1];
      const task = this.tasks.get(raw);
      const task_id = this.modelscopeNumericTaskIds && /^\d+$/.test(raw) ? Number(raw) : raw;
      const quota = this.modelscopeQuotaOnQuery ? this.modelscopeHeaders : {};
      if (!task)
        return this.send(res, {
          status: 404,
          headers: quota,
          body: { errors: { message: 'task not found' }, request_id },
        });
      const step = this.nextStep(task, this.modelscopeSteps, 'SUCCEED');
      this.noteStep(task, step, MODELSCOPE_TERMINAL);
      if (typeof step === 'object' && 'status' in step && typeof step.status === 'number')
        return this.send(res, step as Reply);
      if (typeof step === 'object') {
        const f = step as { code: number; message: string };
        return this.send(res, {
          status: 200,
          body: { task_status: 'FAILED', errors: { code: f.code, message: f.message }, request_id, task_id },
        });
      }
      if (step === 'SUCCEED') {
        return this.send(res, {
          status: 200,
          body: {
            task_status: 'SUCCEED',
            output_images: [`${this.resultBase ?? this.url}/results/${raw}.png`],
            request_id,
            task_id,
          },
        });
      }
      return this.send(res, { status: 200, body: { task_status: step, outputs: {}, request_id, task_id } });
    }
    this.send(res, { status: 404, body: { errors: { message: 'not found' }, request_id } });
  }
}
