/** `imagegen styles` and `imagegen config`: listings on stdout, or NDJSON with --json. */
import { configRows } from '../../config/resolve.js';
import { styleTable } from '../../config/styles.js';
import { providersWith } from '../../providers/registry.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { configFlags } from '../options.js';
import { createServices, loadConfig } from '../services.js';

export async function stylesCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, {}, services);
  const { chalk } = services.ui;
  for (const style of styleTable(resolved.config.styles)) {
    if (opts.json) {
      services.ui.data({ ...style });
      continue;
    }
    const loom = Object.entries(style.loom)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
      .join(' ');
    ctx.stdout.write(
      `${chalk.bold(style.name)}${style.builtIn ? '' : ' (config)'}  ${style.description}\n` +
        `  remote: ${style.function}${style.strength === undefined ? '' : `, strength ${style.strength}`}: "${style.prompt}"\n` +
        `  local:  ${loom || 'the configured loom settings'}\n`,
    );
  }
  if (opts.json) return;
  // What each edit model does with the remote instruction, and what it takes.
  for (const provider of providersWith('edit')) {
    if (!provider.modelNotes) continue;
    ctx.stdout.write(`\n${chalk.bold(`${provider.label} models`)} (-m, or providers.${provider.id}.model)\n`);
    for (const note of provider.modelNotes) {
      const isDefault = note.model === provider.defaultModel ? ' (default)' : '';
      ctx.stdout.write(`${note.model}${isDefault}  ${note.does}\n  ${note.limits}\n`);
    }
  }
}

export async function configCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, configFlags(opts), services);
  const rows = configRows(resolved);
  if (opts.json) {
    for (const row of rows) services.ui.data(row);
    return;
  }
  const { chalk } = services.ui;
  const width = Math.max(...rows.map((r) => r.key.length));
  ctx.stdout.write(`config file: ${resolved.file ?? '(none found)'}\n`);
  for (const row of rows) {
    const value =
      row.value === undefined
        ? chalk.dim('(unset)')
        : typeof row.value === 'string'
          ? row.value
          : JSON.stringify(row.value);
    ctx.stdout.write(`${row.key.padEnd(width)}  ${value}  ${chalk.dim(`(${row.source})`)}\n`);
  }
}
