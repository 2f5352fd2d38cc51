/** `imagegen sheet <folder>` and `--sheet`: the contact sheet of a folder of results, or of the run just made. */
import path from 'node:path';
import { UsageError, type ImagegenError } from '../../kernel/errors.js';
import type { JobRecord } from '../../kernel/records.js';
import type { Services } from '../../kernel/ports.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { createServices } from '../services.js';
import type { CliServices } from '../services.js';

export async function sheetCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  folder: string,
): Promise<void> {
  const services = await createServices(ctx, opts);
  const { itemsFromFolder, writeSheet } = await import('../../jobs/sheet.js');
  const dir = path.resolve(ctx.cwd, folder);
  const journal = typeof opts.journal === 'string' ? path.resolve(ctx.cwd, opts.journal) : undefined;
  const items = await itemsFromFolder(dir, services.fs, ctx.cwd, journal);
  if (items.length === 0) {
    throw new UsageError(`${folder}: no imagegen reports (*.json) here, and no failures in a journal`, {
      hint: 'point it at an --out-dir of an earlier edit or generate run, with reports kept',
    });
  }
  const file = await writeSheet(items, dir, { force: opts.force === true, title: path.basename(dir) }, services.fs);
  if (opts.json) services.ui.data({ status: 'ok', output: file, items: items.length });
  else ctx.stdout.write(file + '\n');
}

/** --sheet: where the run's index.html goes (the folder of -o, else the output folder). */
export function sheetDir(ctx: CliContext, resolved: ResolvedConfig, output: string | undefined): string {
  if (output !== undefined) return path.dirname(path.resolve(ctx.cwd, output));
  return path.resolve(ctx.cwd, resolved.config.output.dir ?? '.');
}

/**
 * Runs `job` with its records collected, then writes the sheet of them: after a whole run, and after one
 * where some items failed (the sheet shows why), but not after Ctrl-C or a usage error.
 */
export async function withSheet(
  ctx: CliContext,
  services: CliServices & Services,
  dir: string,
  force: boolean,
  job: (services: CliServices & Services) => Promise<void>,
): Promise<void> {
  const { checkSheetTarget, itemsFromRecords, writeSheet } = await import('../../jobs/sheet.js');
  // Checked before anything is paid for: a sheet that cannot be written is known at once.
  await checkSheetTarget(services.fs, dir, force);
  const records: JobRecord[] = [];
  const ui = services.ui;
  const collecting = {
    ...services,
    ui: {
      ...ui,
      result(record: JobRecord) {
        records.push(record);
        ui.result(record);
      },
    },
  };
  let failure: unknown;
  try {
    await job(collecting);
  } catch (err) {
    failure = err;
  }
  const kind = (failure as ImagegenError | undefined)?.kind;
  if (records.length > 0 && kind !== 'interrupted' && kind !== 'usage') {
    try {
      const items = await itemsFromRecords(records, services.fs, ctx.cwd);
      const file = await writeSheet(items, dir, { force, title: path.basename(dir) }, services.fs);
      ui.info(`contact sheet: ${file}`);
    } catch (err) {
      if (failure === undefined) throw err;
      ui.warn(`the contact sheet was not written: ${(err as Error).message}`);
    }
  }
  if (failure !== undefined) throw failure;
}
