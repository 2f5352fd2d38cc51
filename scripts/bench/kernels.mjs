/**
 * --kernels: the loom's palette mapping (src/loom/map.ts) against its AssemblyScript port
 * (scripts/kernels/map.ts), compiled here to WebAssembly by AssemblyScript's `asc` (not a dependency of the
 * tool: `npm install --no-save assemblyscript` first), on the grid and palette the CLI would have (1200 ends;
 * a small photo at its own width). Times are CPU time (all threads: compilation in the background counts),
 * steadier than wall time on a busy machine; the cold runs' wall-time ratio is shown too.
 * Cold: one call in a fresh process, after the palette is chosen as in the CLI (which warms the JavaScript
 * search it shares), the WebAssembly module's read, compilation and instantiation included (the modules
 * themselves are imported before the clock starts: that is start-up). Warm: calls in one process after a
 * first one. Runs interleaved (JavaScript, WebAssembly, WebAssembly, JavaScript, ...); medians and the ratio
 * WebAssembly / JavaScript. Every WebAssembly result is checked byte for byte against the JavaScript one; a
 * difference stops the bench.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  dist,
  decodeImage,
  resizeToGrid,
  gridHeight,
  WIDTH,
  COLORS,
  args,
  RUNS,
  ONLY,
  out,
  median,
  printTable,
  isSmallPhoto,
  benchScript,
  makeInputs,
} from './common.mjs';

const kernelWasm = path.join(out, 'kernels', 'map.wasm');

/** A mapToPalette running in an instance of the compiled port (see scripts/kernels/map.ts for its memory). */
function wasmMapper(bytes, linear, fallback) {
  // V8's own Math, so that the transcendental functions round as the JavaScript kernel's do.
  const math = { sin: Math.sin, cos: Math.cos, atan2: Math.atan2, exp: Math.exp, cbrt: Math.cbrt };
  const kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes), { map: math }).exports;
  new Float32Array(kernel.memory.buffer, kernel.linearTable(), 256).set(linear);
  return (image, palette, metric = 'ciede2000', reach = 2) => {
    const entries = palette.length / 3;
    if (entries > 256) return fallback(image, palette, metric, reach);
    const pixels = image.width * image.height;
    const at = kernel.prepare(pixels);
    // Views are made after prepare(), which may grow (and so replace) the memory's buffer.
    new Uint8Array(kernel.memory.buffer, at, pixels * 3).set(image.data.subarray(0, pixels * 3));
    new Uint8Array(kernel.memory.buffer, kernel.paletteBytes(), palette.length).set(palette);
    kernel.begin(entries, metric === 'lab' ? 1 : 0, reach);
    // A row per call: WebAssembly has no on-stack replacement (see mapRows).
    for (let from = 0; from < pixels; from += image.width) kernel.mapRows(from, from + image.width);
    return new Uint8Array(kernel.memory.buffer, kernel.indices(), pixels).slice();
  };
}

export async function child() {
  const [file, which] = args.slice(args.indexOf('--kernel-child') + 1);
  const { mapToPalette } = await import(dist('loom/map.js'));
  const { SRGB_TO_LINEAR } = await import(dist('loom/color.js'));
  const saved = readFileSync(file);
  const [width, height, colours] = new Uint32Array(saved.buffer, saved.byteOffset, 3);
  const data = new Uint8Array(saved.buffer, saved.byteOffset + 12, width * height * 3);
  const palette = new Uint8Array(saved.buffer, saved.byteOffset + 12 + data.length, colours * 3);
  // As in the CLI, the palette is chosen first: it runs (and so warms) the JavaScript CIEDE2000 search too.
  const { choosePalette } = await import(dist('loom/palette.js'));
  choosePalette({ width, height, data }, colours);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const map = which === 'wasm' ? wasmMapper(readFileSync(kernelWasm), SRGB_TO_LINEAR, mapToPalette) : mapToPalette;
  const indices = map({ width, height, data }, palette);
  const ms = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  let hash = 0;
  for (let i = 0; i < indices.length; i++) hash = (Math.imul(hash, 31) + indices[i]) | 0;
  console.log(JSON.stringify({ ms, cpu: (user + system) / 1000, hash }));
  process.exit(0);
}

