// Records the URL of every module a process loads in the file named by IMAGEGEN_MODULE_TRACE, one line per URL
// (`URL<TAB>importer's URL`; the importer is empty for the entry point):
//   IMAGEGEN_MODULE_TRACE=/tmp/trace.txt node --import ./__tests__/helpers/module-trace.mjs bin/imagegen.js --help
// ESM resolutions (static imports, dynamic import(), node: built-ins, CommonJS files reached through import) are
// recorded by the hooks in module-trace-hooks.mjs, registered with node:module register() (Node >= 20.6). On
// Node 20 a require() made by a CommonJS module never reaches those hooks, so require() is wrapped here as well.
// Lines are appended synchronously before the import or require returns. A URL can appear twice (once from each).
import { appendFileSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const traceFile = process.env.IMAGEGEN_MODULE_TRACE;
if (traceFile) {
  appendFileSync(traceFile, '');
  register('./module-trace-hooks.mjs', import.meta.url, { data: { traceFile } });

  const originalRequire = Module.prototype.require;
  const seen = new Set();
  Module.prototype.require = function tracedRequire(id) {
    const exported = originalRequire.call(this, id);
    try {
      const resolved = createRequire(this.filename ?? path.join(process.cwd(), 'index.js')).resolve(id);
      const url = Module.isBuiltin(resolved) ? `node:${resolved.replace(/^node:/, '')}` : pathToFileURL(resolved).href;
      if (!seen.has(url)) {
        seen.add(url);
        appendFileSync(traceFile, `${url}\t${this.filename ? pathToFileURL(this.filename).href : ''}\n`);
      }
    } catch {
      // Not resolvable the ordinary way, though it loaded: nothing to record.
    }
    return exported;
  };
}
