/** Which provider a job uses, and the context its calls run in (settings, limits, services). */
import type { ResolvedConfig } from '../config/resolve.js';
import { checkBaseUrl } from '../config/base-url.js';
import { AuthError, UsageError } from '../kernel/errors.js';
import type { Services } from '../kernel/ports.js';
import { findProvider, providerList, providersWith } from '../providers/registry.js';
import type { ProviderGate } from '../providers/shared/gate.js';
import type { JournaledProvider } from './journal.js';
import {
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  DEFAULT_MAX_DOWNLOAD_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Capability,
  type ProviderContext,
  type ProviderDescriptor,
  type TaskLimits,
} from '../providers/types.js';

export function taskLimits(resolved: ResolvedConfig, maxDownloadMb?: number): TaskLimits {
  return {
    polling: resolved.config.polling,
    retry: resolved.config.retry,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    maxDownloadBytes: maxDownloadMb === undefined ? DEFAULT_MAX_DOWNLOAD_BYTES : maxDownloadMb * 1000 * 1000,
    downloadTimeoutMs: DEFAULT_DOWNLOAD_TIMEOUT_MS,
  };
}

function apiKeyOf(resolved: ResolvedConfig, provider: Pick<ProviderDescriptor, 'id'>): string | undefined {
  return resolved.config.providers[provider.id]?.apiKey;
}

/** Every configured key, for the redactor. */
export function configuredKeys(resolved: ResolvedConfig): string[] {
  return providerList()
    .map((p) => apiKeyOf(resolved, p))
    .filter((key): key is string => key !== undefined);
}

/** A provider chosen for a capability, and why that one. */
export interface ChosenProvider {
  provider: ProviderDescriptor;
  /** Whether it has a key. */
  keyed: boolean;
  /** Why this provider: `--provider`, `edit.provider (file …)`, the first with a key, or none has one. */
  reason: string;
}

/**
 * The provider for a capability: the one named (flag or config, `namedBy` says which), else the first that
 * has a key, else the first that offers it.
 */
function chooseProvider(
  resolved: ResolvedConfig,
  capability: Capability,
  named?: string,
  namedBy = '--provider',
): ChosenProvider {
  const offering = providersWith(capability);
  if (named !== undefined) {
    const provider = findProvider(named);
    if (!provider || !provider.capabilities.includes(capability)) {
      throw new UsageError(`no provider "${named}" for ${capability}`, {
        hint: `known: ${offering.map((p) => p.id).join(', ')}`,
      });
    }
    const keyed = Boolean(apiKeyOf(resolved, provider));
    return { provider, keyed, reason: `named by ${namedBy}${keyed ? '' : ', but it has no key'}` };
  }
  const order = offering.map((p) => p.id).join(', ');
  const keyed = offering.find((p) => apiKeyOf(resolved, p));
  if (keyed) return { provider: keyed, keyed: true, reason: `the first with a key, in the order ${order}` };
  return { provider: offering[0], keyed: false, reason: `none of ${order} has a key` };
}

/**
 * The provider a capability uses: `--provider` (`named`), else its config key (edit.provider,
 * generate.provider), else the first with a key.
 */
function providerFor(resolved: ResolvedConfig, capability: Capability, named?: string): ChosenProvider {
  if (named !== undefined) return chooseProvider(resolved, capability, named, '--provider');
  const key = `${capability}.provider`;
  const source = resolved.sources[key];
  const where =
    source === undefined || source.kind === 'default' ? '' : source.kind === 'file' ? source.path : source.name;
  return chooseProvider(
    resolved,
    capability,
    resolved.config[capability].provider,
    `${key}${where ? ` (${where})` : ''}`,
  );
}

/** The provider `edit` uses: `--provider` (`named`), else edit.provider, else the first with a key. */
export function editProvider(resolved: ResolvedConfig, named?: string): ChosenProvider {
  return providerFor(resolved, 'edit', named);
}

/** The provider `generate` uses: `--provider` (`named`), else generate.provider, else the first with a key. */
export function generateProvider(resolved: ResolvedConfig, named?: string): ChosenProvider {
  return providerFor(resolved, 'generate', named);
}

/** The edit models imagegen can call on a provider, where it knows them all; undefined when it takes any. */
export function editModelList(provider: ProviderDescriptor): readonly string[] | undefined {
  if (provider.editModels) return provider.editModels.models;
  return provider.modelOf ? provider.models : undefined;
}

/** Whether `edit` can call the provider with this model (a dated snapshot of a known one counts). */
export function isEditModel(provider: ProviderDescriptor, model: string): boolean {
  if (provider.editModels) return provider.editModels.models.includes(model);
  return !provider.modelOf || provider.modelOf(model) !== undefined;
}

/**
 * The model a capability uses on a provider: its own edit (or generate) model where it has one, else
 * providers.<id>.model.
 */
export function modelFor(provider: ProviderDescriptor, resolved: ResolvedConfig, capability: Capability): string {
  const settings = resolved.config.providers[provider.id];
  if (capability === 'edit' && provider.editModels && settings.editModel) return settings.editModel;
  if (capability === 'generate' && provider.generateModels && settings.generateModel) return settings.generateModel;
  return settings.model;
}

