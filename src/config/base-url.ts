/**
 * Where keys may be sent: a provider's base URL must be https, unless it is this machine (a local stand-in or
 * the test suite's fake server), where plain http reads nothing on the way. Checked for the provider a run is
 * about to call, before its first request; a provider the run does not call is not its concern.
 */
import { UsageError } from '../kernel/errors.js';
import { isLoopbackHost } from '../kernel/hosts.js';
import { configRows, type ResolvedConfig } from './resolve.js';

/** Refuses (a usage error, exit 2) a base URL of `provider` that would carry its key over plain http to another host. */
export function checkBaseUrl(resolved: ResolvedConfig, provider: { id: string }): void {
  const key = `providers.${provider.id}.baseUrl`;
  const baseUrl = resolved.config.providers[provider.id]?.baseUrl;
  if (baseUrl === undefined) return;
  const url = new URL(baseUrl);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return;
  const source = configRows(resolved).find((row) => row.key === key)?.source ?? 'unset';
  throw new UsageError(`${key} (${source}): ${baseUrl} would send the key unencrypted; use https`, {
    hint: 'plain http is accepted only to this machine (127.0.0.0/8, ::1, localhost)',
    provider: provider.id,
  });
}
