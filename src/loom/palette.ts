/**
 * Palette choice by weighted clustering in CIELAB.
 *
 * 1. An image with no more distinct colours than asked keeps exactly its colours.
 * 2. Otherwise pixels are gathered into a colour histogram (5 bits per channel, each bin holding the mean of
 *    its pixels; grids above PALETTE_SAMPLE_LIMIT pixels are read on a regular lattice), so the cost depends
 *    on the number of distinct colours, not on the image size.
 * 3. Seeding is greedy k-means++ (of a few candidates per step, the one that lowers the potential most) with
 *    a fixed-seed generator, followed by Lloyd iterations; this runs from a few seeds and keeps the run whose
 *    pixels end up nearest to their centres (sum of distances).
 * 4. The winner is refined towards per-cluster medians (iteratively reweighted means, weight 1 / distance):
 *    the quality measure is a mean colour difference, which medians lower further than means do.
 * 5. A few more such steps use CIEDE2000, matched as pixels will be mapped, for distances and assignments.
 *
 * The same image and colour count always give the same palette.
 */
import { ciede2000, labToSrgb, srgbToLab } from './color.js';
import { CHOSEN_REACH, nearestEntry } from './map.js';
import type { RgbImage } from './types.js';

interface Histogram {
  count: number;
  lab: Float64Array;
  weight: Float64Array;
}

/**
 * The bin sums of the last palette chosen, for the next: clearing them costs less than the page faults of
 * fresh ones, picture after picture.
 */
let spareSums: Float64Array | undefined;

/** Per bin of `bits` per channel, interleaved: pixel count, then r, g, b sums (one cache line per pixel). */
function binSums(image: RgbImage, bits: number, step: number): Float64Array {
  const length = (1 << (bits * 3)) * 4;
  const spare = spareSums;
  spareSums = undefined;
  const acc = spare?.length === length ? spare.fill(0) : new Float64Array(length);
  const { width, height, data } = image;
  // Row by row: a short loop called often is optimised early in a fresh thread, where one long loop is not.
  for (let y = 0; y < height; y += step) addBinRow(acc, data, y * width * 3, (y + 1) * width * 3, step * 3, bits);
  return acc;
}

/** Adds the pixels at bytes `from`, `from` + `inc`, … before `to` into the bins of `acc`. */
function addBinRow(acc: Float64Array, d: Uint8Array, from: number, to: number, inc: number, bits: number): void {
  const shift = 8 - bits;
  for (let p = from; p < to; p += inc) {
    const r = d[p];
    const g = d[p + 1];
    const b = d[p + 2];
    const k = (((r >> shift) << (2 * bits)) | ((g >> shift) << bits) | (b >> shift)) << 2;
    acc[k]++;
    acc[k + 1] += r;
    acc[k + 2] += g;
    acc[k + 3] += b;
  }
}

/** The same sums for bins one bit coarser per channel. */
function coarserSums(fine: Float64Array, bits: number): Float64Array {
  const c = bits - 1;
  const out = new Float64Array((1 << (c * 3)) * 4);
  const mask = (1 << bits) - 1;
  for (let k = 0; k < fine.length >> 2; k++) {
    if (fine[k * 4] === 0) continue;
    const r = (k >> (2 * bits)) >> 1;
    const g = ((k >> bits) & mask) >> 1;
    const b = (k & mask) >> 1;
    const q = ((r << (2 * c)) | (g << c) | b) << 2;
    out[q] += fine[k * 4];
    out[q + 1] += fine[k * 4 + 1];
    out[q + 2] += fine[k * 4 + 2];
    out[q + 3] += fine[k * 4 + 3];
  }
  return out;
}

/** The occupied bins: the CIELAB colour of each bin's mean pixel, weighted by its pixel count. */
function histogram(acc: Float64Array): Histogram {
  const count = occupiedBins(acc);
  const lab = new Float64Array(count * 3);
  const weight = new Float64Array(count);
  fillHistogram(acc, lab, weight);
  return { count, lab, weight };
}