export async function main() {
  const { choosePalette } = await import(dist('loom/palette.js'));
  const { mapToPalette } = await import(dist('loom/map.js'));
  const { SRGB_TO_LINEAR } = await import(dist('loom/color.js'));
  const asc = path.join(root, 'node_modules', '.bin', 'asc');
  if (!existsSync(asc)) {
    console.error('bench --kernels: AssemblyScript is not installed; run `npm install --no-save assemblyscript`');
    process.exit(1);
  }
  mkdirSync(path.dirname(kernelWasm), { recursive: true });
  const source = path.join(root, 'scripts', 'kernels', 'map.ts');
  const built = spawnSync(asc, [source, '--outFile', kernelWasm, '-O3', '--runtime', 'stub', '--noAssert'], {
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    console.error(`bench --kernels: asc failed:\n${built.stderr}`);
    process.exit(1);
  }
  const wasmMap = wasmMapper(readFileSync(kernelWasm), SRGB_TO_LINEAR, mapToPalette);
  // Every 6th level of each channel, against a chosen palette and a random one compared in full.
  const levels = [];
  for (let v = 0; v < 256; v += 6) levels.push(v);
  const cube = new Uint8Array(levels.length ** 3 * 3);
  let at = 0;
  for (const r of levels) for (const g of levels) for (const b of levels) cube.set([r, g, b], at++ * 3);
  const cubeImage = { width: levels.length ** 2, height: levels.length, data: cube };
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  for (const [palette, reach] of [
    [choosePalette(cubeImage, COLORS), 2],
    [Uint8Array.from({ length: 48 }, random), Infinity],
  ]) {
    if (
      !Buffer.from(wasmMap(cubeImage, palette, 'ciede2000', reach)).equals(
        mapToPalette(cubeImage, palette, 'ciede2000', reach),
      )
    ) {
      console.error('bench --kernels: the WebAssembly mapping of the colour cube differs from the JavaScript one');
      process.exit(1);
    }
  }
  const hopper = { name: 'grace-hopper-0.3mp', file: path.join(root, 'samples', 'grace-hopper.jpg') };
  const inputs = [hopper, ...makeInputs()].filter((i) => !ONLY || i.name.includes(ONLY));
  const dir = path.join(out, 'kernels');
  mkdirSync(dir, { recursive: true });
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  console.log(
    `imagegen bench --kernels: mapToPalette, JavaScript against WebAssembly, ${RUNS} interleaved runs each ` +
      `(median CPU ms, and the ratio of wall times cold), ${COLORS} colours, width ${WIDTH} (small photos at their own width); load average ${load()}`,
  );
  const child = (file, which) => {
    const r = spawnSync(process.execPath, [benchScript, '--kernel-child', file, which], {
      encoding: 'utf8',
      cwd: root,
    });
    if (r.status !== 0) throw new Error(`kernel child failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const hashOf = (indices) => {
    let hash = 0;
    for (let i = 0; i < indices.length; i++) hash = (Math.imul(hash, 31) + indices[i]) | 0;
    return hash;
  };
  const rows = [];
  for (const input of inputs) {
    const source = await decodeImage(readFileSync(input.file), input.file);
    const width = isSmallPhoto(source) ? source.width : WIDTH;
    const height = gridHeight(width, source.width, source.height);
    const grid = resizeToGrid(source, width, height);
    const palette = choosePalette(grid, COLORS);
    const js = mapToPalette(grid, palette);
    const wasm = wasmMap(grid, palette);
    if (Buffer.compare(Buffer.from(js), Buffer.from(wasm)) !== 0) {
      console.error(`bench --kernels: ${input.name}: the WebAssembly mapping differs from the JavaScript one`);
      process.exit(1);
    }
    const saved = path.join(dir, `${input.name}.grid`);
    const header = new Uint8Array(new Uint32Array([width, height, palette.length / 3]).buffer);
    writeFileSync(saved, Buffer.concat([header, grid.data, palette]));
    // Cold: fresh processes, alternating which goes first.
    const cold = { js: [], wasm: [] };
    const coldWall = { js: [], wasm: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const which of i % 2 ? ['wasm', 'js'] : ['js', 'wasm']) {
        const r = child(saved, which);
        if (r.hash !== hashOf(js)) throw new Error(`${input.name}: ${which} in a fresh process mapped differently`);
        cold[which].push(r.cpu);
        coldWall[which].push(r.ms);
      }
    }
    // Warm: this process, after the calls above.
    const warm = { js: [], wasm: [] };
    const kernels = { js: mapToPalette, wasm: wasmMap };
    for (let i = 0; i < Math.max(RUNS, 5); i++) {
      for (const which of i % 2 ? ['wasm', 'js'] : ['js', 'wasm']) {
        const t0 = process.cpuUsage();
        kernels[which](grid, palette);
        const { user, system } = process.cpuUsage(t0);
        warm[which].push((user + system) / 1000);
      }
    }
    const m = (v) => median(v);
    rows.push([
      `${input.name} (${width}x${height})`,
      m(cold.js).toFixed(1),
      m(cold.wasm).toFixed(1),
      (m(cold.wasm) / m(cold.js)).toFixed(2),
      (m(coldWall.wasm) / m(coldWall.js)).toFixed(2),
      m(warm.js).toFixed(1),
      m(warm.wasm).toFixed(1),
      (m(warm.wasm) / m(warm.js)).toFixed(2),
      'yes',
    ]);
    console.error(`  ${input.name} done`);
  }
  printTable(
    ['grid', 'cold JS ms', 'cold wasm ms', 'wasm/JS', '(wall)', 'warm JS ms', 'warm wasm ms', 'wasm/JS', 'identical'],
    rows,
  );
  console.log(`load average ${load()} at the end`);
  process.exit(0);
}
