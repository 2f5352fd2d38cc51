/**
 * `imagegen doctor`: whether the config, keys, hosts, models, balance, the output folder and the loom settings
 * will work, found out before a batch and at no cost. The offline checks read the config and the disk; the
 * online ones (unless `offline`) send each provider that has a key only requests it answers without creating
 * a task (its client's `doctor.probe`), and never to a host a key must not be sent to.
 *
 * Every check is one record: ok, warning or failure, how sure it is, and the hint the error classes carry.
 * A failure's kind decides the exit code; the run ends with the most serious failure.
 */
import path from 'node:path';
import { loadConfigFile, type LoadedConfigFile } from '../config/load.js';
import { resolveLoomSettings } from '../config/loom.js';
import { resolveConfig, type FlagValue, type ResolvedConfig } from '../config/resolve.js';
import { styleTable } from '../config/styles.js';
import { findFormat } from '../formats/registry.js';
import { decodeImage } from '../image/decode.js';
import { ImagegenError, describeError, type ErrorKind } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import { providerList } from '../providers/registry.js';
import type { ProviderClient } from '../providers/types.js';
import { finishLoom } from '../stages/finish.js';
import { checkOutputFolder } from '../stages/write.js';
import { onlineChecks, providerChecks } from './doctor-providers.js';
import { describeSource, failureFrom, ok, warning, type CheckRecord } from './doctor-records.js';
import { configuredKeys } from './providers.js';

export type { CheckRecord } from './doctor-records.js';

export interface DoctorSpec {
  /** Skip everything that needs the network. */
  offline: boolean;
  /** A config file named on the command line (--config) or by IMAGEGEN_CONFIG. */
  configFile?: { path: string; from: string };
  /** Config keys set by flags (--out-dir). */
  flags: Record<string, FlagValue | undefined>;
}

/** Which failure decides the exit code: the first kind in this list that failed. */
const SEVERITY: readonly ErrorKind[] = [
  'auth',
  'quota',
  'network',
  'usage',
  'rate-limit',
  'moderation',
  'failure',
  'partial',
  'interrupted',
];

type Report = (record: CheckRecord) => void;

/** Runs every check, reporting each as it is known; throws the most serious failure at the end. */
export async function runDoctor(spec: DoctorSpec, services: Services, report: Report): Promise<CheckRecord[]> {
  const records: CheckRecord[] = [];
  const add = (record: CheckRecord) => {
    records.push(record);
    report(record);
  };

  const resolved = await configChecks(spec, services, add);
  if (resolved) {
    add(await outputCheck(resolved, services));
    add(await loomCheck(resolved, services));
    add(await localCheck(resolved, services));
    const offline = providerList().map((provider) => ({
      provider,
      ...providerChecks(provider, resolved, services),
    }));
    // Clients are loaded one after the other, then every provider is probed at once.
    const clients: Array<ProviderClient | undefined> = [];
    for (const { provider, send } of offline)
      clients.push(!spec.offline && send === true ? await provider.load() : undefined);
    const providers = offline.map(({ provider, records, send }, i) => ({
      offline: records,
      online: spec.offline ? Promise.resolve([]) : onlineChecks(provider, clients[i], resolved, services, send),
    }));
    for (const { offline, online } of providers) {
      offline.forEach(add);
      (await online).forEach(add);
    }
  }

  const counts = { ok: 0, warning: 0, failure: 0 };
  for (const r of records) counts[r.status]++;
  services.ui.info(
    `doctor: ${counts.ok} ok, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}, ` +
      `${counts.failure} failure${counts.failure === 1 ? '' : 's'}${spec.offline ? ' (offline)' : ''}`,
  );
  const verdict = mostSerious(records);
  if (verdict) throw verdict;
  return records;
}

