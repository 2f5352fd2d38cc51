/**
 * Speck removal on the index map. Every 4-connected region smaller than `minRegion` pixels is recoloured to
 * the bordering colour closest to it by CIEDE2000 (ties: the longest shared border, then the lower index):
 * merging by border length alone can paint a speck in a neighbour of a quite different colour. Work stays in
 * label space, so the colour count can never grow.
 *
 * The map is labelled once. Regions are then merged with a union-find over region labels: a recoloured
 * speck joins every neighbouring region of its new colour, and the joined region's size is the sum. Specks
 * are taken smallest first (ties: the one whose first pixel comes first in raster order) from a priority
 * queue; a speck that joins only other specks and is still too small goes back into the queue with its new
 * size. Each recolouring lowers the number of regions, so the loop ends, and the order is fully determined.
 */
import { ciede2000, srgbToLab } from './color.js';
import { paletteLab } from './map.js';
import type { IndexedImage, RgbImage } from './types.js';

export interface Regions {
  /** Region label per pixel; labels are numbered in raster order of each region's first pixel. */
  labels: Int32Array;
  /** Pixel count per region. */
  sizes: Int32Array;
  /** Palette index per region. */
  colors: Int32Array;
  count: number;
}

/** Root of `i` in a union-find forest, halving paths on the way. */
function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    const up = parent[parent[i]];
    parent[i] = up;
    i = up;
  }
  return i;
}

/** Regions plus the horizontal runs they were built from (runs in raster order). */
interface RunRegions extends Regions {
  runs: number;
  /** First pixel of each run. */
  runStart: Int32Array;
  /** One past the last pixel of each run. */
  runEnd: Int32Array;
  /** Region of each run. */
  runRegion: Int32Array;
  /** The whole arrays behind the labelling, to hand on to the next one. */
  arrays: LabelArrays;
}

/** The work arrays of a labelling: runs, provisional labels, labels per pixel. */
interface LabelArrays {
  runStart: Int32Array<ArrayBuffer>;
  runEnd: Int32Array<ArrayBuffer>;
  runLabel: Int32Array<ArrayBuffer>;
  parent: Int32Array;
  labels: Int32Array;
}

/**
 * The arrays of the last speck removal's labelling, for the next: every one of them is written before it is
 * read, so they need no clearing, while fresh ones cost page faults picture after picture.
 */
let spareArrays: LabelArrays | undefined;

/**
 * Labels by runs: each row is cut into runs of equal index; a run joins the runs of the previous row that
 * overlap it and have its index (union-find over provisional labels, the smaller label being the root).
 * Regions are then numbered in raster order of their first runs.
 */
function labelRuns(width: number, height: number, indices: Uint8Array, spare?: LabelArrays): RunRegions {
  const rows = new RowRuns(width, height, indices, spare);
  // Row by row: a short loop called often is optimised early in a fresh thread, where one long loop is not.
  for (let y = 0; y < height; y++) rows.add(y);
  return rows.regions();
}

