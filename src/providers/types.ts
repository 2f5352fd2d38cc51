/**
 * One Provider interface. A provider is a folder (src/providers/<id>/) whose index.ts exports a descriptor
 * (plain data and cheap checks, safe to load on every run) and whose client is loaded only when a request
 * is to be made; plus one line in src/providers/registry.ts.
 */
import type { ImagegenError } from '../kernel/errors.js';
import type { HttpClient, Sleep, Ui } from '../kernel/ports.js';
import type { PlannedRequest, Redactor } from '../kernel/redact.js';
import type { LeafSpec } from '../kernel/values.js';
import type { RgbaImage } from '../loom/types.js';
import type { GateLimits, ProviderGate } from './shared/gate.js';
import type { PollOutcome } from './shared/poll.js';

export type Capability = 'edit' | 'generate';

/** What the config holds for each provider (providers.<id>.*). */
export interface ProviderSettings {
  apiKey?: string;
  baseUrl: string;
  model: string;
  /** The provider's region (providers.<id>.region), where it has several; the base URL follows it. */
  region?: string;
  /** The model `edit` uses, where the provider's `model` is for `generate` (providers.<id>.editModel). */
  editModel?: string;
  /** The model `generate` uses, where the provider's `model` is for `edit` (providers.<id>.generateModel). */
  generateModel?: string;
  /** How much the account may do at once: shared by every item of a batch. */
  limits: GateLimits;
}