/**
 * What is wrong with a key's characters, as set (`raw`): a space, a line break or a control character inside
 * it, or around it in a file (an environment variable is trimmed). Such a key would fail every request as if
 * the network were down.
 */
export function keyCharacterFault(raw: string, fromEnv: boolean): 'inside' | 'around' | undefined {
  const inner = raw.trim();
  if (/[^\x21-\x7e]/.test(inner)) return 'inside';
  if (raw !== inner && !fromEnv) return 'around';
  return undefined;
}

/** Refuses (usage error, before any request) a configured key that could not be sent as it is. */
export function checkKeyCharacters(
  provider: Pick<ProviderDescriptor, 'id' | 'label'>,
  resolved: ResolvedConfig,
  env: Record<string, string | undefined>,
): void {
  const key = apiKeyOf(resolved, provider);
  if (!key) return;
  const source = resolved.sources[`providers.${provider.id}.apiKey`];
  const fromEnv = source?.kind === 'env';
  const raw = source?.kind === 'env' ? (env[source.name] ?? key) : key;
  const fault = keyCharacterFault(raw, fromEnv);
  if (!fault) return;
  const where =
    source?.kind === 'env'
      ? source.name
      : `providers.${provider.id}.apiKey${source?.kind === 'file' ? ` in ${source.path}` : ''}`;
  throw new UsageError(
    fault === 'inside'
      ? `${where}: the ${provider.label} key has a space, a line break or another character a key cannot have`
      : `${where}: the ${provider.label} key starts or ends with a line break or a space`,
    { provider: provider.id, hint: `copy the key again from the ${provider.label} console` },
  );
}

export function missingKeyError(provider: ProviderDescriptor): AuthError {
  return new AuthError(`no ${provider.label} key configured`, {
    provider: provider.id,
    hint: `set ${provider.keyEnv[0]}, or providers.${provider.id}.apiKey in .imagegenrc.json (imagegen init)`,
  });
}

export function providerContext(
  provider: ProviderDescriptor,
  resolved: ResolvedConfig,
  services: Services,
  limits: TaskLimits,
  model?: string,
): ProviderContext {
  const settings = resolved.config.providers[provider.id];
  return {
    provider,
    settings: { ...settings, model: model ?? settings.model, apiKey: settings.apiKey ?? '(no key configured)' },
    limits,
    http: services.http,
    sleep: services.sleep,
    now: services.now,
    ui: services.ui,
    redactor: services.redactor,
    signal: services.signal,
  };
}

/**
 * The provider's gate for one run, shared by all its items (loaded only when a request will be made).
 * Cool-downs are announced once, for all; so is a base URL that is not the provider's default.
 */
export async function openGate(
  ctx: ProviderContext,
  resolved: ResolvedConfig,
  services: Services,
): Promise<ProviderGate> {
  checkBaseUrl(resolved, ctx.provider);
  checkKeyCharacters(ctx.provider, resolved, services.env);
  await announceBaseUrl(ctx, services);
  const { ProviderGate } = await import('../providers/shared/gate.js');
  return new ProviderGate(ctx.settings.limits, {
    now: services.now,
    sleep: services.sleep,
    minCoolDownMs: resolved.config.retry.minTimeoutMs,
    retries: resolved.config.retry.retries,
    onCoolDown: (ms, err) =>
      services.ui.warn(`${err.message}; retrying in ${(ms / 1000).toFixed(1)} s, and every other submit waits too`),
  });
}

/**
 * One line when the provider's requests go somewhere other than its documented hosts (a proxy, a stand-in);
 * a region's own host is documented, and says nothing.
 */
async function announceBaseUrl(ctx: ProviderContext, services: Services): Promise<void> {
  const descriptor = findProvider(ctx.provider.id);
  const standard = descriptor?.defaultBaseUrl;
  const { baseUrl } = ctx.settings;
  if (standard === undefined || new URL(baseUrl).href === new URL(standard).href) return;
  const { regionOfUrl } = await import('../providers/shared/regions.js');
  if (regionOfUrl(descriptor?.regions ?? [], baseUrl)) return;
  services.ui.info(`sending ${ctx.provider.label} requests to ${baseUrl} (not the default ${standard})`);
}

/**
 * The provider as the journal sees it: with a way to find, in the account's task list, a task made by a
 * submit that got no answer, where the provider lists tasks of this model.
 */
export function journalProvider(provider: ProviderDescriptor, ctx: ProviderContext): JournaledProvider {
  const model = ctx.settings.model;
  return {
    id: provider.id,
    model,
    findTasks: provider.listsTasksOf?.(model)
      ? async (lost) => {
          const list = (await provider.load()).task?.list;
          if (!list) throw new Error(`${provider.label} has no task list`);
          return list({ from: lost.from, to: lost.to, model: lost.model }, ctx);
        }
      : undefined,
    tell: (message) => ctx.ui.info(message),
  };
}
