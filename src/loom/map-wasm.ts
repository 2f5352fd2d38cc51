/**
 * mapToPalette by the WebAssembly build of the same kernel (assembly/map.ts, compiled by `asc` at build time):
 * the same answers, pixel for pixel, and full speed from the first call, where JavaScript starts cold. The
 * module is compiled by the caller from its bytes (this folder reads no files); the JavaScript kernel stays
 * the reference the tests compare it with.
 */
import { SRGB_TO_LINEAR } from './color.js';
import { CHOSEN_REACH, mapToPalette, type MatchMetric } from './map.js';
import type { RgbImage } from './types.js';

interface MapExports {
  memory: WebAssembly.Memory;
  linearTable(): number;
  paletteBytes(): number;
  prepare(pixels: number): number;
  indices(): number;
  begin(entries: number, lab: number, reach: number): void;
  mapRows(from: number, to: number): number;
}

export type PaletteMapper = typeof mapToPalette;

/** The entries the module has room for. */
const MAX_ENTRIES = 256;

/** A mapToPalette that runs in its own instance of `module`; instances keep their memory between calls. */
export function wasmMapToPalette(module: WebAssembly.Module): PaletteMapper {
  // V8's own Math, so that the transcendental functions round as the JavaScript kernel's do.
  const math = { sin: Math.sin, cos: Math.cos, atan2: Math.atan2, exp: Math.exp, cbrt: Math.cbrt };
  const kernel = new WebAssembly.Instance(module, { map: math }).exports as unknown as MapExports;
  new Float32Array(kernel.memory.buffer, kernel.linearTable(), 256).set(SRGB_TO_LINEAR);
  return (image: RgbImage, palette: Uint8Array, metric: MatchMetric = 'ciede2000', reach = CHOSEN_REACH) => {
    const entries = palette.length / 3;
    if (entries > MAX_ENTRIES) return mapToPalette(image, palette, metric, reach);
    const pixels = image.width * image.height;
    const at = kernel.prepare(pixels);
    // Views are made after prepare(), which may grow (and so replace) the memory's buffer.
    new Uint8Array(kernel.memory.buffer, at, pixels * 3).set(image.data.subarray(0, pixels * 3));
    new Uint8Array(kernel.memory.buffer, kernel.paletteBytes(), palette.length).set(palette);
    kernel.begin(entries, metric === 'lab' ? 1 : 0, reach);
    // A row per call, as the JavaScript kernel does: see mapRows.
    const { width } = image;
    for (let from = 0; from < pixels; from += width) kernel.mapRows(from, from + width);
    return new Uint8Array(kernel.memory.buffer, kernel.indices(), pixels).slice();
  };
}
