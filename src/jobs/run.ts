/**
 * Runs a batch: its items at once up to a limit, each reported as a record when it ends (completion order;
 * every record names its item). A failed item does not stop the others, except for errors that would fail
 * every item the same way (usage, authentication, account, Ctrl-C): those stop the batch at once and
 * unstarted items never start. Items a provider can no longer take (its daily allowance, its balance or a free
 * quota is used up, a bill is overdue) are reported `skipped`. Ctrl-C or SIGTERM reports every item: those it
 * stopped `interrupted`, those it kept from starting `skipped`; then the command that fetches each task still
 * running, and the summary.
 */
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

/** What to do after an interrupt, when the run keeps a journal. */
export const RERUN_HINT =
  'run the same command again: it skips what is done and re-attaches to the tasks still running';

const isInterrupt = (err: unknown) => isImagegenError(err) && err.kind === 'interrupted';

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
  /** The hint an interrupted run ends with (a run with a journal can be run again to finish). */
  rerunHint?: string;
}

export async function runJobs<T>(queue: JobQueue<T>): Promise<void> {
  const { items, ui } = queue;
  const batch = items.length > 1;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(queue.signal?.reason);
  queue.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (queue.signal?.aborted) onOuterAbort();

  const started = queue.now();
  const counts = { ok: 0, failed: 0, skipped: 0, interrupted: 0, running: 0 };
  /** Items an interrupt stopped, with the error each ended with. */
  const stopped: Array<{ label: string; err: ImagegenError }> = [];
  const interrupting = () => queue.signal?.aborted === true || isInterrupt(fatal);
  const recordOf = (item: T) => (queue.record ? queue.record(item) : { input: queue.label(item) });
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
    if (stop.signal.aborted) {
      // An interrupted run says what became of every item: this one never started.
      if (interrupting()) {
        counts.skipped++;
        ui.result({
          status: 'skipped',
          ...recordOf(item),
          output: null,
          style: null,
          source: null,
          reason: 'not started: the run was interrupted',
        });
      }
      return;
    }
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
      const failedResult = (status: 'interrupted' | 'skipped' | 'error') =>
        ui.result({
          status,
          ...recordOf(item),
          output: null,
          style: null,
          source: null,
          error: errorRecord(err),
          seconds: seconds(),
        });
      if ((fatal === undefined || isInterrupt(fatal)) && (isInterrupt(err) || queue.signal?.aborted)) {
        fatal ??= err;
        stop.abort(err);
        counts.interrupted++;
        if (isImagegenError(err)) stopped.push({ label: queue.label(item), err });
        failedResult('interrupted');
        return;
      }
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
      failedResult(err instanceof SkippedError ? 'skipped' : 'error');
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

  try {
    if (batch) {
      // Only a batch needs a queue: a single item just runs.
      const { default: PQueue } = await import('p-queue');
      const pool = new PQueue({ concurrency: Math.max(1, queue.concurrency) });
      await Promise.all(items.map((item) => pool.add(() => runItem(item))));
    } else await Promise.all(items.map((item) => runItem(item)));
  } finally {
    if (ticker) clearInterval(ticker);
    status?.stop();
    queue.signal?.removeEventListener('abort', onOuterAbort);
  }
  const summarize = () => {
    if (!batch) return;
    const seconds = (queue.now() - started) / 1000;
    ui.summary({
      type: 'summary',
      total: items.length,
      ok: counts.ok,
      failed: counts.failed,
      skipped: counts.skipped,
      ...(counts.interrupted ? { interrupted: counts.interrupted } : {}),
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: seconds > 0 ? Math.round((counts.ok / seconds) * 100) / 100 : 0,
    });
  };
  if (interrupting()) throw interrupted(fatal, stopped, ui, summarize, queue.rerunHint);
  if (fatal !== undefined) throw fatal;

  summarize();
  if (stopReason) throw stopReason;
  if (counts.failed === 0) return;
  const allAlike = failures.length === items.length && failures.every((e) => e.kind === failures[0].kind);
  if (allAlike || items.length === 1) throw firstError;
  throw new PartialBatchError(counts.failed, items.length);
}

/**
 * The end of an interrupted run: for each task that may still finish (and is paid for), the command that
 * fetches it; the summary; and the error the run ends with, with what to do next.
 */
function interrupted(
  fatal: unknown,
  stopped: ReadonlyArray<{ label: string; err: ImagegenError }>,
  ui: Ui,
  summarize: () => void,
  rerunHint: string | undefined,
): InterruptedError {
  // A canceled task costs nothing and has nothing to fetch.
  const running = stopped.filter(({ err }) => err.taskId && err.provider && err.code !== 'TaskCanceled');
  for (const { label, err } of running)
    ui.warn(
      `${label}: its ${err.provider} task may still finish; fetch it with: imagegen task wait ${err.provider}:${err.taskId}`,
    );
  summarize();
  const first = isInterrupt(fatal) ? (fatal as ImagegenError) : undefined;
  const one = stopped.length === 1 && first;
  return new InterruptedError(
    one
      ? first.message
      : running.length > 0
        ? `interrupted; ${running.length} task${running.length > 1 ? 's' : ''} may still finish (see above)`
        : 'interrupted',
    {
      ...(one ? { provider: first.provider, taskId: first.taskId, requestId: first.requestId, code: first.code } : {}),
      ...(rerunHint ? { hint: rerunHint } : {}),
    },
  );
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
