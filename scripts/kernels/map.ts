/**
 * AssemblyScript port of src/loom/map.ts's mapToPalette (NearestMemo, nearestEntry, ciede2000, srgbToLab),
 * compiled to WebAssembly by `npm run bench -- --kernels` only: measured against the JavaScript kernel, it
 * did not pay enough at the level of a CLI call to be built into the tool. It must give exactly the JavaScript kernel's answers: the
 * same double operations in the same order, CIELAB values rounded to float32 where the JavaScript stores them
 * in a Float32Array, and the transcendental functions imported from the host's Math (V8's own), since a
 * WebAssembly libm may differ from it in the last bit.
 *
 * Memory, from the heap base: the sRGB -> linear table (written by the host), the palette, its CIELAB, the
 * scratch distances, the memo's corners and blocks, then per call the grid's pixels, the indices, and the
 * memo's colour blocks, which grow at the end.
 */
declare function atan2(y: f64, x: f64): f64;
declare function exp(x: f64): f64;
declare function sin(x: f64): f64;
declare function cos(x: f64): f64;
declare function cbrt(x: f64): f64;

const LATTICE: i32 = 65;
const UNSEEN: i32 = 0;
const MIXED: i32 = -1;
const CORNERS_BYTES: usize = 65 * 65 * 65 * 2;
const BLOCKS_BYTES: usize = (1 << 18) * 4;
/** Bytes of one block of 64 colours (u16 each: palette index + 1). */
const BLOCK_BYTES: usize = 128;

function align(p: usize): usize {
  return (p + 15) & ~(<usize>15);
}

const linPtr: usize = align(__heap_base);
const palPtr: usize = linPtr + 256 * 4;
const plabPtr: usize = palPtr + 256 * 3;
const labPtr: usize = plabPtr + 256 * 3 * 4;
const scratchPtr: usize = align(labPtr + 16);
const cornersPtr: usize = scratchPtr + 256 * 8;
const blocksPtr: usize = align(cornersPtr + CORNERS_BYTES);
const fixedEnd: usize = blocksPtr + BLOCKS_BYTES;

let pixPtr: usize = 0;
let outPtr: usize = 0;
let valuesPtr: usize = 0;
let valuesCap: i32 = 0;
let made: i32 = 0;
let tablesUsed: bool = false;
let matched: i32 = 0;
let entries: i32 = 0;
let labOnly: bool = false;
let reach: f64 = 2;

function ensure(end: usize): void {
  const have = (<usize>memory.size()) << 16;
  if (end <= have) return;
  if (memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) unreachable();
}

ensure(fixedEnd);

/** Where the host writes SRGB_TO_LINEAR (256 float32). */
export function linearTable(): usize {
  return linPtr;
}

/** Where the host writes the palette (r, g, b bytes, at most 256 entries). */
export function paletteBytes(): usize {
  return palPtr;
}

/** Makes room for a grid of `n` pixels; returns where its r, g, b bytes go. */
export function prepare(n: i32): usize {
  pixPtr = fixedEnd;
  outPtr = align(pixPtr + <usize>n * 3);
  valuesPtr = align(outPtr + <usize>n);
  valuesCap = 256;
  ensure(valuesPtr + <usize>valuesCap * BLOCK_BYTES);
  return pixPtr;
}

/** Where mapImage leaves the indices. */
export function indices(): usize {
  return outPtr;
}

// D65 reference white, as in color.ts.
const XN: f64 = 0.95047;
const YN: f64 = 1.0;
const ZN: f64 = 1.08883;
const EPS: f64 = 216.0 / 24389.0;
const KAPPA: f64 = 24389.0 / 27.0;

function labF(t: f64): f64 {
  return t > EPS ? cbrt(t) : (KAPPA * t + 16) / 116;
}

function linearOf(v: i32): f64 {
  return <f64>load<f32>(linPtr + ((<usize>v) << 2));
}

/** srgbToLab, written as float32 at `out`. */
function toLab(r: i32, g: i32, b: i32, out: usize): void {
  const rl = linearOf(r);
  const gl = linearOf(g);
  const bl = linearOf(b);
  const x = (0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl) / XN;
  const y = (0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl) / YN;
  const z = (0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl) / ZN;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  store<f32>(out, <f32>(116 * fy - 16));
  store<f32>(out, <f32>(500 * (fx - fy)), 4);
  store<f32>(out, <f32>(200 * (fy - fz)), 8);
}

const RAD: f64 = Math.PI / 180;
const POW25_7: f64 = 6103515625.0;
const COS30: f64 = cos(30 * RAD);
const SIN30: f64 = sin(30 * RAD);
const COS6: f64 = cos(6 * RAD);
const SIN6: f64 = sin(6 * RAD);
const COS63: f64 = cos(63 * RAD);
const SIN63: f64 = sin(63 * RAD);
const COS150: f64 = cos(150 * RAD);

