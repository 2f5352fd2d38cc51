#!/usr/bin/env node
/**
 * npm run bench [-- --runs N] [-- --only NAME]
 * npm run bench -- --startup [--runs N]   start-up time of `imagegen --help` and `edit --help` against `node -e 0`
 * npm run bench -- --fidelity             fidelity only (no timing): imagegen against pngquant on every input
 * npm run bench -- --stages [--runs N]    palette, map and speck-removal times at 1200 ends, in fresh processes
 * npm run bench -- --batch [--runs N]     a batch of 24 photos in one invocation, against GNU parallel and mogrify
 * npm run bench -- --remote [--runs N]    8 remote edits against the test suite's fake DashScope, 2 tasks in flight
 * npm run bench -- --weave [--runs N]     lift plans of --weave auto: floats, tone (Spearman) against naive binaries, time
 * npm run bench -- --wefts [--runs N]     colour jacquard: woven face against the naive cloth, floats per layer, stitches, time
 * npm run bench -- --decode [--runs N]    each JPEG decoded at full size, at half size, and as the CLI decides
 * npm run bench -- --kernels [--runs N]   the palette mapping's WebAssembly port against the JavaScript kernel, cold and warm
 *
 * Times the real CLI (`node bin/imagegen.js edit <in> --local --width 1200 --colors 8 -o <out> --no-report
 * --force`) against ImageMagick (`convert in -resize 1200x +dither -colors 8 out.png`) and pngquant
 * (`pngquant 8 --nofs` on the source first resized to the same grid), and scores every output against the
 * source resized to the output's grid with our own area-average resize (linear light): mean and 95th
 * percentile CIEDE2000, the number of colours, and the number of 4-connected regions under 4 pixels. The
 * commands' runs are interleaved (run 1 of each, then run 2, ...) and their medians compared, as the machine is
 * noisy. Photos of 0.2 to 0.5 megapixels are also timed at their own width, against convert at the same width:
 * what that measures is mostly fixed cost (start-up, loading, cold code).
 *
 * Inputs are real photographs made here from samples/grace-hopper.jpg (public domain) by upscaling with
 * ImageMagick, ImageMagick's built-in `rose:` photo, and pictures of different kinds (portrait, landscape,
 * still life, fur, flat graphic, grain texture, saturated colours, a 13-megapixel camera JPEG) that Debian
 * packages ship: imagemagick-6-doc, python3-skimage and lomiri-wallpapers-16.04, fetched once with
 * `apt-get download` and unpacked with `dpkg -x` into the work folder (see DEBIAN_PICTURES). Work files go
 * to bench-out/ (git-ignored), or $BENCH_OUT.
 *
 * Wall time and peak memory come from /usr/bin/time -f '%e %M' when it exists; otherwise wall time is taken
 * here and peak memory is known only for the CLI (reported by a preloaded module). Needs a build (dist/).
 *
 * --decode: for every JPEG input (and the JPEGs of bench-out/batch-photos, when --batch has made them), the time
 * and peak memory of one decode in a fresh process (WebAssembly compilation included), full size against half
 * size (libjpeg-turbo's scaled inverse DCT) against what `edit` does at 1200 ends (half size only when it is
 * safe), and the mean CIEDE2000 between the 1200-end grid from the full decode and from the other two; the
 * target is under 0.3 for what `edit` does, on every photo.
 *
 * --batch: 24 photos of 1 to 12 megapixels, JPEG and PNG, made here from the same two sources and cached in
 * bench-out/batch-photos, go through one `imagegen edit <folder> --local --width 600 --colors 8 --out-dir ..`
 * (with `--jobs 2`, and given the folder rather than the files, when `edit --help` shows it can), through
 * `parallel -j2 convert` and through one `mogrify -path ..`; then 24 tiny PNGs against 1, same options, give
 * each tool's fixed cost per extra image. Runs are interleaved (every command's run 1, then run 2, ...) as the
 * machine is noisy; every run writes into a fresh folder, and the bench stops if it does not hold the images.
 * Needs /usr/bin/convert, mogrify, identify and /usr/bin/parallel (apt-get install imagemagick parallel).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
const out = path.resolve(process.env.BENCH_OUT || path.join(root, 'bench-out'));
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
  // Photos and pictures from Debian packages, unpacked into the work folder (see debianPictures).
  for (const { name, file } of debianPictures()) inputs.push({ name, file });
  return inputs;
}

/**
 * Pictures of different kinds that Debian packages ship, as [bench name, package, path in the package]. The
 * packages are fetched with `apt-get download` and unpacked with `dpkg -x` into the work folder (nothing is
 * installed); a package that cannot be had is named and its pictures skipped.
 */
const DEBIAN_PICTURES = [
  ['bluebells_clipped', 'imagemagick-6-doc', '/usr/share/doc/imagemagick-6-common/html/images/bluebells_clipped.jpg'],
  ['bluebells', 'imagemagick-6-doc', '/usr/share/doc/imagemagick-6-common/html/images/bluebells.jpg'],
  ['wizard-graphic', 'imagemagick-6-doc', '/usr/share/doc/imagemagick-6-common/html/images/logo.png'], // flat graphic
  ['astronaut-portrait', 'python3-skimage', '/usr/lib/python3/dist-packages/skimage/data/astronaut.png'],
  ['coffee-still-life', 'python3-skimage', '/usr/lib/python3/dist-packages/skimage/data/coffee.png'],
  ['chelsea-fur', 'python3-skimage', '/usr/lib/python3/dist-packages/skimage/data/chelsea.png'],
  ['picos-landscape', 'lomiri-wallpapers-16.04', '/usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg'],
  ['brushes-saturated', 'lomiri-wallpapers-16.04', '/usr/share/backgrounds/Picture_1A_by_freespace.jpg'],
  ['grain-texture', 'lomiri-wallpapers-16.04', '/usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg'],
  // A 13-megapixel camera JPEG of foliage: fine detail at full size, not an upscaled small photo.
  ['dragonfly-camera-13mp', 'lomiri-wallpapers-16.04', '/usr/share/backgrounds/Dragonfly_by_Bolly.jpg'],
];

const APT_GET = '/usr/bin/apt-get';
const DPKG = '/usr/bin/dpkg';

function debianPictures() {
  const dir = path.join(out, 'debian');
  const found = [];
  const failed = new Set();
  for (const [name, pkg, file] of DEBIAN_PICTURES) {
    const unpacked = path.join(dir, pkg, file);
    if (!existsSync(unpacked) && !failed.has(pkg)) {
      const debs = path.join(dir, 'debs');
      mkdirSync(debs, { recursive: true });
      const have = () => readdirSync(debs).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
      let get = spawnSync(APT_GET, ['download', '-qq', pkg], { cwd: debs, encoding: 'utf8' });
      if (!have()) {
        // An empty or old package list: refresh it once and try again.
        spawnSync(APT_GET, ['update', '-qq'], { encoding: 'utf8' });
        get = spawnSync(APT_GET, ['download', '-qq', pkg], { cwd: debs, encoding: 'utf8' });
      }
      const deb = have();
      const x = deb && spawnSync(DPKG, ['-x', path.join(debs, deb), path.join(dir, pkg)], { encoding: 'utf8' });
      if (!deb || x.status !== 0) {
        console.log(`note: could not fetch ${pkg} (${(get.stderr || x?.stderr || '').trim().split('\n')[0]}); skipped`);
        failed.add(pkg);
      }
    }
    if (existsSync(unpacked)) found.push({ name, file: unpacked });
  }
  return found;
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

// --- scoring ------------------------------------------------------------------------------------------------

// Per source (two inputs may share a grid size), then per grid size.
const referenceCaches = new WeakMap();
function reference(source, width, height) {
  if (!referenceCaches.has(source)) referenceCaches.set(source, new Map());
  const referenceCache = referenceCaches.get(source);
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
function wallOf(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return secs;
}
const wall = (argv) => wallOf(process.execPath, argv);

/** Wall seconds of each node command, RUNS runs each, interleaved (a first run of each warms the file cache). */
function interleavedWalls(commands) {
  for (const c of commands) wall(c.argv);
  const times = commands.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      times[k].push(wall(commands[k].argv));
    }
  }
  return times;
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

// --- batch --------------------------------------------------------------------------------------------------

const MOGRIFY = '/usr/bin/mogrify';
const PARALLEL = '/usr/bin/parallel';
const IDENTIFY = '/usr/bin/identify';
const BATCH = 24;
const BATCH_WIDTH = 600;
const PEAK_MB_TARGET = 600;
const PARALLEL_TARGET = 1.6;

/** Runs convert into `file` through a temporary name, so an interrupted run leaves no half-made cached input. */
function convertTo(file, argv) {
  const tmp = path.join(out, `.${path.basename(file)}.${process.pid}.tmp${path.extname(file)}`);
  const r = spawnSync(CONVERT, [...argv, tmp], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`convert failed for ${path.basename(file)}: ${r.stderr}`);
  }
  renameSync(tmp, file);
}

