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
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  dist,
  decodeImage,
  resizeToGrid,
  gridHeight,
  srgbToLab,
  ciede2000,
  RUNS,
  ONLY,
  out,
  makeInputs,
  median,
  reference,
  interleavedWalls,
  printTable,
  verdict,
} from './common.mjs';

export async function main() {
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
