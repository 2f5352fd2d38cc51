/** `imagegen styles` and `imagegen config`: listings on stdout, or NDJSON with --json. */
import { Chalk } from 'chalk';
import { configRows } from '../../config/resolve.js';
import { styleInstruction, styleTable } from '../../config/styles.js';
import { editProvider, generateProvider } from '../../jobs/providers.js';
import type { EditInstruction } from '../../providers/types.js';
import { providersWith } from '../../providers/registry.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { configFlags } from '../options.js';
import { createServices, loadConfig } from '../services.js';

function describeInstruction(instruction: EditInstruction): string {
  const options = [
    instruction.function,
    instruction.strength === undefined ? undefined : `strength ${instruction.strength}`,
  ].filter(Boolean);
  return `${options.length ? `${options.join(', ')}: ` : ''}"${instruction.prompt}"`;
}

export async function stylesCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, {}, services);
  const chalk = new Chalk({ level: services.ui.colorLevel });
  const editors = providersWith('edit');
  const width = Math.max(...editors.map((p) => p.id.length)) + 1;
  for (const style of styleTable(resolved.config.styles)) {
    const instructions = Object.fromEntries(editors.map((p) => [p.id, styleInstruction(style, p)]));
    if (opts.json) {
      services.ui.data({ ...style, instructions });
      continue;
    }
    const loom = Object.entries(style.loom)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
      .join(' ');
    const remote = editors.map((p) => `  ${`${p.id}:`.padEnd(width)} ${describeInstruction(instructions[p.id])}\n`);
    ctx.stdout.write(
      `${chalk.bold(style.name)}${style.builtIn ? '' : ' (config)'}  ${style.description}\n` +
        remote.join('') +
        `  ${'local:'.padEnd(width)} ${loom || 'the configured loom settings'}\n`,
    );
  }
  if (opts.json) return;
  // What each provider, and each of its edit models, does with the instruction, and what it takes.
  const chosen = editProvider(resolved);
  ctx.stdout.write(`\nedit sends the picture and its style's instruction to one provider (--provider <id>):\n`);
  for (const provider of editors) {
    const used = provider.id === chosen.provider.id ? chalk.dim(` (used now: ${chosen.reason})`) : '';
    const key = provider.editModels ? 'editModel' : 'model';
    ctx.stdout.write(`\n${chalk.bold(`${provider.label} models`)} (-m, or providers.${provider.id}.${key})${used}\n`);
    const defaultModel = provider.editModels?.defaultModel ?? provider.defaultModel;
    for (const note of provider.modelNotes ?? []) {
      const isDefault = note.model === defaultModel ? ' (default)' : '';
      ctx.stdout.write(`${note.model}${isDefault}  ${note.does}\n  ${note.limits}\n`);
    }
  }
  ctx.stdout.write('\nevery result is then finished by the local loom pipeline, as with --local\n');
  // The text-to-image models, where a provider lists them (generate --style finishes their pictures too).
  const generator = generateProvider(resolved);
  for (const provider of providersWith('generate')) {
    const models = provider.generateModels;
    if (!models?.notes) continue;
    const used = provider.id === generator.provider.id ? chalk.dim(` (used now: ${generator.reason})`) : '';
    ctx.stdout.write(
      `\n${chalk.bold(`${provider.label} text-to-image models`)} (generate -m, or providers.${provider.id}.generateModel)${used}\n`,
    );
    for (const note of models.notes) {
      const isDefault = note.model === models.defaultModel ? ' (default)' : '';
      ctx.stdout.write(`${note.model}${isDefault}  ${note.does}\n  ${note.limits}\n`);
    }
  }
}

export async function configCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, configFlags(opts), services);
  const rows = configRows(resolved);
  // Which provider `edit` will use, and why: a row of its own, as it is derived, not set.
  const chosen = editProvider(resolved);
  const editUse = {
    key: 'edit (provider in use)',
    value: chosen.provider.id,
    source: chosen.keyed ? chosen.reason : `${chosen.reason}: edit runs the local pipeline`,
  };
  const generator = generateProvider(resolved);
  const generateUse = {
    key: 'generate (provider in use)',
    value: generator.provider.id,
    source: generator.keyed ? generator.reason : `${generator.reason}: generate would stop with exit code 3`,
  };
  if (opts.json) {
    for (const row of rows) services.ui.data(row);
    services.ui.data(editUse);
    services.ui.data(generateUse);
    return;
  }
  const chalk = new Chalk({ level: services.ui.colorLevel });
  const width = Math.max(...rows.map((r) => r.key.length));
  ctx.stdout.write(`config file: ${resolved.file ?? '(none found)'}\n`);
  ctx.stdout.write(`edit uses:   ${editUse.value} (${editUse.source})\n`);
  ctx.stdout.write(`generate uses: ${generateUse.value} (${generateUse.source})\n`);
  for (const row of rows) {
    // A value that nothing sets has no source to name: "(unset)" once.
    const shown =
      row.value === undefined
        ? chalk.dim(row.source === 'unset' ? '(unset)' : `(unset)  (${row.source})`)
        : `${typeof row.value === 'string' ? row.value : JSON.stringify(row.value)}  ${chalk.dim(`(${row.source})`)}`;
    ctx.stdout.write(`${row.key.padEnd(width)}  ${shown}\n`);
  }
}
