/**
 * The default suite (no suite flag): npm run bench [-- --runs N] [-- --only NAME]
 *
 * Times the real CLI (`node bin/imagegen.js edit <in> --local --width 1200 --colors 8 -o <out> --no-report
 * --force`) against ImageMagick (`convert in -resize 1200x +dither -colors 8 out.png`) and pngquant
 * (`pngquant 8 --nofs` on the source first resized to the same grid), and scores every output against the
 * source resized to the output's grid with our own area-average resize (linear light): mean and 95th
 * percentile CIEDE2000, the number of colours, and the number of 4-connected regions under 4 pixels. The
 * commands' runs are interleaved (run 1 of each, then run 2, ...) and their medians compared, as the machine is
 * noisy. Photos of 0.2 to 0.5 megapixels are also timed at their own width, against convert at the same width:
 * what that measures is mostly fixed cost (start-up, loading, cold code).
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
  RUNS,
  ONLY,
  out,
  CONVERT,
  haveConvert,
  haveTime,
  PNGQUANT,
  versionOf,
  makeInputs,
  timed,
  median,
  score,
  verdict,
  isSmallPhoto,
} from './common.mjs';

const OWN_IMAGEGEN = 'imagegen (own width)';
/** Targets: the 12-megapixel photos at 1200 ends, and the small photos at their own width (whole CLI). */
const LARGE_TARGET = 0.6;
const OWN_WIDTH_TARGET = 2.5;
const OWN_CONVERT = 'convert (own width)';

/** Every command run `runs` times, interleaved (each round starting one command later); medians. */
function interleavedRuns(runs, commands) {
  const results = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      results[k].push(timed(commands[k].cmd, commands[k].argv));
    }
  }
  return results.map((r) => ({
    secs: median(r.map((x) => x.secs)),
    mb: median(r.map((x) => x.mb)),
    all: r.map((x) => x.secs),
  }));
}

