#!/usr/bin/env node
/**
 * npm run bench [-- --runs N] [-- --only NAME]
 * npm run bench -- --startup [--runs N]   start-up time of `imagegen --help` and `edit --help` against `node -e 0`
 *
 * Times the real CLI (`node bin/imagegen.js edit <in> --local --width 1200 --colors 8 -o <out> --no-report
 * --force`) against ImageMagick (`convert in -resize 1200x +dither -colors 8 out.png`) and pngquant
 * (`pngquant 8 --nofs` on the source first resized to the same grid), and scores every output against the
 * source resized to the output's grid with our own area-average resize (linear light): mean and 95th
 * percentile CIEDE2000, the number of colours, and the number of 4-connected regions under 4 pixels.
 *
 * Inputs are real photographs made here from samples/grace-hopper.jpg (public domain) by upscaling with
 * ImageMagick, plus ImageMagick's built-in `rose:` photo and any of a few photos that Debian packages put on
 * the machine. Nothing is downloaded. Work files go to bench-out/ (git-ignored), or $BENCH_OUT.
 *
 * Wall time and peak memory come from /usr/bin/time -f '%e %M' when it exists; otherwise wall time is taken
 * here and peak memory is known only for the CLI (reported by a preloaded module). Needs a build (dist/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;
if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { decodeImage } = await import(dist('image/decode.js'));
const { resizeToGrid, gridHeight } = await import(dist('loom/resize.js'));
const { srgbToLab, ciede2000 } = await import(dist('loom/color.js'));
const { labelRegions } = await import(dist('loom/regions.js'));
const { encodeRgbPng } = await import(dist('formats/png.js'));

const WIDTH = 1200;
const COLORS = 8;
const MIN_REGION = 4;
const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const RUNS = Math.max(1, Number(argValue('--runs', '5')));
const ONLY = argValue('--only', undefined);
const out = path.resolve(process.env.BENCH_OUT ?? path.join(root, 'bench-out'));
mkdirSync(out, { recursive: true });

const CONVERT = '/usr/bin/convert';
const TIME = '/usr/bin/time';
const haveConvert = existsSync(CONVERT);
const haveTime = existsSync(TIME);
const which = (cmd) => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
};
const PNGQUANT = which('pngquant');

function versionOf(cmd, flag) {
  const r = spawnSync(cmd, [flag], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').split('\n')[0].trim();
}

// --- inputs -----------------------------------------------------------------------------------------------

function makeInputs() {
  const inputs = [];
  const sample = path.join(root, 'samples', 'grace-hopper.jpg');
  if (!haveConvert) {
    console.log(
      `note: ${CONVERT} not found; using samples/grace-hopper.jpg (512x600) as it is and skipping ImageMagick`,
    );
    inputs.push({ name: 'hopper-0.3mp', file: sample });
    return inputs;
  }
  const make = (name, src, size) => {
    const file = path.join(out, `${name}.jpg`);
    if (!existsSync(file)) {
      const r = spawnSync(CONVERT, [src, '-filter', 'Lanczos', '-resize', `${size}!`, '-quality', '92', file], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`convert failed for ${name}: ${r.stderr}`);
    }
    inputs.push({ name, file });
  };
  // grace-hopper.jpg is 512x600; keep its aspect ratio.
  make('hopper-0.6mp', sample, '720x844');
  make('hopper-12mp', sample, '3200x3750');
  make('rose-0.5mp', 'rose:', '880x578'); // ImageMagick's built-in 70x46 photograph
  // Photos that Debian packages may have put on this machine (not downloaded here).
  const debian = [
    '/usr/share/doc/imagemagick-6-common/html/images/bluebells_clipped.jpg',
    '/usr/share/doc/imagemagick-6-common/html/images/bluebells.jpg',
  ];
  for (const file of debian) if (existsSync(file)) inputs.push({ name: path.basename(file, '.jpg'), file });
  return inputs;
}

// --- running and timing -------------------------------------------------------------------------------------

const rssProbe = path.join(out, 'rss-probe.mjs');
writeFileSync(
  rssProbe,
  "import { writeFileSync } from 'node:fs';\n" +
    "process.on('exit', () => { if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n",
);

/** Runs a command once; returns wall seconds and peak resident memory in MB (undefined when unknown). */
function timed(cmd, argv, opts = {}) {
  if (haveTime) {
    const r = spawnSync(TIME, ['-f', 'BENCH %e %M', cmd, ...argv], {
      encoding: 'utf8',
      cwd: root,
      env: opts.env ?? process.env,
    });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
    const line = r.stderr
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('BENCH '));
    const [, secs, kb] = line.split(' ');
    return { secs: Number(secs), mb: Number(kb) / 1024 };
  }
  const rssFile = path.join(out, 'rss.txt');
  const env = { ...(opts.env ?? process.env), BENCH_RSS_FILE: rssFile };
  const nodeArgs = cmd === process.execPath ? ['--import', pathToFileURL(rssProbe).href, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, nodeArgs, { encoding: 'utf8', cwd: root, env });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  const mb = cmd === process.execPath && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : undefined;
  return { secs, mb };
}