/** A folder holding exactly the pictures in `specs` (made once, then cached); the folder is the batch. */
function makeFolder(dir, specs) {
  mkdirSync(dir, { recursive: true });
  const wanted = new Set(specs.map((s) => s.name));
  // Anything else in it would be read by the commands that are given the folder.
  for (const name of readdirSync(dir)) if (!wanted.has(name)) rmSync(path.join(dir, name), { recursive: true });
  const made = specs.filter((s) => !existsSync(path.join(dir, s.name)));
  if (made.length) console.error(`bench: making ${made.length} inputs in ${path.relative(process.cwd(), dir)}`);
  for (const s of made) convertTo(path.join(dir, s.name), s.argv);
  return specs.map((s) => path.join(dir, s.name));
}

/** Photos from 1 to 12 megapixels, one PNG to two JPEGs, in eight looks so that sizes, formats and looks mix. */
function batchPhotos() {
  const hopper = path.join(root, 'samples', 'grace-hopper.jpg');
  const looks = [
    ['hopper', hopper, []],
    ['hopper-flop', hopper, ['-flop']],
    ['hopper-rot90', hopper, ['-rotate', '90']],
    ['hopper-crop', hopper, ['-gravity', 'center', '-crop', '80%x60%+0+0', '+repage']],
    ['rose', 'rose:', []],
    ['rose-flop-rot270', 'rose:', ['-flop', '-rotate', '270']],
    ['hopper-wide', hopper, ['-rotate', '270', '-gravity', 'center', '-crop', '100%x70%+0+0', '+repage']],
    ['rose-crop', 'rose:', ['-gravity', 'center', '-crop', '60%x100%+0+0', '+repage']],
  ];
  const specs = [];
  for (let i = 0; i < BATCH; i++) {
    const mp = 1 + (11 * i) / (BATCH - 1);
    const [look, src, ops] = looks[i % looks.length];
    const png = i % 3 === 1;
    specs.push({
      name: `photo-${String(i + 1).padStart(2, '0')}-${look}-${mp.toFixed(1)}mp.${png ? 'png' : 'jpg'}`,
      // `N@` keeps the aspect ratio at N pixels. Light grain: an upscaled photo is unnaturally smooth, which
      // would make its PNG unrealistically small and quick to decode.
      argv: [src, ...ops, '-filter', 'Lanczos', '-resize', `${Math.round(mp * 1e6)}@`, '-attenuate', '0.4']
        .concat(['+noise', 'Gaussian'])
        .concat(png ? [] : ['-quality', '92']),
    });
  }
  return makeFolder(path.join(out, 'batch-photos'), specs);
}

/** Tiny PNGs, each a little different, for the fixed cost per image. */
function tinySpecs(count) {
  const specs = [];
  for (let i = 0; i < count; i++) {
    const flop = i % 2 ? ['-flop'] : [];
    const hue = String(100 + ((i * 17) % 100) - 50);
    specs.push({
      name: `tiny-${String(i + 1).padStart(2, '0')}.png`,
      argv: ['rose:', ...flop, '-modulate', `100,100,${hue}`, '-resize', '64x48!'],
    });
  }
  return specs;
}

const shellQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A fresh, empty output folder for one run of one command. */
function freshDir(name) {
  const dir = path.join(out, 'batch-runs', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Fails unless `dir` holds `expected` non-empty images (PNGs `width` wide, when given): a broken command must not look fast. */
function checkOutputs(dir, expected, label, width) {
  const images = readdirSync(dir).filter((n) => !n.startsWith('.') && /\.(png|bmp)$/i.test(n));
  const bad = [];
  for (const n of images) {
    const data = readFileSync(path.join(dir, n));
    if (data.length === 0) bad.push(`${n} is empty`);
    else if (width !== undefined && n.endsWith('.png') && (data.length < 24 || data.readUInt32BE(16) !== width))
      bad.push(`${n} is not ${width} pixels wide`);
  }
  if (images.length !== expected || bad.length) {
    console.error(`bench --batch: ${label} wrote ${images.length} images into ${dir}, expected ${expected}`);
    for (const b of bad) console.error(`  ${b}`);
    process.exit(1);
  }
}

/** Runs `commands` `runs` times, interleaved; each run writes into a fresh folder that is checked afterwards. */
function interleaved(runs, commands, measure) {
  const results = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    // Each round starts with the next command, so that no command always follows the same one.
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      const c = commands[k];
      const dir = freshDir(c.key);
      results[k].push(measure(c, dir));
      checkOutputs(dir, c.expected, c.label, c.width);
    }
    const done = commands.map((c, k) => `${c.key} ${results[k][i].secs.toFixed(3)} s`).join(', ');
    console.error(`  run ${i + 1}/${runs}: ${done}`);
  }
  return results;
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const row = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(row(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(row(r));
}

const verdict = (ok) => (ok === undefined ? 'unknown' : ok ? 'met' : 'NOT met');

// --- decode -----------------------------------------------------------------------------------------------

const DECODE_DE_TARGET = 0.3;

/** One decode of `file` in a fresh process: 'full', 'half' (forced) or 'edit' (decodeImage with reduceFor). */
const decodeProbe = path.join(out, 'decode-probe.mjs');
writeFileSync(
  decodeProbe,
  `import { readFileSync } from 'node:fs';
const [file, mode, width] = process.argv.slice(2);
const { decodeImage } = await import(${JSON.stringify(dist('image/decode.js'))});
const { decodeJpegScaled } = await import(${JSON.stringify(dist('image/jpeg-turbo.js'))});
const { gridHeight } = await import(${JSON.stringify(dist('loom/resize.js'))});
const bytes = readFileSync(file);
const ends = Number(width);
const t0 = performance.now();
const image =
  mode === 'full'
    ? await decodeImage(bytes, file)
    : mode === 'half'
      ? await decodeJpegScaled(bytes, 2)
      : await decodeImage(bytes, file, { reduceFor: (w, h) => ({ width: ends, height: gridHeight(ends, w, h) }) });
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, mb: process.resourceUsage().maxRSS / 1024, width: image.width }));
`,
);

function probeDecode(file, mode) {
  // Peak memory from /usr/bin/time where there is one: a child's own maxRSS starts at this process's size.
  const argv = [decodeProbe, file, mode, String(WIDTH)];
  const r = haveTime
    ? spawnSync(TIME, ['-f', 'BENCH %M', process.execPath, ...argv], { encoding: 'utf8', cwd: root })
    : spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`decode probe ${mode} ${file} failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout);
  const line = r.stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (line) result.mb = Number(line.split(' ')[1]) / 1024;
  return result;
}

function meanDe(a, b) {
  const la = new Float32Array(3);
  const lb = new Float32Array(3);
  let sum = 0;
  for (let p = 0; p < a.length; p += 3) {
    srgbToLab(a[p], a[p + 1], a[p + 2], la);
    srgbToLab(b[p], b[p + 1], b[p + 2], lb);
    sum += ciede2000(la[0], la[1], la[2], lb[0], lb[1], lb[2]);
  }
  return sum / (a.length / 3);
}

if (args.includes('--decode')) {
  const { decodeJpegScaled } = await import(dist('image/jpeg-turbo.js'));
  const { readJpegOrientation } = await import(dist('image/formats/jpeg.js'));
  const { applyOrientation } = await import(dist('image/orient.js'));
  const batchDir = path.join(out, 'batch-photos');
  const files = makeInputs()
    .map((input) => ({ name: input.name, file: input.file }))
    .concat(
      existsSync(batchDir)
        ? readdirSync(batchDir)
            .filter((n) => /\.jpe?g$/i.test(n))
            .sort()
            .map((n) => ({ name: n.replace(/\.jpe?g$/i, ''), file: path.join(batchDir, n) }))
        : [],
    )
    .filter(
      ({ name, file }) =>
        (!ONLY || name.includes(ONLY)) && /^\xff\xd8\xff/.test(readFileSync(file, 'latin1').slice(0, 3)),
    );
  const rows = [];
  let failed = 0;
  for (const { name, file } of files) {
    const bytes = readFileSync(file);
    const full = await decodeImage(bytes, file);
    const height = gridHeight(WIDTH, full.width, full.height);
    const reference = resizeToGrid(full, WIDTH, height).data;
    const half = await decodeJpegScaled(bytes, 2);
    const halfUpright = applyOrientation(half, readJpegOrientation(bytes));
    const halfDe = meanDe(reference, resizeToGrid(halfUpright, WIDTH, height).data);
    const edit = await decodeImage(bytes, file, {
      reduceFor: (w, h) => ({ width: WIDTH, height: gridHeight(WIDTH, w, h) }),
    });
    const editDe = edit.width === full.width ? 0 : meanDe(reference, resizeToGrid(edit, WIDTH, height).data);
    if (editDe >= DECODE_DE_TARGET) failed++;
    const times = { full: [], half: [], edit: [] };
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, each round starting with the next mode.
      const modes = ['full', 'half', 'edit'];
      for (let j = 0; j < 3; j++) {
        const mode = modes[(i + j) % 3];
        times[mode].push(probeDecode(file, mode));
      }
    }
    const ms = (mode) => median(times[mode].map((t) => t.ms)).toFixed(0);
    const mb = (mode) => median(times[mode].map((t) => t.mb)).toFixed(0);
    const bpp = ((bytes.length * 8) / (full.width * full.height)).toFixed(2);
    rows.push([
      name,
      `${full.width}×${full.height}`,
      bpp,
      `${ms('full')} ms / ${mb('full')} MB`,
      `${ms('half')} ms / ${mb('half')} MB`,
      halfDe.toFixed(3),
      edit.width === full.width ? 'full' : 'half',
      `${ms('edit')} ms / ${mb('edit')} MB`,
      editDe.toFixed(3),
    ]);
    console.error(`  ${name}: done`);
  }
  console.log(
    `decode of each JPEG in a fresh process (medians of ${RUNS} interleaved runs; peak RSS of the process), and the ` +
      `mean CIEDE2000 of the ${WIDTH}-end grid against the grid from the full decode; node ${process.version}`,
  );
  printTable(
    ['photo', 'size', 'bits/px', 'full decode', 'half size', 'ΔE00 half', 'edit decodes', 'edit decode', 'ΔE00 edit'],
    rows,
  );
  console.log(
    `target: ΔE00 of what edit decodes < ${DECODE_DE_TARGET} on every photo: ${verdict(failed === 0)}` +
      (failed ? ` (${failed} over)` : ''),
  );
  process.exit(failed === 0 ? 0 : 1);
}

if (args.includes('--batch')) {
  const missing = [CONVERT, MOGRIFY, PARALLEL, IDENTIFY].filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`bench --batch: ${missing.join(', ')} not found (apt-get install imagemagick parallel)`);
    process.exit(1);
  }
  const bin = path.join(root, 'bin', 'imagegen.js');
  const help = spawnSync(process.execPath, [bin, 'edit', '--help'], { encoding: 'utf8', cwd: root });
  if (help.status !== 0) throw new Error(`imagegen edit --help failed:\n${help.stderr}`);
  // What edit accepts is read from its help, as --jobs and folder inputs may or may not be built yet. Only
  // the usage, description and arguments count: the options mention folders for their output.
  const takesFolder = /folder|director/i.test(help.stdout.split(/^Options:/m)[0]);
  const hasJobs = /--jobs\b/.test(help.stdout);

  const photoDir = path.join(out, 'batch-photos');
  const photos = batchPhotos();
  const tiny24Dir = path.join(out, 'batch-tiny-24');
  const tiny1Dir = path.join(out, 'batch-tiny-1');
  const tiny24 = makeFolder(tiny24Dir, tinySpecs(BATCH));
  const tiny1 = makeFolder(tiny1Dir, tinySpecs(1));

  const imagegen = (dir, files, outDir) => [
    bin,
    'edit',
    ...(takesFolder ? [dir] : files),
    '--local',
    '--width',
    String(BATCH_WIDTH),
    '--colors',
    String(COLORS),
    '--out-dir',
    outDir,
    '--no-report',
    '--force',
    ...(hasJobs ? ['--jobs', '2'] : []),
  ];
  const mogrify = (files, outDir) =>
    ['-path', outDir, '-format', 'png', '-resize', `${BATCH_WIDTH}x`, '+dither', '-colors', String(COLORS)].concat(
      files,
    );
  // parallel hands the command to a shell, so the output folder is quoted; {} and {/.} it quotes itself.
  const parallel = (files, outDir) =>
    ['--will-cite', '-j2', CONVERT, '{}', '-resize', `${BATCH_WIDTH}x`, '+dither', '-colors', String(COLORS)]
      .concat([`${shellQuote(outDir)}/{/.}.png`, ':::'])
      .concat(files);

  const sizes = spawnSync(IDENTIFY, ['-ping', '-format', '%w %h\n', ...photos], { encoding: 'utf8' });
  if (sizes.status !== 0) throw new Error(`identify failed:\n${sizes.stderr}`);
  const mps = sizes.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ').reduce((a, b) => a * Number(b), 1e-6));
  const pngs = photos.filter((f) => f.endsWith('.png')).length;

  const im = versionOf(CONVERT, '-version').replace(/^Version: /, '');
  console.log(`imagegen bench --batch: ${RUNS} interleaved runs per command (median), node ${process.version}`);
  console.log(
    `${im}; ${versionOf(PARALLEL, '--version')}; ${haveTime ? 'batch time and memory by /usr/bin/time' : '/usr/bin/time not found: batch time measured here, memory for imagegen only'}`,
  );
  console.log(
    `imagegen: ${takesFolder ? 'given the folder' : `given the ${BATCH} files (edit --help mentions no folders)`}, ` +
      `${hasJobs ? '--jobs 2' : 'no --jobs (edit --help does not list it)'}`,
  );
  console.log(`work files in ${path.relative(process.cwd(), out) || '.'}\n`);

  // Warm the file cache (inputs, node's modules and codecs, ImageMagick's libraries); nothing here is timed.
  for (const f of photos) readFileSync(f);
  const warm = [
    [process.execPath, imagegen(tiny24Dir, tiny24, freshDir('warm-imagegen'))],
    [PARALLEL, parallel(tiny24, freshDir('warm-parallel'))],
    [MOGRIFY, mogrify(tiny24, freshDir('warm-mogrify'))],
  ];
  for (const [cmd, argv] of warm) wallOf(cmd, argv);

  // 1. The batch of photos, one invocation per command.
  const batchCommands = [
    {
      key: 'imagegen',
      label: `imagegen${hasJobs ? ' --jobs 2' : ''}`,
      cmd: process.execPath,
      argv: (o) => imagegen(photoDir, photos, o),
    },
    { key: 'parallel', label: 'parallel -j2 convert', cmd: PARALLEL, argv: (o) => parallel(photos, o) },
    { key: 'mogrify', label: 'mogrify', cmd: MOGRIFY, argv: (o) => mogrify(photos, o) },
  ].map((c) => ({ ...c, expected: BATCH, width: BATCH_WIDTH }));
  console.error(`bench: ${BATCH} photos, ${RUNS} runs`);
  const batchRuns = interleaved(RUNS, batchCommands, (c, dir) => timed(c.cmd, c.argv(dir)));
  const stats = batchRuns.map((runs) => {
    const secs = median(runs.map((r) => r.secs));
    const mbs = runs.map((r) => r.mb).filter((mb) => mb !== undefined);
    return {
      secs,
      ips: BATCH / secs,
      mb: median(mbs),
      maxMb: mbs.length ? Math.max(...mbs) : undefined,
      all: runs.map((r) => r.secs),
    };
  });

  // 2. Fixed cost per extra image: 24 tiny inputs against 1, one invocation each, timed here.
  const fixedCommands = [
    { key: 'imagegen-24', label: 'imagegen, 24 tiny', expected: BATCH, cmd: process.execPath },
    { key: 'imagegen-1', label: 'imagegen, 1 tiny', expected: 1, cmd: process.execPath },
    { key: 'mogrify-24', label: 'mogrify, 24 tiny', expected: BATCH, cmd: MOGRIFY },
    { key: 'mogrify-1', label: 'mogrify, 1 tiny', expected: 1, cmd: MOGRIFY },
  ];
  const fixedArgv = {
    'imagegen-24': (o) => imagegen(tiny24Dir, tiny24, o),
    'imagegen-1': (o) => imagegen(tiny1Dir, tiny1, o),
    'mogrify-24': (o) => mogrify(tiny24, o),
    'mogrify-1': (o) => mogrify(tiny1, o),
  };
  console.error(`bench: fixed cost, ${RUNS} runs`);
  const fixedRuns = interleaved(RUNS, fixedCommands, (c, dir) => ({ secs: wallOf(c.cmd, fixedArgv[c.key](dir)) }));
  const ms = (k) => fixedRuns[k].map((r) => r.secs * 1000);
  // Per run, from neighbouring runs of the 24 and the 1, then the median of those.
  const perExtra = (k24, k1) => ms(k24).map((t24, i) => (t24 - ms(k1)[i]) / (BATCH - 1));
  const fixed = [
    { label: batchCommands[0].label, t24: ms(0), t1: ms(1), per: perExtra(0, 1) },
    { label: 'mogrify', t24: ms(2), t1: ms(3), per: perExtra(2, 3) },
  ];

  // --- report ---
  const fmt = (v, digits) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const totalMp = mps.reduce((a, b) => a + b, 0);
  console.log(
    `batch: ${BATCH} photos (${BATCH - pngs} JPEG + ${pngs} PNG, ${Math.min(...mps).toFixed(1)}–` +
      `${Math.max(...mps).toFixed(1)} MP, ${totalMp.toFixed(0)} MP in all) to ${BATCH_WIDTH} wide, ${COLORS} colours, ` +
      `one invocation per command, each run into a fresh folder`,
  );
  printTable(
    ['command', 'wall s', 'images/s', 'peak MB', 'max peak MB', 'runs (s)'],
    batchCommands.map((c, k) => [
      c.label + (c.key === 'parallel' ? ' *' : ''),
      fmt(stats[k].secs, 2),
      fmt(stats[k].ips, 2),
      fmt(stats[k].mb, 0),
      fmt(stats[k].maxMb, 0),
      stats[k].all.map((s) => s.toFixed(2)).join(' '),
    ]),
  );
  console.log(
    '* parallel: peak MB is the largest single process (parallel or one convert), not the sum of the two running at once',
  );
  const [ours, par, mog] = stats;
  console.log(
    `\nratios (images/s): imagegen ÷ parallel -j2 convert ${(ours.ips / par.ips).toFixed(2)}×, ` +
      `imagegen ÷ mogrify ${(ours.ips / mog.ips).toFixed(2)}×`,
  );

  console.log(
    `\nfixed cost per extra image: ${BATCH} tiny 64x48 PNGs against 1, one invocation each, ` +
      `same options as the batch (so ${BATCH_WIDTH} wide), (t${BATCH} − t1) / ${BATCH - 1} per run (median), timed here`,
  );
  printTable(
    ['command', `t1 ms`, `t${BATCH} ms`, 'per extra image ms', 'runs (ms per extra image)'],
    fixed.map((f) => [
      f.label,
      fmt(median(f.t1), 1),
      fmt(median(f.t24), 1),
      fmt(median(f.per), 2),
      f.per.map((v) => v.toFixed(2)).join(' '),
    ]),
  );

  const [fOurs, fMog] = fixed.map((f) => median(f.per));
  const peakOk = ours.maxMb === undefined ? undefined : ours.maxMb <= PEAK_MB_TARGET;
  console.log('\ntargets');
  console.log(
    `  images/s ≥ ${PARALLEL_TARGET} × parallel -j2 convert's: ${ours.ips.toFixed(2)} vs ` +
      `${(PARALLEL_TARGET * par.ips).toFixed(2)}: ${verdict(ours.ips >= PARALLEL_TARGET * par.ips)}`,
  );
  console.log(
    `  ahead of mogrify: ${ours.ips.toFixed(2)} vs ${mog.ips.toFixed(2)} images/s: ${verdict(ours.ips > mog.ips)}`,
  );
  console.log(
    `  peak memory ≤ ${PEAK_MB_TARGET} MB (largest of ${RUNS} runs): ${fmt(ours.maxMb, 0)} MB: ${verdict(peakOk)}`,
  );
  console.log(
    `  fixed cost per extra image ≤ mogrify's: ${fOurs.toFixed(2)} vs ${fMog.toFixed(2)} ms: ${verdict(fOurs <= fMog)}`,
  );
  process.exit(0);
}

// --- remote -------------------------------------------------------------------------------------------------

/**
 * 8 edits in one invocation against the fake DashScope of the test suite (its limits on: 2 tasks in flight, 2
 * submits a second, 429 beyond), with tasks that take T seconds. The bound is 1.15 × 4T + 2 s: four rounds of
 * two tasks, with room for polling and the loom pipeline. The fake is TypeScript; it is transpiled here with
 * the project's own compiler, as it imports nothing but Node.
 */
if (args.includes('--remote')) {
  const ts = (await import('typescript')).default;
  const source = readFileSync(path.join(root, '__tests__', 'helpers', 'fake-providers.ts'), 'utf8');
  const compiled = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const fakeFile = path.join(out, 'fake-providers.mjs');
  writeFileSync(fakeFile, compiled);
  const { FakeProviders } = await import(pathToFileURL(fakeFile).href);
  const key = 'sk-bench-not-a-real-key-0000';
  const T = Number(argValue('--task-seconds', '2'));
  const fake = await new FakeProviders({ dashscopeKey: key, modelscopeKey: 'ms-bench-0000', limits: true }).start();
  fake.taskDurationMs = T * 1000;
  fake.result = {
    status: 200,
    body: readFileSync(path.join(root, 'samples', 'grace-hopper.jpg')),
    contentType: 'image/jpeg',
  };
  const work = path.join(out, 'remote');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(work, 'in'), { recursive: true });
  for (let i = 1; i <= 8; i++)
    writeFileSync(path.join(work, 'in', `p${i}.jpg`), readFileSync(path.join(root, 'samples', 'grace-hopper.jpg')));
  writeFileSync(
    path.join(work, '.imagegenrc.json'),
    JSON.stringify({ polling: { intervalMs: 250, maxIntervalMs: 500, timeoutMs: 120000 }, loom: { width: 600 } }),
  );
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    DASHSCOPE_API_KEY: key,
    IMAGEGEN_DASHSCOPE_BASE_URL: fake.url,
  };
  const bound = 1.15 * 4 * T + 2;
  console.log(
    `imagegen bench --remote: 8 edits, fake DashScope with 2 tasks in flight and 2 submits a second, tasks of ${T} s`,
  );
  const walls = [];
  for (let run = 1; run <= RUNS; run++) {
    fake.resetStats();
    const outDir = path.join(work, `out-${run}`);
    const { spawn } = await import('node:child_process');
    const t0 = process.hrtime.bigint();
    const code = await new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          path.join(root, 'bin', 'imagegen.js'),
          'edit',
          'in',
          '--out-dir',
          outDir,
          '--no-report',
          '--no-fallback',
          '-q',
        ],
        { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      child.on('exit', resolve);
    });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const stats = fake.stats.dashscope;
    const ids = stats.accepted.map((a) => a.taskId);
    const written = existsSync(outDir) ? readdirSync(outDir).length : 0;
    if (code !== 0 || written !== 8) {
      console.log(`run ${run}: exit ${code}, ${written} images: the bench stops`);
      await fake.close();
      process.exit(1);
    }
    walls.push(secs);
    console.log(
      `run ${run}: ${secs.toFixed(2)} s, peak ${stats.peakInFlight} in flight, ${stats.accepted.length} submits (${new Set(ids).size} distinct), 429s: rate ${stats.refused.rate}, in flight ${stats.refused.inFlight}`,
    );
  }
  await fake.close();
  const m = median(walls);
  console.log(
    `median ${m.toFixed(2)} s against the bound 1.15 × 4 × ${T} + 2 = ${bound.toFixed(2)} s: ${m <= bound ? 'met' : 'NOT met'}`,
  );
  process.exit(0);
}

