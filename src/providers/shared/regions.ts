/** Which documented region a base URL is a host of, and the base URL a region name stands for. */
import type { ProviderRegion } from '../types.js';

/** The region whose documented host `baseUrl` is (a path after the host does not change it). */
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
      (url.protocol === 'https:' && url.port === '' && region.hostPattern?.test(url.hostname) === true),
  );
}
