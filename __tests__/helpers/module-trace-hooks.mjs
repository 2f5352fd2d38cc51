// Module-customization hooks for module-trace.mjs; they run on the loader's own thread. Each URL the ESM loader
// resolves (static imports, dynamic import(), node: built-ins, CommonJS files reached through import) is appended
// once to the trace file as `URL<TAB>importer's URL`. The append is synchronous, so the line is on disk before the
// import completes, even if the process exits right after.
import { appendFileSync } from 'node:fs';

let traceFile;
const seen = new Set();

export function initialize(data) {
  traceFile = data?.traceFile;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (traceFile && !seen.has(result.url)) {
    seen.add(result.url);
    appendFileSync(traceFile, `${result.url}\t${context.parentURL ?? ''}\n`);
  }
  return result;
}
