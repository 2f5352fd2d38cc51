/**
 * The frame every async provider shares: submit once (retried on 429/5xx/network), then poll with a spinner
 * until the task ends, the deadline passes or the user interrupts.
 */
import { InterruptedError, ProviderError, isImagegenError } from '../../kernel/errors.js';
import type { ProviderContext } from '../types.js';
import { pollTask, type PollOutcome } from './poll.js';
import { withRetry } from './retry.js';

export interface AsyncTaskSpec {
  /** One submit attempt; throws ProviderErrors. */
  submit: () => Promise<{ taskId: string; requestId?: string }>;
  /** One poll; a finished task gives the result URL, a failed one throws. */
  check: (taskId: string) => Promise<PollOutcome<string>>;
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

async function submitAndWait(spec: AsyncTaskSpec, ctx: ProviderContext): Promise<AsyncTaskResult> {
  const { label, id: provider } = ctx.provider;
  const { gate } = ctx;
  const submitted =
    ctx.attachTo ??
    (await withRetry(gate ? () => gate.submit(spec.submit, ctx.signal) : spec.submit, {
      retries: ctx.limits.retry.retries,
      minTimeoutMs: ctx.limits.retry.minTimeoutMs,
      sleep: ctx.sleep,
      signal: ctx.signal,
      onRetry: (message) => ctx.ui.warn(`${label}: ${message}`),
      retryRateLimit: !gate,
    }));
  if (!ctx.attachTo) await ctx.onSubmitted?.(submitted);
  const { taskId } = submitted;
  const name = `${label} task ${shortId(taskId)}`;
  ctx.ui.debug(`${label}: task ${taskId} submitted`);
  const spinner = ctx.ui.spinner(`${name}: submitted`);
  let lastStatus = 'PENDING';
  try {
    const url = await pollTask<string>(
      async () => {
        const outcome = await spec.check(taskId);
        if (!outcome.done) lastStatus = outcome.status;
        return outcome;
      },
      {
        ...ctx.limits.polling,
        sleep: ctx.sleep,
        now: ctx.now,
        signal: ctx.signal,
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
