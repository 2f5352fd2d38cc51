/**
 * The batch journal: one JSON line per event, each on the disk before the batch goes on, so that a crash or
 * `kill -9` loses nothing already paid for. Every run that calls a provider keeps one (in the output folder,
 * or --journal FILE). Each item is named by a key of what it pays for (input bytes, settings, provider,
 * model, instruction): the same item again is skipped when its output is still there with the recorded
 * hash, and re-attached to when its task, submitted within the last 24 hours, has not ended (polled by task
 * id, never submitted again); --again pays for a new one. With --resume, an item whose last submit got no
 * answer is not submitted again either: a task may have been made (and billed) for it, so it fails with what
 * to look for.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ImagegenError, UsageError, describeIoError, errorRecord, type ErrorRecord } from '../kernel/errors.js';
import { removeLockFile, takeLock } from '../kernel/fs.js';
import type { Fs, Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import type { SubmittedTask } from '../providers/types.js';

/** Tasks are kept this long by the providers; an older one is submitted again. */
const TASK_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** The most of a journal that is read: some hundred thousand events. */
const JOURNAL_MAX_BYTES = 64 * 1024 * 1024;

/** The most of a recorded output that is read to check its hash: more than any output can be. */
const OUTPUT_MAX_BYTES = 1024 * 1024 * 1024;

/** Every event may carry the item's key (see itemKey); lines written before keys existed name only the item. */
export type JournalEvent = { key?: string } & (
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
  | {
      event: 'finished';
      item: string;
      output: string;
      sha256: string;
      report?: string;
      /** Finished by the local pipeline after the provider failed: not what was asked for, so run again. */
      fallback?: boolean;
      at: string;
    }
  | { event: 'failed'; item: string; error: ErrorRecord; at: string }
);

type Without<E, K extends PropertyKey> = E extends unknown ? Omit<E, K> : never;

interface ItemHistory {
  /** The key of the item's latest lines. */
  key?: string;
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
  private locked = false;

  private constructor(
    readonly file: string,
    private readonly services: Pick<Services, 'fs' | 'now' | 'redactor'>,
    /** --resume: lines without a key are matched by the item's name, and unanswered submits are held back. */
    readonly resume = false,
  ) {}

  /** The lock file that keeps a second run off a journal in use. */
  get lockFile(): string {
    return `${this.file}.lock`;
  }

  /**
   * Opens a journal to append to, locked for this run until close(); what it already holds decides each
   * item's fate, unless `again` (pay for every item anew). A journal in use by another run is a usage error:
   * both runs would submit every item.
   */
  static async open(
    file: string,
    resume: boolean,
    services: Pick<Services, 'fs' | 'now' | 'redactor'>,
    again = false,
  ): Promise<Journal> {
    // Opened for appending now, before any task is submitted: a journal that cannot be written would
    // otherwise be found out only after the first paid submit. A link, a pipe or a device fails here, before
    // a lock file is made beside it.
    try {
      await services.fs.appendDurable(file, '');
    } catch (err) {
      throw unusable(file, err, 'written');
    }
    const journal = new Journal(file, services, resume);
    await journal.lock();
    try {
      if (!again) journal.load(await readJournal(services.fs, file));
    } catch (err) {
      await journal.close();
      throw err;
    }
    return journal;
  }

  private async lock(): Promise<void> {
    let outcome;
    try {
      outcome = await takeLock(this.services.fs, this.lockFile);
    } catch (err) {
      throw new UsageError(`--journal ${this.file}: cannot be locked (${describeIoError(err)})`, {
        hint: 'give --journal a file in a folder that exists and can be written',
      });
    }
    if (outcome.taken) {
      this.locked = true;
      return;
    }
    if (outcome.pid !== undefined) {
      throw new UsageError(`journal ${this.file} is in use by process ${outcome.pid}`, {
        hint: 'wait for that run to end: two runs on one journal would submit every item twice',
      });
    }
    throw new UsageError(`journal ${this.file} is locked by ${this.lockFile}, which names no running process`, {
      hint: `if no run uses this journal, remove ${this.lockFile}`,
    });
  }

  /** Ends the run's use of the journal: its lock is removed, once the appends asked for are on the disk. */
  async close(): Promise<void> {
    await this.tail;
    if (!this.locked) return;
    this.locked = false;
    await removeLockFile(this.services.fs, this.lockFile);
  }

  private load(text: string): void {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        // A line cut short by a crash can only be the last one.
        if (lines.slice(i + 1).every((rest) => rest.trim() === '')) return;
        throw new UsageError(`${this.file}:${i + 1}: not a journal line`, { hint: 'give --journal a journal file' });
      }
      const event = asEvent(parsed);
      if (!event) {
        throw new UsageError(`${this.file}:${i + 1}: not a journal line (not an event imagegen writes): corrupt`, {
          hint: 'give --journal a journal file written by imagegen, or a new file',
        });
      }
      let h = this.history.get(event.item) ?? {};
      // Another key is the item with other input bytes or settings: what was known of it no longer holds.
      if (event.key !== undefined && h.key !== undefined && event.key !== h.key) h = {};
      if (event.key !== undefined) h.key = event.key;
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