function median(values) {
  const v = values.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function repeat(runs, cmd, argv) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(timed(cmd, argv));
  return {
    secs: median(results.map((r) => r.secs)),
    mb: median(results.map((r) => r.mb)),
    all: results.map((r) => r.secs),
  };
}

// --- scoring ------------------------------------------------------------------------------------------------

const referenceCache = new Map();
function reference(source, width, height) {
  const key = `${width}x${height}`;
  if (!referenceCache.has(key)) {
    const grid = resizeToGrid(source, width, height);
    const lab = new Float32Array(width * height * 3);
    for (let i = 0, p = 0; i < width * height; i++, p += 3)
      srgbToLab(grid.data[p], grid.data[p + 1], grid.data[p + 2], lab, p);
    referenceCache.set(key, { grid, lab });
  }
  return referenceCache.get(key);
}

async function score(file, source) {
  const image = await decodeImage(readFileSync(file), file);
  const { width, height, data } = image;
  const n = width * height;
  const ids = new Map();
  const indices = new Uint8Array(n);
  const palette = [];
  let tooMany = false;
  for (let i = 0; i < n; i++) {
    const key = (data[i * 4] << 16) | (data[i * 4 + 1] << 8) | data[i * 4 + 2];
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
      palette.push([data[i * 4], data[i * 4 + 1], data[i * 4 + 2]]);
    }
    if (id > 255) tooMany = true;
    indices[i] = id & 255;
  }
  const plab = palette.map(([r, g, b]) => {
    const lab = new Float32Array(3);
    srgbToLab(r, g, b, lab);
    return lab;
  });
  const ref = reference(source, width, height);
  const de = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const key = (data[i * 4] << 16) | (data[i * 4 + 1] << 8) | data[i * 4 + 2];
    const c = plab[ids.get(key)];
    const d = ciede2000(ref.lab[i * 3], ref.lab[i * 3 + 1], ref.lab[i * 3 + 2], c[0], c[1], c[2]);
    de[i] = d;
    sum += d;
  }
  de.sort();
  let small;
  if (!tooMany) {
    const regions = labelRegions(width, height, indices);
    small = 0;
    for (let r = 0; r < regions.count; r++) if (regions.sizes[r] < MIN_REGION) small++;
  }
  return { width, height, colors: ids.size, meanDe: sum / n, p95De: de[Math.floor(n * 0.95)], small };
}

// --- start-up -----------------------------------------------------------------------------------------------

