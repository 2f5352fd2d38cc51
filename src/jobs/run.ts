/**
 * Runs a batch: its items at once up to a limit, each reported as a record when it ends (completion order;
 * every record names its item). A failed item does not stop the others, except for errors that would fail
 * every item the same way (usage, authentication, account, Ctrl-C): those stop the batch at once and
 * unstarted items never start. Items a provider can no longer take (its daily allowance, its balance or a free
 * quota is used up, a bill is overdue) are reported `skipped`.
 */
import PQueue from 'p-queue';
import {
  InterruptedError,
  PartialBatchError,
  ProviderError,
  SkippedError,
  describeError,
  errorRecord,
  isImagegenError,
  type ImagegenError,
} from '../kernel/errors.js';
import type { Spinner, Ui } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';

const STOPS_BATCH = new Set(['usage', 'auth', 'quota', 'interrupted']);

/**
 * An error that closes its provider's gate (its items not started are reported skipped, and the run ends with
 * its code), or one that is about its own item's input: neither stops the batch at once.
 */
function concernsOneProvider(err: unknown): boolean {
  return err instanceof SkippedError || (err instanceof ProviderError && (err.exhausted || err.inputFault));
}

export interface ItemContext {
  /** Fires when the batch stops (Ctrl-C, or an error that stops it). */
  signal: AbortSignal;
  /** The UI for this item: in a batch, item spinners give way to the batch's status line. */
  ui: Ui;
}

export interface JobQueue<T> {
  items: readonly T[];
  /** How an item is named in messages. */
  label: (item: T) => string;
  /** How a failed or skipped item's record names it (default: `input` is the label). */
  record?: (item: T) => Pick<JobRecord, 'input' | 'prompt'>;
  run: (item: T, ctx: ItemContext) => Promise<JobRecord>;
  ui: Ui;
  now: () => number;
  signal?: AbortSignal;
  /** Items worked on at once. */
  concurrency: number;
  /** Extra words for the status line, such as the tasks in flight at each provider. */
  activity?: () => string | undefined;
}

export async function runJobs<T>(queue: JobQueue<T>): Promise<void> {
  const { items, ui } = queue;
  const batch = items.length > 1;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(queue.signal?.reason);
  queue.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (queue.signal?.aborted) onOuterAbort();

  const started = queue.now();
  const counts = { ok: 0, failed: 0, skipped: 0, running: 0 };
  const failures: ImagegenError[] = [];
  let firstError: unknown;
  let fatal: unknown;
  let stopReason: ImagegenError | undefined;

  const status = batch ? ui.status() : undefined;
  const itemUi: Ui = status ? quietItems(ui, status) : ui;
  const showStatus = () => {
    if (!status) return;
    const done = counts.ok + counts.failed + counts.skipped;
    const elapsed = (queue.now() - started) / 1000;
    const parts = [`${done}/${items.length} done`];
    if (counts.failed) parts.push(`${counts.failed} failed`);
    parts.push(`${counts.running} running`);
    const activity = queue.activity?.();
    if (activity) parts.push(activity);
    parts.push(`${Math.round(elapsed)} s`);
    if (done > 0 && done < items.length) parts.push(`ETA ${Math.round((elapsed / done) * (items.length - done))} s`);
    status.set(parts.join(', '));
  };
  const ticker = status ? setInterval(showStatus, 1000) : undefined;
  ticker?.unref?.();

  const runItem = async (item: T) => {
    if (stop.signal.aborted) return;
    const itemStarted = queue.now();
    const seconds = () => Math.round(queue.now() - itemStarted) / 1000;
    counts.running++;
    showStatus();
    try {
      const record = await queue.run(item, { signal: stop.signal, ui: itemUi });
      if (record.status === 'skipped') counts.skipped++;
      else counts.ok++;
      ui.result({ ...record, seconds: seconds() });
    } catch (err) {
      // Once the batch is stopping, what the stop itself caused in other items is not news.
      if (fatal !== undefined) return;
      if (isImagegenError(err) && STOPS_BATCH.has(err.kind) && !concernsOneProvider(err)) {
        fatal = err;
        stop.abort(err);
        return;
      }
      if (err instanceof SkippedError) {
        counts.skipped++;
        stopReason ??= err.reason;
      } else {
        counts.failed++;
        firstError ??= err;
        if (isImagegenError(err)) failures.push(err);
      }
      ui.result({
        status: err instanceof SkippedError ? 'skipped' : 'error',
        ...(queue.record ? queue.record(item) : { input: queue.label(item) }),
        output: null,
        style: null,
        source: null,
        error: errorRecord(err),
        seconds: seconds(),
      });
      if (batch && !(err instanceof SkippedError)) {
        // Input errors already begin with the file's name.
        const message = describeError(err);
        const label = queue.label(item);
        itemUi.warn(message.startsWith(label) ? message : `${label}: ${message}`);
      }
    } finally {
      counts.running--;
      showStatus();
    }
  };

  const pool = new PQueue({ concurrency: Math.max(1, queue.concurrency) });
  try {
    await Promise.all(items.map((item) => pool.add(() => runItem(item))));
  } finally {
    if (ticker) clearInterval(ticker);
    status?.stop();
    queue.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (fatal !== undefined) throw fatal;
  if (queue.signal?.aborted) throw new InterruptedError();

  const seconds = (queue.now() - started) / 1000;
  if (batch) {
    ui.summary({
      type: 'summary',
      total: items.length,
      ok: counts.ok,
      failed: counts.failed,
      skipped: counts.skipped,
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: seconds > 0 ? Math.round((counts.ok / seconds) * 100) / 100 : 0,
    });
  }
  if (stopReason) throw stopReason;
  if (counts.failed === 0) return;
  const allAlike = failures.length === items.length && failures.every((e) => e.kind === failures[0].kind);
  if (allAlike || items.length === 1) throw firstError;
  throw new PartialBatchError(counts.failed, items.length);
}

/** The UI an item of a batch sees: its spinners print only how they succeed, above the batch's status line. */
function quietItems(ui: Ui, status: { print(text: string): void }): Ui {
  const spinner = (): Spinner => ({
    update() {},
    succeed: (text) => text && status.print(text),
    // A failed item gets one warning with its cause from the batch instead.
    fail() {},
    stop() {},
  });
  return { ...ui, spinner };
}
