/**
 * The typed records that `--json` prints, one NDJSON line per item. Field names are stable: the README
 * documents them as the NDJSON schema.
 */
import type { ErrorRecord } from './errors.js';

export interface JobRecord {
  /**
   * `skipped`: not attempted (its output already exists, its provider stopped the batch, or an interrupt came
   * first); `interrupted`: stopped by Ctrl-C or SIGTERM.
   */
  status: 'ok' | 'error' | 'skipped' | 'interrupted';
  /** The input file as given (edit), or null (generate). */
  input: string | null;
  /** The prompt (generate). */
  prompt?: string;
  /** The written image, or null for a failed item. */
  output: string | null;
  /** The JSON report beside the image, when one was written. */
  report?: string;
  /** With --weave: the lift plan and the cloth preview written beside the image. */
  lift?: string;
  cloth?: string;
  /** With several wefts: the back of the cloth and the shuttle sequence (CSV). */
  back?: string;
  wefts?: string;
  /** The raw download kept by generate --keep-original. */
  original?: string;
  style: string | null;
  /** 'local', 'local-fallback', or a provider id ('dashscope', 'modelscope'). */
  source: string | null;
  provider?: string;
  model?: string;
  taskId?: string;
  requestId?: string;
  seed?: number;
  width?: number;
  height?: number;
  colors?: number | null;
  /** Why a remote edit fell back to the local pipeline. */
  remoteError?: ErrorRecord;
  /** Why the item failed. */
  error?: ErrorRecord;
  /** Wall time of the item. */
  seconds?: number;
  /** Why an item was skipped when that is not an error (its output from an earlier run is intact). */
  reason?: string;
}

/** The last record of a batch with --json: what happened to how many items, and how fast. */
export interface BatchSummary {
  type: 'summary';
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Items stopped by Ctrl-C or SIGTERM (present only then). */
  interrupted?: number;
  seconds: number;
  /** Finished items (ok) per second of wall time. */
  perSecond: number;
}