export interface TaskLimits {
  polling: { intervalMs: number; maxIntervalMs: number; timeoutMs: number };
  retry: { retries: number; minTimeoutMs: number };
  /** Per-request timeout for API calls. */
  requestTimeoutMs: number;
  /** Largest result download. */
  maxDownloadBytes: number;
  downloadTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1000 * 1000;

/** Texts a provider gives for the error classes whose advice depends on the service. */
interface ProviderHints {
  /** A rejected or missing key. */
  auth: string;
  /** HTTP 403 without a more specific code. */
  forbidden: string;
  /** Still rate limited after retries. */
  rateLimit: string;
  /** A 429 that says the day's allowance is used up. */
  dailyQuota?: string;
}

/** The parts of a descriptor that errors and task frames need. */
export interface ProviderInfo {
  id: string;
  label: string;
  hints: ProviderHints;
}

/** Everything a provider call needs: its settings, limits, and the services it may use. */
export interface ProviderContext {
  provider: ProviderInfo;
  settings: ProviderSettings & { apiKey: string };
  limits: TaskLimits;
  http: HttpClient;
  sleep: Sleep;
  now: () => number;
  ui: Ui;
  redactor: Redactor;
  signal?: AbortSignal;
  /** The provider's gate for this run: task slots, submit rate, shared cool-down. */
  gate?: ProviderGate;
  /** A task submitted earlier (a resumed batch, `task wait`): poll it instead of submitting a new one. */
  attachTo?: SubmittedTask;
  /**
   * Told just before each submit is sent, and awaited (the journal writes it down: a run that ends before the
   * answer leaves it there, so that a resumed run knows a task may exist).
   */
  onSubmitting?: () => Promise<void>;
  /** Told when a submit's failure shows that no task was made (an answer, or nothing sent), and awaited. */
  onSubmitRefused?: () => Promise<void>;
  /** Told of each task as soon as it is submitted, before any poll (the journal writes it down). */
  onSubmitted?: (task: SubmittedTask) => Promise<void>;
}

export interface SubmittedTask {
  taskId: string;
  requestId?: string;
}

/** What an edit asks the remote model to do. */
export interface EditInstruction {
  prompt: string;
  /** The provider's edit function, where it has several (DashScope wanx2.1-imageedit). */
  function?: string;
  strength?: number;
  seed?: number;
  /** `expand`: how far each side grows, 1-2 (DashScope wanx2.1-imageedit). */
  expand?: number;
  /** `super_resolution`: the enlargement factor, 1-4 (1 sharpens only). */
  upscale?: number;
  /** `doodle`: the picture already is a line drawing (otherwise lines are drawn from it first). */
  sketch?: boolean;
  /** --prompt-extend: let the service rewrite the instruction (models that take `prompt_extend`). */
  promptExtend?: boolean;
  /** --ref: more pictures sent after the edited one, in order, to models that take several. */
  references?: readonly RgbaImage[];
}

/** Generate options as given on the command line; the provider validates them. */
export interface GenerateOptions {
  size?: string;
  seed?: string;
  steps?: string;
  guidance?: string;
  negative?: string;
  lora?: string[];
  /** --prompt-extend (DashScope): let the service rewrite the prompt. */
  promptExtend?: boolean;
}

/** A validated generate request: the prompt and model, plus provider-specific fields. */
export interface GenerateParams {
  prompt: string;
  model: string;
  seed?: number;
  [field: string]: unknown;
}

/** A finished remote task: the picture's bytes and the ids that name it. */
interface RemoteResult {
  bytes: Buffer;
  taskId: string;
  requestId?: string;
  model: string;
}

interface EditClient {
  /** The requests a run would send, for --dry-run. */
  plan(image: RgbaImage, instruction: EditInstruction, ctx: ProviderContext): Promise<PlannedRequest[]>;
  /** The task id is absent where the service answered the call itself, without a task. */
  run(
    image: RgbaImage,
    instruction: EditInstruction,
    ctx: ProviderContext,
  ): Promise<Omit<RemoteResult, 'taskId'> & { taskId?: string }>;
}

interface GenerateClient {
  plan(params: GenerateParams, ctx: ProviderContext): PlannedRequest[];
  /** The task id is absent where the service answered the call itself, without a task. */
  run(params: GenerateParams, ctx: ProviderContext): Promise<Omit<RemoteResult, 'taskId'> & { taskId?: string }>;
}

/** A task already submitted, named by its id (`imagegen task`, a resumed batch). */
interface TaskClient {
  /** One poll: the status, or the result's URL when done; a failed task throws. */
  check(taskId: string, ctx: ProviderContext): Promise<PollOutcome<string>>;
  /** Polls until the task ends and downloads its result. */
  /** The task's result; which model made it is not known from its id (the result names none). */
  wait(taskId: string, ctx: ProviderContext): Promise<Omit<RemoteResult, 'model'>>;
  /** Cancels a task still queued; false when the provider refused. Absent where tasks cannot be canceled. */
  cancel?(taskId: string, ctx: ProviderContext): Promise<boolean>;
  /**
   * The account's tasks made between `from` and `to` (every page), of `model` when given. Absent where the
   * provider has no task list.
   */
  list?(query: TaskListQuery, ctx: ProviderContext): Promise<ListedTask[]>;
}

/** Which of an account's tasks to list: made between two instants (ms since the epoch), of one model. */
export interface TaskListQuery {
  from: number;
  to: number;
  model?: string;
}

/** A task as the provider's task list gives it. */
export interface ListedTask {
  taskId: string;
  status: string;
  model?: string;
  /** When it was submitted, as the service wrote it (no time zone is given). */
  submitTime?: string;
  /** That time read as if it were UTC, in ms: the service's own clock, at an offset not documented. */
  submitWall?: number;
}

/** How sure a finding is: the service said so, or it follows from an answer that does not say it outright. */
export type Certainty = 'certain' | 'inferred';

/** One thing a no-cost probe learnt. */
export interface ProbeFinding {
  status: 'ok' | 'warning' | 'failure';
  certainty: Certainty;
  message: string;
  /** Why it is not ok: its kind decides the exit code, its hint says what to do. */
  error?: ImagegenError;
}

/** What `imagegen doctor` learns from a provider without creating a task or spending quota. */
export interface ProbeReport {
  /** Round trip of the key query, in milliseconds. */
  latencyMs: number;
  /** Whether the key is accepted. */
  key: ProbeFinding;
  /** Balance, quota and access to the model; absent when the key was not accepted. */
  account?: ProbeFinding;
  /** Access to the model `generate` uses, where it is not the one `account` looked at. */
  generate?: ProbeFinding;
}

interface DoctorClient {
  /**
   * Sends only requests that the service answers without creating a task: a query of a task id that cannot
   * exist, and where one is known, a submit that is refused before a task is made. Never retried. Throws a
   * NetworkError when the host does not answer at all.
   */
  probe(ctx: ProviderContext): Promise<ProbeReport>;
}

/** The part of a provider loaded only when it is used (HTTP, retries, encoders). */
export interface ProviderClient {
  edit?: EditClient;
  generate?: GenerateClient;
  task?: TaskClient;
  doctor?: DoctorClient;
}

/** A region of a provider's service: where it is documented to answer, and which models it offers there. */
export interface ProviderRegion {
  id: string;
  /** What providers.<id>.region calls it: 'singapore'. */
  name: string;
  label: string;
  /**
   * The documented shared base URLs of the region (scheme and host, no path); none where the region is
   * reached only through a workspace's own domain.
   */
  baseUrls: readonly string[];
  /** Other documented hosts of the region. */
  hostPattern?: RegExp;
  /** Model Studio workspace domains `<workspace>.<id>.maas.aliyuncs.com` are hosts of the region. */
  workspaceDomains?: boolean;
  /** Which of the provider's `models` the region offers. */
  models: readonly string[];
}

/** A provider's edit models, where its `model` setting is for `generate`, or the other way round. */
interface CapabilityModels {
  defaultModel: string;
  models: readonly string[];
  /** What providers.<id>.editModel (or generateModel) is, for `config`. */
  description: string;
  /** The documented model a configured id stands for (a dated snapshot: its model), or undefined when unknown. */
  modelOf?(model: string): string | undefined;
  /** What each model does and what it takes, for `imagegen styles`. */
  notes?: readonly { model: string; does: string; limits: string }[];
}

export interface ProviderDescriptor extends ProviderInfo {
  /** Env vars that hold the key, first found wins. */
  keyEnv: readonly string[];
  /** What a key looks like, for `config` and `init`: 'sk-…'. */
  keyShape: string;
  /** What every key starts with, for `doctor`: 'sk-'. */
  keyPrefix?: string;
  baseUrlEnv: string;
  defaultBaseUrl: string;
  defaultModel: string;
  /** What providers.<id>.model is, for `config` and `init`. */
  modelDescription: string;
  /** The models of `edit`, where they are not the ones of `model` (which are then `generate`'s). */
  editModels?: CapabilityModels;
  /** The models of `generate`, where they are not the ones of `model` (which are then `edit`'s). */
  generateModels?: CapabilityModels;
  /**
   * Where several providers with a key offer a capability, the one `generate` or `edit` takes by default is the
   * lowest rank (0 where absent), registry order breaking ties.
   */
  rank?: Partial<Record<Capability, number>>;
  /** How many pictures an edit with this model takes at once (the edited one and --ref); 1 where absent. */
  maxPictures?(model: string): number;
  /** The models imagegen knows how to call on this provider (the configured one may be another). */
  models?: readonly string[];
  /**
   * The documented model a configured id stands for (a dated snapshot stands for its model), or undefined
   * when imagegen cannot build a request for it. Where present, `edit` refuses any other model before sending.
   */
  modelOf?(model: string): string | undefined;
  /** What each model does and its input limits, for `imagegen styles`. */
  modelNotes?: readonly { model: string; does: string; limits: string }[];
  /** Where the service is documented to answer, and which models each region offers. */
  regions?: readonly ProviderRegion[];
  /** The path every request starts with (`/api/v1`); a base URL must not end with it, or it is doubled. */
  apiPath?: string;
  capabilities: readonly Capability[];
  /** The account's documented limits, the defaults of providers.<id>.limits. */
  limits: GateLimits;
  /** Fields this provider adds to styles (styles.<name>.<field>), as its instruction takes them. */
  styleKeys?: Record<string, LeafSpec>;
  /**
   * Checks an edit instruction for the model before anything is sent (usage errors). `typed`: only the options
   * typed on the command line, which are refused where the model would drop them (a style's are left out).
   */
  checkInstruction?(instruction: EditInstruction, model: string, typed?: boolean): void;
  /** Checks generate options before anything is sent and turns them into a request (an unknown model too). */
  validateGenerate?(prompt: string, options: GenerateOptions, model: string): Promise<GenerateParams>;
  /**
   * Whether a submit of this model makes a task that the provider's task list shows (an async task, not a
   * call answered at once), so that a submit left unanswered can be looked for there.
   */
  listsTasksOf?(model: string): boolean;
  /** Loads the client: HTTP, task frames, encoders. */
  load(): Promise<ProviderClient>;
}