function occupiedBins(acc: Float64Array): number {
  let count = 0;
  for (let k = 0; k < acc.length; k += 4) if (acc[k] !== 0) count++;
  return count;
}

function fillHistogram(acc: Float64Array, lab: Float64Array, weight: Float64Array): void {
  const one = new Float32Array(3);
  for (let k = 0, i = 0; k < acc.length; k += 4) {
    const c = acc[k];
    if (c === 0) continue;
    srgbToLab(Math.round(acc[k + 1] / c), Math.round(acc[k + 2] / c), Math.round(acc[k + 3] / c), one);
    lab[i * 3] = one[0];
    lab[i * 3 + 1] = one[1];
    lab[i * 3 + 2] = one[2];
    weight[i] = c;
    i++;
  }
}

/** One bin per distinct colour (of the pixels on the sampling lattice). */
function exactHistogram(image: RgbImage, step: number): Histogram {
  const counts = new Map<number, number>();
  const d = image.data;
  const { width, height } = image;
  for (let y = 0; y < height; y += step) {
    for (let p = y * width * 3, end = p + width * 3; p < end; p += step * 3) {
      const key = (d[p] << 16) | (d[p + 1] << 8) | d[p + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const keys = [...counts.keys()].sort((a, b) => a - b);
  const lab = new Float64Array(keys.length * 3);
  const weight = new Float64Array(keys.length);
  const one = new Float32Array(3);
  keys.forEach((key, i) => {
    srgbToLab(key >> 16, (key >> 8) & 255, key & 255, one);
    lab.set(one, i * 3);
    weight[i] = counts.get(key)!;
  });
  return { count: keys.length, lab, weight };
}

/** The image's distinct colours (r,g,b triplets) if there are at most `max`, else undefined. */
function fewColours(image: RgbImage, max: number): number[] | undefined {
  const found: number[] = [];
  const d = image.data;
  let last = -1;
  for (let p = 0; p < d.length; p += 3) {
    const key = (d[p] << 16) | (d[p + 1] << 8) | d[p + 2];
    if (key === last || found.includes(key)) continue;
    if (found.length === max) return undefined;
    found.push(key);
    last = key;
  }
  return found;
}

/**
 * mulberry32: a tiny deterministic generator for seeding. (A class, not a closure: code optimised for one
 * seed's closure would be thrown away at the next.)
 */
class Mulberry32 {
  private a: number;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Index drawn with probability weight[i] × (scale ? scale[i] : 1) / total. */
function draw(random: Mulberry32, weight: Float64Array, scale: Float64Array | undefined, total: number): number {
  let target = random.next() * total;
  const n = weight.length;
  for (let i = 0; i < n; i++) {
    target -= scale ? scale[i] * weight[i] : weight[i];
    if (target <= 0) return i;
  }
  return n - 1;
}

/** Greedy k-means++: each new centre is the best of `tries` candidates drawn by squared distance. */
function seedCentres(hist: Histogram, k: number, random: Mulberry32, tries: number): Float64Array {
  const { count, lab, weight } = hist;
  const centres = new Float64Array(k * 3);
  const nearest = new Float64Array(count).fill(Infinity);
  let total = 0;
  for (let i = 0; i < count; i++) total += weight[i];
  let pick = draw(random, weight, undefined, total);
  for (let c = 0; c < k; c++) {
    const L = lab[pick * 3];
    const A = lab[pick * 3 + 1];
    const B = lab[pick * 3 + 2];
    centres[c * 3] = L;
    centres[c * 3 + 1] = A;
    centres[c * 3 + 2] = B;
    if (c === k - 1) break;
    const sum = addCentre(hist, L, A, B, nearest);
    if (sum === 0) {
      // Fewer distinct bins than centres: the rest repeat this one and are dropped as duplicates.
      for (let r = c + 1; r < k; r++) centres.copyWithin(r * 3, c * 3, c * 3 + 3);
      break;
    }
    let bestPotential = Infinity;
    for (let t = 0; t < tries; t++) {
      const candidate = draw(random, weight, nearest, sum);
      const potential = potentialWith(hist, candidate, nearest);
      if (potential < bestPotential) {
        bestPotential = potential;
        pick = candidate;
      }
    }
  }
  return centres;
}

/**
 * Lowers each bin's squared distance to its nearest centre in `nearest` for a new centre (L, A, B); returns
 * the weighted sum of those distances.
 */
function addCentre(hist: Histogram, L: number, A: number, B: number, nearest: Float64Array): number {
  const { count, lab, weight } = hist;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const dl = lab[i * 3] - L;
    const da = lab[i * 3 + 1] - A;
    const db = lab[i * 3 + 2] - B;
    const d = dl * dl + da * da + db * db;
    if (d < nearest[i]) nearest[i] = d;
    sum += nearest[i] * weight[i];
  }
  return sum;
}

/** The weighted sum of squared distances to the nearest centre if bin `candidate` were one more centre. */
function potentialWith(hist: Histogram, candidate: number, nearest: Float64Array): number {
  const { count, lab, weight } = hist;
  const cl = lab[candidate * 3];
  const ca = lab[candidate * 3 + 1];
  const cb = lab[candidate * 3 + 2];
  let potential = 0;
  for (let i = 0; i < count; i++) {
    const dl = lab[i * 3] - cl;
    const da = lab[i * 3 + 1] - ca;
    const db = lab[i * 3 + 2] - cb;
    const d = dl * dl + da * da + db * db;
    potential += (d < nearest[i] ? d : nearest[i]) * weight[i];
  }
  return potential;
}

/**
 * One assignment-and-update step over the histogram. `median` false: centres move to their clusters' means
 * (Lloyd); true: to means weighted by 1 / distance, a step towards the clusters' geometric medians
 * (Weiszfeld). Returns how many bins changed cluster and the weighted sum of distances before the update.
 * An emptied cluster takes the bin that is worst served.
 */
function step(
  hist: Histogram,
  centres: Float64Array,
  k: number,
  assign: Int32Array,
  sums: Float64Array,
  median: boolean,
): [number, number] {
  const { count, lab, weight } = hist;
  let changed = 0;
  let cost = 0;
  sums.fill(0);
  for (let i = 0; i < count; i++) {
    const L = lab[i * 3];
    const A = lab[i * 3 + 1];
    const B = lab[i * 3 + 2];
    let best = 0;
    let bestD = Infinity;
    for (let c = 0, q = 0; c < k; c++, q += 3) {
      const dl = L - centres[q];
      const da = A - centres[q + 1];
      const db = B - centres[q + 2];
      const d = dl * dl + da * da + db * db;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (assign[i] !== best) {
      assign[i] = best;
      changed++;
    }
    const distance = Math.sqrt(bestD);
    let w = weight[i];
    cost += distance * w;
    if (median) w /= distance > 1 ? distance : 1;
    sums[best * 4] += L * w;
    sums[best * 4 + 1] += A * w;
    sums[best * 4 + 2] += B * w;
    sums[best * 4 + 3] += w;
  }
  for (let c = 0; c < k; c++) {
    const w = sums[c * 4 + 3];
    if (w > 0) {
      centres[c * 3] = sums[c * 4] / w;
      centres[c * 3 + 1] = sums[c * 4 + 1] / w;
      centres[c * 3 + 2] = sums[c * 4 + 2] / w;
      continue;
    }
    let worst = 0;
    let worstD = -1;
    for (let i = 0; i < count; i++) {
      const a = assign[i] * 3;
      const dl = lab[i * 3] - centres[a];
      const da = lab[i * 3 + 1] - centres[a + 1];
      const db = lab[i * 3 + 2] - centres[a + 2];
      const d = (dl * dl + da * da + db * db) * weight[i];
      if (d > worstD) {
        worstD = d;
        worst = i;
      }
    }
    centres[c * 3] = lab[worst * 3];
    centres[c * 3 + 1] = lab[worst * 3 + 1];
    centres[c * 3 + 2] = lab[worst * 3 + 2];
    changed++;
  }
  return [changed, cost];
}

export interface PaletteOptions {
  /** Lloyd iterations at most, per seed. */
  maxIterations?: number;
  /** Seeds tried (default 3 up to 32 colours, else 1). */
  restarts?: number;
  /** Seed on a histogram one bit coarser, then refine on the full one (default true). */
  coarse?: boolean;
  /** Candidates per greedy k-means++ step (default 2 + ln k). */
  seedTries?: number;
  /** Lloyd steps each seed gets before the best one is chosen (default 3). */
  trialIterations?: number;
  /** Median refinement steps after the best run (default 10). */
  medianSteps?: number;
  /** Steps toward the least mean CIEDE2000 after the median ones (default 4; 0 = none). */
  ciede2000Steps?: number;
  /** Largest number of pixels the histogram reads; bigger grids are read every few rows and columns. */
  sampleLimit?: number;
}

/** Pixels read for the histogram at most: larger grids are read every `step` rows and columns. */
const PALETTE_SAMPLE_LIMIT = 1 << 18;

const HISTOGRAM_BITS = 5;

/**
 * Chooses up to `colors` palette entries (fewer when the image has fewer distinct colours), sorted from dark
 * to light so that index 0 is the darkest yarn. Returns r,g,b triplets.
 */
export function choosePalette(image: RgbImage, colors: number, options: PaletteOptions = {}): Uint8Array {
  const exact = fewColours(image, colors);
  if (exact) return sortedPalette(exact.map((key) => [key >> 16, (key >> 8) & 255, key & 255]));

  const limit = options.sampleLimit ?? PALETTE_SAMPLE_LIMIT;
  const pixels = image.width * image.height;
  const lattice = pixels > limit ? Math.ceil(Math.sqrt(pixels / limit)) : 1;
  const bits = HISTOGRAM_BITS;
  const sums5 = binSums(image, bits, lattice);
  let hist = histogram(sums5);
  if (hist.count < 2 * colors) {
    // Few, close colours (a soft gradient, a scanned drawing): bins of one colour each keep them apart. There
    // are at most 512 distinct colours per occupied bin, so this stays small.
    hist = exactHistogram(image, lattice);
  }
  const k = Math.min(colors, hist.count);
  // Seeds are tried on a histogram one bit coarser (about a fifth of the bins), unless it has too few bins.
  const sums4 = options.coarse === false || hist.count < 2 * colors ? undefined : coarserSums(sums5, bits);
  const coarse4 = sums4 ? histogram(sums4) : undefined;
  spareSums = sums5;
  const coarse = coarse4 && coarse4.count >= 4 * k ? coarse4 : hist;
  const maxIterations = options.maxIterations ?? 40;
  const restarts = options.restarts ?? (k <= 32 ? 3 : 1);
  const tries = options.seedTries ?? 2 + Math.floor(Math.log(k));
  const assign = new Int32Array(hist.count);
  const sums = new Float64Array(k * 4);
  const coarseAssign = coarse === hist ? assign : new Int32Array(coarse.count);

  // Each seed gets a few Lloyd steps; the best of them is then run to convergence.
  const trialIterations = restarts > 1 ? Math.min(maxIterations, options.trialIterations ?? 3) : maxIterations;
  let best: Float64Array | undefined;
  let bestCost = Infinity;
  for (let run = 0; run < restarts; run++) {
    const centres = seedCentres(coarse, k, new Mulberry32(0x1005e + run * 7919), tries);
    coarseAssign.fill(-1);
    let cost = Infinity;
    for (let iter = 0; iter < trialIterations; iter++) {
      const [changed, before] = step(coarse, centres, k, coarseAssign, sums, false);
      cost = before;
      if (changed === 0) break;
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = centres;
    }
  }
  const centres = best!;
  if (trialIterations < maxIterations || coarse !== hist) {
    assign.fill(-1);
    for (let iter = 0; iter < maxIterations; iter++) if (step(hist, centres, k, assign, sums, false)[0] === 0) break;
  }
  const medianSteps = options.medianSteps ?? 10;
  for (let s = 0; s < medianSteps; s++) step(hist, centres, k, assign, sums, true);

  return sortedPalette(refineForCiede2000(hist, centres, k, options.ciede2000Steps ?? 4));
}

/** The sRGB entries of CIELAB centres, and those entries' own CIELAB values (what mapping will compare). */
function rounded(centres: Float64Array, k: number): { entries: Array<[number, number, number]>; lab: Float32Array } {
  const entries: Array<[number, number, number]> = [];
  const lab = new Float32Array(k * 3);
  for (let c = 0; c < k; c++) {
    const rgb = labToSrgb(centres[c * 3], centres[c * 3 + 1], centres[c * 3 + 2]);
    entries.push(rgb);
    srgbToLab(rgb[0], rgb[1], rgb[2], lab, c * 3);
  }
  return { entries, lab };
}

/**
 * A few steps toward the palette with the least mean CIEDE2000 (what the result is judged by), from the
 * CIELAB one: each bin is matched as mapping will match pixels, then each centre moves to its bins' mean
 * weighted by 1 / CIEDE2000 (a Weiszfeld step, as for the median). Every step is scored on the sRGB entries
 * it rounds to, and the best palette seen is kept, so this never makes the histogram's error worse.
 */
function refineForCiede2000(
  hist: Histogram,
  start: Float64Array,
  k: number,
  steps: number,
): Array<[number, number, number]> {
  const centres = Float64Array.from(start);
  const sums = new Float64Array(k * 4);
  // One more slot: nearestEntry leaves there the CIEDE2000 it found for its answer.
  const scratch = new Float64Array(k + 1);
  let best = rounded(centres, k);
  let bestCost = Infinity;
  let current = best;
  for (let s = 0; ; s++) {
    const cost = matchBins(hist, current.lab, sums, scratch);
    if (cost < bestCost) {
      bestCost = cost;
      best = current;
    }
    if (s === steps) break;
    for (let c = 0; c < k; c++) {
      const v = sums[c * 4 + 3];
      if (v === 0) continue; // an entry no bin is nearest to stays where it is
      centres[c * 3] = sums[c * 4] / v;
      centres[c * 3 + 1] = sums[c * 4 + 1] / v;
      centres[c * 3 + 2] = sums[c * 4 + 2] / v;
    }
    current = rounded(centres, k);
  }
  return best.entries;
}

/**
 * Matches each bin to its nearest entry of `plab` as mapping will, and sums into `sums` (per entry: L, a,
 * b, weight) the bins weighted by count / CIEDE2000. Returns the count-weighted CIEDE2000 of the match.
 */
function matchBins(hist: Histogram, plab: Float32Array, sums: Float64Array, scratch: Float64Array): number {
  const { count, lab, weight } = hist;
  const k = plab.length / 3;
  sums.fill(0);
  let cost = 0;
  for (let i = 0; i < count; i++) {
    const L = lab[i * 3];
    const A = lab[i * 3 + 1];
    const B = lab[i * 3 + 2];
    const c = nearestEntry(L, A, B, plab, 'ciede2000', CHOSEN_REACH, scratch);
    const e = scratch[k] >= 0 ? scratch[k] : ciede2000(L, A, B, plab[c * 3], plab[c * 3 + 1], plab[c * 3 + 2]);
    const w = weight[i];
    cost += e * w;
    const v = w / (e > 0.5 ? e : 0.5);
    sums[c * 4] += L * v;
    sums[c * 4 + 1] += A * v;
    sums[c * 4 + 2] += B * v;
    sums[c * 4 + 3] += v;
  }
  return cost;
}

/** Dark to light by CIELAB L*, then by r, g, b; each colour once (gamut clamping can make two the same). */
function sortedPalette(colours: Array<[number, number, number] | number[]>): Uint8Array {
  const lab = new Float32Array(3);
  const entries = colours.map(([r, g, b]) => {
    srgbToLab(r, g, b, lab);
    return [lab[0], r, g, b];
  });
  entries.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3]);
  const seen = new Set<number>();
  const out: number[] = [];
  for (const [, r, g, b] of entries) {
    const key = (r << 16) | (g << 8) | b;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r, g, b);
  }
  return Uint8Array.from(out);
}
