/**
 * The checks of `imagegen doctor` for each provider: offline, the key's shape, the base URL (https unless this
 * machine; a documented host, and of which region) and the model (known, offered in that region); online, for
 * a provider with a key that passed those, its client's no-cost probe: the host, the key, the account.
 */
import type { ResolvedConfig } from '../config/resolve.js';
import { describeError, isImagegenError } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import { isLoopbackHost, maasRegionOf } from '../kernel/hosts.js';
import { providerList } from '../providers/registry.js';
import { regionOfUrl } from '../providers/shared/regions.js';
import type {
  ProbeFinding,
  ProviderClient,
  ProviderDescriptor,
  ProviderRegion,
  ProviderSettings,
} from '../providers/types.js';
import { describeSource, failure, failureFrom, ok, warning, type CheckRecord } from './doctor-records.js';
import { isEditModel, keyCharacterFault, providerContext, taskLimits } from './providers.js';

/** Per request: a host that has not answered in this time is reported as not answering. */
const PROBE_TIMEOUT_MS = 5000;
/** A round trip longer than this is a warning. */
const SLOW_MS = 2000;

/** A key as its last four characters; nothing of a key too short to show any. */
function lastFour(key: string): string {
  return key.length >= 12 ? `…${key.slice(-4)}` : '…';
}

/** Key, base URL and model, and whether the online checks may use them (`true`), or why not. */
export function providerChecks(
  provider: ProviderDescriptor,
  resolved: ResolvedConfig,
  services: Services,
): { records: CheckRecord[]; send: boolean | string } {
  const settings = resolved.config.providers[provider.id];
  const tag = { provider: provider.id };
  const key = keyCheck(provider, settings, resolved, services);
  const url = baseUrlCheck(provider, settings, resolved);
  const model = modelCheck(provider, settings, url.region);
  const editModel = editModelCheck(provider, settings);
  const generateModel = generateModelCheck(provider, settings, url.region);
  const records = [
    key,
    url.record,
    model,
    ...(editModel ? [editModel] : []),
    ...(generateModel ? [generateModel] : []),
  ].map((r) => ({ ...r, ...tag }));
  // What stops the online checks: no key, or a key or host it must not be sent with or to.
  const send = !settings.apiKey
    ? false
    : key.status === 'failure'
      ? 'the key failed its offline check'
      : url.record.status === 'failure'
        ? 'the base URL failed its offline check'
        : true;
  return { records, send };
}

function keyCheck(
  provider: ProviderDescriptor,
  settings: ProviderSettings,
  resolved: ResolvedConfig,
  services: Services,
): CheckRecord {
  const check = `${provider.id}.key`;
  const env = provider.keyEnv[0];
  const key = settings.apiKey;
  if (!key) {
    const without = provider.capabilities.includes('edit')
      ? 'edit runs locally'
      : `cannot ${provider.capabilities.join(' or ')}`;
    return warning(check, `no ${provider.label} key: ${without}`, {
      hint: `set ${env}, or providers.${provider.id}.apiKey (imagegen init)`,
    });
  }
  const source = resolved.sources[`providers.${provider.id}.apiKey`];
  const fromEnv = source?.kind === 'env';
  // The env value as set: the config trims it, other tools reading the same variable may not.
  const raw = fromEnv ? (services.env[source.name] ?? key) : key;
  const inner = raw.trim();
  const shown = `${lastFour(inner)} from ${describeSource(source)}`;
  const fault = keyCharacterFault(raw, fromEnv);
  if (fault === 'inside') {
    return failure(check, `${shown} has a space, a line break or another character a key cannot have`, 'auth', {
      hint: `copy the key again from the ${provider.label} console`,
    });
  }
  if (fault === 'around') {
    return failure(check, `${shown} ends or starts with a line break or a space, and would be sent so`, 'auth', {
      hint: `remove it in ${describeSource(source)}`,
    });
  }
  const prefix = provider.keyPrefix;
  if (prefix && !inner.startsWith(prefix)) {
    const other = providerList().find((p) => p !== provider && p.keyPrefix && inner.startsWith(p.keyPrefix));
    if (other) {
      return failure(
        check,
        `${shown} looks like a ${other.label} key (${other.keyShape}), not a ${provider.label} one`,
        'auth',
        {
          certainty: 'inferred',
          hint: `${provider.label} keys look like ${provider.keyShape}; check ${env}`,
        },
      );
    }
    return warning(check, `${shown} does not start with ${prefix}, as ${provider.label} keys do`, {
      certainty: 'inferred',
      hint: `check ${env}`,
    });
  }
  if (raw !== inner) {
    return warning(
      check,
      `${shown} ends or starts with a line break or a space; imagegen trims it, other tools may not`,
      {
        hint: `set ${source?.kind === 'env' ? source.name : env} without it`,
      },
    );
  }
  if (!fromEnv) {
    return warning(check, `${shown} has the ${provider.label} shape, but sits in a file`, {
      hint: `prefer ${env}: a file is easily copied or committed (imagegen init writes keys with mode 600)`,
    });
  }
  return ok(check, `${shown} has the ${provider.label} shape (${provider.keyShape})`);
}