/** The runs of the rows added so far, and the provisional labels joining them. */
class RowRuns {
  private runStart: Int32Array<ArrayBuffer>;
  private runEnd: Int32Array<ArrayBuffer>;
  private runLabel: Int32Array<ArrayBuffer>;
  private readonly parent: Int32Array;
  /** Room for the labels per pixel, when given one. */
  private readonly labels: Int32Array | undefined;
  private runs = 0;
  private next = 0;
  private prevFirst = 0;
  private prevLast = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly indices: Uint8Array,
    spare?: LabelArrays,
  ) {
    const n = width * height;
    const capacity = Math.max(64, n >> 3);
    const runsFit = spare !== undefined && spare.runStart.length >= capacity;
    this.runStart = runsFit ? spare.runStart : new Int32Array(capacity);
    this.runEnd = runsFit ? spare.runEnd : new Int32Array(capacity);
    this.runLabel = runsFit ? spare.runLabel : new Int32Array(capacity);
    const pixelsFit = spare !== undefined && spare.labels.length >= n;
    this.parent = pixelsFit ? spare.parent : new Int32Array(n + 1);
    this.labels = pixelsFit ? spare.labels : undefined;
  }

  /** Adds row y (rows are added in order). */
  add(y: number): void {
    const { width, indices, parent } = this;
    let { runStart, runEnd, runLabel, runs, next } = this;
    const row = y * width;
    const above = row - width;
    const rowFirst = runs;
    const prevLast = this.prevLast;
    let j = this.prevFirst;
    for (let x = 0; x < width;) {
      const c = indices[row + x];
      let e = x + 1;
      while (e < width && indices[row + e] === c) e++;
      // Runs of the previous row that overlap [x, e): skip those ending at or before x.
      while (j < prevLast && runEnd[j] - above <= x) j++;
      let label = -1;
      for (let k = j; k < prevLast && runStart[k] - above < e; k++) {
        if (indices[runStart[k]] !== c) continue;
        const r = find(parent, runLabel[k]);
        if (label === -1) label = r;
        else if (r < label) {
          parent[label] = r;
          label = r;
        } else if (r > label) parent[r] = label;
      }
      if (label === -1) {
        parent[next] = next;
        label = next++;
      }
      if (runs === runStart.length) {
        this.grow();
        ({ runStart, runEnd, runLabel } = this);
      }
      runStart[runs] = row + x;
      runEnd[runs] = row + e;
      runLabel[runs] = label;
      runs++;
      x = e;
    }
    this.runs = runs;
    this.next = next;
    this.prevFirst = rowFirst;
    this.prevLast = runs;
  }

  private grow(): void {
    const capacity = this.runStart.length * 2;
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.runStart = grow(this.runStart);
    this.runEnd = grow(this.runEnd);
    this.runLabel = grow(this.runLabel);
  }

  /** The regions, once every row has been added. */
  regions(): RunRegions {
    const { parent, next, runs, runStart, runEnd, runLabel, indices } = this;
    // A parent is always smaller than its child, so one rising pass flattens the forest.
    for (let i = 0; i < next; i++) parent[i] = parent[parent[i]];
    const n = this.width * this.height;
    const labels = this.labels ? this.labels.subarray(0, n) : new Int32Array(n);
    const sizes = new Int32Array(next);
    const colors = new Int32Array(next);
    const count = numberRegions(parent, next, runs, runStart, runEnd, runLabel, indices, labels, sizes, colors);
    return {
      labels,
      sizes: sizes.slice(0, count),
      colors: colors.slice(0, count),
      count,
      runs,
      runStart,
      runEnd,
      runRegion: runLabel,
      arrays: { runStart, runEnd, runLabel, parent, labels: this.labels ?? labels },
    };
  }
}

/**
 * Numbers the regions in raster order of their first runs: fills `labels`, `sizes` and `colors`, and turns
 * each run's provisional label into its region. Returns the number of regions.
 */
function numberRegions(
  parent: Int32Array,
  provisional: number,
  runs: number,
  runStart: Int32Array,
  runEnd: Int32Array,
  runLabel: Int32Array,
  indices: Uint8Array,
  labels: Int32Array,
  sizes: Int32Array,
  colors: Int32Array,
): number {
  const final = new Int32Array(provisional).fill(-1);
  let count = 0;
  for (let r = 0; r < runs; r++) {
    const root = parent[runLabel[r]];
    let region = final[root];
    if (region === -1) {
      region = final[root] = count++;
      colors[region] = indices[runStart[r]];
    }
    runLabel[r] = region;
    labels.fill(region, runStart[r], runEnd[r]);
    sizes[region] += runEnd[r] - runStart[r];
  }
  return count;
}

/** Labels the 4-connected regions of equal index. */
export function labelRegions(width: number, height: number, indices: Uint8Array): Regions {
  const { labels, sizes, colors, count } = labelRuns(width, height, indices);
  return { labels, sizes, colors, count };
}

