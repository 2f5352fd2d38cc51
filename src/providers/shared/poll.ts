/**
 * One task poller for both providers. The first poll comes right after submit; the pauses then grow as the
 * DashScope SDK's do (1, 1, 2, 2, 2, 4, 4, 4 s, then the cap) but, unlike it, the wait ends at a deadline.
 * Transient poll failures (503/504, network) are retried until then.
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
  /** Called after each answer: status and seconds since the first poll. */
  onStatus?: (status: string, elapsedMs: number) => void;
  /** Builds the error thrown when the deadline passes. */
  timeoutError: (lastStatus: string, elapsedMs: number) => ImagegenError;
}

/** No HTTP answer at all, or a 503/504: worth another poll. A task that FAILED is never transient. */
function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  return err instanceof ProviderError && (err.status === 503 || err.status === 504);
}

export async function pollTask<T>(check: () => Promise<PollOutcome<T>>, options: PollOptions): Promise<T> {
  const started = options.now();
  const pauses = pollPauses(options);
  let lastStatus = 'SUBMITTED';
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    let shown: string;
    try {
      const outcome = await check();
      if (outcome.done) return outcome.value;
      lastStatus = outcome.status;
      shown = lastStatus;
    } catch (err) {
      if (!isTransient(err)) throw err;
      shown = `${lastStatus} (last poll failed: ${(err as Error).message})`;
    }
    const elapsed = options.now() - started;
    options.onStatus?.(shown, elapsed);
    const pause = pauses.next().value as number;
    if (elapsed + pause > options.timeoutMs) throw options.timeoutError(shown, elapsed);
    await options.sleep(pause, options.signal);
  }
}