function regionOf(provider: ProviderDescriptor, url: URL): ProviderRegion | undefined {
  return regionOfUrl(provider.regions ?? [], url.href);
}

function baseUrlCheck(
  provider: ProviderDescriptor,
  settings: ProviderSettings,
  resolved: ResolvedConfig,
): { record: CheckRecord; region?: ProviderRegion } {
  const check = `${provider.id}.baseUrl`;
  const base = settings.baseUrl;
  const from = describeSource(resolved.sources[`providers.${provider.id}.baseUrl`]);
  const shown = from === 'the default' ? base : `${base} (from ${from})`;
  const url = new URL(base);
  const local = isLoopbackHost(url.hostname);
  if (url.protocol === 'http:' && !local) {
    return {
      record: failure(
        check,
        `${shown} is plain http to another machine: the key would cross the network readable`,
        'usage',
        {
          hint: `use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
        },
      ),
    };
  }
  const pathname = url.pathname.replace(/\/+$/, '');
  const region = regionOf(provider, url);
  const documented = (provider.regions ?? [])
    .map((r) => `${r.baseUrls[0] ?? `https://<workspace id>.${r.id}.maas.aliyuncs.com`} (${r.label})`)
    .join(', ');
  const workspace = region && !region.baseUrls.some((b) => new URL(b).host === url.host);
  const what = workspace ? `a workspace domain of ${region.label}` : `the documented host of ${region?.label}`;
  if (region && pathname === '') {
    const isDefault = base === provider.defaultBaseUrl ? ', the default' : '';
    return { record: ok(check, `${shown}: ${what}${isDefault}`), region };
  }
  if (region) {
    return {
      record: warning(check, `${shown}: ${what}, but with a path`, {
        hint: `the documented base URL is ${url.origin}`,
      }),
      region,
    };
  }
  const unlisted = provider.regions?.some((r) => r.workspaceDomains) ? maasRegionOf(url.hostname) : undefined;
  if (unlisted && url.protocol === 'https:') {
    return {
      record: warning(
        check,
        `${shown} is a Model Studio workspace domain of region ${unlisted}, which imagegen does not list`,
        {
          certainty: 'inferred',
          hint: `listed: ${(provider.regions ?? []).map((r) => `${r.id} (${r.label})`).join(', ')}; which models it offers is not known`,
        },
      ),
    };
  }
  if (local) {
    return {
      record: warning(
        check,
        `${shown} is this machine (a test server or a proxy), not a documented ${provider.label} host`,
        {
          hint: `the default is ${provider.defaultBaseUrl}`,
        },
      ),
    };
  }
  return {
    record: warning(check, `${shown} is not a documented ${provider.label} host`, {
      hint: documented ? `documented: ${documented}; a proxy must pass requests on unchanged` : undefined,
    }),
  };
}

function modelCheck(provider: ProviderDescriptor, settings: ProviderSettings, region?: ProviderRegion): CheckRecord {
  const check = `${provider.id}.model`;
  const { model } = settings;
  const known = provider.models;
  const documented = provider.modelOf ? provider.modelOf(model) : known?.includes(model) ? model : undefined;
  if (known && !documented) {
    return warning(
      check,
      `${model} is not a ${provider.label} model imagegen knows; the request it sends may not fit`,
      {
        certainty: 'inferred',
        hint: `known: ${known.join(', ')}`,
      },
    );
  }
  return regionCheck(check, provider, model, documented ?? model, region);
}

/** Whether the base URL's region offers the model (`named`: the documented model a snapshot stands for). */
function regionCheck(
  check: string,
  provider: ProviderDescriptor,
  model: string,
  named: string,
  region?: ProviderRegion,
): CheckRecord {
  const offering = (provider.regions ?? []).filter((r) => r.models.includes(named)).map((r) => r.label);
  if (region && !region.models.includes(named)) {
    const elsewhere = offering.length ? `; it is offered in ${offering.join(', ')}` : '';
    return failure(check, `${model} is not offered in ${region.label}${elsewhere}`, 'usage', {
      hint: offering.length
        ? `use the ${offering[0]} host with a key of that region (a key works only in its own region)`
        : 'choose another model',
    });
  }
  if (region) return ok(check, `${model}: offered in ${region.label}`);
  const where = offering.length ? `; offered in ${offering.join(', ')}` : '';
  return ok(check, `${model}: known${where} (the host's region is not known)`);
}

/** The edit model of a provider whose `model` is for `generate`: one `edit` can send, or a usage error. */
function editModelCheck(provider: ProviderDescriptor, settings: ProviderSettings): CheckRecord | undefined {
  const model = settings.editModel;
  if (!provider.editModels || model === undefined) return undefined;
  const check = `${provider.id}.editModel`;
  if (!isEditModel(provider, model)) {
    return failure(check, `${model} is not a ${provider.label} editing model imagegen can call`, 'usage', {
      hint: `${provider.label} editing models: ${provider.editModels.models.join(', ')}`,
    });
  }
  return ok(check, `${model}: an editing model imagegen sends pictures to`);
}

/** The text-to-image model of a provider whose `model` is for `edit`: one `generate` can call, in this region. */
function generateModelCheck(
  provider: ProviderDescriptor,
  settings: ProviderSettings,
  region?: ProviderRegion,
): CheckRecord | undefined {
  const models = provider.generateModels;
  const model = settings.generateModel;
  if (!models || model === undefined) return undefined;
  const check = `${provider.id}.generateModel`;
  const documented = models.modelOf ? models.modelOf(model) : models.models.includes(model) ? model : undefined;
  if (!documented) {
    return failure(check, `${model} is not a ${provider.label} text-to-image model imagegen can call`, 'usage', {
      hint: `${provider.label} text-to-image models: ${models.models.join(', ')}`,
    });
  }
  return regionCheck(check, provider, model, documented, region);
}

// ---------------------------------------------------------------------------------------------------------
// Online, per provider with a key: the host, the key, the account

/** The host, the key and the account, from the client's probe; nothing is sent unless `send` is true. */
export async function onlineChecks(
  provider: ProviderDescriptor,
  loaded: ProviderClient | undefined,
  resolved: ResolvedConfig,
  services: Services,
  send: boolean | string,
): Promise<CheckRecord[]> {
  const tag = { provider: provider.id };
  if (send === false) return [];
  if (send !== true) return [warning(`${provider.id}.auth`, `not checked online: ${send}`, tag)];
  const client = loaded?.doctor;
  if (!client) return [warning(`${provider.id}.auth`, `${provider.label} has no check that costs nothing`, tag)];
  const limits = { ...taskLimits(resolved), requestTimeoutMs: PROBE_TIMEOUT_MS };
  const ctx = providerContext(provider, resolved, services, limits);
  const host = new URL(ctx.settings.baseUrl).host;
  let report;
  try {
    report = await client.probe(ctx);
  } catch (err) {
    if (isImagegenError(err) && err.kind === 'interrupted') throw err;
    return [
      failureFrom(`${provider.id}.host`, err, {
        ...tag,
        message: `no answer from ${host}: ${describeError(err)}; key and account not checked`,
      }),
    ];
  }
  const ms = report.latencyMs;
  const hostRecord =
    ms > SLOW_MS
      ? warning(`${provider.id}.host`, `${host} answered in ${ms} ms, connecting included: slow`, { ...tag, ms })
      : ok(`${provider.id}.host`, `${host} answered in ${ms} ms, connecting included`, { ...tag, ms });
  const records = [hostRecord, finding(`${provider.id}.auth`, report.key, tag)];
  if (report.account) records.push(finding(`${provider.id}.account`, report.account, tag));
  if (report.generate) records.push(finding(`${provider.id}.generate`, report.generate, tag));
  return records;
}

function finding(check: string, found: ProbeFinding, tag: { provider: string }): CheckRecord {
  const { status, certainty, message, error } = found;
  return {
    check,
    ...tag,
    status,
    certainty,
    message,
    ...(error?.hint ? { hint: error.hint } : {}),
    ...(status === 'failure' ? { kind: error?.kind ?? 'failure' } : {}),
  };
}
