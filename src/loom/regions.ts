/**
 * Speck removal on the index map. Every 4-connected region smaller than `minRegion` pixels is recoloured to
 * the neighbouring colour it shares the longest border with (ties: the closer colour in CIELAB, then the
 * lower index). Work stays in label space, so the colour count can never grow.
 *
 * Each recolouring joins the speck to at least one neighbouring region, so the number of regions strictly
 * falls and the loop ends. Regions that a recolouring enlarged are left to the next pass, whose labels are
 * fresh.
 */
import { paletteLab } from './map.js';
import type { IndexedImage } from './types.js';

export interface Regions {
  /** Region label per pixel. */
  labels: Int32Array;
  /** Pixel count per region. */
  sizes: Int32Array;
  /** Palette index per region. */
  colors: Int32Array;
  count: number;
}

/** Labels the 4-connected regions of equal index. */
export function labelRegions(width: number, height: number, indices: Uint8Array): Regions {
  const n = width * height;
  const labels = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const sizes: number[] = [];
  const colors: number[] = [];
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1) continue;
    const color = indices[start];
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    let size = 0;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const x = p % width;
      if (x > 0 && labels[p - 1] === -1 && indices[p - 1] === color) {
        labels[p - 1] = count;
        stack[top++] = p - 1;
      }
      if (x < width - 1 && labels[p + 1] === -1 && indices[p + 1] === color) {
        labels[p + 1] = count;
        stack[top++] = p + 1;
      }
      if (p >= width && labels[p - width] === -1 && indices[p - width] === color) {
        labels[p - width] = count;
        stack[top++] = p - width;
      }
      if (p + width < n && labels[p + width] === -1 && indices[p + width] === color) {
        labels[p + width] = count;
        stack[top++] = p + width;
      }
    }
    sizes.push(size);
    colors.push(color);
    count++;
  }
  return { labels, sizes: Int32Array.from(sizes), colors: Int32Array.from(colors), count };
}

export interface CleanResult {
  indices: Uint8Array;
  /** Regions recoloured in all passes. */
  merged: number;
  passes: number;
}

/** Removes regions smaller than `minRegion`. Returns a new index map. */
export function removeSpecks(image: IndexedImage, minRegion: number, maxPasses = 100): CleanResult {
  const { width, height, palette } = image;
  const indices = Uint8Array.from(image.indices);
  if (minRegion <= 1) return { indices, merged: 0, passes: 0 };
  const lab = paletteLab(palette);
  const colorCount = palette.length / 3;
  const n = width * height;
  const border = new Int32Array(colorCount);
  let merged = 0;
  let passes = 0;

  for (; passes < maxPasses; ) {
    const regions = labelRegions(width, height, indices);
    const small: number[] = [];
    for (let r = 0; r < regions.count; r++) if (regions.sizes[r] < minRegion) small.push(r);
    if (small.length === 0) break;
    passes++;

    // Pixels of each small region, gathered in one scan.
    const slot = new Int32Array(regions.count).fill(-1);
    small.forEach((r, i) => (slot[r] = i));
    const offsets = new Int32Array(small.length + 1);
    for (let i = 0; i < small.length; i++) offsets[i + 1] = offsets[i] + regions.sizes[small[i]];
    const fill = offsets.slice(0, small.length);
    const pixels = new Int32Array(offsets[small.length]);
    for (let p = 0; p < n; p++) {
      const s = slot[regions.labels[p]];
      if (s >= 0) pixels[fill[s]++] = p;
    }

    // Smallest first; ties by first pixel, so the order is deterministic.
    const order = small.map((_, i) => i).sort((a, b) => regions.sizes[small[a]] - regions.sizes[small[b]] || pixels[offsets[a]] - pixels[offsets[b]]);
    const stale = new Uint8Array(regions.count);
    let changed = 0;
    for (const i of order) {
      const region = small[i];
      if (stale[region]) continue;
      const own = regions.colors[region];
      border.fill(0);
      for (let k = offsets[i]; k < offsets[i + 1]; k++) {
        const p = pixels[k];
        const x = p % width;
        if (x > 0 && regions.labels[p - 1] !== region) border[indices[p - 1]]++;
        if (x < width - 1 && regions.labels[p + 1] !== region) border[indices[p + 1]]++;
        if (p >= width && regions.labels[p - width] !== region) border[indices[p - width]]++;
        if (p + width < n && regions.labels[p + width] !== region) border[indices[p + width]]++;
      }
      let best = -1;
      let bestDist = Infinity;
      for (let c = 0; c < colorCount; c++) {
        if (c === own || border[c] === 0) continue;
        const dl = lab[c * 3] - lab[own * 3];
        const da = lab[c * 3 + 1] - lab[own * 3 + 1];
        const db = lab[c * 3 + 2] - lab[own * 3 + 2];
        const dist = dl * dl + da * da + db * db;
        if (best === -1 || border[c] > border[best] || (border[c] === border[best] && dist < bestDist)) {
          best = c;
          bestDist = dist;
        }
      }
      if (best === -1) continue; // the whole image is one region
      for (let k = offsets[i]; k < offsets[i + 1]; k++) {
        const p = pixels[k];
        indices[p] = best;
        // The regions this one joins have grown: their labels are stale until the next pass.
        const x = p % width;
        if (x > 0 && indices[p - 1] === best) stale[regions.labels[p - 1]] = 1;
        if (x < width - 1 && indices[p + 1] === best) stale[regions.labels[p + 1]] = 1;
        if (p >= width && indices[p - width] === best) stale[regions.labels[p - width]] = 1;
        if (p + width < n && indices[p + width] === best) stale[regions.labels[p + width]] = 1;
      }
      changed++;
    }
    merged += changed;
    if (changed === 0) break;
  }
  return { indices, merged, passes };
}
