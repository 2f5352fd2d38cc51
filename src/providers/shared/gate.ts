/**
 * One gate per provider, shared by every item of a batch: at most `tasksInFlight` tasks at once (submit to
 * result), at most `submitsPerSecond` submits in any second, and one cool-down for all after a 429, instead
 * of each item hammering the service on its own. An answer that waiting will not mend (the day's allowance,
 * the balance or a free quota used up, a bill overdue) closes the gate: items that have not started are skipped.
 */
import PQueue from 'p-queue';
import { ProviderError, SkippedError, throwIfAborted, type ImagegenError } from '../../kernel/errors.js';
import type { Sleep } from '../../kernel/ports.js';
import { retryAfterTooLong } from './retry.js';

export interface GateLimits {
  tasksInFlight: number;
  submitsPerSecond: number;
}

export interface GateOptions {
  now: () => number;
  sleep: Sleep;
  /** First cool-down without a Retry-After; it doubles with each 429 in a row. */
  minCoolDownMs: number;
  /** 429s one submit may meet before it gives up. */
  retries: number;
  /** Jitter in [0, 1), so that several processes do not come back at the same instant. */
  random?: () => number;
  /** Told of each cool-down: how long every submit now waits, and the 429 that caused it. */
  onCoolDown?: (ms: number, err: ProviderError) => void;
}

/** Longest cool-down the gate imposes by itself (a Retry-After may ask for more). */
const MAX_COOL_DOWN_MS = 60_000;

export class ProviderGate {
  private readonly tasks: PQueue;
  private readonly submits: PQueue;
  private coolUntil = 0;
  private strikes = 0;
  private closedBy?: ImagegenError;
  /** 429s met, for the status line and tests. */
  rateLimited = 0;

  constructor(
    readonly limits: GateLimits,
    private readonly options: GateOptions,
  ) {
    this.tasks = new PQueue({ concurrency: limits.tasksInFlight });
    // The service counts a submit when it arrives, and a large body may take a while to arrive: so each
    // of the `slots` submit slots stays taken for a whole window after the answer has come back. Two
    // arrivals through one slot are then at least a window apart, and no window holds more than `slots`.
    const slots = Math.max(1, Math.ceil(limits.submitsPerSecond));
    this.holdMs = Math.round((slots / limits.submitsPerSecond) * 1000);
    this.submits = new PQueue({ concurrency: slots });
  }

  private readonly holdMs: number;
  /** Timers of the submit slots held for their window. */
  private readonly holds = new Set<NodeJS.Timeout>();

  /**
   * Holds a submit slot for its window. The timer does not keep the process alive by itself, so that a run
   * whose last submit is long answered ends at once; but while a submit waits for a slot it does, or the
   * process would end with that submit never sent.
   */
  private hold(): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.holds.delete(timer);
        done();
      }, this.holdMs);
      this.holds.add(timer);
      if (this.submits.size === 0) timer.unref();
    });
  }

  private keepHoldsAlive(): void {
    if (this.submits.size === 0) return;
    for (const timer of this.holds) timer.ref();
  }

  /** Tasks holding a slot now. */
  get inFlight(): number {
    return this.tasks.pending;
  }

  /** Runs `work` (submit, polls, download) while holding one of the provider's task slots. */
  async task<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.checkOpen();
    // No signal for p-queue: it would reject a running task at once, before the task could cancel its
    // remote side; an aborted item still waiting here gives up when its turn comes.
    return (await this.tasks.add(async () => {
      throwIfAborted(signal);
      this.checkOpen();
      return work();
    })) as T;
  }

  /**
   * One submit when the rate allows and no cool-down is on. A 429 starts the shared cool-down and the submit
   * waits its turn again, up to `retries` times; other errors are the caller's.
   */
  async submit<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let tries = 0; ;) {
      // Cool-downs are waited out before taking a place in the rate window, so that submits held back
      // together are not then sent together.
      await this.waitForCoolDown(signal);
      type Outcome = { ok: true; value: T } | { ok: false; err?: unknown; again?: boolean };
      const outcome = await new Promise<Outcome>((resolve, reject) => {
        this.submits
          .add(async () => {
            throwIfAborted(signal);
            if (this.coolUntil > this.options.now()) return resolve({ ok: false, again: true });
            this.checkOpen();
            try {
              const value = await attempt();
              this.strikes = 0;
              resolve({ ok: true, value });
            } catch (err) {
              resolve({ ok: false, err });
            }
            // The answer is the caller's at once; the slot stays taken for the window (real time, as the
            // service keeps it).
            await this.hold();
          })
          .catch(reject);
        // A submit now waiting for a slot waits on the holds: they must keep the process alive.
        this.keepHoldsAlive();
      });
      if (outcome.ok) return outcome.value;
      if (outcome.again) continue;
      tries++;
      const err = outcome.err;
      if (!(err instanceof ProviderError)) throw err;
      // A balance, a free quota or a bill that waiting will not mend: the items not started are skipped.
      if (err.exhausted && err.kind !== 'rate-limit') {
        this.closedBy ??= err;
        throw err;
      }
      if (err.kind !== 'rate-limit') throw err;
      this.rateLimited++;
      // The day's allowance spent, or a wait longer than any run sits through: the items not started are
      // skipped rather than each asking again.
      const closing = err.exhausted ? err : retryAfterTooLong(err);
      if (closing) {
        this.closedBy ??= closing;
        throw closing;
      }
      if (tries > this.options.retries) throw err;
      this.options.onCoolDown?.(this.coolDown(err.retryAfterMs), err);
    }
  }

  /** Starts (or lengthens) the shared cool-down; returns how long it lasts from now. */
  private coolDown(retryAfterMs: number | undefined): number {
    this.strikes++;
    const backoff = Math.min(MAX_COOL_DOWN_MS, this.options.minCoolDownMs * 2 ** (this.strikes - 1));
    const jitter = 0.5 + (this.options.random ?? Math.random)() / 2;
    // A Retry-After of 0 (or a moment) is no reason to come straight back: never less than the back-off.
    const wait = Math.max(retryAfterMs ?? 0, Math.round(backoff * jitter));
    this.coolUntil = Math.max(this.coolUntil, this.options.now() + wait);
    return this.coolUntil - this.options.now();
  }

  /** Waits out a cool-down a 429 started, if one is on. */
  async waitForCoolDown(signal?: AbortSignal): Promise<void> {
    for (let left = this.coolUntil - this.options.now(); left > 0; left = this.coolUntil - this.options.now()) {
      await this.options.sleep(left, signal);
    }
  }

  private checkOpen(): void {
    if (this.closedBy) throw new SkippedError(this.closedBy);
  }
}
