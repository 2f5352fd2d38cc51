/**
 * Runs one job per item and reports each as a record. A failed item does not stop the others, except for
 * errors that would fail every item the same way (usage, authentication, account): those stop the batch at
 * once.
 */
import { InterruptedError, PartialBatchError, describeError, errorRecord, isImagegenError } from '../kernel/errors.js';
import type { Ui } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';

const STOPS_BATCH = new Set(['usage', 'auth', 'quota', 'interrupted']);

export interface JobQueue<T> {
  items: readonly T[];
  /** How an item is named in records and messages. */
  label: (item: T) => string;
  run: (item: T) => Promise<JobRecord>;
  ui: Ui;
  now: () => number;
  signal?: AbortSignal;
}

export async function runJobs<T>(queue: JobQueue<T>): Promise<void> {
  const { items, ui } = queue;
  let failed = 0;
  let firstError: unknown;
  for (const item of items) {
    if (queue.signal?.aborted) throw new InterruptedError();
    const started = queue.now();
    const seconds = () => Math.round(queue.now() - started) / 1000;
    try {
      ui.result({ ...(await queue.run(item)), seconds: seconds() });
    } catch (err) {
      if (isImagegenError(err) && STOPS_BATCH.has(err.kind)) throw err;
      failed++;
      firstError ??= err;
      ui.result({
        status: 'error',
        input: queue.label(item),
        output: null,
        style: null,
        source: null,
        error: errorRecord(err),
        seconds: seconds(),
      });
      if (items.length > 1) ui.warn(`${queue.label(item)}: ${describeError(err)}`);
    }
  }
  if (failed === 0) return;
  if (failed === items.length) throw firstError;
  throw new PartialBatchError(failed, items.length);
}
