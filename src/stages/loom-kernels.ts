/**
 * The loom kernels built to WebAssembly at build time (dist/loom-map.wasm, from assembly/), compiled once per
 * thread on first use and handed to the pipeline. Run from the sources (tests), where there is no build of
 * them, the pipeline keeps its JavaScript kernels, which give the same answers.
 */
import { readFileSync } from 'node:fs';
import { wasmMapToPalette } from '../loom/map-wasm.js';
import type { LoomKernels } from '../loom/pipeline.js';

let loaded: LoomKernels | undefined;

export function loomKernels(): LoomKernels {
  if (loaded) return loaded;
  let bytes: Buffer;
  try {
    bytes = readFileSync(new URL('../loom-map.wasm', import.meta.url));
  } catch {
    return (loaded = {});
  }
  loaded = { mapToPalette: wasmMapToPalette(new WebAssembly.Module(bytes)) };
  return loaded;
}
