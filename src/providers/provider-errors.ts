/**
 * Turns provider answers into typed errors with a hint for each known code. Kinds decide exit codes
 * (src/cli/exit-codes.ts) and whether `edit` may fall back to the local pipeline.
 */
import { ImagegenError, type ErrorKind } from '../core/errors.js';

export type ProviderName = 'dashscope' | 'modelscope';

const LABEL: Record<ProviderName, string> = { dashscope: 'DashScope', modelscope: 'ModelScope' };
const KEY_ENV: Record<ProviderName, string> = { dashscope: 'DASHSCOPE_API_KEY', modelscope: 'MODELSCOPE_API_KEY' };

export class ProviderError extends ImagegenError {
  /** Milliseconds the provider asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs?: number;
  constructor(kind: ErrorKind, message: string, details: ConstructorParameters<typeof ImagegenError>[2] & { retryAfterMs?: number } = {}) {
    super(kind, message, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

export interface ErrorContext {
  provider: ProviderName;
  status?: number;
  code?: string;
  message?: string;
  requestId?: string;
  taskId?: string;
  retryAfterMs?: number;
  /** Extra words for the hint, such as remaining quota from headers. */
  note?: string;
  /** The error is a task's FAILED status, not an HTTP answer. */
  taskFailed?: boolean;
}

/** Kind and hint for a provider answer, from the HTTP status and the provider's code. */
export function classify(ctx: ErrorContext): { kind: ErrorKind; hint: string } {
  const { provider, status, code = '' } = ctx;
  const name = LABEL[provider];
  if (status === 401 || code === 'InvalidApiKey') {
    return {
      kind: 'auth',
      hint:
        provider === 'dashscope'
          ? `check ${KEY_ENV[provider]}: wanx2.1-imageedit needs a key of the China (Beijing) region`
          : `check ${KEY_ENV[provider]} (an access token from modelscope.cn/my/myaccesstoken, no spaces)`,
    };
  }
  if (code === 'Arrearage') return { kind: 'quota', hint: `the ${name} account is overdue or has no balance; top it up in the console` };
  if (code === 'AccessDenied.Unpurchased') return { kind: 'quota', hint: `the model is not activated for this ${name} account; activate it in the console` };
  if (status === 403 || code.startsWith('AccessDenied')) {
    return {
      kind: 'quota',
      hint:
        provider === 'modelscope'
          ? 'the ModelScope account must be bound to a real-name-verified Alibaba Cloud account, and the model open to it'
          : 'this DashScope account may not use this model (or the call mode); check the console',
    };
  }
  if (code === 'Throttling.AllocationQuota') return { kind: 'quota', hint: `the allocated ${name} quota is used up; raise it or wait` };
  if (status === 429 || code.startsWith('Throttling')) {
    return {
      kind: 'rate-limit',
      hint: provider === 'modelscope' ? 'ModelScope allows about 2000 calls a day per user and fewer per model; try later' : 'DashScope allows 2 submissions a second and 2 tasks at once; try later',
    };
  }
  if (code === 'DataInspectionFailed' || code === 'IPInfringementSuspect' || code === 'InvalidParameter.DataInspection' || code === '422') {
    return { kind: 'moderation', hint: `${name}'s content check refused the prompt or the image; change them` };
  }
  if (status === 404) {
    return { kind: 'usage', hint: `${name} does not know this model or path: check the model id and the base URL` };
  }
  if (code === 'InvalidParameter' || code.startsWith('BadRequest') || code === 'InvalidURL' || code === 'UnsupportedOperation' || status === 400 || status === 413) {
    return { kind: 'usage', hint: `${name} rejected a parameter: check --function, --strength, --prompt, --size and the model id` };
  }
  if (code.startsWith('InternalError') || (status !== undefined && status >= 500) || status === 408 || code === 'RequestTimeOut') {
    return { kind: 'network', hint: `a server-side failure at ${name}; try again later` };
  }
  return { kind: 'failure', hint: `${name} could not complete the task` };
}

export function providerError(ctx: ErrorContext): ProviderError {
  const classified = classify(ctx);
  // A task that ran and FAILED with a parameter-type code failed at the provider (exit 1, fallback allowed):
  // what we sent was accepted at submit.
  const { kind, hint } = ctx.taskFailed && classified.kind === 'usage' ? { kind: 'failure' as const, hint: `the ${LABEL[ctx.provider]} task failed` } : classified;
  const parts = [
    LABEL[ctx.provider],
    ctx.status === undefined ? undefined : `HTTP ${ctx.status}`,
    ctx.code || undefined,
  ].filter(Boolean);
  const message = `${parts.join(' ')}: ${ctx.message || 'no message'}`;
  return new ProviderError(kind, message, {
    provider: ctx.provider,
    status: ctx.status,
    code: ctx.code || undefined,
    requestId: ctx.requestId,
    taskId: ctx.taskId,
    hint: ctx.note ? `${hint} (${ctx.note})` : hint,
    retryAfterMs: ctx.retryAfterMs,
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
