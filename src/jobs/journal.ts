/**
 * The batch journal: one JSON line per event, each on the disk before the batch goes on, so that a crash or
 * `kill -9` loses nothing already paid for. Every run that calls a provider keeps one (in the output folder,
 * or --journal FILE). Each item is named by a key of what it pays for (input bytes, settings, provider,
 * model, instruction): the same item again is skipped when its output is still there with the recorded
 * hash, and re-attached to when its task, submitted within the last 24 hours, has not ended (polled by task
 * id, never submitted again); --again pays for a new one. With --resume, an item whose last submit got no
 * answer is not submitted blindly again: a task may have been made (and billed) for it. Where the provider
 * lists the account's tasks, the task made in that submit's time with that model is looked for: one that no
 * other item owns is re-attached to, none means the submit made no task (once it can no longer make one),
 * several stop the item with their ids. Elsewhere the item fails with what to look for.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  ImagegenError,
  UsageError,
  describeError,
  describeIoError,
  errorRecord,
  type ErrorRecord,
} from '../kernel/errors.js';
import { removeLockFile, takeLock } from '../kernel/fs.js';
import type { Fs, Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type ListedTask, type SubmittedTask } from '../providers/types.js';

/** Tasks are kept this long by the providers; an older one is submitted again. */
const TASK_LIFETIME_MS = 24 * 60 * 60 * 1000;

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
/** How long a submit left unanswered may still make its task: until then, finding none proves nothing. */
const SETTLE_MS = 2 * MINUTE_MS;
/** How far this machine's clock and the service's may be apart. */
const CLOCK_SLACK_MS = MINUTE_MS;
/**
 * The offsets of the service's clock from UTC tried when no task of the journal's in the list gives it away:
 * China time, as the documented examples are, or UTC.
 */
const ASSUMED_OFFSETS_MS = [8 * HOUR_MS, 0];
/** Offsets are whole quarter hours. */
const OFFSET_STEP_MS = 15 * MINUTE_MS;

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
  | {
      /** What a look at the provider's task list decided for a submit left unanswered. */
      event: 'lookup';
      item: string;
      provider: string;
      model: string;
      decision: LostDecision['decision'];
      taskId?: string;
      candidates?: string[];
      /** The submit's time, and how the service's times were read. */
      from: string;
      to: string;
      zone: string;
      at: string;
    }
);

/** What becomes of an item whose submit got no answer, from the tasks its provider lists. */
export type LostDecision =
  | { decision: 'attach'; taskId: string; requestId?: string }
  | { decision: 'resubmit' }
  | { decision: 'wait'; until: number }
  | { decision: 'ambiguous'; candidates: ListedTask[] };

/** A submit that got no answer: between `from` and `to` (ms), of `model`. */
export interface LostSubmit {
  provider: string;
  model: string;
  requestId?: string;
  from: number;
  to: number;
}

type Without<E, K extends PropertyKey> = E extends unknown ? Omit<E, K> : never;

interface ItemHistory {
  /** The key of the item's latest lines. */
  key?: string;
  submitted?: Extract<JournalEvent, { event: 'submitted' }>;
  finished?: Extract<JournalEvent, { event: 'finished' }>;
  /** The item's last submit to this provider got no answer: a task may exist. */
  unanswered?: { provider: string; model?: string; requestId?: string; from?: string; to?: string };
}

/** The code of a submit that got no answer (see providers/shared/task.ts). */
const SUBMIT_UNANSWERED = 'SubmitUnanswered';
/** The code of a submit that got no answer, for which the task list shows several tasks that could be its. */
const SUBMIT_AMBIGUOUS = 'SubmitAmbiguous';
/** Failures that leave the item's submit unanswered still: a later run looks again. */
const LOST_CODES = new Set([SUBMIT_UNANSWERED, SUBMIT_AMBIGUOUS]);

