/** Hosts that name this machine, where plain http reads nothing on the way; Model Studio's workspace domains. */

/**
 * The region id of a Model Studio workspace (or trial) domain, `<workspace>.<region id>.maas.aliyuncs.com`,
 * such as `ap-southeast-1`; undefined for any other host.
 */
export function maasRegionOf(hostname: string): string | undefined {
  return /^[a-z0-9][a-z0-9_-]*\.([a-z]{2}-[a-z]+(?:-[0-9]+)?)\.maas\.aliyuncs\.com\.?$/.exec(
    hostname.toLowerCase(),
  )?.[1];
}

/** 127.0.0.0/8, ::1 (bracketed or not) and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * An address literal that only reaches this machine or its own network: loopback, private ranges, link-local
 * (where cloud metadata services answer), unspecified. Names are not resolved: a name is taken as public.
 */
export function isLocalAddress(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  // Names under .localhost are this machine (RFC 6761).
  if (isLoopbackHost(host) || host.endsWith('.localhost')) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b < 128) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      // Benchmarking (198.18/15), multicast and reserved (224/3, the broadcast address included).
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (!host.includes(':')) return false;
  // An IPv4 address inside IPv6 (mapped, or NAT64's 64:ff9b::/96) is as local as the address itself.
  const embedded = /^(?:::ffff:|64:ff9b::)(.+)$/.exec(host);
  if (embedded) return isLocalAddress(embedded[1].includes('.') ? embedded[1] : v4FromHex(embedded[1]));
  // Unspecified, unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
  return host === '::' || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89a-f][0-9a-f]:/.test(host) || /^ff/.test(host);
}

/** The IPv4 address of the last 32 bits written as two hex groups (`a9fe:a9fe`), as URL parsing writes it. */
function v4FromHex(groups: string): string {
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(groups);
  if (!m) return '0.0.0.0';
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
