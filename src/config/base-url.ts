/**
 * Where keys may be sent: a provider's base URL must be https, unless it is this machine (a local stand-in or
 * the test suite's fake server), where plain http reads nothing on the way.
 */
import { UsageError } from '../kernel/errors.js';
import { providerList } from '../providers/registry.js';
import { configRows, type ResolvedConfig } from './resolve.js';

/** 127.0.0.0/8, ::1 and localhost. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Refuses (a usage error, exit 2) any provider base URL that would carry a key over plain http to another host. */
export function checkBaseUrls(resolved: ResolvedConfig): void {
  for (const provider of providerList()) {
    const key = `providers.${provider.id}.baseUrl`;
    const baseUrl = resolved.config.providers[provider.id]?.baseUrl;
    if (baseUrl === undefined) continue;
    const url = new URL(baseUrl);
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) continue;
    const source = configRows(resolved).find((row) => row.key === key)?.source ?? 'unset';
    throw new UsageError(`${key} (${source}): ${baseUrl} would send the key unencrypted; use https`, {
      hint: 'plain http is accepted only to this machine (127.0.0.0/8, ::1, localhost)',
      provider: provider.id,
    });
  }
}
