/**
 * The frame both providers share: submit once (retried on 429/5xx/network), then poll with a spinner until
 * the task ends, the deadline passes or the user interrupts.
 */
import { InterruptedError, isImagegenError } from '../core/errors.js';
import { shortId, type ProviderDeps, type ProviderLimits } from './context.js';
import { pollTask, type PollOutcome } from './poll.js';
import { ProviderError, type ProviderName } from './provider-errors.js';
import { withRetry } from './retry.js';

const LABEL: Record<ProviderName, string> = { dashscope: 'DashScope', modelscope: 'ModelScope' };

export interface AsyncTaskSpec {
  provider: ProviderName;
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

export async function runAsyncTask(spec: AsyncTaskSpec, limits: ProviderLimits, deps: ProviderDeps): Promise<AsyncTaskResult> {
  const label = LABEL[spec.provider];
  const submitted = await withRetry(spec.submit, {
    retries: limits.retry.retries,
    minTimeoutMs: limits.retry.minTimeoutMs,
    sleep: deps.sleep,
    signal: deps.signal,
    onRetry: (message) => deps.ui.warn(`${label}: ${message}`),
  });
  const { taskId } = submitted;
  const name = `${label} task ${shortId(taskId)}`;
  deps.ui.debug(`${label}: task ${taskId} submitted`);
  const spinner = deps.ui.spinner(`${name}: submitted`);
  let lastStatus = 'PENDING';
  try {
    const url = await pollTask<string>(
      async () => {
        const outcome = await spec.check(taskId);
        if (!outcome.done) lastStatus = outcome.status;
        return outcome;
      },
      {
        ...limits.polling,
        sleep: deps.sleep,
        now: deps.now,
        signal: deps.signal,
        onStatus: (status, elapsed) => spinner.update(`${name}: ${status}, ${Math.round(elapsed / 1000)} s`),
        timeoutError: (status, elapsed) =>
          new ProviderError('network', `${label} task ${taskId} did not finish within ${Math.round(elapsed / 1000)} s (last status ${status})`, {
            provider: spec.provider,
            taskId,
            code: 'WaitTaskTimeout',
            hint: spec.timeoutHint,
          }),
      },
    );
    spinner.succeed(`${name}: done`);
    return { url, taskId, requestId: submitted.requestId };
  } catch (err) {
    const interrupted = isImagegenError(err) && err.kind === 'interrupted';
    spinner.fail(`${name}: ${interrupted ? 'interrupted' : 'failed'}`);
    if (interrupted) {
      const fate = spec.onInterrupt ? await spec.onInterrupt(taskId, lastStatus) : 'may still finish';
      throw new InterruptedError(`interrupted; ${label} task ${taskId} ${fate}`);
    }
    throw err;
  }
}
