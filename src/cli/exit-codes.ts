import type { ErrorKind } from '../kernel/errors.js';
import { isImagegenError } from '../kernel/errors.js';

/** The one mapping from errors to exit codes. Documented in the README and in --help. */
export const EXIT_CODES: Record<ErrorKind | 'ok', number> = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  quota: 4,
  network: 5,
  'rate-limit': 6,
  moderation: 7,
  partial: 8,
  interrupted: 130,
};

/** A run stopped by a signal exits as shells report a process killed by it: 128 + its number. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : EXIT_CODES.interrupted;
}

export function exitCodeFor(err: unknown): number {
  if (isImagegenError(err)) return EXIT_CODES[err.kind];
  return EXIT_CODES.failure;
}

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    failure (bad input file, task failed at the provider or unknown to it, output exists)
  2    usage or config error
  3    authentication: missing or rejected API key
  4    quota or balance
  5    network, timeout or server-side failure
  6    rate limited after retries
  7    refused by content moderation
  8    some items of a batch failed
  130  interrupted (Ctrl-C, SIGINT)
  143  terminated (SIGTERM)`;
