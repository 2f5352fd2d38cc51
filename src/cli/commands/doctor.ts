/**
 * `imagegen doctor`: options -> DoctorSpec -> the doctor job. Each check is one line on stdout
 * (`<status> <check>: <message> [inferred, exit N]` and an indented hint), or one NDJSON record with --json
 * carrying the same fields; the exit code is the most serious failure's.
 */
import { Chalk } from 'chalk';
import type { CheckRecord, DoctorSpec } from '../../jobs/doctor.js';
import { escapeControls } from '../../kernel/redact.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { configFlags } from '../options.js';
import { createServices, type CliServices } from '../services.js';

/** A check as --json prints it: the record's fields in a fixed order, with the exit code of a failure. */
function checkJson(record: CheckRecord): Record<string, unknown> {
  const { check, provider, status, certainty, message, hint, kind, ms } = record;
  return {
    check,
    ...(provider ? { provider } : {}),
    status,
    certainty,
    message,
    ...(hint ? { hint } : {}),
    ...(kind ? { kind, exitCode: EXIT_CODES[kind] } : {}),
    ...(ms === undefined ? {} : { ms }),
  };
}

function checkLine(record: CheckRecord, services: CliServices): string {
  const chalk = new Chalk({ level: services.ui.colorLevel });
  const clean = (text: string) => escapeControls(services.redactor.text(text));
  const paint = { ok: chalk.green, warning: chalk.yellow, failure: chalk.red }[record.status];
  const tags = [
    record.certainty === 'inferred' ? 'inferred' : undefined,
    record.kind ? `exit ${EXIT_CODES[record.kind]}` : undefined,
  ].filter(Boolean);
  const head = `${paint(record.status.padEnd(7))} ${record.check}: ${clean(record.message)}`;
  const tail = tags.length ? ` ${chalk.dim(`[${tags.join(', ')}]`)}` : '';
  const hint = record.hint ? `\n        ${chalk.dim('hint:')} ${clean(record.hint)}` : '';
  return `${head}${tail}${hint}\n`;
}

export async function doctorCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const named = opts.config ?? (ctx.env.IMAGEGEN_CONFIG || undefined);
  const spec: DoctorSpec = {
    offline: opts.offline === true,
    configFile: named ? { path: named, from: opts.config ? '--config' : 'IMAGEGEN_CONFIG' } : undefined,
    flags: configFlags(opts),
  };
  const { runDoctor } = await import('../../jobs/doctor.js');
  // The HTTP client loads got on its first request; loaded now, a host's round trip does not include it.
  if (!spec.offline) await import('got');
  await runDoctor(spec, services, (record) => {
    if (opts.json) services.ui.data(checkJson(record));
    else ctx.stdout.write(checkLine(record, services));
  });
}