/** color.ts's ciede2000, operation for operation. */
function ciede2000(L1: f64, a1: f64, b1: f64, L2: f64, a2: f64, b2: f64): f64 {
  const C1 = Math.sqrt(a1 * a1 + b1 * b1);
  const C2 = Math.sqrt(a2 * a2 + b2 * b2);
  const Cbar = (C1 + C2) / 2;
  const Cbar2 = Cbar * Cbar;
  const Cbar7 = Cbar2 * Cbar2 * Cbar2 * Cbar;
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + POW25_7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.sqrt(a1p * a1p + b1 * b1);
  const C2p = Math.sqrt(a2p * a2p + b2 * b2);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  const prod = C1p * C2p;
  let dHp: f64 = 0;
  let ch: f64;
  let sh: f64;
  let hbarp: f64;
  const sx: f64 = prod == 0 ? 0.0 : a1p / C1p + a2p / C2p;
  const sy: f64 = prod == 0 ? 0.0 : b1 / C1p + b2 / C2p;
  const norm = Math.sqrt(sx * sx + sy * sy);
  if (prod != 0 && norm > 1e-9) {
    const dH2 = 2 * (prod - a1p * a2p - b1 * b2);
    const dH: f64 = dH2 > 0 ? Math.sqrt(dH2) : 0.0;
    dHp = a1p * b2 - b1 * a2p < 0 ? -dH : dH;
    ch = sx / norm;
    sh = sy / norm;
    if (sh >= 0 && ch > COS150) hbarp = -1;
    else {
      hbarp = atan2(sh, ch) / RAD;
      if (hbarp < 0) hbarp += 360;
    }
  } else {
    const h1p: f64 = C1p == 0 ? 0.0 : (atan2(b1, a1p) / RAD + 360) % 360;
    const h2p: f64 = C2p == 0 ? 0.0 : (atan2(b2, a2p) / RAD + 360) % 360;
    hbarp = h1p + h2p;
    if (prod != 0) {
      let dhp = h2p - h1p;
      if (dhp > 180) dhp -= 360;
      else if (dhp < -180) dhp += 360;
      dHp = 2 * Math.sqrt(prod) * sin((dhp / 2) * RAD);
      if (Math.abs(h1p - h2p) <= 180) hbarp = (h1p + h2p) / 2;
      else if (h1p + h2p < 360) hbarp = (h1p + h2p + 360) / 2;
      else hbarp = (h1p + h2p - 360) / 2;
    }
    ch = cos(hbarp * RAD);
    sh = sin(hbarp * RAD);
  }
  const c2 = ch * ch - sh * sh;
  const s2 = 2 * sh * ch;
  const c3 = c2 * ch - s2 * sh;
  const s3 = s2 * ch + c2 * sh;
  const c4 = c2 * c2 - s2 * s2;
  const s4 = 2 * s2 * c2;
  const T =
    1 - 0.17 * (ch * COS30 + sh * SIN30) + 0.24 * c2 + 0.32 * (c3 * COS6 - s3 * SIN6) - 0.2 * (c4 * COS63 + s4 * SIN63);
  const Cbarp = (C1p + C2p) / 2;
  let Rt: f64 = 0;
  if (hbarp != -1) {
    const hd = (hbarp - 275) / 25;
    const dTheta = 30 * exp(-(hd * hd));
    const Cbarp2 = Cbarp * Cbarp;
    const Cbarp7 = Cbarp2 * Cbarp2 * Cbarp2 * Cbarp;
    Rt = -sin(2 * dTheta * RAD) * 2 * Math.sqrt(Cbarp7 / (Cbarp7 + POW25_7));
  }
  const lh = (L1 + L2) / 2 - 50;
  const Lm = lh * lh;
  const Sl = 1 + (0.015 * Lm) / Math.sqrt(20 + Lm);
  const Sc = 1 + 0.045 * Cbarp;
  const Sh = 1 + 0.015 * Cbarp * T;
  const tl = dLp / Sl;
  const tc = dCp / Sc;
  const th = dHp / Sh;
  return Math.sqrt(tl * tl + tc * tc + th * th + Rt * tc * th);
}

function plab(i: i32): f64 {
  return <f64>load<f32>(plabPtr + ((<usize>i) << 2));
}

function scratchAt(c: i32): f64 {
  return load<f64>(scratchPtr + ((<usize>c) << 3));
}

