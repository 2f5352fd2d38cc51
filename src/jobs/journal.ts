/**
 * The batch journal (--journal FILE): one JSON line per event, each on the disk before the batch goes on,
 * so that a crash or `kill -9` loses nothing already paid for. With --resume, the same command again skips
 * items whose output is still there with the recorded hash, re-attaches to tasks submitted within the last
 * 24 hours (polled by task id, never submitted again), and runs the rest, but for an item whose last submit
 * got no answer: a task may have been made (and billed) for it, so it is not submitted again but fails with
 * what to look for.
 */
import { createHash } from 'node:crypto';
import { ImagegenError, UsageError, describeIoError, errorRecord, type ErrorRecord } from '../kernel/errors.js';
import type { Fs, Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import type { SubmittedTask } from '../providers/types.js';

/** Tasks are kept this long by the providers; an older one is submitted again. */
const TASK_LIFETIME_MS = 24 * 60 * 60 * 1000;

export type JournalEvent =
  | { event: 'queued'; item: string; at: string }
  | { event: 'submitting'; item: string; provider: string; model: string; at: string }
  | { event: 'refused'; item: string; provider: string; at: string }
  | {
      event: 'submitted';
      item: string;
      provider: string;
      model: string;
      taskId: string;
      requestId?: string;
      at: string;
    }
  | { event: 'finished'; item: string; output: string; sha256: string; report?: string; at: string }
  | { event: 'failed'; item: string; error: ErrorRecord; at: string };

type Without<E, K extends PropertyKey> = E extends unknown ? Omit<E, K> : never;

interface ItemHistory {
  submitted?: Extract<JournalEvent, { event: 'submitted' }>;
  finished?: Extract<JournalEvent, { event: 'finished' }>;
  /** The item's last submit to this provider got no answer: a task may exist. */
  unanswered?: { provider: string; requestId?: string };
}

/** The code of a submit that got no answer (see providers/shared/task.ts). */
const SUBMIT_UNANSWERED = 'SubmitUnanswered';

export class Journal {
  private readonly history = new Map<string, ItemHistory>();
  /** Appends go one after another, in the order they were asked for. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly services: Pick<Services, 'fs' | 'now' | 'redactor'>,
  ) {}

  /** Opens a journal to append to; with `resume`, what it already holds decides each item's fate. */
  static async open(
    file: string,
    resume: boolean,
    services: Pick<Services, 'fs' | 'now' | 'redactor'>,
  ): Promise<Journal> {
    const journal = new Journal(file, services);
    if (resume) journal.load(await readJournal(services.fs, file));
    // Opened for appending now, before any task is submitted: a journal that cannot be written would
    // otherwise be found out only after the first paid submit.
    try {
      await services.fs.appendDurable(file, '');
    } catch (err) {
      throw new UsageError(`--journal ${file}: cannot be written (${describeIoError(err)})`, {
        hint: 'give --journal a file in a folder that exists and can be written',
      });
    }
    return journal;
  }

  private load(text: string): void {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let event: JournalEvent;
      try {
        event = JSON.parse(line) as JournalEvent;
      } catch {
        // A line cut short by a crash can only be the last one.
        if (lines.slice(i + 1).every((rest) => rest.trim() === '')) return;
        throw new UsageError(`${this.file}:${i + 1}: not a journal line`, { hint: 'give --journal a journal file' });
      }
      const h = this.history.get(event.item) ?? {};
      if (event.event === 'submitting') h.unanswered = { provider: event.provider };
      else if (event.event === 'refused') h.unanswered = undefined;
      else if (event.event === 'submitted') {
        h.submitted = event;
        h.unanswered = undefined;
      } else if (event.event === 'finished') {
        h.finished = event;
        h.unanswered = undefined;
      } else if (event.event === 'failed') {
        if (event.error.code === SUBMIT_UNANSWERED && event.error.provider)
          h.unanswered = { provider: event.error.provider, requestId: event.error.requestId };
        // An interrupt may have cut a submit short as well; any other failure was an answer.
        else if (event.error.kind !== 'interrupted') h.unanswered = undefined;
        // A failure ends the task's claim and the item runs anew, unless it was an interrupt that left the
        // task running at the provider: that one is re-attached to.
        if (event.error.kind !== 'interrupted' || event.error.code === 'TaskCanceled') h.submitted = undefined;
      }
      this.history.set(event.item, h);
    });
  }

  append(event: Without<JournalEvent, 'at'>): Promise<void> {
    const line = this.services.redactor.text(
      JSON.stringify({ ...event, at: new Date(this.services.now()).toISOString() }),
    );
    const next = this.tail.then(() => this.services.fs.appendDurable(this.file, line + '\n'));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** The output of an item finished in an earlier run, if it is still there unchanged. */
  async intactOutput(item: string): Promise<Extract<JournalEvent, { event: 'finished' }> | undefined> {
    const finished = this.history.get(item)?.finished;
    if (!finished) return undefined;
    const hash = await sha256Of(this.services.fs, finished.output).catch(() => undefined);
    return hash === finished.sha256 ? finished : undefined;
  }

  /** The item's last submit to this provider, when it got no answer (so a task may exist). */
  unansweredSubmit(item: string, provider: string): { requestId?: string } | undefined {
    const unanswered = this.history.get(item)?.unanswered;
    return unanswered?.provider === provider ? { requestId: unanswered.requestId } : undefined;
  }

  /** A task this provider accepted for the item within its lifetime and that has not ended since. */
  pendingTask(item: string, provider: string): SubmittedTask | undefined {
    const h = this.history.get(item);
    const submitted = h?.submitted;
    if (!submitted || submitted.provider !== provider) return undefined;
    if (h.finished && h.finished.at >= submitted.at) return undefined;
    if (this.services.now() - Date.parse(submitted.at) > TASK_LIFETIME_MS) return undefined;
    return { taskId: submitted.taskId, requestId: submitted.requestId };
  }
}

