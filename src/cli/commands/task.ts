/** `imagegen task show|wait|cancel <provider>:<task-id>`: options -> TaskSpec -> the task job. */
import type { TaskAction, TaskSpec } from '../../jobs/task.js';
import { UsageError } from '../../kernel/errors.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { configFlags, maxDownloadOption, reportChoice, weaveChoice } from '../options.js';
import { createServices, loadConfig } from '../services.js';

const ACTIONS: readonly TaskAction[] = ['show', 'wait', 'cancel'];

export async function taskCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  action: string,
  ref: string,
  typed: readonly string[] = [],
): Promise<void> {
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`task: expected show, wait or cancel, got "${action}"`);
  }
  if (action !== 'wait' && typed.length > 0) {
    throw new UsageError(`task ${action} takes no ${typed.join(', ')}: such options are for task wait`, {
      hint: `imagegen task ${action} ${ref}`,
    });
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
