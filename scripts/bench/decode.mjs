/**
 *
 * --decode: for every JPEG input (and the JPEGs of bench-out/batch-photos, when --batch has made them), the time
 * and peak memory of one decode in a fresh process (WebAssembly compilation included), full size against half
 * size (libjpeg-turbo's scaled inverse DCT) against what `edit` does at 1200 ends (half size only when it is
 * safe), and the mean CIEDE2000 between the 1200-end grid from the full decode and from the other two; the
 * target is under 0.3 for what `edit` does, on every photo.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  dist,
  decodeImage,
  resizeToGrid,
  gridHeight,
  WIDTH,
  RUNS,
  ONLY,
  out,
  makeInputs,
  median,
  printTable,
  verdict,
  runProbe,
  meanGridDe,
} from './common.mjs';

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

export async function main() {
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
    const halfDe = meanGridDe(reference, resizeToGrid(halfUpright, WIDTH, height).data);
    const edit = await decodeImage(bytes, file, {
      reduceFor: (w, h) => ({ width: WIDTH, height: gridHeight(WIDTH, w, h) }),
    });
    const editDe = edit.width === full.width ? 0 : meanGridDe(reference, resizeToGrid(edit, WIDTH, height).data);
    if (editDe >= DECODE_DE_TARGET) failed++;
    const times = { full: [], half: [], edit: [] };
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, each round starting with the next mode.
      const modes = ['full', 'half', 'edit'];
      for (let j = 0; j < 3; j++) {
        const mode = modes[(i + j) % 3];
        times[mode].push(runProbe([decodeProbe, file, mode, String(WIDTH)], `decode probe ${mode} ${file}`));
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