export async function main() {
  const inputs = makeInputs().filter((i) => !ONLY || i.name.includes(ONLY));
  console.log(
    `imagegen bench: ${RUNS} runs per timed command (median), width ${WIDTH}, ${COLORS} colours, min region ${MIN_REGION}`,
  );
  console.log(
    `node ${process.version}; ${haveConvert ? versionOf(CONVERT, '-version') : 'ImageMagick: not found, skipped'}; ` +
      `${PNGQUANT ? `pngquant ${versionOf(PNGQUANT, '--version')}` : 'pngquant: not found, skipped'}; ` +
      `${haveTime ? 'time and memory by /usr/bin/time' : '/usr/bin/time not found: wall time measured here, memory for the CLI only'}`,
  );
  console.log(`work files in ${path.relative(process.cwd(), out) || '.'}\n`);

  const rows = [];
  const summary = [];
  for (const input of inputs) {
    const source = await decodeImage(readFileSync(input.file), input.file);
    const mp = ((source.width * source.height) / 1e6).toFixed(1);
    const label = `${input.name} (${source.width}x${source.height}, ${mp} MP)`;
    const results = {};

    // The whole CLI process against convert (and pngquant), their runs interleaved; a small photo also at its
    // own width, where fixed costs are what is measured.
    const edit = (width, file) => ({
      cmd: process.execPath,
      argv: [
        ...[path.join(root, 'bin', 'imagegen.js'), 'edit', input.file, '--local', '--width', String(width)],
        ...['--colors', String(COLORS), '-o', file, '--no-report', '--force', '-q'],
      ],
    });
    const convert = (width, file) => ({
      cmd: CONVERT,
      argv: [input.file, '-resize', `${width}x`, '+dither', '-colors', String(COLORS), file],
    });
    const commands = [];
    const ours = path.join(out, `${input.name}.imagegen.png`);
    commands.push({ tool: 'imagegen', file: ours, ...edit(WIDTH, ours) });
    if (haveConvert) {
      const im = path.join(out, `${input.name}.convert.png`);
      commands.push({ tool: 'convert', file: im, ...convert(WIDTH, im) });
    }
    if (PNGQUANT) {
      // pngquant has no resize: give it the same grid as ours, made by our area-average resize.
      const height = gridHeight(WIDTH, source.width, source.height);
      const gridFile = path.join(out, `${input.name}.grid.png`);
      writeFileSync(gridFile, encodeRgbPng(resizeToGrid(source, WIDTH, height)));
      const pq = path.join(out, `${input.name}.pngquant.png`);
      commands.push({
        tool: 'pngquant (grid)',
        file: pq,
        cmd: PNGQUANT,
        argv: [String(COLORS), '--nofs', '--force', '--output', pq, gridFile],
      });
    }
    const small = isSmallPhoto(source);
    if (small && haveConvert) {
      const own = source.width;
      const oursOwn = path.join(out, `${input.name}.imagegen-own.png`);
      const imOwn = path.join(out, `${input.name}.convert-own.png`);
      commands.push({ tool: OWN_IMAGEGEN, file: oursOwn, ...edit(own, oursOwn) });
      commands.push({ tool: OWN_CONVERT, file: imOwn, ...convert(own, imOwn) });
    }
    const timings = interleavedRuns(RUNS, commands);
    for (const [k, c] of commands.entries()) {
      const scored = c.tool === OWN_IMAGEGEN || c.tool === OWN_CONVERT ? {} : await score(c.file, source);
      results[c.tool] = { ...timings[k], ...scored };
    }

    for (const [tool, r] of Object.entries(results)) rows.push({ input: label, tool, ...r });
    summary.push({ input: input.name, megapixels: Math.round((source.width * source.height) / 1e6), results });
  }

  const fmt = (v, digits) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const header = [
    'input',
    'tool',
    'wall s',
    'runs (s)',
    'peak MB',
    'grid',
    'colours',
    'mean ΔE00',
    'p95 ΔE00',
    `regions<${MIN_REGION}`,
  ];
  const table = rows.map((r) => [
    r.input,
    r.tool,
    fmt(r.secs, 2),
    r.all.map((s) => s.toFixed(2)).join(' '),
    fmt(r.mb, 0),
    r.width === undefined ? 'n/a' : `${r.width}x${r.height}`,
    r.colors === undefined ? 'n/a' : String(r.colors),
    fmt(r.meanDe, 3),
    fmt(r.p95De, 2),
    r.small === undefined ? 'n/a' : String(r.small),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of table) console.log(line(row));

  console.log('\ntargets (ratios are imagegen over convert, medians of the interleaved runs)');
  const ratio = (a, b) => (a / b).toFixed(2);
  for (const { input, megapixels, results } of summary) {
    const ours = results.imagegen;
    const im = results.convert;
    const pq = results['pngquant (grid)'];
    const parts = [];
    if (im && megapixels >= 12) {
      // (a) the 12-megapixel photos at 1200 ends: time at most LARGE_TARGET × convert's, memory at most convert's.
      const fast = ours.secs <= LARGE_TARGET * im.secs;
      const lean = ours.mb === undefined || im.mb === undefined ? undefined : ours.mb <= im.mb;
      parts.push(
        `(a) time ${ours.secs.toFixed(2)} s vs convert ${im.secs.toFixed(2)} s = ${ratio(ours.secs, im.secs)}× (≤ ${LARGE_TARGET}×): ${verdict(fast)}`,
      );
      parts.push(`memory ${fmt(ours.mb, 0)} MB vs convert ${fmt(im.mb, 0)} MB (≤): ${verdict(lean)}`);
    } else if (im) {
      parts.push(`time ${ratio(ours.secs, im.secs)}× convert's at ${WIDTH} ends (no target)`);
    }
    const own = results[OWN_IMAGEGEN];
    const imOwn = results[OWN_CONVERT];
    if (own && imOwn) {
      parts.push(
        `(own width) ${own.secs.toFixed(2)} s vs convert ${imOwn.secs.toFixed(2)} s = ${ratio(own.secs, imOwn.secs)}× (≤ ${OWN_WIDTH_TARGET}×): ${verdict(own.secs <= OWN_WIDTH_TARGET * imOwn.secs)}`,
      );
    }
    if (pq) {
      const good = ours.meanDe <= pq.meanDe && ours.small === 0;
      parts.push(
        `(b) ΔE00 ${ours.meanDe.toFixed(3)} vs pngquant ${pq.meanDe.toFixed(3)}, ${ours.small} regions<${MIN_REGION}: ${verdict(good)}`,
      );
    }
    console.log(`  ${input}: ${parts.join('; ')}`);
  }
}
