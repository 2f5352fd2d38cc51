/**
 * --batch: 24 photos of 1 to 12 megapixels, JPEG and PNG, made here from the same two sources and cached in
 * bench-out/batch-photos, go through one `imagegen edit <folder> --local --width 600 --colors 8 --out-dir ..`
 * (with `--jobs 2`, and given the folder rather than the files, when `edit --help` shows it can), through
 * `parallel -j2 convert` and through one `mogrify -path ..`; then 24 tiny PNGs against 1, same options, give
 * each tool's fixed cost per extra image. Runs are interleaved (every command's run 1, then run 2, ...) as the
 * machine is noisy; every run writes into a fresh folder, and the bench stops if it does not hold the images.
 * Needs /usr/bin/convert, mogrify, identify and /usr/bin/parallel (apt-get install imagemagick parallel).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  COLORS,
  RUNS,
  out,
  CONVERT,
  haveTime,
  versionOf,
  timed,
  median,
  wallOf,
  freshDir,
  interleaved,
  printTable,
  verdict,
} from './common.mjs';

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

export async function main() {
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
