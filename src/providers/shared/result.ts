/**
 * Fetching a task's result: https only (plain http only when both the provider and the result are on a
 * loopback address, as with a local stand-in), never to an address of this machine's own network, a size cap
 * enforced while streaming, and a clear error for an expired or missing URL. A redirect is followed only after
 * its target passes the same checks, hop by hop.
 */
import { ImagegenError } from '../../kernel/errors.js';
import { isLocalAddress, isLoopbackHost } from '../../kernel/hosts.js';
import type { ProviderContext } from '../types.js';

function isLoopbackHttp(baseUrl: string): boolean {
  return isLoopbackUrl(baseUrl, 'http:');
}

function isLoopbackUrl(baseUrl: string, protocol?: string): boolean {
  try {
    const url = new URL(baseUrl);
    return (protocol === undefined || url.protocol === protocol) && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

export function checkResultUrl(
  url: string,
  baseUrl: string,
  provider: string,
  taskId: string,
  redirected = false,
): void {
  const what = redirected ? `the ${provider} result redirected to` : `${provider} returned`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ImagegenError('failure', `${what} a result URL that is not a URL`, { provider, taskId });
  }
  // A stand-in on this machine may serve its results from this machine; a real service never does.
  const local = isLocalAddress(parsed.hostname) && !isLoopbackUrl(baseUrl);
  if (parsed.protocol === 'https:' && !local) return;
  if (parsed.protocol === 'http:' && isLoopbackHttp(baseUrl) && isLoopbackHttp(url)) return;
  throw new ImagegenError(
    'failure',
    local
      ? `${what} a result URL on a local network address (${parsed.host}); not downloading it`
      : `${what} a non-https result URL (${parsed.protocol}//${parsed.host}); not downloading it`,
    { provider, taskId },
  );
}

/** Redirects a result download follows, each checked as the first URL was. */
const MAX_REDIRECTS = 5;

export async function fetchResult(url: string, taskId: string, ctx: ProviderContext): Promise<Buffer> {
  const provider = ctx.provider.id;
  let res;
  for (let hops = 0, at = url; ; hops++) {
    checkResultUrl(at, ctx.settings.baseUrl, provider, taskId, hops > 0);
    res = await ctx.http.download(at, {
      maxBytes: ctx.limits.maxDownloadBytes,
      timeoutMs: ctx.limits.downloadTimeoutMs,
      signal: ctx.signal,
    });
    if (res.status < 300 || res.status >= 400) break;
    if (!res.redirectTo || hops >= MAX_REDIRECTS) {
      throw new ImagegenError(
        'failure',
        `downloading the ${provider} result failed: ${res.redirectTo ? `more than ${MAX_REDIRECTS} redirects` : `HTTP ${res.status} without a place to go`}`,
        { provider, taskId, status: res.status },
      );
    }
    at = res.redirectTo;
  }
  if (res.status === 403 || res.status === 404 || res.status === 410) {
    throw new ImagegenError('failure', `the ${provider} result URL has expired or is gone (HTTP ${res.status})`, {
      provider,
      taskId,
      status: res.status,
      hint: 'result URLs live 24 hours; run the job again',
    });
  }
  if (res.status < 200 || res.status >= 300) {
    throw new ImagegenError(
      res.status >= 500 ? 'network' : 'failure',
      `downloading the ${provider} result failed (HTTP ${res.status})`,
      {
        provider,
        taskId,
        status: res.status,
      },
    );
  }
  if (res.bytes.length === 0)
    throw new ImagegenError('failure', `the ${provider} result is empty`, { provider, taskId });
  return res.bytes;
}