// --- weave --------------------------------------------------------------------------------------------------

/**
 * --weave: the lift plan of `edit --local --weave auto` on the bench photos at 600 and 1200 ends, plain and
 * with --tile: floats over --max-float on either face (runs of raised or lowered crossings over the limit, in
 * rows and columns; with --tile on the plan laid 2 x 2, so that its seams are inside what is checked), and Spearman's rho over 8x8 cells (and over cells of one
 * repeat of the satin auto took) between the share of dark-yarn crossings and the photo's darkness (1 - L/100)
 * on the same grid; the same for a 50% threshold and a Floyd-Steinberg binary of that grid, as the TC2
 * converters make; and how many distinct structures auto gave the design's colours. Then the time weaving
 * adds to the same run at 1200 ends: both commands interleaved, medians, with every run shown.
 */
if (args.includes('--weave')) {
  const MAX_FLOAT = 8;
  const CELL = 8;
  const bin = path.join(root, 'bin', 'imagegen.js');
  const work = path.join(out, 'weave');
  mkdirSync(work, { recursive: true });
  const photos = makeInputs().filter((i) => !i.name.includes('12mp') && (!ONLY || i.name.includes(ONLY)));

  /** Runs of equal bits longer than `max`, over rows and columns, both values (cyclic: across the seams). */
  const floatsOver = (bits, w, h, max, cyclic) => {
    let over = 0;
    let longest = 0;
    const line = (at, len) => {
      let start = 0;
      if (cyclic) {
        while (start < len && at(start) === at(0)) start++;
        if (start === len) {
          longest = Math.max(longest, len);
          over++;
          return;
        }
      }
      let run = 0;
      let value = -1;
      const close = () => {
        longest = Math.max(longest, run);
        if (run > max) over++;
      };
      for (let k = 0; k < len; k++) {
        const v = at(cyclic ? (start + k) % len : k);
        if (v === value) run++;
        else {
          close();
          value = v;
          run = 1;
        }
      }
      close();
    };
    for (let y = 0; y < h; y++) line((x) => bits[y * w + x], w);
    for (let x = 0; x < w; x++) line((y) => bits[y * w + x], h);
    return { over, longest };
  };
  const cellMeans = (values, w, h, cell = CELL) => {
    const out = [];
    for (let cy = 0; cy + cell <= h; cy += cell)
      for (let cx = 0; cx + cell <= w; cx += cell) {
        let sum = 0;
        for (let y = cy; y < cy + cell; y++) for (let x = cx; x < cx + cell; x++) sum += values[y * w + x];
        out.push(sum / (cell * cell));
      }
    return out;
  };
  const ranks = (v) => {
    const order = v.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
    const r = new Array(v.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
      for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const spearman = (a, b) => {
    const ra = ranks(a);
    const rb = ranks(b);
    const n = a.length;
    const ma = ra.reduce((s, x) => s + x, 0) / n;
    const mb = rb.reduce((s, x) => s + x, 0) / n;
    let num = 0;
    let da = 0;
    let db = 0;
    for (let i = 0; i < n; i++) {
      num += (ra[i] - ma) * (rb[i] - mb);
      da += (ra[i] - ma) ** 2;
      db += (rb[i] - mb) ** 2;
    }
    return num / Math.sqrt(da * db);
  };
  /** Raised (black) crossings of a lift plan file, top row first. */
  const liftBits = async (file) => {
    const img = await decodeImage(readFileSync(file), file);
    const bits = new Uint8Array(img.width * img.height);
    for (let i = 0; i < bits.length; i++) bits[i] = img.data[i * 4] < 128 ? 1 : 0;
    return { bits, width: img.width, height: img.height };
  };

  console.log(
    `imagegen bench --weave: edit --local --weave auto (black warp, white weft, --max-float ${MAX_FLOAT}), node ${process.version}`,
  );
  const rows = [];
  /** Per picture and width: the design's colours, the distinct structures auto gave them, and the satin. */
  const distinct = [];
  for (const photo of photos) {
    const source = await decodeImage(readFileSync(photo.file), photo.file);
    for (const width of [600, 1200]) {
      for (const tile of [false, true]) {
        const stem = path.join(work, `${photo.name}-${width}${tile ? '-tile' : ''}`);
        const r = spawnSync(
          process.execPath,
          [
            bin,
            'edit',
            photo.file,
            '--local',
            '--width',
            String(width),
            '--weave',
            'auto',
            '--max-float',
            String(MAX_FLOAT),
            ...(tile ? ['--tile'] : []),
            '-o',
            `${stem}.png`,
            '--force',
            '-q',
          ],
          { encoding: 'utf8', cwd: root },
        );
        if (r.status !== 0) throw new Error(`imagegen --weave failed on ${photo.name}:\n${r.stderr}`);
        const report = JSON.parse(readFileSync(`${stem}.json`, 'utf8')).weave;
        // An 8x8 cell holds whole repeats of 8-end satins only: another satin's cells mix phases of its repeat,
        // noise that is not tone. Cells of the satin's own repeat measure every satin alike.
        const repeat = report.auto.ends;
        if (!tile) {
          const names = report.structures.map((s) => s.structure);
          distinct.push([photo.name, String(width), String(names.length), String(new Set(names).size), repeat]);
        }
        const lift = await liftBits(`${stem}.lift.bmp`);
        const { width: w, height: h } = lift;
        const grid = resizeToGrid(source, w, h);
        const lab = [0, 0, 0];
        const dark = new Float32Array(w * h);
        const grey = new Float32Array(w * h);
        for (let i = 0; i < w * h; i++) {
          srgbToLab(grid.data[i * 3], grid.data[i * 3 + 1], grid.data[i * 3 + 2], lab);
          dark[i] = 1 - lab[0] / 100;
          grey[i] = (0.2126 * grid.data[i * 3] + 0.7152 * grid.data[i * 3 + 1] + 0.0722 * grid.data[i * 3 + 2]) / 255;
        }
        const target = cellMeans(dark, w, h);
        const repeatTarget = cellMeans(dark, w, h, repeat);
        const threshold = Uint8Array.from(grey, (g) => (g < 0.5 ? 1 : 0));
        const fs = new Uint8Array(w * h);
        const err = Float32Array.from(grey);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const i = y * w + x;
            const black = err[i] < 0.5 ? 1 : 0;
            fs[i] = black;
            const e = err[i] - (black ? 0 : 1);
            if (x + 1 < w) err[i + 1] += (e * 7) / 16;
            if (y + 1 < h) {
              if (x > 0) err[i + w - 1] += (e * 3) / 16;
              err[i + w] += (e * 5) / 16;
              if (x + 1 < w) err[i + w + 1] += e / 16;
            }
          }
        // A tile's floats are counted on the plan laid 2 x 2, so that every seam is inside the picture checked.
        const laid2x2 = (bits) => {
          const out = new Uint8Array(4 * w * h);
          for (let y = 0; y < 2 * h; y++)
            for (let x = 0; x < 2 * w; x++) out[y * 2 * w + x] = bits[(y % h) * w + (x % w)];
          return out;
        };
        const score = (label, bits) => {
          const f = tile
            ? floatsOver(laid2x2(bits), 2 * w, 2 * h, MAX_FLOAT, false)
            : floatsOver(bits, w, h, MAX_FLOAT, false);
          rows.push([
            photo.name,
            `${w}x${h}`,
            tile ? 'yes' : 'no',
            label,
            String(f.over),
            String(f.longest),
            spearman(cellMeans(bits, w, h), target).toFixed(3),
            `${spearman(cellMeans(bits, w, h, repeat), repeatTarget).toFixed(3)} (${repeat}x${repeat})`,
          ]);
        };
        score('imagegen --weave auto', lift.bits);
        score('50% threshold', threshold);
        score('Floyd-Steinberg', fs);
      }
    }
  }
  printTable(
    ['photo', 'grid', 'tile', 'binary', `floats > ${MAX_FLOAT}`, 'longest', 'rho (8x8)', 'rho (cells of the repeat)'],
    rows,
  );
  console.log('\ndistinct structures of --weave auto against the design colours');
  printTable(
    ['photo', 'ends', 'colours', 'distinct structures', 'satin'],
    distinct.map((d) => [...d.slice(0, 4), `${d[4]} ends`]),
  );

  // The loom layout: three repeats on a TC2's 1320 hooks between twill selvedges, each tie, with and without
  // --tile; floats counted on the whole plan (a pick ends at the selvedges; with --tile, the plan laid twice
  // down the cloth), and each repeat compared with the first, as the hook map places them.
  const layoutRows = [];
  let layoutOk = true;
  for (const photo of photos) {
    for (const tie of ['straight', 'point']) {
      for (const tile of [false, true]) {
        const stem = path.join(work, `${photo.name}-hooks-${tie}${tile ? '-tile' : ''}`);
        const r = spawnSync(
          process.execPath,
          [
            bin,
            'edit',
            photo.file,
            '--local',
            '--weave',
            'auto',
            '--loom',
            'tc2-1320',
            '--repeats',
            '3',
            '--tie',
            tie,
            '--selvedge',
            '8',
            '--selvedge-weave',
            'twill:2/2',
            '--max-float',
            String(MAX_FLOAT),
            ...(tile ? ['--tile'] : []),
            '-o',
            `${stem}.png`,
            '--force',
            '-q',
          ],
          { encoding: 'utf8', cwd: root },
        );
        if (r.status !== 0) throw new Error(`imagegen --weave --loom failed on ${photo.name}:\n${r.stderr}`);
        const report = JSON.parse(readFileSync(`${stem}.json`, 'utf8')).weave;
        const lift = await liftBits(`${stem}.lift.bmp`);
        const { width: w, height: h } = lift;
        const bits = tile ? Uint8Array.from({ length: 2 * w * h }, (_, i) => lift.bits[i % (w * h)]) : lift.bits;
        const f = floatsOver(bits, w, tile ? 2 * h : h, MAX_FLOAT, false);
        const design = report.hooks.filter((range) => range.role === 'design');
        const first = design[0];
        const ends = first.to - first.from + 1;
        let exact = true;
        for (const range of design.slice(1)) {
          for (let y = 0; y < h && exact; y++) {
            for (let x = 0; x < ends; x++) {
              const own = lift.bits[y * w + range.from - 1 + (range.mirrored ? ends - 1 - x : x)];
              if (own !== lift.bits[y * w + first.from - 1 + x]) {
                exact = false;
                break;
              }
            }
          }
        }
        if (f.over > 0 || !exact || w !== 1320) layoutOk = false;
        layoutRows.push([
          photo.name,
          tie,
          tile ? 'yes' : 'no',
          `${w} (${design.length} x ${ends} + ${report.layout.selvedge.left} + ${report.layout.selvedge.right})`,
          String(f.over),
          String(f.longest),
          exact ? 'yes' : 'NO',
        ]);
      }
    }
  }
  console.log('\n--loom tc2-1320 --repeats 3 --selvedge 8 --selvedge-weave twill:2/2: the whole lift plan');
  printTable(
    ['photo', 'tie', 'tile', 'hooks (repeats + selvedges)', `floats > ${MAX_FLOAT}`, 'longest', 'repeats exact'],
    layoutRows,
  );
  console.log(
    `  every plan 1320 hooks, no float over ${MAX_FLOAT}, repeats exact copies or mirrors: ${verdict(layoutOk)}`,
  );

  // Speed: the same run with and without --weave, at 1200 ends, interleaved.
  const timing = photos.find((p) => p.name.startsWith('hopper')) ?? photos[0];
  const base = [bin, 'edit', timing.file, '--local', '--width', '1200', '--no-report', '--force', '-q'];
  const commands = [
    { label: 'edit --local', argv: [...base, '-o', path.join(work, 'time-plain.png')] },
    { label: 'edit --local --weave auto', argv: [...base, '--weave', 'auto', '-o', path.join(work, 'time-weave.png')] },
  ];
  const times = interleavedWalls(commands);
  console.log(`\ntime at 1200 ends on ${timing.name}, ${RUNS} interleaved runs each (median; every run listed)`);
  const medians = times.map(median);
  commands.forEach((c, k) => {
    const sorted = [...times[k]].sort((a, b) => a - b);
    const spread = (sorted[sorted.length - 1] - sorted[0]) / medians[k];
    console.log(
      `  ${c.label.padEnd(26)} ${medians[k].toFixed(3)} s  (${times[k].map((t) => t.toFixed(3)).join(' ')}; spread ${(spread * 100).toFixed(0)}% of the median)`,
    );
  });
  // In-process, without start-up, decode and file writes: the weave stage against the loom pipeline it follows.
  const { finishLoom } = await import(dist('stages/finish.js'));
  const { weaveStage } = await import(dist('stages/weave.js'));
  const picture = await decodeImage(readFileSync(timing.file), timing.file);
  const loom = { width: 1200, colors: COLORS, dither: 'none', minRegion: MIN_REGION, background: [255, 255, 255] };
  const weaveSettings = {
    map: 'auto',
    weaves: {},
    warp: [0, 0, 0],
    weft: [255, 255, 255],
    maxFloat: MAX_FLOAT,
    selvedge: 0,
    tile: false,
    invert: false,
    liftFormat: 'bmp',
  };
  const stageTimes = [[], []];
  for (let i = 0; i < RUNS; i++) {
    let t0 = process.hrtime.bigint();
    const design = await finishLoom(picture, loom);
    stageTimes[0].push(Number(process.hrtime.bigint() - t0) / 1e9);
    t0 = process.hrtime.bigint();
    weaveStage(design, weaveSettings, loom);
    stageTimes[1].push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const [loomStage, weaveTime] = stageTimes.map(median);
  console.log(
    `  in process: loom pipeline ${loomStage.toFixed(3)} s, weave stage (lift plan, binding, preview, encoding) ` +
      `${weaveTime.toFixed(3)} s: ${((weaveTime / loomStage) * 100).toFixed(1)}% of the pipeline`,
  );
  const added = medians[1] / medians[0] - 1;
  // Each round's pair ran back to back: their ratio is less at the mercy of the machine's load than the medians.
  const paired = median(times[1].map((t, i) => t / times[0][i] - 1));
  console.log(`  added time, median of the ${RUNS} rounds' own ratios: ${(paired * 100).toFixed(1)}%`);
  const ok = rows.filter((r) => r[3].startsWith('imagegen')).every((r) => r[4] === '0');
  const rho = rows.filter((r) => r[3].startsWith('imagegen')).map((r) => Number(r[6]));
  const rhoRepeat = rows.filter((r) => r[3].startsWith('imagegen')).map((r) => parseFloat(r[7]));
  console.log('\ntargets');
  console.log(`  no float over ${MAX_FLOAT} in any lift plan (also with --tile): ${verdict(ok)}`);
  console.log(`  Spearman rho >= 0.9 (lowest ${Math.min(...rho).toFixed(3)}): ${verdict(Math.min(...rho) >= 0.9)}`);
  console.log(
    `  Spearman rho >= 0.9 on cells of the satin's repeat (lowest ${Math.min(...rhoRepeat).toFixed(3)}): ` +
      verdict(Math.min(...rhoRepeat) >= 0.9),
  );
  console.log(`  weaving adds <= 30% at 1200 ends: ${(added * 100).toFixed(1)}%: ${verdict(added <= 0.3)}`);
  const allDistinct = distinct.every((d) => d[2] === String(COLORS) && d[3] === d[2]);
  const fewest = Math.min(...distinct.map((d) => Number(d[3])));
  console.log(
    `  distinct structures = colours (${COLORS}) for every picture (fewest ${fewest}): ${verdict(allDistinct)}`,
  );
  process.exit(0);
}

// --- wefts (colour jacquard) --------------------------------------------------------------------------------

/**
 * --wefts: colour jacquard on the bench photos at 600 ends, with 3, 4 and 6 wefts taken as the photo's own
 * dominant colours (k-means on the grid) and a black warp, `--colors` max(8, 2 × wefts). Fidelity of the woven
 * face: mean CIEDE2000 between the photo resized to the grid and the effect colour of each cell (the design's
 * palette), against the naive cloth (each cell the nearest weft, whole face) and beside the single-weft
 * `--weave auto` cloth (black warp, white weft; each cell the warp and weft mixed in linear light by the warp
 * cover its colour got). Structure, read from the files alone (the lift plan, the design and the report's
 * effects): floats of each weft along its own picks, face (lowered) and back (raised); of the warp over the
 * face picks; stitching points (lowered ends on a back weft's pick) hidden under a face weft; and a reader that
 * takes, for each cell, the pick of its row with the most lowered ends in the narrowest window that decides.
 * Then a 1200-end run with 4 wefts against the same run with one, interleaved, medians.
 */
if (args.includes('--wefts')) {
  const MAX_FLOAT = 8;
  const MAX_BACK = 16;
  const WARP = '#000000';
  const bin = path.join(root, 'bin', 'imagegen.js');
  const work = path.join(out, 'wefts');
  mkdirSync(work, { recursive: true });
  const { choosePalette } = await import(dist('loom/palette.js'));
  const { linearToSrgbExact } = await import(dist('loom/color.js'));
  const photos = makeInputs().filter((i) => !/12mp|13mp/.test(i.name) && (!ONLY || i.name.includes(ONLY)));
  const hex = (rgb) => '#' + rgb.map((v) => v.toString(16).padStart(2, '0')).join('');
  const labOf = (rgb) => {
    const lab = [0, 0, 0];
    srgbToLab(rgb[0], rgb[1], rgb[2], lab);
    return lab;
  };
  const meanDe = (refLab, colourOf) => {
    let sum = 0;
    const n = refLab.length / 3;
    for (let i = 0; i < n; i++) {
      const c = colourOf(i);
      sum += ciede2000(refLab[i * 3], refLab[i * 3 + 1], refLab[i * 3 + 2], c[0], c[1], c[2]);
    }
    return sum / n;
  };
  const run = (argv) => {
    const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8', cwd: root });
    if (r.status !== 0) throw new Error(`imagegen ${argv.join(' ')} failed:\n${r.stderr}`);
  };
  /** Lowered (0) or raised (1) crossings of a lift plan file, by pick from the bottom. */
  const liftPlan = async (file) => {
    const img = await decodeImage(readFileSync(file), file);
    const cells = new Uint8Array(img.width * img.height);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++)
        cells[(img.height - 1 - y) * img.width + x] = img.data[(y * img.width + x) * 4] < 128 ? 1 : 0;
    return { width: img.width, height: img.height, cells };
  };
  const longest = (values, len, value) => {
    let best = 0;
    let run = 0;
    for (let i = 0; i < len; i++) {
      run = values(i) === value ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  };

  console.log(
    `imagegen bench --wefts: edit --local --width 600 --weave auto --wefts (the photo's own colours) --warp ${WARP}, ` +
      `--max-float ${MAX_FLOAT}, back floats ${MAX_BACK}; node ${process.version}`,
  );
  const rows = [];
  const checks = [];
  for (const photo of photos) {
    const source = await decodeImage(readFileSync(photo.file), photo.file);
    const width = 600;
    const height = gridHeight(width, source.width, source.height);
    const grid = resizeToGrid(source, width, height);
    const { lab: refLab } = reference(source, width, height);
    // The single-weft cloth: black warp, white weft, each colour's woven cover from the report.
    const single = path.join(work, `${photo.name}-1`);
    run([
      'edit',
      photo.file,
      '--local',
      '--width',
      String(width),
      '--weave',
      'auto',
      '-o',
      `${single}.png`,
      '--force',
      '-q',
    ]);
    const singleReport = JSON.parse(readFileSync(`${single}.json`, 'utf8')).weave;
    const singleDesign = await decodeImage(readFileSync(`${single}.png`), single);
    const clothOf = new Map(
      singleReport.structures.map((s) => {
        const v = linearToSrgbExact(1 - s.wovenCover);
        return [s.hex, labOf([v, v, v])];
      }),
    );
    const pixelHex = (img, i) => hex([img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2]]);
    const singleScore = meanDe(refLab, (i) => clothOf.get(pixelHex(singleDesign, i)));
    for (const W of [3, 4, 6]) {
      const dominant = choosePalette(grid, W);
      const wefts = [];
      for (let k = 0; k < W; k++) wefts.push([dominant[k * 3], dominant[k * 3 + 1], dominant[k * 3 + 2]]);
      const colors = Math.max(8, 2 * W);
      const stem = path.join(work, `${photo.name}-${W}`);
      run([
        'edit',
        photo.file,
        '--local',
        '--width',
        String(width),
        '--colors',
        String(colors),
        '--weave',
        'auto',
        '--wefts',
        wefts.map(hex).join(','),
        '--warp',
        WARP,
        '--max-float',
        String(MAX_FLOAT),
        '--max-back-float',
        String(MAX_BACK),
        '-o',
        `${stem}.png`,
        '--force',
        '-q',
      ]);
      const report = JSON.parse(readFileSync(`${stem}.json`, 'utf8')).weave;
      const designImg = await decodeImage(readFileSync(`${stem}.png`), stem);
      const effectLab = new Map(
        report.structures.map((s) => [s.hex, labOf([1, 3, 5].map((o) => parseInt(s.hex.slice(o, o + 2), 16)))]),
      );
      const ours = meanDe(refLab, (i) => effectLab.get(pixelHex(designImg, i)));
      const weftLab = wefts.map(labOf);
      const naive = meanDe(refLab, (i) => {
        let best = weftLab[0];
        let bestD = Infinity;
        for (const w of weftLab) {
          const d = ciede2000(refLab[i * 3], refLab[i * 3 + 1], refLab[i * 3 + 2], w[0], w[1], w[2]);
          if (d < bestD) {
            bestD = d;
            best = w;
          }
        }
        return best;
      });
      // Structure, from the files.
      const plan = await liftPlan(`${stem}.lift.bmp`);
      const rowsOf = plan.height / W;
      const effects = new Map(
        report.structures.map((s) => [s.hex, [s.weft - 1, s.weft2 === undefined ? -1 : s.weft2 - 1]]),
      );
      const faceOf = new Int8Array(width * rowsOf * 2);
      for (let y = 0; y < rowsOf; y++)
        for (let x = 0; x < width; x++) {
          // Design row y from the top is plan row rowsOf - 1 - y.
          const [a, b] = effects.get(pixelHex(designImg, y * width + x));
          const yb = rowsOf - 1 - y;
          faceOf[(yb * width + x) * 2] = a;
          faceOf[(yb * width + x) * 2 + 1] = b;
        }
      const at = (yb, k, x) => plan.cells[(yb * W + k) * plan.width + x];
      let weftFace = 0;
      let weftBack = 0;
      for (let p = 0; p < plan.height; p++) {
        weftFace = Math.max(
          weftFace,
          longest((x) => plan.cells[p * plan.width + x], plan.width, 0),
        );
        weftBack = Math.max(
          weftBack,
          longest((x) => plan.cells[p * plan.width + x], plan.width, 1),
        );
      }
      let warpFace = 0;
      let stitches = 0;
      let hidden = 0;
      let agree = 0;
      const facePick = (yb, x) => {
        const a = faceOf[(yb * width + x) * 2];
        const b = faceOf[(yb * width + x) * 2 + 1];
        return b >= 0 && at(yb, a, x) === 1 && at(yb, b, x) === 0 ? b : a;
      };
      for (let x = 0; x < width; x++)
        warpFace = Math.max(
          warpFace,
          longest((yb) => at(yb, facePick(yb, x), x), rowsOf, 1),
        );
      for (let yb = 0; yb < rowsOf; yb++) {
        for (let x = 0; x < width; x++) {
          const a = faceOf[(yb * width + x) * 2];
          const b = faceOf[(yb * width + x) * 2 + 1];
          const covered = at(yb, a, x) === 0 || (b >= 0 && at(yb, b, x) === 0);
          for (let k = 0; k < W; k++) {
            if (k === a || k === b || at(yb, k, x) !== 0) continue;
            stitches++;
            if (covered) hidden++;
          }
          let read = -1;
          for (let half = 0; half <= 4 && read < 0; half++) {
            const counts = new Array(W).fill(0);
            for (let xx = Math.max(0, x - half); xx <= Math.min(width - 1, x + half); xx++)
              for (let k = 0; k < W; k++) counts[k] += at(yb, k, xx) === 0 ? 1 : 0;
            const top = Math.max(...counts);
            if (counts.filter((c) => c === top).length === 1) read = counts.indexOf(top);
          }
          if (read === a || read === b) agree++;
        }
      }
      const cells = width * rowsOf;
      const over = [weftFace > MAX_FLOAT, weftBack > MAX_BACK, warpFace > MAX_FLOAT].filter(Boolean).length;
      rows.push([
        photo.name,
        String(W),
        String(colors),
        ours.toFixed(3),
        naive.toFixed(3),
        (ours / naive).toFixed(3),
        singleScore.toFixed(3),
        `${weftFace}/${weftBack}/${warpFace}`,
        ((hidden / Math.max(1, stitches)) * 100).toFixed(2),
        ((agree / cells) * 100).toFixed(2),
      ]);
      checks.push({ ratio: ours / naive, over, hidden: hidden / Math.max(1, stitches), read: agree / cells });
    }
  }
  printTable(
    [
      'photo',
      'wefts',
      'colours',
      'ΔE00 woven',
      'ΔE00 naive',
      'ratio',
      'ΔE00 1 weft',
      'longest weft face/back, warp',
      'stitches hidden %',
      'read back %',
    ],
    rows,
  );

  // Speed: 4 wefts against 1 at 1200 ends, interleaved.
  const timing = photos.find((p) => p.name.startsWith('hopper')) ?? photos[0];
  const timingSource = await decodeImage(readFileSync(timing.file), timing.file);
  const timingGrid = resizeToGrid(timingSource, 1200, gridHeight(1200, timingSource.width, timingSource.height));
  const four = choosePalette(timingGrid, 4);
  const fourHex = [0, 1, 2, 3].map((k) => hex([four[k * 3], four[k * 3 + 1], four[k * 3 + 2]])).join(',');
  const base = [bin, 'edit', timing.file, '--local', '--width', '1200', '--weave', 'auto', '--force', '-q'];
  const commands = [
    { label: '--weave auto (1 weft)', argv: [...base, '-o', path.join(work, 'time-1.png')] },
    { label: `--wefts (4 wefts)`, argv: [...base, '--wefts', fourHex, '-o', path.join(work, 'time-4.png')] },
  ];
  const times = interleavedWalls(commands);
  console.log(`\ntime at 1200 ends on ${timing.name}, ${RUNS} interleaved runs each (median; every run listed)`);
  const medians = times.map(median);
  commands.forEach((c, k) =>
    console.log(`  ${c.label.padEnd(24)} ${medians[k].toFixed(3)} s  (${times[k].map((t) => t.toFixed(3)).join(' ')})`),
  );
  const ratio = medians[1] / medians[0];
  const paired = median(times[1].map((t, i) => t / times[0][i]));

  console.log('\ntargets');
  const worst = Math.max(...checks.map((c) => c.ratio));
  console.log(
    `  woven face ΔE00 <= 0.85 x the naive cloth's on every photo and weft count (worst ${worst.toFixed(3)}): ${verdict(worst <= 0.85)}`,
  );
  console.log(`  no float over the limits on either layer: ${verdict(checks.every((c) => c.over === 0))}`);
  const hiddenLeast = Math.min(...checks.map((c) => c.hidden));
  console.log(
    `  stitching points hidden >= 98% (least ${(hiddenLeast * 100).toFixed(2)}%): ${verdict(hiddenLeast >= 0.98)}`,
  );
  const readLeast = Math.min(...checks.map((c) => c.read));
  console.log(
    `  lift plan read back agrees >= 98% (least ${(readLeast * 100).toFixed(2)}%): ${verdict(readLeast >= 0.98)}`,
  );
  console.log(
    `  4 wefts <= 2 x one weft at 1200 ends: ${ratio.toFixed(2)}x (rounds' own ratios: ${paired.toFixed(2)}x): ${verdict(ratio <= 2)}`,
  );
  process.exit(0);
}

/** The small photos of the start-up target: 0.2 to 0.5 megapixels (a little over, for rose's 0.51). */
const isSmallPhoto = (source) => source.width * source.height >= 0.2e6 && source.width * source.height <= 0.55e6;

// --- kernels ------------------------------------------------------------------------------------------------

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

if (args.includes('--kernel-child')) {
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

if (args.includes('--kernels')) {
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
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--kernel-child', file, which], {
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

// --- stages -------------------------------------------------------------------------------------------------

/**
 * --stages: the palette, map and speck-removal steps timed inside the process (CPU milliseconds), each run in a
 * fresh process so that every step is as cold as in one CLI call; medians over the runs. The decode and
 * resize are not timed.
 */
if (args.includes('--stage-child')) {
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

if (args.includes('--stages')) {
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
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--stage-child', input.file], {
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

// --- fidelity -----------------------------------------------------------------------------------------------

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

/**
 * --fidelity: no timing. Each input once through the CLI (twice, to check that the rerun is byte-identical)
 * and once through pngquant on the same grid; both scored as in the timed runs. Fidelity does not depend on
 * the machine's load, so this can run while the machine is busy.
 */
if (args.includes('--fidelity')) {
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

// --- main ---------------------------------------------------------------------------------------------------

const OWN_IMAGEGEN = 'imagegen (own width)';
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
    // (a) the 12-megapixel photos at 1200 ends: time at most 0.7 × convert's, peak memory at most convert's.
    const fast = ours.secs <= 0.7 * im.secs;
    const lean = ours.mb === undefined || im.mb === undefined ? undefined : ours.mb <= im.mb;
    parts.push(
      `(a) time ${ours.secs.toFixed(2)} s vs convert ${im.secs.toFixed(2)} s = ${ratio(ours.secs, im.secs)}× (≤ 0.7×): ${verdict(fast)}`,
    );
    parts.push(`memory ${fmt(ours.mb, 0)} MB vs convert ${fmt(im.mb, 0)} MB (≤): ${verdict(lean)}`);
  } else if (im) {
    parts.push(`time ${ratio(ours.secs, im.secs)}× convert's at ${WIDTH} ends (no target)`);
  }
  const own = results[OWN_IMAGEGEN];
  const imOwn = results[OWN_CONVERT];
  if (own && imOwn) {
    parts.push(
      `(own width) ${own.secs.toFixed(2)} s vs convert ${imOwn.secs.toFixed(2)} s = ${ratio(own.secs, imOwn.secs)}× (≤ 3.0×): ${verdict(own.secs <= 3 * imOwn.secs)}`,
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
