/** What a provider call needs from outside: HTTP, time, limits, and somewhere to say what is happening. */
import type { Config } from '../core/config/schema.js';
import type { Ui } from '../core/ui.js';
import type { HttpClient } from './http.js';
import type { Sleep } from './poll.js';

export interface ProviderDeps {
  http: HttpClient;
  sleep: Sleep;
  now: () => number;
  ui: Ui;
  signal?: AbortSignal;
}

export interface ProviderLimits {
  polling: Config['polling'];
  retry: Config['retry'];
  /** Per-request timeout for API calls. */
  requestTimeoutMs: number;
  /** Largest result download. */
  maxDownloadBytes: number;
  downloadTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1000 * 1000;

/** "a1b2c3d4" from a long task id, for spinners. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
