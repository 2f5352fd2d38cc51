/**
 * What the suites share: the build it measures, the command line (--runs, --only), the work folder, the
 * inputs, timing (one run, interleaved runs, medians), scoring against the source, tables and verdicts.
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
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;
if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
export const { decodeImage } = await import(dist('image/decode.js'));
export const { resizeToGrid, gridHeight } = await import(dist('loom/resize.js'));
export const { srgbToLab, ciede2000 } = await import(dist('loom/color.js'));
const { labelRegions } = await import(dist('loom/regions.js'));
export const { encodeRgbPng } = await import(dist('formats/png.js'));

export const WIDTH = 1200;
export const COLORS = 8;
export const MIN_REGION = 4;
export const args = process.argv.slice(2);
export const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
export const RUNS = Math.max(1, Number(argValue('--runs', '5')));
export const ONLY = argValue('--only', undefined);
export const out = path.resolve(process.env.BENCH_OUT || path.join(root, 'bench-out'));
mkdirSync(out, { recursive: true });

export const CONVERT = '/usr/bin/convert';
const TIME = '/usr/bin/time';
export const haveConvert = existsSync(CONVERT);
export const haveTime = existsSync(TIME);
const which = (cmd) => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
};
export const PNGQUANT = which('pngquant');

export function versionOf(cmd, flag) {
  const r = spawnSync(cmd, [flag], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').split('\n')[0].trim();
}

// --- inputs -----------------------------------------------------------------------------------------------

export function makeInputs() {
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
  inputs.push({ name: 'noisy-mosaic-12mp', file: noisyMosaic() });
  return inputs;
}

/**
 * A detailed, noisy 12-megapixel camera-like JPEG (4000×3000, quality 92): four of the bench photos side by
 * side with Gaussian grain, which rules out decoding at reduced size. Made once with ImageMagick.
 */
export function noisyMosaic() {
  const file = path.join(out, 'noisy-mosaic-12mp.jpg');
  if (existsSync(file)) return file;
  const photos = debianPictures()
    .filter(({ name }) => /picos|dragonfly|brushes|grain/.test(name))
    .map(({ file: f }) => f);
  const sources =
    photos.length === 4
      ? photos
      : [
          path.join(root, 'samples', 'grace-hopper.jpg'),
          'rose:',
          'rose:',
          path.join(root, 'samples', 'grace-hopper.jpg'),
        ];
  const row = (a, b) => ['(', a, b, '+append', '-resize', '4000x1500!', ')'];
  const r = spawnSync(
    CONVERT,
    [
      ...row(sources[0], sources[1]),
      ...row(sources[2], sources[3]),
      '-append',
      '+noise',
      'Gaussian',
      '-quality',
      '92',
      file,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`convert failed for the noisy mosaic: ${r.stderr}`);
  return file;
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

// --- running and timing -----------------------------------------------------------------------------------

const rssProbe = path.join(out, 'rss-probe.mjs');
writeFileSync(
  rssProbe,
  "import { writeFileSync } from 'node:fs';\n" +
    "process.on('exit', () => { if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n",
);

/** Runs a command once; returns wall seconds and peak resident memory in MB (undefined when unknown). */
export function timed(cmd, argv, opts = {}) {
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

/**
 * Runs a probe script (node `argv`) that prints one JSON line; adds its peak memory in MB from /usr/bin/time
 * where there is one (a child's own maxRSS starts at this process's size).
 */
export function runProbe(argv, what, env = process.env) {
  const r = haveTime
    ? spawnSync(TIME, ['-f', 'BENCH %M', process.execPath, ...argv], { encoding: 'utf8', cwd: root, env })
    : spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: root, env });
  if (r.status !== 0) throw new Error(`${what} failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout);
  const line = r.stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (line) result.mb = Number(line.split(' ')[1]) / 1024;
  return result;
}

/** Mean CIEDE2000 between two RGB grids of the same size. */
export function meanGridDe(a, b) {
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

export function median(values) {
  const v = values.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// --- scoring ----------------------------------------------------------------------------------------------

// Per source (two inputs may share a grid size), then per grid size.
const referenceCaches = new WeakMap();
export function reference(source, width, height) {
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

export async function score(file, source) {
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

// --- wall time, interleaved runs --------------------------------------------------------------------------

/** Wall seconds of one run, timed here (finer than /usr/bin/time's hundredths). */
export function wallOf(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return secs;
}
export const wall = (argv) => wallOf(process.execPath, argv);

/** Wall seconds of each node command, RUNS runs each, interleaved (a first run of each warms the file cache). */
export function interleavedWalls(commands) {
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

// --- runs into fresh folders (batch) ----------------------------------------------------------------------

/** A fresh, empty output folder for one run of one command. */
export function freshDir(name) {
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
export function interleaved(runs, commands, measure) {
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

// --- tables and verdicts ----------------------------------------------------------------------------------

export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const row = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(row(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(row(r));
}

export const verdict = (ok) => (ok === undefined ? 'unknown' : ok ? 'met' : 'NOT met');

/** The small photos of the start-up target: 0.2 to 0.5 megapixels (a little over, for rose's 0.51). */
export const isSmallPhoto = (source) => source.width * source.height >= 0.2e6 && source.width * source.height <= 0.55e6;

/** The dispatcher, which child processes of a suite run again (--kernel-child, --stage-child). */
export const benchScript = path.join(root, 'scripts', 'bench.mjs');