/** map.ts's nearestEntry, without the CIEDE2000 of the answer (mapping does not ask for it). */
function nearestEntry(L: f64, A: f64, B: f64): i32 {
  const k = entries;
  let best = 0;
  let bestD = Infinity;
  for (let c = 0, q = 0; c < k; c++, q += 3) {
    const dl = L - plab(q);
    const da = A - plab(q + 1);
    const db = B - plab(q + 2);
    const d = dl * dl + da * da + db * db;
    store<f64>(scratchPtr + ((<usize>c) << 3), d);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (labOnly || bestD == 0) return best;
  const limit = bestD * reach * reach;
  let candidates = 0;
  for (let c = 0; c < k; c++) if (scratchAt(c) <= limit) candidates++;
  if (candidates == 1) return best;
  const labBest = best;
  let bestE = ciede2000(L, A, B, plab(best * 3), plab(best * 3 + 1), plab(best * 3 + 2));
  for (let c = 0, q = 0; c < k; c++, q += 3) {
    if (c == labBest || scratchAt(c) > limit) continue;
    const pl = plab(q);
    const dl = pl - L;
    const lh = (pl + L) / 2 - 50;
    const lm = lh * lh;
    const tl = dl / (1 + (0.015 * lm) / Math.sqrt(20 + lm));
    if (tl * tl > bestE * bestE) continue;
    const e = ciede2000(L, A, B, pl, plab(q + 1), plab(q + 2));
    if (e < bestE || (e == bestE && c < best)) {
      bestE = e;
      best = c;
    }
  }
  return best;
}

function search(r: i32, g: i32, b: i32): i32 {
  toLab(r, g, b, labPtr);
  return nearestEntry(<f64>load<f32>(labPtr), <f64>load<f32>(labPtr, 4), <f64>load<f32>(labPtr, 8));
}

function latticeLevel(n: i32): i32 {
  return n == LATTICE - 1 ? 255 : n * 4;
}

function corner(i: i32, j: i32, k: i32): i32 {
  const at = cornersPtr + ((<usize>((i * LATTICE + j) * LATTICE + k)) << 1);
  const known = <i32>load<u16>(at);
  if (known != 0) return known;
  const found = search(latticeLevel(i), latticeLevel(j), latticeLevel(k)) + 1;
  store<u16>(at, <u16>found);
  return found;
}

function agreed(i: i32, j: i32, k: i32): i32 {
  const first = corner(i, j, k);
  for (let m = 1; m < 8; m++) if (corner(i + (m & 1), j + ((m >> 1) & 1), k + (m >> 2)) != first) return MIXED;
  return first;
}

/** NearestMemo.index. */
function memoIndex(r: i32, g: i32, b: i32): i32 {
  const cell = ((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2);
  const cellAt = blocksPtr + ((<usize>cell) << 2);
  let block = load<i32>(cellAt);
  if (block == UNSEEN) {
    const shared = agreed(r >> 2, g >> 2, b >> 2);
    if (shared > 0) {
      store<i32>(cellAt, MIXED - shared);
      return shared - 1;
    }
    block = MIXED;
  }
  if (block < MIXED) return MIXED - block - 1;
  if (block == MIXED) {
    if (made + 1 > valuesCap) {
      valuesCap *= 2;
      ensure(valuesPtr + <usize>valuesCap * BLOCK_BYTES);
    }
    memory.fill(valuesPtr + <usize>made * BLOCK_BYTES, 0, BLOCK_BYTES);
    block = ++made;
    store<i32>(cellAt, block);
  }
  const slot = valuesPtr + ((<usize>((block - 1) * 64 + (((r & 3) << 4) | ((g & 3) << 2) | (b & 3)))) << 1);
  const hit = <i32>load<u16>(slot);
  if (hit != 0) return hit - 1;
  const best = search(r, g, b);
  store<u16>(slot, <u16>(best + 1));
  matched++;
  return best;
}

/**
 * Starts mapToPalette onto the `k` entries at paletteBytes(), by CIELAB alone when `lab` is set, else by
 * CIEDE2000 among the entries within `reachFactor` times the nearest CIELAB distance; mapRows does the pixels.
 */
export function begin(k: i32, lab: bool, reachFactor: f64): void {
  entries = k;
  labOnly = lab;
  reach = reachFactor;
  for (let c = 0; c < k; c++) {
    const p = palPtr + <usize>c * 3;
    toLab(<i32>load<u8>(p), <i32>load<u8>(p, 1), <i32>load<u8>(p, 2), plabPtr + <usize>c * 12);
  }
  // Fresh memory is zero already, and the pages of the tables a call never touches are then never faulted in.
  if (tablesUsed) memory.fill(cornersPtr, 0, fixedEnd - cornersPtr);
  tablesUsed = true;
  made = 0;
  matched = 0;
}

/**
 * Maps pixels `from` to `to` (exclusive) of prepare()'s grid into indices(); returns the colours searched one
 * by one so far. Called a row at a time: WebAssembly has no on-stack replacement, so a function that ran the
 * whole grid in one call would run it in the baseline code it started in, where one called per row is
 * optimised after a few rows.
 */
export function mapRows(from: i32, to: i32): i32 {
  let lastKey = -1;
  let last = 0;
  for (let i = from; i < to; i++) {
    const p = pixPtr + <usize>i * 3;
    const r = <i32>load<u8>(p);
    const g = <i32>load<u8>(p, 1);
    const b = <i32>load<u8>(p, 2);
    const key = (r << 16) | (g << 8) | b;
    if (key != lastKey) {
      lastKey = key;
      last = memoIndex(r, g, b);
    }
    store<u8>(outPtr + <usize>i, <u8>last);
  }
  return matched;
}
