/** Which documented region a base URL is a host of, and the base URL a region name stands for. */
import { maasRegionOf } from '../../kernel/hosts.js';
import type { ProviderRegion } from '../types.js';

/**
 * The region whose documented host `baseUrl` is (a path after the host does not change it): one of its shared
 * hosts, or over https on the default port, one of its own other hosts (a Model Studio workspace domain).
 */
export function regionOfUrl(regions: readonly ProviderRegion[], baseUrl: string): ProviderRegion | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  return regions.find(
    (region) =>
      region.baseUrls.some((base) => new URL(base).origin === url.origin) ||
      (url.protocol === 'https:' && url.port === '' && ownHost(region, url.hostname)),
  );
}

function ownHost(region: ProviderRegion, hostname: string): boolean {
  if (region.workspaceDomains && maasRegionOf(hostname) === region.id) return true;
  return region.hostPattern?.test(hostname) === true;
}
