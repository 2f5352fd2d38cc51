/** Hosts that name this machine, where plain http reads nothing on the way. */

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
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host)) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      (a === 100 && b >= 64 && b < 128) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168)
    );
  }
  if (!host.includes(':')) return false;
  const mapped = /^::ffff:(.+)$/.exec(host);
  if (mapped) return mapped[1].includes('.') ? isLocalAddress(mapped[1]) : true;
  return host === '::' || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
}
