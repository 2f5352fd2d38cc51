/**
 * Fetching a task's result: https only (plain http only when both the provider and the result are on a
 * loopback address, as with a local stand-in), a size cap enforced while streaming, and a clear error for an
 * expired or missing URL.
 */
import { ImagegenError } from '../../kernel/errors.js';
import { isLoopbackHost } from '../../kernel/hosts.js';
import type { ProviderContext } from '../types.js';

function isLoopbackHttp(baseUrl: string): boolean {
  try {
    const url = new URL(baseUrl);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

export function checkResultUrl(url: string, baseUrl: string, provider: string, taskId: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ImagegenError('failure', `${provider} returned a result URL that is not a URL`, { provider, taskId });
  }
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && isLoopbackHttp(baseUrl) && isLoopbackHttp(url)) return;
  throw new ImagegenError(
    'failure',
    `${provider} returned a non-https result URL (${parsed.protocol}//${parsed.host}); not downloading it`,
    { provider, taskId },
  );
}

export async function fetchResult(url: string, taskId: string, ctx: ProviderContext): Promise<Buffer> {
  const provider = ctx.provider.id;
  checkResultUrl(url, ctx.settings.baseUrl, provider, taskId);
  const res = await ctx.http.download(url, {
    maxBytes: ctx.limits.maxDownloadBytes,
    timeoutMs: ctx.limits.downloadTimeoutMs,
    signal: ctx.signal,
  });
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