  /**
   * What the journal holds for an item, if written under the same key (or with --resume, in lines without a
   * key); a bare string is the item's name, whatever its key.
   */
  private historyOf(item: ItemId | string): ItemHistory | undefined {
    if (typeof item === 'string') return this.history.get(item);
    const h = this.history.get(item.item);
    return h && (h.key === item.key || (h.key === undefined && this.resume)) ? h : undefined;
  }

  append(event: Without<JournalEvent, 'at'>): Promise<void> {
    const line = this.services.redactor.text(
      JSON.stringify({ ...event, at: new Date(this.services.now()).toISOString() }),
    );
    const next = this.tail.then(() => this.services.fs.appendDurable(this.file, line + '\n'));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * The output of an item finished in an earlier run, if it is still there unchanged and is one this run
   * would write (`ownOutput`): a journal names files, and only those are taken on its word.
   */
  async intactOutput(
    item: ItemId | string,
    ownOutput: OwnOutput,
  ): Promise<Extract<JournalEvent, { event: 'finished' }> | undefined> {
    const finished = this.historyOf(item)?.finished;
    if (!finished || finished.fallback || !ownOutput(finished.output, finished.report)) return undefined;
    const hash = await sha256Of(this.services.fs, finished.output).catch(() => undefined);
    return hash === finished.sha256 ? finished : undefined;
  }

  /** The item's last submit to this provider, when it got no answer (so a task may exist). */
  unansweredSubmit(item: ItemId | string, provider: string): { requestId?: string } | undefined {
    const unanswered = this.historyOf(item)?.unanswered;
    return unanswered?.provider === provider ? { requestId: unanswered.requestId } : undefined;
  }

  /** A task this provider accepted for the item within its lifetime and that has not ended since. */
  pendingTask(item: ItemId | string, provider: string): SubmittedTask | undefined {
    const h = this.historyOf(item);
    const submitted = h?.submitted;
    if (!submitted || submitted.provider !== provider) return undefined;
    if (h.finished && h.finished.at >= submitted.at) return undefined;
    if (this.services.now() - Date.parse(submitted.at) > TASK_LIFETIME_MS) return undefined;
    return { taskId: submitted.taskId, requestId: submitted.requestId };
  }
}

/** An item as the journal knows it: its name in messages, and the key of what it pays for. */
export interface ItemId {
  item: string;
  key: string;
}

/**
 * The key of an item: a hash of everything that makes its paid result what it is (input bytes, settings,
 * provider, model, instruction), with object keys sorted so that the same settings always give the same key.
 */
export function itemKey(parts: Record<string, unknown>): string {
  const stable = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(stable);
    if (value instanceof Uint8Array) return createHash('sha256').update(value).digest('hex');
    if (!isRecord(value)) return value;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => value[k] !== undefined)
        .map((k) => [k, stable(value[k])]),
    );
  };
  return createHash('sha256')
    .update(JSON.stringify(stable(parts)))
    .digest('hex');
}

/** Where a run keeps its journal when --journal names none: beside its outputs. */
const DEFAULT_JOURNAL = path.join('.imagegen', 'journal.jsonl');

/**
 * Opens the run's journal: --journal FILE when given, else the default one in the output folder (made if
 * missing; its folder must not be a link, which would send the journal elsewhere). A default journal in use
 * by another run writing to the same folder leaves this run without one, saying so; a named one is refused.
 */
export async function openRunJournal(
  opts: { file?: string; outDir?: string; resume: boolean; again: boolean },
  services: Pick<Services, 'fs' | 'now' | 'redactor' | 'ui'>,
): Promise<Journal | undefined> {
  if (opts.resume && opts.again)
    throw new UsageError('--again with --resume: --again pays for every item anew, --resume skips what is done', {
      hint: 'drop one of them',
    });
  if (opts.file !== undefined) return Journal.open(opts.file, opts.resume, services, opts.again);
  if (opts.outDir === undefined) {
    if (opts.resume) throw new UsageError('--resume needs --journal FILE');
    if (opts.again)
      throw new UsageError('--again: this run calls no provider and keeps no journal, so it does every item anyway', {
        hint: 'drop --again',
      });
    return undefined;
  }
  const file = path.join(opts.outDir, DEFAULT_JOURNAL);
  const dir = path.dirname(file);
  const { fs } = services;
  try {
    await fs.mkdir(dir, { recursive: true });
    const real = await fs.realpath(dir);
    if (real !== path.join(await fs.realpath(opts.outDir), path.basename(dir)))
      throw Object.assign(new Error('a symbolic link'), { code: 'ELOOP' });
  } catch (err) {
    throw unusable(dir, err, 'written');
  }
  try {
    return await Journal.open(file, opts.resume, services, opts.again);
  } catch (err) {
    if (!(err instanceof UsageError) || !/ is in use by process /.test(err.message)) throw err;
    services.ui.warn(`${err.message}: this run keeps no journal, and a rerun will not know what it paid for`);
    return undefined;
  }
}

