/**
 * --native: where sharp (libvips) decodes. Each picture is made in every input format at 0.5, 2 and 12
 * megapixels from a noisy mosaic of the bench photos (the detailed, grainy kind that no decoder can shortcut),
 * and decoded to its 1200-end grid in a fresh process, as `edit` does, two ways, interleaved: by the tool's
 * decoders (sharp where the tool uses it, i.e. TIFF and GIF; `native: false` for the others) and by sharp
 * followed by the same linear-light resize, the time to load sharp included. Medians of --runs; peak memory;
 * the mean CIEDE2000 between the two grids (the target is under 0.3).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  root,
  dist,
  decodeImage,
  WIDTH,
  RUNS,
  ONLY,
  out,
  CONVERT,
  haveConvert,
  median,
  printTable,
  verdict,
  noisyMosaic,
  runProbe,
  meanGridDe,
} from './common.mjs';

const DE_TARGET = 0.3;

const probe = path.join(out, 'native-probe.mjs');
writeFileSync(
  probe,
  `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const [file, mode, width] = process.argv.slice(2);
const { decodeForGrid } = await import(${JSON.stringify(dist('image/decode.js'))});
const { resizeToGrid, gridHeight } = await import(${JSON.stringify(dist('loom/resize.js'))});
const bytes = readFileSync(file);
const ends = Number(width);
const grid = (w, h) => ({ width: ends, height: gridHeight(ends, w, h) });
const t0 = performance.now();
let result;
if (mode === 'tool') {
  const decoded = await decodeForGrid(bytes, file, {}, grid);
  result = decoded.grid ?? resizeToGrid(decoded, ends, gridHeight(ends, decoded.fullWidth, decoded.fullHeight));
} else {
  const sharp = createRequire(${JSON.stringify(path.join(root, 'package.json'))})('sharp');
  sharp.cache(false);
  const { data, info } = await sharp(bytes, { ignoreIcc: true, sequentialRead: true })
    .toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  result = resizeToGrid({ width: info.width, height: info.height, data }, ends, gridHeight(ends, info.width, info.height));
}
const ms = performance.now() - t0;
if (process.env.NATIVE_GRID_FILE) (await import('node:fs')).writeFileSync(process.env.NATIVE_GRID_FILE, result.data);
console.log(JSON.stringify({ ms, width: result.width, height: result.height }));
`,
);

/** [extension, ImageMagick options, the tool decodes it with sharp] */
const FORMATS = [
  ['jpg', ['-quality', '92'], false],
  ['png', [], false],
  ['webp', ['-quality', '92'], false],
  ['tif', ['-compress', 'lzw'], true],
  ['gif', ['+dither', '-colors', '256'], true],
];
const SIZES = [0.5, 2, 12];

export async function main() {
  if (!haveConvert) {
    console.log(`${CONVERT} not found: the --native suite needs ImageMagick to make its pictures`);
    return;
  }
  const mosaic = noisyMosaic();
  const rows = [];
  let failed = 0;
  for (const mp of SIZES) {
    for (const [ext, options, toolUsesSharp] of FORMATS) {
      const name = `noisy-${mp}mp.${ext}`;
      if (ONLY && !name.includes(ONLY)) continue;
      const file = path.join(out, 'native', name);
      if (!existsSync(file)) {
        mkdirSync(path.dirname(file), { recursive: true });
        const r = spawnSync(CONVERT, [mosaic, '-resize', `${Math.round(mp * 1e6)}@`, ...options, file], {
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`convert failed for ${name}: ${r.stderr}`);
      }
      const gridTool = path.join(out, 'native', `${name}.tool.rgb`);
      const gridSharp = path.join(out, 'native', `${name}.sharp.rgb`);
      const run = (mode, gridFile) =>
        runProbe([probe, file, mode, String(WIDTH)], `native probe ${mode} ${file}`, {
          ...process.env,
          ...(gridFile ? { NATIVE_GRID_FILE: gridFile } : {}),
        });
      const times = { tool: [run('tool', gridTool)], sharp: [run('sharp', gridSharp)] };
      for (let i = 1; i < RUNS; i++) {
        for (const mode of i % 2 ? ['sharp', 'tool'] : ['tool', 'sharp']) times[mode].push(run(mode));
      }
      const de = meanGridDe(readFileSync(gridTool), readFileSync(gridSharp));
      if (de >= DE_TARGET) failed++;
      const ms = (mode) => median(times[mode].map((t) => t.ms));
      const mb = (mode) => median(times[mode].map((t) => t.mb))?.toFixed(0) ?? '?';
      const full = await decodeImage(readFileSync(file), file);
      rows.push([
        name,
        `${full.width}×${full.height}`,
        toolUsesSharp ? 'sharp' : 'own',
        `${ms('tool').toFixed(0)} ms / ${mb('tool')} MB`,
        `${ms('sharp').toFixed(0)} ms / ${mb('sharp')} MB`,
        (ms('sharp') / ms('tool')).toFixed(2),
        de.toFixed(3),
      ]);
      console.error(`  ${name}: done`);
    }
  }
  console.log(
    `\nDecoded to a ${WIDTH}-end grid in a fresh process (decode and resize; loading sharp counted), medians of ${RUNS}:\n`,
  );
  printTable(
    ['input', 'size', 'the tool decodes with', 'the tool', 'sharp + resize', 'sharp / tool', 'ΔE00 between grids'],
    rows,
  );
  console.log(
    `\nmean ΔE00 between the grids under ${DE_TARGET} on every picture: ${verdict(failed === 0)}` +
      (failed ? ` (${failed} over)` : ''),
  );
}
