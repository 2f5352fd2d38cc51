/**
 * Retries a submit with p-retry: only after 429, a 5xx other than a gateway timeout, and connection failures
 * before the request was sent (never 400/401/403, which are deterministic, nor a submit that may have made a
 * task), with exponential pauses, and at least as long as the provider's Retry-After.
 */
import pRetry, { AbortError } from 'p-retry';
import { isImagegenError, NetworkError, ProviderError } from '../../kernel/errors.js';
import type { Sleep } from '../../kernel/ports.js';

export interface RetryOptions {
  retries: number;
  minTimeoutMs: number;
  sleep: Sleep;
  signal?: AbortSignal;
  /** A notice for each retry: "retrying in 2 s (HTTP 429)". */
  onRetry?: (message: string) => void;
  /** false when a provider gate retries 429s itself, with its shared cool-down. */
  retryRateLimit?: boolean;
}

/** Longest Retry-After we wait for; beyond it the request fails at once. */
const MAX_RETRY_AFTER_MS = 120_000;

/**
 * A 429 whose Retry-After is longer than we wait: the error to report instead of sleeping (a day's wait, or
 * one too long for a timer, is no pause for a run to sit in). Undefined when the wait is acceptable.
 */
export function retryAfterTooLong(err: unknown): ProviderError | undefined {
  if (!(err instanceof ProviderError) || (err.retryAfterMs ?? 0) <= MAX_RETRY_AFTER_MS) return undefined;
  const ms = err.retryAfterMs ?? 0;
  const wait = ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 60_000)} min`;
  return new ProviderError(
    err.kind,
    `${err.message} (the service asks to wait ${wait}, longer than the ${MAX_RETRY_AFTER_MS / 1000} s imagegen waits)`,
    { ...err, hint: 'run again later; a --journal run resumes with --resume', cause: err },
  );
}

/** Connection failures that happen before a request is sent: retrying cannot create a second task. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** HTTP answers that say a gateway stopped waiting for the service, which may still be making the task. */
const GATEWAY_TIMEOUTS = new Set([408, 504]);

/**
 * A submit that failed after it may have reached the service: no answer (a timeout, a reset) or a gateway's
 * timeout. A task may exist; sending it again could make (and bill) a second one.
 */
export function mayHaveArrived(err: unknown): boolean {
  if (err instanceof NetworkError) return !NEVER_SENT.has(err.code ?? '');
  return err instanceof ProviderError && err.status !== undefined && GATEWAY_TIMEOUTS.has(err.status);
}

/**
 * A submit whose failure shows that no task was made: an answer from the service (not a gateway's timeout),
 * or a connection that failed before anything was sent.
 */
export function madeNoTask(err: unknown): boolean {
  if (err instanceof NetworkError) return NEVER_SENT.has(err.code ?? '');
  return err instanceof ProviderError && err.status !== undefined && !GATEWAY_TIMEOUTS.has(err.status);
}

export function isRetryable(err: unknown, retryRateLimit = true): boolean {
  if (!isImagegenError(err) || mayHaveArrived(err)) return false;
  if (err.kind === 'rate-limit') return retryRateLimit && !(err instanceof ProviderError && err.exhausted);
  if (err instanceof NetworkError) return NEVER_SENT.has(err.code ?? '');
  return err.kind === 'network' && err.status !== undefined && err.status >= 500;
}

export async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await attempt();
      } catch (err) {
        const tooLong = retryAfterTooLong(err);
        if (tooLong) throw new AbortError(tooLong);
        if (!isRetryable(err, options.retryRateLimit)) throw new AbortError(err as Error);
        throw err;
      }
    },
    {
      retries: options.retries,
      minTimeout: options.minTimeoutMs,
      factor: 2,
      signal: options.signal,
      async onFailedAttempt({ error, retriesLeft, retriesConsumed }) {
        if (retriesLeft <= 0 || !isRetryable(error, options.retryRateLimit)) return;
        const backoff = options.minTimeoutMs * 2 ** retriesConsumed;
        const asked = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
        const wait = Math.max(backoff, asked);
        const why =
          error instanceof ProviderError && error.status
            ? `HTTP ${error.status}${error.code ? ' ' + error.code : ''}`
            : error.message;
        options.onRetry?.(
          `retrying in ${Math.round(wait / 100) / 10} s (${why}); ${retriesLeft} ${retriesLeft === 1 ? 'retry' : 'retries'} left`,
        );
        // p-retry then waits `backoff` itself; make up the rest of what the provider asked for.
        if (asked > backoff) await options.sleep(asked - backoff, options.signal);
      },
    },
  );
}
