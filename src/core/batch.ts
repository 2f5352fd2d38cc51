/**
 * Runs one job per item and reports each. A failed item does not stop the others, except for errors that
 * would fail every item the same way (usage, authentication, account): those stop the batch at once.
 */
import { InterruptedError, PartialBatchError, describeError, isImagegenError } from './errors.js';
import type { Ui } from './ui.js';

const STOPS_BATCH = new Set(['usage', 'auth', 'quota', 'interrupted']);

export async function runBatch<T>(
  items: readonly T[],
  label: (item: T) => string,
  job: (item: T) => Promise<Record<string, unknown>>,
  ui: Ui,
  signal?: AbortSignal,
): Promise<void> {
  let failed = 0;
  let firstError: unknown;
  for (const item of items) {
    if (signal?.aborted) throw new InterruptedError();
    try {
      ui.result(await job(item));
    } catch (err) {
      if (isImagegenError(err) && STOPS_BATCH.has(err.kind)) throw err;
      failed++;
      firstError ??= err;
      const error = isImagegenError(err) ? err.toJSON() : { kind: 'failure', message: describeError(err) };
      ui.result({ status: 'error', input: label(item), error });
      if (items.length > 1) ui.warn(`${label(item)}: ${describeError(err)}`);
    }
  }
  if (failed === 0) return;
  if (failed === items.length) throw firstError;
  throw new PartialBatchError(failed, items.length);
}

