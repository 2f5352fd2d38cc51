/**
 * --loop: what a shell script pays calling the tool once per file. 50 small photos (0.2 to 0.5 megapixels,
 * JPEG and PNG) go through `for f in …; do imagegen edit "$f" --local -o …; done` (600 ends and 8 colours, the
 * defaults) and through the same loop of `convert "$f" -resize 600x +dither -colors 8 …`, interleaved, medians
 * of --runs; the target is at most 2× convert's loop. One call of each on one photo is timed too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { root, RUNS, out, CONVERT, haveConvert, median, verdict, wallOf, freshDir } from './common.mjs';

const COUNT = 50;
const TARGET = 2;

/** 50 small photos, each a little different: the bundled portrait and ImageMagick's rose, 0.2 to 0.5 MP. */
function smallPhotos() {
  const dir = path.join(out, 'loop-photos');
  if (existsSync(dir) && readdirSync(dir).length === COUNT) return dir;
  mkdirSync(dir, { recursive: true });
  const hopper = path.join(root, 'samples', 'grace-hopper.jpg');
  for (let i = 0; i < COUNT; i++) {
    const mp = 0.2 + (0.3 * i) / (COUNT - 1);
    const png = i % 4 === 3;
    const name = `small-${String(i + 1).padStart(2, '0')}.${png ? 'png' : 'jpg'}`;
    const hue = String(100 + ((i * 13) % 60) - 30);
    const r = spawnSync(
      CONVERT,
      [
        i % 2 ? 'rose:' : hopper,
        ...(i % 3 ? ['-flop'] : []),
        '-modulate',
        `100,100,${hue}`,
        '-filter',
        'Lanczos',
        '-resize',
        `${Math.round(mp * 1e6)}@`,
        ...(png ? [] : ['-quality', '90']),
        path.join(dir, name),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`convert failed for ${name}: ${r.stderr}`);
  }
  return dir;
}

const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

export async function main() {
  if (!haveConvert) {
    console.log(`${CONVERT} not found: the --loop suite compares with ImageMagick's convert`);
    return;
  }
  const photos = smallPhotos();
  const bin = path.join(root, 'bin', 'imagegen.js');
  const node = process.execPath;
  const loop = (name, body) => ({
    name,
    run: () => {
      const dir = freshDir(name);
      // The output folder is the script's $0.
      const script = `for f in ${quote(photos)}/*; do b=$(basename "$f"); ${body}; done`;
      return wallOf('/bin/sh', ['-c', script, dir]);
    },
  });
  const one = path.join(photos, 'small-01.jpg');
  const commands = [
    loop('imagegen-loop', `${quote(node)} ${quote(bin)} edit "$f" --local -o "$0/$b.png" >/dev/null 2>&1 || exit 1`),
    loop('convert-loop', `${quote(CONVERT)} "$f" -resize 600x +dither -colors 8 "$0/$b.png" || exit 1`),
    {
      name: 'imagegen, one photo',
      run: () => wallOf(node, [bin, 'edit', one, '--local', '-o', path.join(freshDir('one'), 'o.png')]),
    },
    {
      name: 'convert, one photo',
      run: () =>
        wallOf(CONVERT, [one, '-resize', '600x', '+dither', '-colors', '8', path.join(freshDir('one-im'), 'o.png')]),
    },
  ];
  for (const c of commands) c.run(); // the file cache
  const times = commands.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      times[k].push(commands[k].run());
    }
  }
  console.log(
    `${COUNT} small photos (0.2–0.5 MP) one call each, ${RUNS} interleaved runs (median), node ${process.version}`,
  );
  commands.forEach((c, k) => {
    const runs = times[k].map((t) => t.toFixed(2)).join(' ');
    console.log(`  ${c.name.padEnd(20)} ${median(times[k]).toFixed(2)} s   (${runs})`);
  });
  const ratio = median(times[0]) / median(times[1]);
  const oneRatio = median(times[2]) / median(times[3]);
  console.log(`\nloop: imagegen ${ratio.toFixed(2)}× convert (≤ ${TARGET}×): ${verdict(ratio <= TARGET)}`);
  console.log(`one photo: imagegen ${oneRatio.toFixed(2)}× convert`);
}