export interface CleanResult {
  indices: Uint8Array;
  /** Regions recoloured. */
  merged: number;
  /** Rounds of merging (1 when anything was merged; kept for callers of the older multi-pass version). */
  passes: number;
  /** 4-connected regions in the result. */
  regions: number;
  /** Size of the smallest region in the result. */
  smallestRegion: number;
  /** Regions still under minRegion: only possible when a region has no neighbour (it is the whole image). */
  regionsBelowMin: number;
}

export interface SpeckOptions {
  /**
   * The grid that was mapped (same size). When given, a speck goes to the bordering colour with the least
   * CIEDE2000 summed over its own source pixels rather than the one closest to its palette colour.
   */
  source?: RgbImage;
}

/** A binary min-heap of (key, value) pairs. */
class Heap {
  private keys: number[] = [];
  private values: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, value: number): void {
    const { keys, values } = this;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (keys[up] <= key) break;
      keys[i] = keys[up];
      values[i] = values[up];
      i = up;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** The key of the entry pop() last returned. */
  poppedKey = 0;

  /** Removes the smallest entry and returns its value. */
  pop(): number {
    const { keys, values } = this;
    const top = values[0];
    this.poppedKey = keys[0];
    const key = keys.pop()!;
    const value = values.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1] < keys[child]) child++;
        if (keys[child] >= key) break;
        keys[i] = keys[child];
        values[i] = values[child];
        i = child;
      }
      keys[i] = key;
      values[i] = value;
    }
    return top;
  }
}

/** Removes regions smaller than `minRegion`. Returns a new index map and the regions it leaves. */
export function removeSpecks(image: IndexedImage, minRegion: number, options: SpeckOptions = {}): CleanResult {
  const { width, height } = image;
  const indices = Uint8Array.from(image.indices);
  const spare = spareArrays;
  spareArrays = undefined;
  const regions = labelRuns(width, height, indices, spare);
  const size = Int32Array.from(regions.sizes);
  const merge = minRegion > 1 ? SpeckMerge.of(image, indices, regions, size, minRegion, options.source) : undefined;
  // Each speck is handled by small methods called once per speck, not in one long loop: they are optimised
  // early in a fresh thread, and each on its own.
  while (merge && merge.queue.size > 0) merge.next();
  const result = summary(indices, size, minRegion, merge?.merged ?? 0, merge?.roots());
  spareArrays = regions.arrays;
  return result;
}

/** What is left: the regions (those that are their own root, when `roots` is given) and their sizes. */
function summary(
  indices: Uint8Array,
  size: Int32Array,
  minRegion: number,
  merged: number,
  roots: Int32Array | undefined,
): CleanResult {
  let total = 0;
  let smallest = Infinity;
  let below = 0;
  for (let r = 0; r < size.length; r++) {
    if (roots && roots[r] !== r) continue;
    total++;
    if (size[r] < smallest) smallest = size[r];
    if (size[r] < minRegion) below++;
  }
  return {
    indices,
    merged,
    passes: merged > 0 ? 1 : 0,
    regions: total,
    smallestRegion: total ? smallest : 0,
    regionsBelowMin: below,
  };
}

/**
 * The merging of specks into neighbours: a union-find over regions, the small ones with their pixels. Each
 * small root keeps a list of the small regions it holds (to reach their pixels); a root that is no longer
 * small is never visited again, so its list does not matter.
 */
class SpeckMerge {
  readonly queue = new Heap();
  merged = 0;
  private readonly n: number;
  private readonly parent: Int32Array;
  /** First pixel in raster order, at the root. */
  private readonly first: Int32Array;
  private readonly memberNext: Int32Array;
  private readonly memberTail: Int32Array;
  private readonly lab: Float32Array;
  private readonly border: Int32Array;
  private readonly cost: Float64Array;
  private readonly px = new Float32Array(3);
  private readonly members: number[] = [];

