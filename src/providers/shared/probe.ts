/**
 * What the no-cost probes of `imagegen doctor` share: a timed query, and how an answer to it speaks about the
 * key. Each provider's client decides which answers count as "not an error" for its own query.
 */
import type { ImagegenError, ProviderError } from '../../kernel/errors.js';
import type { HttpResponse } from '../../kernel/ports.js';
import type { PlannedRequest } from '../../kernel/redact.js';
import type { ProbeFinding, ProviderContext } from '../types.js';

/** Sends one request, once (never retried), and measures its round trip. */
export async function timedRequest(
  ctx: ProviderContext,
  request: PlannedRequest,
): Promise<{ res: HttpResponse; latencyMs: number }> {
  const started = ctx.now();
  const res = await ctx.http.request({ ...request, timeoutMs: ctx.limits.requestTimeoutMs, signal: ctx.signal });
  return { res, latencyMs: Math.max(0, Math.round(ctx.now() - started)) };
}

/** A failed check, from the error that says why. */
export function failed(error: ImagegenError, certainty: ProbeFinding['certainty'] = 'certain'): ProbeFinding {
  return { status: 'failure', certainty, message: error.message, error };
}

/**
 * The key's finding from the answer to a key query: `accepted` when the answer was no error; a rejected key
 * (401) is certain; a refused account (403) means the key itself was taken, and is the account's finding.
 */
export function readKeyAnswer(
  error: ProviderError | undefined,
  accepted: ProbeFinding,
): { key: ProbeFinding; account?: ProbeFinding } {
  if (!error) return { key: accepted };
  switch (error.kind) {
    case 'quota':
      return {
        key: {
          status: 'ok',
          certainty: 'inferred',
          message: `not rejected: the answer (HTTP ${error.status}) refuses the account, not the key`,
        },
        account: failed(error),
      };
    case 'rate-limit':
      return {
        key: { status: 'warning', certainty: 'inferred', message: `not known: ${error.message}`, error },
      };
    default:
      return { key: failed(error) };
  }
}
