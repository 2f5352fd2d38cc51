/**
 * A palette chosen among given colours (the effects a set of yarns can weave) rather than freely: the `colors`
 * of them that fit the picture best, by the mean CIEDE2000 from each pixel to its nearest chosen colour.
 * Greedy picks, then swaps of one chosen colour for another until none helps (k-medoids over a fixed set),
 * on the picture's colours binned to 4 bits a channel (their mean colour each). Deterministic: ties go to the earlier candidate.
 */
import { ciede2000, srgbToLab } from './color.js';
import type { RgbImage } from './types.js';

const BITS = 4;
const SHIFT = 8 - BITS;
const ROUNDS = 32;

/** The picture's colours, binned: weight and mean CIELAB of each occupied bin. */
function binnedColors(image: RgbImage): { weight: Float64Array; lab: Float32Array } {
  const bins = 1 << (3 * BITS);
  const count = new Uint32Array(bins);
  const sums = new Float64Array(bins * 3);
  const { data } = image;
  for (let i = 0; i < data.length; i += 3) {
    const bin = ((data[i] >> SHIFT) << (2 * BITS)) | ((data[i + 1] >> SHIFT) << BITS) | (data[i + 2] >> SHIFT);
    count[bin]++;
    sums[bin * 3] += data[i];
    sums[bin * 3 + 1] += data[i + 1];
    sums[bin * 3 + 2] += data[i + 2];
  }
  let occupied = 0;
  for (let b = 0; b < bins; b++) if (count[b]) occupied++;
  const weight = new Float64Array(occupied);
  const lab = new Float32Array(occupied * 3);
  for (let b = 0, k = 0; b < bins; b++) {
    const n = count[b];
    if (!n) continue;
    weight[k] = n;
    srgbToLab(
      Math.round(sums[b * 3] / n),
      Math.round(sums[b * 3 + 1] / n),
      Math.round(sums[b * 3 + 2] / n),
      lab,
      k * 3,
    );
    k++;
  }
  return { weight, lab };
}

/** Indices into `candidates` (r,g,b triplets) of the chosen colours, in candidate order. */
export function chooseAmong(image: RgbImage, candidates: Uint8Array, colors: number): number[] {
  const m = candidates.length / 3;
  if (colors >= m) return Array.from({ length: m }, (_, i) => i);
  const { weight, lab } = binnedColors(image);
  const bins = weight.length;
  // distance[c * bins + b]: CIEDE2000 from bin b to candidate c.
  const distance = new Float32Array(m * bins);
  const c3 = new Float32Array(3);
  for (let c = 0; c < m; c++) {
    srgbToLab(candidates[c * 3], candidates[c * 3 + 1], candidates[c * 3 + 2], c3);
    for (let b = 0; b < bins; b++) {
      distance[c * bins + b] = ciede2000(lab[b * 3], lab[b * 3 + 1], lab[b * 3 + 2], c3[0], c3[1], c3[2]);
    }
  }
  const chosen: number[] = [];
  const nearest = new Float64Array(bins).fill(Infinity);
  for (let k = 0; k < colors; k++) {
    let best = -1;
    let bestCost = Infinity;
    for (let c = 0; c < m; c++) {
      if (chosen.includes(c)) continue;
      let cost = 0;
      for (let b = 0; b < bins; b++) cost += weight[b] * Math.min(nearest[b], distance[c * bins + b]);
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    chosen.push(best);
    for (let b = 0; b < bins; b++) nearest[b] = Math.min(nearest[b], distance[best * bins + b]);
  }
  improveBySwaps(chosen, distance, weight, m);
  return chosen.sort((a, b) => a - b);
}

/** Swaps a chosen colour for an unchosen one while the best such swap lowers the cost. */
function improveBySwaps(chosen: number[], distance: Float32Array, weight: Float64Array, m: number): void {
  const bins = weight.length;
  const first = new Float64Array(bins);
  const second = new Float64Array(bins);
  const owner = new Int32Array(bins);
  for (let round = 0; round < ROUNDS; round++) {
    // Each bin's nearest and second-nearest chosen distance: removing the nearest falls back to the second.
    let cost = 0;
    for (let b = 0; b < bins; b++) {
      let d1 = Infinity;
      let d2 = Infinity;
      let o = -1;
      for (const c of chosen) {
        const d = distance[c * bins + b];
        if (d < d1) {
          d2 = d1;
          d1 = d;
          o = c;
        } else if (d < d2) d2 = d;
      }
      first[b] = d1;
      second[b] = d2;
      owner[b] = o;
      cost += weight[b] * d1;
    }
    let bestGain = 1e-9 * cost;
    let swap: [number, number] | undefined;
    for (let i = 0; i < chosen.length; i++) {
      const out = chosen[i];
      for (let c = 0; c < m; c++) {
        if (chosen.includes(c)) continue;
        let next = 0;
        for (let b = 0; b < bins; b++) {
          const kept = owner[b] === out ? second[b] : first[b];
          next += weight[b] * Math.min(kept, distance[c * bins + b]);
        }
        if (cost - next > bestGain) {
          bestGain = cost - next;
          swap = [i, c];
        }
      }
    }
    if (!swap) return;
    chosen[swap[0]] = swap[1];
  }
}