export class Journal {
  private readonly history = new Map<string, ItemHistory>();
  /** Every task an item of this journal has (submitted, or re-attached to after a look at the task list). */
  private readonly owned = new Set<string>();
  /** When each task the journal saw submitted was written down (ms): gives away the service's clock. */
  private readonly submittedAt = new Map<string, number>();
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
      if (event.event === 'submitting') h.unanswered = { provider: event.provider, model: event.model, from: event.at };
      else if (event.event === 'refused') h.unanswered = undefined;
      else if (event.event === 'submitted') {
        h.submitted = event;
        h.unanswered = undefined;
        this.owned.add(event.taskId);
        this.submittedAt.set(event.taskId, Date.parse(event.at));
      } else if (event.event === 'lookup') {
        if (event.decision === 'attach' && event.taskId) {
          this.owned.add(event.taskId);
          h.submitted = {
            event: 'submitted',
            item: event.item,
            provider: event.provider,
            model: event.model,
            taskId: event.taskId,
            requestId: h.unanswered?.requestId,
            at: event.at,
          };
          h.unanswered = undefined;
        } else if (event.decision === 'resubmit') h.unanswered = undefined;
      } else if (event.event === 'finished') {
        h.finished = event;
        h.unanswered = undefined;
      } else if (event.event === 'failed') {
        if (LOST_CODES.has(event.error.code ?? '') && event.error.provider) {
          const before = h.unanswered?.provider === event.error.provider ? h.unanswered : undefined;
          h.unanswered = {
            ...before,
            provider: event.error.provider,
            requestId: event.error.requestId ?? before?.requestId,
            // The submit's answer was given up on then; a later failure of the same kind keeps the first time.
            to: before?.to ?? (before?.from ? event.at : undefined),
          };
        }
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
  unansweredSubmit(item: ItemId | string, provider: string): { requestId?: string; lost?: LostSubmit } | undefined {
    const unanswered = this.historyOf(item)?.unanswered;
    if (unanswered?.provider !== provider) return undefined;
    const from = unanswered.from ? Date.parse(unanswered.from) : NaN;
    // A run that ended while the submit was under way says nothing more: it was in flight at most a request's time.
    const to = unanswered.to ? Date.parse(unanswered.to) : from + DEFAULT_REQUEST_TIMEOUT_MS;
    const lost =
      Number.isFinite(from) && Number.isFinite(to) && unanswered.model
        ? { provider, model: unanswered.model, requestId: unanswered.requestId, from, to: Math.max(from, to) }
        : undefined;
    return { requestId: unanswered.requestId, lost };
  }

  /**
   * Decides, from the tasks the provider lists, what becomes of an item whose submit got no answer, writes it
   * down, and claims a task it re-attaches to (before anything is awaited, so that no other item claims it).
   */
  async decideLost(item: string, lost: LostSubmit, listed: readonly ListedTask[]): Promise<LostDecision> {
    const { offsets, zone } = this.serviceClock(listed);
    const matches = listed.filter(
      (task) =>
        task.model === lost.model &&
        !this.owned.has(task.taskId) &&
        task.submitWall !== undefined &&
        offsets.some((offset) => {
          const at = task.submitWall! - offset;
          return at >= lost.from - CLOCK_SLACK_MS && at <= lost.to + CLOCK_SLACK_MS;
        }),
    );
    const settled = lost.to + SETTLE_MS;
    const decision: LostDecision =
      matches.length === 1
        ? { decision: 'attach', taskId: matches[0].taskId, requestId: lost.requestId }
        : matches.length > 1
          ? { decision: 'ambiguous', candidates: matches }
          : this.services.now() >= settled
            ? { decision: 'resubmit' }
            : { decision: 'wait', until: settled };
    if (decision.decision === 'attach') this.owned.add(decision.taskId);
    await this.append({
      event: 'lookup',
      item,
      provider: lost.provider,
      model: lost.model,
      decision: decision.decision,
      ...(decision.decision === 'attach' ? { taskId: decision.taskId } : {}),
      ...(decision.decision === 'ambiguous' ? { candidates: decision.candidates.map((t) => t.taskId) } : {}),
      from: new Date(lost.from).toISOString(),
      to: new Date(lost.to).toISOString(),
      zone,
    });
    return decision;
  }

  /**
   * How the service's times are read: at the offset that the journal's own tasks in the list show (the time
   * each was written down against the time the service gives), else at each of the usual offsets.
   */
  private serviceClock(listed: readonly ListedTask[]): { offsets: number[]; zone: string } {
    const seen = new Map<number, number>();
    for (const task of listed) {
      const ours = this.submittedAt.get(task.taskId);
      if (ours === undefined || task.submitWall === undefined) continue;
      const offset = Math.round((task.submitWall - ours) / OFFSET_STEP_MS) * OFFSET_STEP_MS;
      seen.set(offset, (seen.get(offset) ?? 0) + 1);
    }
    const best = [...seen.entries()].sort((a, b) => b[1] - a[1])[0];
    if (best) return { offsets: [best[0]], zone: `${utcOffset(best[0])}, from the journal's own tasks` };
    return { offsets: ASSUMED_OFFSETS_MS, zone: `assumed ${ASSUMED_OFFSETS_MS.map(utcOffset).join(' or ')}` };
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

/** `UTC+08:00` for an offset in ms. */
function utcOffset(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / MINUTE_MS);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `UTC${ms < 0 ? '-' : '+'}${hh}:${mm}`;
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
      case 'lookup':
        return (
          isText(value.provider) &&
          isText(value.model) &&
          isText(value.from) &&
          isText(value.to) &&
          ['attach', 'resubmit', 'wait', 'ambiguous'].includes(value.decision as string) &&
          isOptionalText(value.taskId)
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

/** The provider an item is sent to, and where it lists the account's tasks (to find a submit left unanswered). */
export interface JournaledProvider {
  id: string;
  model: string;
  findTasks?: (lost: LostSubmit) => Promise<ListedTask[]>;
  /** Told of what was decided for a submit left unanswered. */
  tell?: (message: string) => void;
}

/**
 * Runs one item under the journal: skipped when its earlier output is intact, re-attached when its task is
 * still pending (or was found in the provider's task list after a submit that got no answer), and every step
 * written down before the batch goes on.
 */
export async function journaled(
  journal: Journal | undefined,
  id: ItemId,
  provider: JournaledProvider | undefined,
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
    if (provider && unanswered) {
      const decision = await lookForLost(journal, item, provider, unanswered);
      if (decision.decision === 'attach') hooks.attachTo = { taskId: decision.taskId, requestId: decision.requestId };
    }
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

/**
 * What becomes of an item whose submit in an earlier run got no answer: re-attached to the one task found for
 * it, or submitted again once that submit can no longer make a task and none was found; otherwise it fails
 * with what to do.
 */
async function lookForLost(
  journal: Journal,
  item: string,
  provider: JournaledProvider,
  unanswered: { requestId?: string; lost?: LostSubmit },
): Promise<Extract<LostDecision, { decision: 'attach' | 'resubmit' }>> {
  const { lost } = unanswered;
  if (!lost || !provider.findTasks || lost.model !== provider.model)
    throw notSubmittedAgain(provider.id, unanswered.requestId);
  let listed: ListedTask[];
  try {
    listed = await provider.findTasks(lost);
  } catch (err) {
    if (err instanceof ImagegenError && err.kind === 'interrupted') throw err;
    throw notSubmittedAgain(
      provider.id,
      unanswered.requestId,
      `its task list could not be read (${describeError(err)})`,
    );
  }
  const decision = await journal.decideLost(item, lost, listed);
  const when = `between ${clock(lost.from)} and ${clock(lost.to)}`;
  const ids = unanswered.requestId ? ` (request id ${unanswered.requestId})` : '';
  if (decision.decision === 'attach') {
    provider.tell?.(
      `${item}: the submit left unanswered in an earlier run${ids} made task ${decision.taskId} ${when}; re-attaching to it`,
    );
    return decision;
  }
  if (decision.decision === 'resubmit') {
    provider.tell?.(
      `${item}: no task of ${lost.model} was made ${when} by the submit left unanswered${ids}; submitting it again`,
    );
    return decision;
  }
  if (decision.decision === 'wait') {
    return Promise.reject(
      new ImagegenError(
        'network',
        `not submitted again yet: no task of ${lost.model} made ${when} is listed, but the submit left unanswered${ids} may still make one`,
        {
          provider: provider.id,
          code: SUBMIT_UNANSWERED,
          requestId: unanswered.requestId,
          hint: `run again with --resume after ${clock(decision.until)}`,
        },
      ),
    );
  }
  const found = decision.candidates.map((t) => `${t.taskId} (${t.status}, ${t.submitTime ?? 'time not given'})`);
  return Promise.reject(
    new ImagegenError(
      'failure',
      `not submitted again: ${decision.candidates.length} tasks of ${lost.model} were made ${when}, when its submit got no answer${ids}: ${found.join(', ')}`,
      {
        provider: provider.id,
        code: SUBMIT_AMBIGUOUS,
        requestId: unanswered.requestId,
        hint: `look at each (imagegen task show ${provider.id}:<id>) and finish this picture's with imagegen task wait ${provider.id}:<id>`,
      },
    ),
  );
}

/** An instant as UTC time of day with its date, for messages. */
function clock(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** An item whose submit in an earlier run got no answer: failed again, with what to look for, never resent. */
function notSubmittedAgain(provider: string, requestId: string | undefined, why = ''): ImagegenError {
  const ids = requestId ? ` (request id ${requestId})` : '';
  return new ImagegenError(
    'network',
    `not submitted again: its submit to ${provider} in an earlier run got no answer, so a task may have been created${ids}${why ? `; ${why}` : ''}`,
    {
      provider,
      code: SUBMIT_UNANSWERED,
      requestId,
      hint: 'look for the task in the provider console; if there is none, run this picture again without --resume',
    },
  );
}