  private constructor(
    private readonly width: number,
    private readonly indices: Uint8Array,
    private readonly labels: Int32Array,
    private readonly size: Int32Array,
    private readonly minRegion: number,
    /** Per region: its number among the small ones, or -1. */
    private readonly slot: Int32Array,
    /** The pixels of small region number i are pixels[offsets[i]] to pixels[offsets[i + 1]] (exclusive). */
    private readonly offsets: Int32Array,
    private readonly pixels: Int32Array,
    small: number[],
    palette: Uint8Array,
    private readonly source: RgbImage | undefined,
  ) {
    const count = size.length;
    this.n = labels.length;
    this.parent = new Int32Array(count);
    for (let r = 0; r < count; r++) this.parent[r] = r;
    this.first = new Int32Array(count);
    for (let i = 0; i < small.length; i++) this.first[small[i]] = pixels[offsets[i]];
    this.memberNext = new Int32Array(small.length).fill(-1);
    this.memberTail = new Int32Array(small.length);
    for (let i = 0; i < small.length; i++) this.memberTail[i] = i;
    for (const r of small) this.enqueue(r);
    this.lab = paletteLab(palette);
    const colorCount = palette.length / 3;
    this.border = new Int32Array(colorCount);
    this.cost = new Float64Array(colorCount);
  }

  /** The merge of `image`'s specks, or undefined when it has none. */
  static of(
    image: IndexedImage,
    indices: Uint8Array,
    regions: RunRegions,
    size: Int32Array,
    minRegion: number,
    source: RgbImage | undefined,
  ): SpeckMerge | undefined {
    const count = size.length;
    // Small regions and their pixels, gathered in one scan.
    const slot = new Int32Array(count).fill(-1);
    const small: number[] = [];
    for (let r = 0; r < count; r++) {
      if (size[r] < minRegion) {
        slot[r] = small.length;
        small.push(r);
      }
    }
    if (small.length === 0) return undefined;
    const offsets = new Int32Array(small.length + 1);
    for (let i = 0; i < small.length; i++) offsets[i + 1] = offsets[i] + size[small[i]];
    const pixels = smallPixels(regions, slot, offsets);
    return new SpeckMerge(
      image.width,
      indices,
      regions.labels,
      size,
      minRegion,
      slot,
      offsets,
      pixels,
      small,
      image.palette,
      source,
    );
  }

  private enqueue(root: number): void {
    this.queue.push(this.size[root] * this.n + this.first[root], root);
  }

  /** Takes the next speck from the queue and merges it, unless the entry is stale. */
  next(): void {
    const root = this.queue.pop();
    // A stale entry: the region has since been joined to another, or has grown (and was queued again).
    if (this.parent[root] !== root || Math.floor(this.queue.poppedKey / this.n) !== this.size[root]) return;
    const ownColor = this.indices[this.pixels[this.offsets[this.slot[root]]]];
    this.countBorders(root);
    this.weighCosts(root, ownColor);
    const best = this.closest(ownColor);
    if (best === -1) return; // the whole image is one region
    const into = this.recolour(root, best);
    this.merged++;
    if (this.size[into] < this.minRegion) this.enqueue(into);
  }

  /** Pixels of each colour that border the speck at `root`, into `border`. */
  private countBorders(root: number): void {
    const { border, offsets, pixels, memberNext, parent, labels, indices, width, n } = this;
    border.fill(0);
    for (let m = this.slot[root]; m !== -1; m = memberNext[m]) {
      for (let k = offsets[m]; k < offsets[m + 1]; k++) {
        const p = pixels[k];
        const x = p % width;
        if (x > 0 && find(parent, labels[p - 1]) !== root) border[indices[p - 1]]++;
        if (x < width - 1 && find(parent, labels[p + 1]) !== root) border[indices[p + 1]]++;
        if (p >= width && find(parent, labels[p - width]) !== root) border[indices[p - width]]++;
        if (p + width < n && find(parent, labels[p + width]) !== root) border[indices[p + width]]++;
      }
    }
  }

