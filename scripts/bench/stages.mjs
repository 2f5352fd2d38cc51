/**
 * --stages: the palette, map and speck-removal steps timed inside the process (CPU milliseconds), each run in a
 * fresh process so that every step is as cold as in one CLI call; medians over the runs. The decode and
 * resize are not timed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  root,
  dist,
  decodeImage,
  resizeToGrid,
  gridHeight,
  WIDTH,
  COLORS,
  MIN_REGION,
  argValue,
  RUNS,
  ONLY,
  makeInputs,
  median,
  printTable,
  benchScript,
} from './common.mjs';

export async function child() {
  const file = argValue('--stage-child');
  const { choosePalette } = await import(dist('loom/palette.js'));
  const { mapToPalette } = await import(dist('loom/map.js'));
  const { removeSpecks } = await import(dist('loom/regions.js'));
  const source = await decodeImage(readFileSync(file), file);
  const height = gridHeight(WIDTH, source.width, source.height);
  const grid = resizeToGrid(source, WIDTH, height);
  // CPU time (one thread, so it is the step's own work): on a busy machine it varies far less than wall time.
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const t0 = cpu();
  const palette = choosePalette(grid, COLORS);
  const t1 = cpu();
  const indices = mapToPalette(grid, palette);
  const t2 = cpu();
  removeSpecks({ width: WIDTH, height, indices, palette }, MIN_REGION, { source: grid });
  const t3 = cpu();
  console.log(JSON.stringify({ palette: t1 - t0, map: t2 - t1, regions: t3 - t2 }));
  process.exit(0);
}

export async function main() {
  const inputs = makeInputs().filter((i) => (ONLY ? i.name.includes(ONLY) : /12mp|13mp/.test(i.name)));
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  console.log(
    `imagegen bench --stages: width ${WIDTH}, ${COLORS} colours, ${RUNS} fresh processes per input (median CPU ms); ` +
      `load average ${load()} at the start`,
  );
  const rows = [];
  for (const input of inputs) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(process.execPath, [benchScript, '--stage-child', input.file], {
        encoding: 'utf8',
        cwd: root,
      });
      if (r.status !== 0) throw new Error(`stage run failed:\n${r.stderr}`);
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    const m = (k) => median(runs.map((r) => r[k]));
    rows.push([
      input.name,
      ...['palette', 'map', 'regions'].map((k) => m(k).toFixed(1)),
      (m('palette') + m('map') + m('regions')).toFixed(1),
    ]);
  }
  printTable(['input', 'palette ms', 'map ms', 'regions ms', 'sum ms'], rows);
  console.log(`load average ${load()} at the end`);
  process.exit(0);
}
