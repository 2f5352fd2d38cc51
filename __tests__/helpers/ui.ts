import type { Ui } from '../../src/kernel/ports.js';
import type { BatchSummary, JobRecord } from '../../src/kernel/records.js';

/** A Ui that records what the core said, for assertions. */
export function recordingUi() {
  const lines = {
    info: [] as string[],
    warn: [] as string[],
    debug: [] as string[],
    spinner: [] as string[],
    status: [] as string[],
  };
  const summaries: BatchSummary[] = [];
  const results: JobRecord[] = [];
  const data: Array<Record<string, unknown>> = [];
  const ui: Ui = {
    info: (m) => void lines.info.push(m),
    warn: (m) => void lines.warn.push(m),
    debug: (m) => void lines.debug.push(m),
    spinner: (text) => {
      lines.spinner.push(text);
      return {
        update: (t) => void lines.spinner.push(t),
        succeed: (t) => void (t && lines.spinner.push(t)),
        fail: (t) => void (t && lines.spinner.push(t)),
        stop: () => undefined,
      };
    },
    result: (r) => void results.push(r),
    data: (r) => void data.push(r),
    summary: (s) => void summaries.push(s),
    status: () => ({
      set: (t) => void lines.status.push(t),
      print: (t) => void lines.info.push(t),
      stop: () => undefined,
    }),
  };
  return { ui, lines, results, data, summaries };
}
