/**
 * Turns provider answers into typed errors with a hint for each known code. Kinds decide exit codes
 * (src/cli/exit-codes.ts) and whether `edit` may fall back to the local pipeline; the advice that depends on
 * the service comes from the provider's own hints.
 */
import { ProviderError, type ErrorKind } from '../../kernel/errors.js';
import type { ProviderInfo } from '../types.js';

export interface ErrorContext {
  provider: ProviderInfo;
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

/**
 * A 429 that says the day's allowance is spent: waiting seconds will not help. It names the allowance (a quota,
 * ModelScope's magicubes, a daily limit) and says it is the day's or that it is used up. A quota merely
 * "exceeded" (DashScope's per-minute allocation) or a rate limit is not enough.
 */
const ALLOWANCE = /(quota|allowance|magicubes?|额度|次数|魔力)/i;
const DAILY = /(daily|per day|today|a day|tomorrow|每日|每天|当日|今日|明日|明天)/i;
const SPENT = /(used up|exhausted|run out|insufficient|用完|用尽|耗尽|不足)/i;

export function isDailyQuota(ctx: Pick<ErrorContext, 'status' | 'message'>): boolean {
  const message = ctx.message ?? '';
  if (ctx.status !== 429) return false;
  return (
    (ALLOWANCE.test(message) && (DAILY.test(message) || SPENT.test(message))) ||
    (/limit|限额/i.test(message) && DAILY.test(message))
  );
}

const MODERATION_CODES = new Set([
  'DataInspectionFailed',
  'IPInfringementSuspect',
  'InvalidParameter.DataInspection',
  '422',
]);

/** 429 codes that are billing states, not throttling: the account must be paid or the model bought first. */
const BILLING_HINTS: Record<string, (name: string) => string> = {
  CommodityNotPurchased: (name) =>
    `the model (or ${name} itself) is not purchased for this account: buy or activate it in the console`,
  PrepaidBillOverdue: (name) => `the ${name} account has an overdue prepaid bill: pay it in the console`,
  PostpaidBillOverdue: (name) => `the ${name} account has an overdue postpaid bill: pay it in the console`,
};

/** A model's free quota spent where the model cannot be paid for: "Free allocated quota exceeded." */
const FREE_QUOTA_SPENT =
  /\bfree\b.*\b(allocated\s+)?quota\b.*\b(exceeded|exhausted|used up)|免费额度.*(用完|耗尽|超出|不足)/i;

/** A 429 that says the account's balance is spent (ModelScope): money, not a rate. */
const BALANCE_SPENT = /insufficient\s+(account\s+)?balance|balance\s+(is\s+)?(insufficient|not enough)|余额不足/i;

/** A task that ran and failed because of what it was given (a picture it could not fetch or read). */
const INPUT_FAULT_CODES = new Set(['InternalError.Algo.InvalidParameter']);

export interface Classified {
  kind: ErrorKind;
  hint: string;
  /** Waiting will not help: the provider's items that have not started are skipped. */
  exhausted?: boolean;
  /** The item's own input was at fault: the other items of a batch go on. */
  inputFault?: boolean;
}

/** Kind and hint for a provider answer, from the HTTP status and the provider's code. */
export function classify(ctx: ErrorContext): Classified {
  const { provider, status } = ctx;
  // Answers are read through shared/answer.ts; a code that is still no string is none.
  const code = typeof ctx.code === 'string' ? ctx.code : '';
  const message = ctx.message ?? '';
  const name = provider.label;
  if (status === 401 || code === 'InvalidApiKey') return { kind: 'auth', hint: provider.hints.auth };
  if (code === 'Arrearage')
    return { kind: 'quota', hint: `the ${name} account is overdue or has no balance; top it up in the console` };
  if (Object.hasOwn(BILLING_HINTS, code)) return { kind: 'quota', hint: BILLING_HINTS[code](name), exhausted: true };
  if (code === 'AccessDenied.Unpurchased')
    return { kind: 'quota', hint: `the model is not activated for this ${name} account; activate it in the console` };
  if (code === 'AllocationQuota.FreeTierOnly')
    return {
      kind: 'quota',
      hint:
        `the free quota of this model is spent and the ${name} account may use only free quotas: ` +
        'turn off "use free tier only" in the console to pay for it, or use another model',
      exhausted: true,
    };
  if (status === 403 || code.startsWith('AccessDenied')) return { kind: 'quota', hint: provider.hints.forbidden };
  if (code === 'Throttling.AllocationQuota' && FREE_QUOTA_SPENT.test(message))
    return {
      kind: 'quota',
      hint: `the free quota of this model is spent and ${name} does not sell more of it: use another model`,
      exhausted: true,
    };
  // A model's quota a minute ("Allocated quota exceeded"): it comes back by itself, so it is waited out.
  if (code === 'Throttling.AllocationQuota')
    return {
      kind: 'rate-limit',
      hint: `the ${name} quota a minute for this model is used up; it recovers within a minute`,
    };
  if (status === 429 && BALANCE_SPENT.test(message))
    return {
      kind: 'quota',
      hint: `the ${name} account's balance is used up; top it up in the console`,
      exhausted: true,
    };
  if (status === 429 || code.startsWith('Throttling')) return { kind: 'rate-limit', hint: provider.hints.rateLimit };
  if (MODERATION_CODES.has(code))
    return { kind: 'moderation', hint: `${name}'s content check refused the prompt or the image; change them` };
  if (INPUT_FAULT_CODES.has(code))
    return {
      kind: 'usage',
      hint: `${name} could not use this item's input (a picture it could not download or read, or a bad parameter): check the picture and the prompt`,
      inputFault: true,
    };
  if (status === 404)
    return { kind: 'usage', hint: `${name} does not know this model or path: check the model id and the base URL` };
  if (
    code === 'InvalidParameter' ||
    code.startsWith('BadRequest') ||
    code === 'InvalidURL' ||
    code === 'UnsupportedOperation' ||
    status === 400 ||
    status === 413
  ) {
    return {
      kind: 'usage',
      hint: `${name} rejected a parameter: check --function, --strength, --prompt, --size and the model id`,
    };
  }
  if (
    code.startsWith('InternalError') ||
    (status !== undefined && status >= 500) ||
    status === 408 ||
    code === 'RequestTimeOut'
  ) {
    return { kind: 'network', hint: `a server-side failure at ${name}; try again later` };
  }
  return { kind: 'failure', hint: `${name} could not complete the task` };
}

export function providerError(ctx: ErrorContext): ProviderError {
  const classified = classify(ctx);
  const daily = !classified.exhausted && isDailyQuota(ctx);
  // A task that ran and FAILED with a parameter-type code failed at the provider (exit 1, fallback allowed):
  // what we sent was accepted at submit. One whose code says its input was at fault stays a usage error.
  const { kind, hint } =
    ctx.taskFailed && classified.kind === 'usage' && !classified.inputFault
      ? { kind: 'failure' as const, hint: `the ${ctx.provider.label} task failed` }
      : daily
        ? {
            kind: 'rate-limit' as const,
            hint:
              ctx.provider.hints.dailyQuota ??
              `the ${ctx.provider.label} allowance for today is used up; it comes back tomorrow`,
          }
        : classified;
  const parts = [
    ctx.provider.label,
    ctx.status === undefined ? undefined : `HTTP ${ctx.status}`,
    ctx.code || undefined,
  ].filter(Boolean);
  return new ProviderError(kind, `${parts.join(' ')}: ${ctx.message || 'no message'}`, {
    provider: ctx.provider.id,
    status: ctx.status,
    code: ctx.code || undefined,
    requestId: ctx.requestId,
    taskId: ctx.taskId,
    hint: ctx.note ? `${hint} (${ctx.note})` : hint,
    retryAfterMs: ctx.retryAfterMs,
    exhausted: daily || classified.exhausted === true,
    inputFault: classified.inputFault === true,
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
