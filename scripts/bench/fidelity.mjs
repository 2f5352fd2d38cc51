/**
 * --fidelity: no timing. Each input once through the CLI (twice, to check that the rerun is byte-identical)
 * and once through pngquant on the same grid; both scored as in the timed runs. Fidelity does not depend on
 * the machine's load, so this can run while the machine is busy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  decodeImage,
  resizeToGrid,
  gridHeight,
  encodeRgbPng,
  WIDTH,
  COLORS,
  MIN_REGION,
  ONLY,
  out,
  PNGQUANT,
  versionOf,
  makeInputs,
  timed,
  score,
  printTable,
  verdict,
} from './common.mjs';

/** The CLI's command line for one input (the same as the timed runs). */
const cliArgs = (file, output) => [
  path.join(root, 'bin', 'imagegen.js'),
  'edit',
  file,
  '--local',
  '--width',
  String(WIDTH),
  '--colors',
  String(COLORS),
  '-o',
  output,
  '--no-report',
  '--force',
  '-q',
];

export async function main() {
  const inputs = makeInputs().filter((i) => !ONLY || i.name.includes(ONLY));
  if (!PNGQUANT) {
    console.error('bench --fidelity: pngquant not found (apt-get install pngquant)');
    process.exit(1);
  }
  console.log(
    `imagegen bench --fidelity: width ${WIDTH}, ${COLORS} colours, min region ${MIN_REGION}; ` +
      `pngquant ${versionOf(PNGQUANT, '--version')} (${COLORS} --nofs) on our grid`,
  );
  const rows = [];
  for (const input of inputs) {
    const source = await decodeImage(readFileSync(input.file), input.file);
    const ours = path.join(out, `${input.name}.imagegen.png`);
    const again = path.join(out, `${input.name}.imagegen-rerun.png`);
    timed(process.execPath, cliArgs(input.file, ours));
    timed(process.execPath, cliArgs(input.file, again));
    const identical = readFileSync(ours).equals(readFileSync(again));
    const height = gridHeight(WIDTH, source.width, source.height);
    const gridFile = path.join(out, `${input.name}.grid.png`);
    writeFileSync(gridFile, encodeRgbPng(resizeToGrid(source, WIDTH, height)));
    const pq = path.join(out, `${input.name}.pngquant.png`);
    timed(PNGQUANT, [String(COLORS), '--nofs', '--force', '--output', pq, gridFile]);
    const a = await score(ours, source);
    const b = await score(pq, source);
    const mp = ((source.width * source.height) / 1e6).toFixed(1);
    rows.push({ name: `${input.name} (${mp} MP)`, grid: `${a.width}x${a.height}`, ours: a, pq: b, identical });
    console.error(`  ${input.name}: ${a.meanDe.toFixed(3)} vs ${b.meanDe.toFixed(3)}`);
  }
  printTable(
    [
      'input',
      'grid',
      'imagegen ΔE00',
      'pngquant ΔE00',
      'ratio',
      `imagegen regions<${MIN_REGION}`,
      `pngquant regions<${MIN_REGION}`,
      'colours',
      'rerun',
    ],
    rows.map((r) => [
      r.name,
      r.grid,
      r.ours.meanDe.toFixed(3),
      r.pq.meanDe.toFixed(3),
      (r.ours.meanDe / r.pq.meanDe).toFixed(3),
      String(r.ours.small),
      String(r.pq.small),
      `${r.ours.colors} / ${r.pq.colors}`,
      r.identical ? 'identical' : 'DIFFERS',
    ]),
  );
  const mean = (f) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const ourMean = mean((r) => r.ours.meanDe);
  const pqMean = mean((r) => r.pq.meanDe);
  const behind = rows.filter((r) => r.ours.meanDe > r.pq.meanDe).map((r) => r.name);
  console.log('\ntargets');
  console.log(`  ΔE00 ≤ pngquant on every input: ${behind.length ? `NOT met (${behind.join(', ')})` : 'met'}`);
  console.log(
    `  average ΔE00 ≤ 0.95 × pngquant's: ${ourMean.toFixed(3)} vs ${pqMean.toFixed(3)} ` +
      `(${(ourMean / pqMean).toFixed(3)}×): ${verdict(ourMean <= 0.95 * pqMean)}`,
  );
  console.log(`  no region under ${MIN_REGION} px: ${verdict(rows.every((r) => r.ours.small === 0))}`);
  console.log(`  byte-identical reruns: ${verdict(rows.every((r) => r.identical))}`);
  process.exit(0);
}