async function readJournal(fs: Fs, file: string): Promise<string> {
  try {
    return await fs.readText(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new UsageError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
}

async function sha256Of(fs: Fs, file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/** What a journaled item's run is given: the task to re-attach to, and where to report a submit. */
export interface TaskHooks {
  attachTo?: SubmittedTask;
  onSubmitting?: () => Promise<void>;
  onSubmitRefused?: () => Promise<void>;
  onSubmitted?: (task: SubmittedTask) => Promise<void>;
}

/**
 * Runs one item under the journal: skipped when its earlier output is intact, re-attached when its task is
 * still pending, and every step written down before the batch goes on.
 */
export async function journaled(
  journal: Journal | undefined,
  item: string,
  provider: { id: string; model: string } | undefined,
  fs: Fs,
  run: (hooks: TaskHooks) => Promise<JobRecord>,
  skipped: (output: string, report?: string) => JobRecord,
): Promise<JobRecord> {
  if (!journal) return run({});
  const done = await journal.intactOutput(item);
  if (done) return skipped(done.output, done.report);
  await journal.append({ event: 'queued', item });
  const attachTo = provider ? journal.pendingTask(item, provider.id) : undefined;
  const unanswered = provider && !attachTo ? journal.unansweredSubmit(item, provider.id) : undefined;
  const hooks: TaskHooks = provider
    ? {
        attachTo,
        onSubmitting: () => journal.append({ event: 'submitting', item, provider: provider.id, model: provider.model }),
        onSubmitRefused: () => journal.append({ event: 'refused', item, provider: provider.id }),
        onSubmitted: (task) =>
          journal.append({ event: 'submitted', item, provider: provider.id, model: provider.model, ...task }),
      }
    : {};
  try {
    if (provider && unanswered) throw notSubmittedAgain(provider.id, unanswered.requestId);
    const record = await run(hooks);
    if (record.status === 'ok' && typeof record.output === 'string' && record.output !== '-') {
      await journal.append({
        event: 'finished',
        item,
        output: record.output,
        sha256: await sha256Of(fs, record.output),
        ...(record.report ? { report: record.report } : {}),
      });
    }
    return record;
  } catch (err) {
    await journal.append({ event: 'failed', item, error: errorRecord(err) });
    throw err;
  }
}

/** An item whose submit in an earlier run got no answer: failed again, with what to look for, never resent. */
function notSubmittedAgain(provider: string, requestId: string | undefined): ImagegenError {
  const ids = requestId ? ` (request id ${requestId})` : '';
  return new ImagegenError(
    'network',
    `not submitted again: its submit to ${provider} in an earlier run got no answer, so a task may have been created${ids}`,
    {
      provider,
      code: SUBMIT_UNANSWERED,
      requestId,
      hint: 'look for the task in the provider console; if there is none, run this picture again without --resume',
    },
  );
}