/** Wall seconds of one run, timed here (finer than /usr/bin/time's hundredths). */
function wall(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} failed:\n${r.stderr}`);
  return secs;
}

if (args.includes('--startup')) {
  const bin = path.join(root, 'bin', 'imagegen.js');
  const commands = [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: 'imagegen --help', argv: [bin, '--help'] },
    { name: 'imagegen edit --help', argv: [bin, 'edit', '--help'] },
  ];
  for (const c of commands) wall(c.argv); // warm the file cache
  const times = commands.map(() => []);
  // Interleaved, so that a noisy moment weighs on every command alike.
  for (let i = 0; i < RUNS; i++) commands.forEach((c, k) => times[k].push(wall(c.argv)));
  const base = median(times[0]);
  console.log(`start-up, ${RUNS} interleaved runs each (median), node ${process.version}`);
  commands.forEach((c, k) => {
    const m = median(times[k]);
    const runs = times[k].map((t) => t.toFixed(3)).join(' ');
    console.log(`  ${c.name.padEnd(22)} ${m.toFixed(3)} s  ${(m / base).toFixed(2)}× node -e 0   (${runs})`);
  });
  process.exit(0);
}

// --- main ---------------------------------------------------------------------------------------------------

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

  // imagegen, the whole CLI process
  const ours = path.join(out, `${input.name}.imagegen.png`);
  const t = repeat(RUNS, process.execPath, [
    path.join(root, 'bin', 'imagegen.js'),
    'edit',
    input.file,
    '--local',
    '--width',
    String(WIDTH),
    '--colors',
    String(COLORS),
    '-o',
    ours,
    '--no-report',
    '--force',
    '-q',
  ]);
  results.imagegen = { ...t, ...(await score(ours, source)) };

  if (haveConvert) {
    const im = path.join(out, `${input.name}.convert.png`);
    const r = repeat(RUNS, CONVERT, [input.file, '-resize', `${WIDTH}x`, '+dither', '-colors', String(COLORS), im]);
    results.convert = { ...r, ...(await score(im, source)) };
  }

  if (PNGQUANT) {
    // pngquant has no resize: give it the same grid as ours, made by our area-average resize.
    const height = gridHeight(WIDTH, source.width, source.height);
    const gridFile = path.join(out, `${input.name}.grid.png`);
    writeFileSync(gridFile, encodeRgbPng(resizeToGrid(source, WIDTH, height)));
    const pq = path.join(out, `${input.name}.pngquant.png`);
    const r = repeat(RUNS, PNGQUANT, [String(COLORS), '--nofs', '--force', '--output', pq, gridFile]);
    results['pngquant (grid)'] = { ...r, ...(await score(pq, source)) };
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
  `${r.width}x${r.height}`,
  String(r.colors),
  fmt(r.meanDe, 3),
  fmt(r.p95De, 2),
  r.small === undefined ? 'n/a' : String(r.small),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const row of table) console.log(line(row));

console.log('\ntargets');
for (const { input, megapixels, results } of summary) {
  const ours = results.imagegen;
  const im = results.convert;
  const pq = results['pngquant (grid)'];
  const parts = [];
  if (im && megapixels >= 12) {
    // (a) applies to the 12-megapixel photo: whole CLI process against the convert command.
    const fast = ours.secs <= im.secs;
    const lean = ours.mb === undefined || im.mb === undefined ? undefined : ours.mb <= 2 * im.mb;
    parts.push(`(a) time ${ours.secs.toFixed(2)} s vs convert ${im.secs.toFixed(2)} s: ${fast ? 'met' : 'NOT met'}`);
    parts.push(
      `memory ${fmt(ours.mb, 0)} MB vs 2 × ${fmt(im.mb, 0)} MB: ${lean === undefined ? 'unknown' : lean ? 'met' : 'NOT met'}`,
    );
  } else if (im) {
    parts.push(`time ${ours.secs.toFixed(2)} s vs convert ${im.secs.toFixed(2)} s (no target below 12 MP)`);
  }
  if (pq) {
    const good = ours.meanDe <= pq.meanDe && ours.small === 0;
    parts.push(
      `(b) ΔE00 ${ours.meanDe.toFixed(3)} vs pngquant ${pq.meanDe.toFixed(3)}, ${ours.small} regions<${MIN_REGION}: ${good ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`  ${input}: ${parts.join('; ')}`);
}
