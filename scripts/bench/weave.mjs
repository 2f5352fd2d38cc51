/**
 * --weave: the lift plan of `edit --local --weave auto` on the bench photos at 600 and 1200 ends, plain and
 * with --tile: floats over --max-float on either face (runs of raised or lowered crossings over the limit, in
 * rows and columns; with --tile on the plan laid 2 x 2, so that its seams are inside what is checked), and Spearman's rho over 8x8 cells (and over cells of one
 * repeat of the satin auto took) between the share of dark-yarn crossings and the photo's darkness (1 - L/100)
 * on the same grid; the same for a 50% threshold and a Floyd-Steinberg binary of that grid, as the TC2
 * converters make; and how many distinct structures auto gave the design's colours. Then the time weaving
 * adds to the same run at 1200 ends: both commands interleaved, medians, with every run shown.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  dist,
  decodeImage,
  resizeToGrid,
  srgbToLab,
  COLORS,
  MIN_REGION,
  RUNS,
  ONLY,
  out,
  makeInputs,
  median,
  interleavedWalls,
  printTable,
  verdict,
} from './common.mjs';

export async function main() {
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
