/**
 * The frame every async provider shares: submit once (retried only where no task can have been made), then
 * poll with a spinner until the task ends, the deadline (polling.timeoutMs after the submit) passes or the
 * user interrupts.
 */
import { InterruptedError, NetworkError, ProviderError, isImagegenError } from '../../kernel/errors.js';
import type { ProviderContext } from '../types.js';
import { checkTaskId } from './answer.js';
import { pollTask, type PollOutcome } from './poll.js';
import { madeNoTask, mayHaveArrived, withRetry } from './retry.js';

export interface AsyncTaskSpec {
  /** One submit attempt; throws ProviderErrors, or a NetworkError carrying the request id it sent. */
  submit: () => Promise<{ taskId: string; requestId?: string }>;
  /** One poll, its request bounded by `timeLeftMs`; a finished task gives the result URL, a failed one throws. */
  check: (taskId: string, timeLeftMs: number) => Promise<PollOutcome<string>>;
  /** Called on Ctrl-C with the last status; returns what became of the task. */
  onInterrupt?: (taskId: string, lastStatus: string) => Promise<string>;
  timeoutHint: string;
}

export interface AsyncTaskResult {
  url: string;
  taskId: string;
  requestId?: string;
}

/** "a1b2c3d4" from a long task id, for spinners. */
function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** Submit, poll, result: holding one of the provider's task slots when there is a gate. */
export async function runAsyncTask(spec: AsyncTaskSpec, ctx: ProviderContext): Promise<AsyncTaskResult> {
  const { gate } = ctx;
  return gate ? gate.task(() => submitAndWait(spec, ctx), ctx.signal) : submitAndWait(spec, ctx);
}

/**
 * A submit that got no answer, or only a gateway's timeout, after it was sent: the service may have made the
 * task (and may bill it). It is never sent again by itself; the error says so, with the request id sent.
 */
export function maybeSubmitted(err: unknown, ctx: ProviderContext): unknown {
  if (!mayHaveArrived(err)) return err;
  const e = err as NetworkError | ProviderError;
  const { label, id: provider } = ctx.provider;
  const ids = e.requestId ? ` (request id ${e.requestId})` : '';
  return new ProviderError('network', `${label} submit: ${e.message}; a task may have been created${ids}`, {
    provider,
    status: e.status,
    code: 'SubmitUnanswered',
    requestId: e.requestId,
    hint:
      `imagegen does not submit it again, to avoid paying twice: look for the task in the ${label} console ` +
      'before running this picture again',
    cause: err,
  });
}

/**
 * One submit attempt, with the journal told before it is sent and when its failure shows that no task was
 * made; what lies between is a submit that may have made one.
 */
export function journaledAttempt<T>(ctx: ProviderContext, send: () => Promise<T>): () => Promise<T> {
  return async () => {
    await ctx.onSubmitting?.();
    // A 429 answered while the journal was written has started a cool-down that this submit must wait out too.
    await ctx.gate?.waitForCoolDown(ctx.signal);
    try {
      return await send();
    } catch (err) {
      // Not waited for: a 429's cool-down must start at once, before other submits go out. The journal
      // writes in order, so the line is on the disk before the next submit's own line, and so before it.
      if (madeNoTask(err)) ctx.onSubmitRefused?.().catch(() => undefined);
      throw err;
    }
  };
}

async function submitAndWait(spec: AsyncTaskSpec, ctx: ProviderContext): Promise<AsyncTaskResult> {
  const { label, id: provider } = ctx.provider;
  const { gate } = ctx;
  // The deadline counts from the submit that made the task (a resumed wait: from now).
  let startedAt = ctx.now();
  const attempt = journaledAttempt(ctx, () => {
    startedAt = ctx.now();
    return spec.submit();
  });
  const submitted =
    ctx.attachTo ??
    (await withRetry(gate ? () => gate.submit(attempt, ctx.signal) : attempt, {
      retries: ctx.limits.retry.retries,
      minTimeoutMs: ctx.limits.retry.minTimeoutMs,
      sleep: ctx.sleep,
      signal: ctx.signal,
      onRetry: (message) => ctx.ui.warn(`${label}: ${message}`),
      retryRateLimit: !gate,
    }).catch((err: unknown) => {
      throw maybeSubmitted(err, ctx);
    }));
  const { taskId } = submitted;
  // An id read back from a journal is checked as an answer's is, before it is written down or polled.
  checkTaskId(ctx.provider, taskId);
  if (!ctx.attachTo) await ctx.onSubmitted?.(submitted);
  const name = `${label} task ${shortId(taskId)}`;
  ctx.ui.debug(`${label}: task ${taskId} submitted`);
  // A task waited for again (task wait, --resume) was submitted by an earlier run, maybe never: no "submitted".
  const spinner = ctx.ui.spinner(`${name}: ${ctx.attachTo ? 'waiting' : 'submitted'}`);
  let lastStatus = 'PENDING';
  try {
    const url = await pollTask<string>(
      async (timeLeftMs) => {
        const outcome = await spec.check(taskId, timeLeftMs);
        if (!outcome.done) lastStatus = outcome.status;
        return outcome;
      },
      {
        ...ctx.limits.polling,
        sleep: ctx.sleep,
        now: ctx.now,
        signal: ctx.signal,
        startedAt,
        onStatus: (status, elapsed) => spinner.update(`${name}: ${status}, ${Math.round(elapsed / 1000)} s`),
        timeoutError: (status, elapsed) =>
          new ProviderError(
            'network',
            `${label} task ${taskId} did not finish within ${Math.round(elapsed / 1000)} s (last status ${status})`,
            {
              provider,
              taskId,
              code: 'WaitTaskTimeout',
              hint: `${spec.timeoutHint}; \`imagegen task wait ${provider}:${taskId}\` picks it up later`,
            },
          ),
      },
    );
    spinner.succeed(`${name}: done`);
    return { url, taskId, requestId: submitted.requestId };
  } catch (err) {
    const interrupted = isImagegenError(err) && err.kind === 'interrupted';
    spinner.fail(`${name}: ${interrupted ? 'interrupted' : 'failed'}`);
    if (interrupted) {
      const fate = spec.onInterrupt ? await spec.onInterrupt(taskId, lastStatus) : 'may still finish';
      throw new InterruptedError(`interrupted; ${label} task ${taskId} ${fate}`, {
        provider,
        taskId,
        // A journal keeps a task that may still finish, to re-attach to; a canceled one is dropped.
        code: fate === 'was canceled' ? 'TaskCanceled' : undefined,
      });
    }
    throw err;
  }
}
