/** Builds the edit request and its dependencies from parsed options, then calls the core. */
import type { ResolvedConfig } from '../core/config/resolve.js';
import { runEdit, type EditRequest } from '../core/edit.js';
import { nodeOutputFs } from '../core/output.js';
import type { CliContext, GlobalOptions } from './context.js';
import { readText } from './shared.js';
import type { TerminalUi } from './ui.js';

export async function runEditCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  resolved: ResolvedConfig,
  inputs: string[],
  ui: TerminalUi,
): Promise<void> {
  const request: EditRequest = {
    inputs,
    style: opts.style as string,
    local: opts.local === true,
    output: opts.output as string | undefined,
    force: opts.force === true,
    report: opts.report !== false,
    reportPath: typeof opts.report === 'string' ? opts.report : undefined,
    loom: {
      height: opts.height as string | undefined,
      density: opts.density as string | undefined,
      background: opts.background as string | undefined,
    },
  };
  await runEdit(request, { resolved, ui, fs: nodeOutputFs, readText, cwd: ctx.cwd, signal: ctx.signal });
}