/** Whether a recorded output (and its report) is a file this command would write for the item. */
export type OwnOutput = (output: string, report: string | undefined) => boolean;

/** The journal's text: a regular file, not a link to one, within JOURNAL_MAX_BYTES; a missing one is empty. */
async function readJournal(fs: Fs, file: string): Promise<string> {
  try {
    return (await fs.readFile(file, { maxBytes: JOURNAL_MAX_BYTES, noFollow: true })).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw unusable(file, err, 'read');
  }
}

/** A journal that cannot be used, in words: a link, a pipe or a device, too large, or an I/O error. */
function unusable(file: string, err: unknown, how: 'read' | 'written'): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint = { hint: 'give --journal a regular file in a folder that exists and can be written' };
  if (code === 'ELOOP') return new UsageError(`--journal ${file}: is a symbolic link: not followed`, hint);
  // ENXIO: a pipe without a reader, opened for appending without waiting for one.
  if (code === 'EFTYPE' || code === 'ENXIO')
    return new UsageError(`--journal ${file}: not a regular file (a pipe, a socket or a device)`, hint);
  if (code === 'EFBIG')
    return new UsageError(`--journal ${file}: larger than ${JOURNAL_MAX_BYTES / 1024 / 1024} MB`, {
      hint: 'start a new journal',
    });
  return new UsageError(`--journal ${file}: cannot be ${how} (${describeIoError(err)})`, hint);
}

/** The hash of an output: a regular file, not a link to one, never read past OUTPUT_MAX_BYTES. */
async function sha256Of(fs: Fs, file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file, { maxBytes: OUTPUT_MAX_BYTES, noFollow: true }))
    .digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isOptionalText = (value: unknown): boolean => value === undefined || typeof value === 'string';

/** A parsed line as an event, if it has the fields its kind needs with the types they need. */
function asEvent(value: unknown): JournalEvent | undefined {
  if (!isRecord(value) || !isText(value.item) || !isText(value.at) || !isOptionalText(value.key)) return undefined;
  const ok = (() => {
    switch (value.event) {
      case 'queued':
        return true;
      case 'submitting':
      case 'refused':
        return isText(value.provider);
      case 'submitted':
        return isText(value.provider) && isText(value.taskId) && isOptionalText(value.requestId);
      case 'finished':
        return (
          isText(value.output) &&
          isText(value.sha256) &&
          isOptionalText(value.report) &&
          (value.fallback === undefined || typeof value.fallback === 'boolean')
        );
      case 'failed': {
        const error = value.error;
        return (
          isRecord(error) && isText(error.kind) && isOptionalText(error.provider) && isOptionalText(error.requestId)
        );
      }
      default:
        return false;
    }
  })();
  return ok ? (value as JournalEvent) : undefined;
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
  id: ItemId,
  provider: { id: string; model: string } | undefined,
  fs: Fs,
  run: (hooks: TaskHooks) => Promise<JobRecord>,
  skipped: (output: string, report?: string) => JobRecord,
  ownOutput: OwnOutput,
): Promise<JobRecord> {
  if (!journal) return run({});
  const { item, key } = id;
  const done = await journal.intactOutput(id, ownOutput);
  if (done) return skipped(done.output, done.report);
  await journal.append({ event: 'queued', item, key });
  const attachTo = provider ? journal.pendingTask(id, provider.id) : undefined;
  // An unanswered submit holds the item back only with --resume; a plain rerun sends it again, as before.
  const unanswered = provider && !attachTo && journal.resume ? journal.unansweredSubmit(id, provider.id) : undefined;
  const hooks: TaskHooks = provider
    ? {
        attachTo,
        onSubmitting: () =>
          journal.append({ event: 'submitting', item, key, provider: provider.id, model: provider.model }),
        onSubmitRefused: () => journal.append({ event: 'refused', item, key, provider: provider.id }),
        onSubmitted: (task) =>
          journal.append({ event: 'submitted', item, key, provider: provider.id, model: provider.model, ...task }),
      }
    : {};
  try {
    if (provider && unanswered) throw notSubmittedAgain(provider.id, unanswered.requestId);
    const record = await run(hooks);
    if (record.status === 'ok' && typeof record.output === 'string' && record.output !== '-') {
      await journal.append({
        event: 'finished',
        item,
        key,
        output: record.output,
        sha256: await sha256Of(fs, record.output),
        ...(record.report ? { report: record.report } : {}),
        ...(record.source === 'local-fallback' ? { fallback: true } : {}),
      });
    }
    return record;
  } catch (err) {
    await journal.append({ event: 'failed', item, key, error: errorRecord(err) });
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