/** The failure that decides the exit code, as the error that ends the run. */
function mostSerious(records: readonly CheckRecord[]): ImagegenError | undefined {
  const failures = records.filter((r) => r.status === 'failure');
  if (failures.length === 0) return undefined;
  const rank = (r: CheckRecord) => SEVERITY.indexOf(r.kind ?? 'failure');
  const worst = failures.reduce((a, b) => (rank(b) < rank(a) ? b : a));
  const others = failures.length - 1;
  return new ImagegenError(
    worst.kind ?? 'failure',
    `doctor: ${worst.check}: ${worst.message}${others ? ` (and ${others} more failed check${others === 1 ? '' : 's'})` : ''}`,
    { provider: worst.provider, hint: worst.hint },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Offline: config, output folder, loom settings, the local pipeline

async function configChecks(spec: DoctorSpec, services: Services, add: Report): Promise<ResolvedConfig | undefined> {
  const { cwd, home, env } = services;
  let file: LoadedConfigFile | undefined;
  // Folders the search could not look into: a config there, if any, would be missed.
  const unsearched: string[] = [];
  try {
    file = await loadConfigFile({
      explicitPath: spec.configFile?.path,
      cwd,
      home,
      fs: services.fs,
      onWarning: (message) => unsearched.push(message),
    });
  } catch (err) {
    add(failureFrom('config.file', err));
    return undefined;
  }
  for (const message of unsearched) add(warning('config.search', message));
  if (!file) add(ok('config.file', 'none found: defaults, env vars and flags only'));
  else if (spec.configFile) add(ok('config.file', `${file.path} (named by ${spec.configFile.from})`));
  else {
    add(ok('config.file', `${file.path}, the first found from ${cwd} upwards, then in ${home}`));
    const shadowed = await nextConfigFile(file.path, home);
    if (shadowed) {
      add(
        warning('config.file', `${shadowed} is there too, and is not read: only the first file found is`, {
          hint: `move its settings into ${file.path}, or name the one to use with --config`,
        }),
      );
    }
  }

  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig({ file, env, flags: spec.flags });
  } catch (err) {
    add(failureFrom('config.values', err));
    return undefined;
  }
  services.redactor.add(configuredKeys(resolved));

  const groups = new Map<string, string[]>();
  for (const [key, source] of Object.entries(resolved.sources)) {
    if (source.kind === 'default') continue;
    const from = source.kind === 'file' ? 'the file' : `${source.kind} ${source.name}`;
    groups.set(from, [...(groups.get(from) ?? []), key]);
  }
  const parts = [...groups].map(([from, keys]) => `${keys.join(', ')} from ${from}`);
  add(
    ok(
      'config.values',
      parts.length ? `${parts.join('; ')}; the rest are defaults` : 'all defaults',
      parts.length ? { hint: '`imagegen config` shows every value and where it comes from' } : {},
    ),
  );
  for (const text of resolved.warnings) add(warning('config.values', text));
  return resolved;
}

/** The config file the search would find next, after the one read: one that is silently not read. */
async function nextConfigFile(used: string, home: string): Promise<string | undefined> {
  const above = path.dirname(path.dirname(used));
  if (above === path.dirname(used)) return undefined;
  try {
    const next = await loadConfigFile({ cwd: above, home });
    return next && next.path !== used ? next.path : undefined;
  } catch {
    // Unreadable: it is not read either way, and the file in use is what matters here.
    return undefined;
  }
}

async function outputCheck(resolved: ResolvedConfig, services: Services): Promise<CheckRecord> {
  const dir = path.resolve(services.cwd, resolved.config.output.dir ?? '.');
  const from = describeSource(resolved.sources['output.dir']);
  let existing: string;
  try {
    existing = await checkOutputFolder(services.fs, dir);
  } catch (err) {
    const record = failureFrom('output.dir', err);
    return { ...record, message: `${record.message} (output.dir from ${from})` };
  }
  if (existing !== dir)
    return ok('output.dir', `${dir} does not exist yet; ${existing} is writable, and edit creates the rest`);
  return ok('output.dir', `${dir} is writable (${from === 'the default' ? 'the current folder' : `from ${from}`})`);
}

async function loomCheck(resolved: ResolvedConfig, services: Services): Promise<CheckRecord> {
  const styles = styleTable(resolved.config.styles);
  for (const style of styles) {
    try {
      await resolveLoomSettings(resolved, style, services.fs);
    } catch (err) {
      // A palette the config names is a config problem, whatever the reader calls it.
      return failureFrom('loom', err, { message: `style ${style.name}: ${describeError(err)}`, kind: 'usage' });
    }
  }
  const loom = resolved.config.loom;
  const palette = loom.palette === undefined ? '' : ', a fixed palette';
  return ok(
    'loom',
    `${loom.width} ends, ${loom.colors} colours${palette}, regions of at least ${loom.minRegion} px, dither ${loom.dither}; ` +
      `styles ${styles.map((s) => s.name).join(', ')} resolve`,
  );
}

/** Weaves a tiny picture in-process: decoders, pipeline and encoder are all there, nothing outside is used. */
async function localCheck(resolved: ResolvedConfig, services: Services): Promise<CheckRecord> {
  const started = services.now();
  const format = resolved.config.output.format;
  try {
    const side = 8;
    const indices = new Uint8Array(side * side).map((_, i) => ((i % side) + Math.floor(i / side)) % 2);
    const picture = findFormat('png').encode(
      { width: side, height: side, indices, palette: new Uint8Array([20, 20, 20, 240, 235, 220]) },
      [],
    );
    const decoded = await decodeImage(picture, 'doctor test picture');
    const woven = await finishLoom(decoded, { width: 4, colors: 2, dither: 'none', minRegion: 1 });
    findFormat(format).encode(woven.image, []);
  } catch (err) {
    return failureFrom('local', err, {
      message: `the local pipeline failed on a test picture: ${describeError(err)}`,
      hint: 'reinstall imagegen (npm install): its decoders ship with it',
    });
  }
  const ms = Math.round(services.now() - started);
  return ok(
    'local',
    `a test picture was decoded (PNG, WebAssembly), woven and written as ${format} in-process in ${ms} ms: ` +
      'nothing outside imagegen is needed (no ImageMagick)',
  );
}