  /**
   * What recolouring the speck costs per bordering colour, into `cost`: with the source, the summed CIEDE2000
   * over the speck's own source pixels (what a merge costs in fidelity); without it, CIEDE2000 to its palette
   * colour.
   */
  private weighCosts(root: number, ownColor: number): void {
    const { cost, border, lab, source } = this;
    const colorCount = border.length;
    cost.fill(0);
    if (source) {
      const { offsets, pixels, memberNext, px } = this;
      for (let m = this.slot[root]; m !== -1; m = memberNext[m]) {
        for (let k = offsets[m]; k < offsets[m + 1]; k++) {
          const q = pixels[k] * 3;
          srgbToLab(source.data[q], source.data[q + 1], source.data[q + 2], px);
          for (let c = 0; c < colorCount; c++) {
            if (c === ownColor || border[c] === 0) continue;
            cost[c] += ciede2000(px[0], px[1], px[2], lab[c * 3], lab[c * 3 + 1], lab[c * 3 + 2]);
          }
        }
      }
    } else {
      const o = ownColor * 3;
      for (let c = 0; c < colorCount; c++) {
        if (c === ownColor || border[c] === 0) continue;
        cost[c] = ciede2000(lab[o], lab[o + 1], lab[o + 2], lab[c * 3], lab[c * 3 + 1], lab[c * 3 + 2]);
      }
    }
  }

  /** The bordering colour that costs least; ties go to the longest border, then the lower index. -1: none. */
  private closest(ownColor: number): number {
    const { cost, border } = this;
    let best = -1;
    for (let c = 0; c < border.length; c++) {
      if (c === ownColor || border[c] === 0) continue;
      if (best === -1 || cost[c] < cost[best] || (cost[c] === cost[best] && border[c] > border[best])) best = c;
    }
    return best;
  }

  /**
   * Recolours the speck at `root`, then joins every neighbouring region of the new colour. (Joining appends
   * lists, so the members are listed first.) Returns the root of the joined region.
   */
  private recolour(root: number, best: number): number {
    const { offsets, pixels, memberNext, indices, labels, members, width, n } = this;
    members.length = 0;
    for (let m = this.slot[root]; m !== -1; m = memberNext[m]) {
      members.push(m);
      for (let k = offsets[m]; k < offsets[m + 1]; k++) indices[pixels[k]] = best;
    }
    let into = root;
    for (const m of members) {
      for (let k = offsets[m]; k < offsets[m + 1]; k++) {
        const p = pixels[k];
        const x = p % width;
        if (x > 0 && indices[p - 1] === best) into = this.join(into, labels[p - 1]);
        if (x < width - 1 && indices[p + 1] === best) into = this.join(into, labels[p + 1]);
        if (p >= width && indices[p - width] === best) into = this.join(into, labels[p - width]);
        if (p + width < n && indices[p + width] === best) into = this.join(into, labels[p + width]);
      }
    }
    return into;
  }

  /** Joins the sets of a (a root) and b; returns the new root. Small members' lists are concatenated. */
  private join(a: number, b: number): number {
    const { parent, size, slot, memberNext, memberTail, first, minRegion } = this;
    const rb = find(parent, b);
    if (rb === a) return a;
    const keep = a < rb ? a : rb;
    const gone = a < rb ? rb : a;
    parent[gone] = keep;
    if (size[keep] < minRegion && size[gone] < minRegion) {
      // Both are small: append gone's members to keep's. (Otherwise the result is large and never visited.)
      const ks = slot[keep];
      const gs = slot[gone];
      memberNext[memberTail[ks]] = gs;
      memberTail[ks] = memberTail[gs];
      if (first[gone] < first[keep]) first[keep] = first[gone];
    }
    size[keep] += size[gone];
    return keep;
  }

  /** Each region's root, once merging is done. */
  roots(): Int32Array {
    const { parent } = this;
    for (let r = 0; r < parent.length; r++) parent[r] = find(parent, r);
    return parent;
  }
}

/** The pixels of the small regions, grouped by region in `slot` order, from the runs. */
function smallPixels(regions: RunRegions, slot: Int32Array, offsets: Int32Array): Int32Array {
  const fill = offsets.slice(0, offsets.length - 1);
  const pixels = new Int32Array(offsets[offsets.length - 1]);
  for (let r = 0; r < regions.runs; r++) {
    const s = slot[regions.runRegion[r]];
    if (s < 0) continue;
    for (let p = regions.runStart[r]; p < regions.runEnd[r]; p++) pixels[fill[s]++] = p;
  }
  return pixels;
}
