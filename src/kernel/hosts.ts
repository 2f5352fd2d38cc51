/** Hosts that name this machine, where plain http reads nothing on the way. */

/** 127.0.0.0/8, ::1 (bracketed or not) and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
