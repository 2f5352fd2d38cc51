/** `imagegen task show|wait|cancel <provider>:<task-id>` and `task find`: options -> spec -> the task job. */
import type { TaskAction, TaskSpec } from '../../jobs/task.js';
import { UsageError } from '../../kernel/errors.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { configFlags, maxDownloadOption, reportChoice, weaveChoice } from '../options.js';
import { createServices, loadConfig } from '../services.js';

const ACTIONS: readonly (TaskAction | 'find')[] = ['show', 'wait', 'cancel', 'find'];
/** The options of `task find`, which no other action takes. */
const FIND_OPTIONS = ['--since', '--model', '--provider'];

export async function taskCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  action: string,
  ref: string | undefined,
  typed: readonly string[] = [],
): Promise<void> {
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`task: expected show, wait, cancel or find, got "${action}"`);
  }
  if (action === 'find') return findCommand(ctx, opts, ref, typed);
  if (ref === undefined) throw new UsageError(`task ${action} needs <provider>:<task-id>`);
  const notHere = typed.filter((o) => FIND_OPTIONS.includes(o) || action !== 'wait');
  if (notHere.length > 0) {
    throw new UsageError(
      `task ${action} takes no ${notHere.join(', ')}: such options are for task ${notHere.some((o) => FIND_OPTIONS.includes(o)) ? 'find' : 'wait'}`,
      {
        hint: `imagegen task ${action} ${ref}`,
      },
    );
  }
  const services = await createServices(ctx, opts);
  const weave = weaveChoice(opts);
  const spec: TaskSpec = {
    action: action as TaskAction,
    ref,
    style: opts.style as string,
    output: opts.output as string | undefined,
    force: opts.force === true,
    report: reportChoice(opts),
    maxDownloadMb: maxDownloadOption(opts.maxDownload),
    weave: weave.flags,
  };
  const resolved = await loadConfig(ctx, opts, configFlags(opts, weave.map), services);
  const { runTask } = await import('../../jobs/task.js');
  await runTask(spec, resolved, services);
}

/** `task find --since <time> [--model M] [--provider P]`: one line (or record) per task on stdout. */
async function findCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  ref: string | undefined,
  typed: readonly string[],
): Promise<void> {
  if (ref !== undefined)
    throw new UsageError(`task find takes no task id, got "${ref}"`, { hint: 'imagegen task find --since 2h' });
  const other = typed.filter((o) => !FIND_OPTIONS.includes(o));
  if (other.length > 0) throw new UsageError(`task find takes no ${other.join(', ')}`);
  if (typeof opts.since !== 'string')
    throw new UsageError('task find needs --since <time>', { hint: 'such as --since 2h' });
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, {}, services);
  const { findTasks } = await import('../../jobs/task.js');
  const found = await findTasks(
    {
      since: opts.since,
      model: opts.model as string | undefined,
      provider: opts.provider as string | undefined,
    },
    resolved,
    services,
  );
  for (const task of found) {
    if (opts.json) {
      services.ui.data({
        provider: task.provider,
        taskId: task.taskId,
        status: task.status,
        model: task.model ?? null,
        submitTime: task.submitTime ?? null,
      });
    } else {
      const cells = [`${task.provider}:${task.taskId}`, task.status, task.model ?? '-', task.submitTime ?? '-'];
      ctx.stdout.write(services.redactor.text(cells.join('  ')) + '\n');
    }
  }
}
