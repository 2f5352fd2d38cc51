/**
 * One task poller for both providers. The first poll comes right after submit; the pauses then grow as the
 * DashScope SDK's do (1, 1, 2, 2, 2, 4, 4, 4 s, then the cap) but, unlike it, the wait ends at a deadline:
 * `timeoutMs` after the submit, and at nothing else. A poll that fails for a reason that passes (no answer, a
 * 429, a 5xx) is tried again with a growing pause; each poll's own timeout is cut to the time left, so a hung
 * request cannot hold the wait past the deadline.
 */
import { InterruptedError, NetworkError, ProviderError, type ImagegenError } from '../../kernel/errors.js';
import type { Sleep } from '../../kernel/ports.js';

export interface PollSchedule {
  intervalMs: number;
  maxIntervalMs: number;
  timeoutMs: number;
}

/** The pauses between polls: start at intervalMs, double every third poll, never above maxIntervalMs. */
export function* pollPauses(schedule: PollSchedule): Generator<number> {
  const cap = Math.max(schedule.intervalMs, schedule.maxIntervalMs);
  let interval = schedule.intervalMs;
  for (let step = 1; ; step++) {
    if (interval < cap && step % 3 === 0) interval = Math.min(interval * 2, cap);
    yield interval;
  }
}

export type PollOutcome<T> = { done: true; value: T } | { done: false; status: string };

export interface PollOptions extends PollSchedule {
  sleep: Sleep;
  now: () => number;
  signal?: AbortSignal;
  /** When the wait began (the submit), on the `now` clock; the deadline is timeoutMs after it. Default: now. */
  startedAt?: number;
  /** Called after each answer: status and milliseconds since the wait began. */
  onStatus?: (status: string, elapsedMs: number) => void;
  /** Builds the error thrown when the deadline passes. */
  timeoutError: (lastStatus: string, elapsedMs: number) => ImagegenError;
}

/** Longest pause after failed polls in a row (a Retry-After may ask for more, up to the deadline). */
const MAX_FAILURE_PAUSE_MS = 60_000;
/** What the last poll before the deadline is given to answer in, at most. */
const LAST_POLL_MS = 1000;

/**
 * An answer that says nothing about the task: no HTTP answer at all, a 408, a 429 or a 5xx. Worth another
 * poll. A task that FAILED is never transient, nor a used-up daily allowance.
 */
function isTransientPollError(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (!(err instanceof ProviderError) || err.exhausted || err.status === undefined) return false;
  return err.status === 408 || err.status === 429 || err.status >= 500;
}

/**
 * Polls until the task ends or the deadline passes. `check` is given the time left, which bounds its request.
 * When the next pause would reach past the deadline, the wait sleeps until just before it and polls once
 * more, so a task that ends in the last pause is still seen.
 */
export async function pollTask<T>(
  check: (timeLeftMs: number) => Promise<PollOutcome<T>>,
  options: PollOptions,
): Promise<T> {
  const { now } = options;
  const started = options.startedAt ?? now();
  const deadline = started + options.timeoutMs;
  const pauses = pollPauses(options);
  let lastStatus = 'SUBMITTED';
  let shown = lastStatus;
  let failures = 0;
  let last = false;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    const left = deadline - now();
    if (left <= 0) throw options.timeoutError(shown, now() - started);
    let askedMs = 0;
    try {
      const outcome = await check(left);
      if (outcome.done) return outcome.value;
      lastStatus = outcome.status;
      shown = lastStatus;
      failures = 0;
    } catch (err) {
      if (options.signal?.aborted) throw new InterruptedError();
      if (!isTransientPollError(err)) throw err;
      failures++;
      askedMs = err instanceof ProviderError ? (err.retryAfterMs ?? 0) : 0;
      shown = `${lastStatus} (last poll failed: ${(err as Error).message})`;
    }
    const elapsed = now() - started;
    options.onStatus?.(shown, elapsed);
    if (last) throw options.timeoutError(shown, elapsed);
    let pause = pauses.next().value as number;
    if (failures > 0) {
      const backoff = Math.min(MAX_FAILURE_PAUSE_MS, options.intervalMs * 2 ** failures);
      pause = Math.max(pause, backoff, askedMs);
    }
    const remaining = deadline - now();
    if (remaining <= 0) throw options.timeoutError(shown, elapsed);
    if (pause >= remaining) {
      // The last pause: end it a moment before the deadline and poll once more in what is left.
      last = true;
      pause = Math.max(0, remaining - Math.min(LAST_POLL_MS, remaining / 2));
    }
    await options.sleep(pause, options.signal);
  }
}
