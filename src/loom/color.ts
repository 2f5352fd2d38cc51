/**
 * Colour conversions and differences: sRGB <-> linear light, sRGB -> CIELAB (D65), and CIEDE2000
 * (Sharma, Wu & Dalal 2005).
 */

/** sRGB byte -> linear light (0..1). */
export const SRGB_TO_LINEAR = new Float32Array(256);
for (let i = 0; i < 256; i++) {
  const c = i / 255;
  SRGB_TO_LINEAR[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Steps of the linear -> sRGB table (exported for kernels that inline linearToSrgb). */
export const LINEAR_STEPS = 4096;
export const LINEAR_TO_SRGB = new Uint8Array(LINEAR_STEPS + 1);
for (let i = 0; i <= LINEAR_STEPS; i++) {
  const v = i / LINEAR_STEPS;
  const c = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
  LINEAR_TO_SRGB[i] = Math.round(Math.min(1, Math.max(0, c)) * 255);
}

/** Linear light (0..1, clamped) -> sRGB byte, through a 4096-step table. */
export function linearToSrgb(v: number): number {
  if (v <= 0) return 0;
  if (v >= 1) return 255;
  return LINEAR_TO_SRGB[(v * LINEAR_STEPS + 0.5) | 0];
}

/** Exact linear -> sRGB byte, for the few values (palette entries) where the table's rounding would show. */
export function linearToSrgbExact(v: number): number {
  const c = v <= 0.0031308 ? v * 12.92 : 1.055 * Math.max(0, v) ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}

// D65 reference white.
const XN = 0.95047;
const YN = 1.0;
const ZN = 1.08883;
const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

function labF(t: number): number {
  return t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function labFInv(t: number): number {
  const t3 = t * t * t;
  return t3 > EPS ? t3 : (116 * t - 16) / KAPPA;
}

/** Linear RGB (0..1) -> CIELAB, written into out[offset..offset+2]. */
function linearRgbToLab(r: number, g: number, b: number, out: Float32Array | number[], offset = 0): void {
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / XN;
  const y = (0.2126729 * r + 0.7151522 * g + 0.072175 * b) / YN;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / ZN;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  out[offset] = 116 * fy - 16;
  out[offset + 1] = 500 * (fx - fy);
  out[offset + 2] = 200 * (fy - fz);
}

/** sRGB bytes -> CIELAB. */
export function srgbToLab(r: number, g: number, b: number, out: Float32Array | number[], offset = 0): void {
  linearRgbToLab(SRGB_TO_LINEAR[r], SRGB_TO_LINEAR[g], SRGB_TO_LINEAR[b], out, offset);
}

/** CIELAB -> linear RGB (unclamped; may be out of gamut). */
function labToLinearRgb(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const x = labFInv(fx) * XN;
  const y = (L > KAPPA * EPS ? fy * fy * fy : L / KAPPA) * YN;
  const z = labFInv(fz) * ZN;
  return [
    3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
    -0.969266 * x + 1.8760108 * y + 0.041556 * z,
    0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
  ];
}

/** CIELAB -> sRGB bytes, clamped to the gamut. */
export function labToSrgb(L: number, a: number, b: number): [number, number, number] {
  const [r, g, bl] = labToLinearRgb(L, a, b);
  return [linearToSrgbExact(r), linearToSrgbExact(g), linearToSrgbExact(bl)];
}

const RAD = Math.PI / 180;
const POW25_7 = 25 ** 7;

const COS30 = Math.cos(30 * RAD);
const SIN30 = Math.sin(30 * RAD);
const COS6 = Math.cos(6 * RAD);
const SIN6 = Math.sin(6 * RAD);
const COS63 = Math.cos(63 * RAD);
const SIN63 = Math.sin(63 * RAD);
const COS150 = Math.cos(150 * RAD);

/**
 * CIEDE2000 colour difference with kL = kC = kH = 1 (Sharma, Wu & Dalal 2005), written for speed since
 * mapping and speck removal call it per colour: the hue difference comes from ΔH'² = 2(C1'C2' − a1'a2' −
 * b1b2) with the sign of the cross product, the mean hue from the bisector of the two hue directions (which
 * is the rule's arithmetic mean taken the short way round), and T's cosines from multiple-angle identities,
 * leaving one atan2 where the textbook form has two atan2 and five cosines.
 */
export function ciede2000(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
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
  let dHp = 0;
  let ch: number;
  let sh: number;
  let hbarp: number;
  const sx = prod === 0 ? 0 : a1p / C1p + a2p / C2p;
  const sy = prod === 0 ? 0 : b1 / C1p + b2 / C2p;
  const norm = Math.sqrt(sx * sx + sy * sy);
  if (prod !== 0 && norm > 1e-9) {
    const dH2 = 2 * (prod - a1p * a2p - b1 * b2);
    const dH = dH2 > 0 ? Math.sqrt(dH2) : 0;
    dHp = a1p * b2 - b1 * a2p < 0 ? -dH : dH;
    ch = sx / norm;
    sh = sy / norm;
    // Below 150° the blue-region rotation term is under 1e-10 (exp(−25) and less): skipped, with the atan2.
    if (sh >= 0 && ch > COS150) hbarp = -1;
    else {
      hbarp = Math.atan2(sh, ch) / RAD;
      if (hbarp < 0) hbarp += 360;
    }
  } else {
    // No chroma on one side (h̄' is the other's hue), or opposite hues: the textbook rule.
    const h1p = C1p === 0 ? 0 : (Math.atan2(b1, a1p) / RAD + 360) % 360;
    const h2p = C2p === 0 ? 0 : (Math.atan2(b2, a2p) / RAD + 360) % 360;
    hbarp = h1p + h2p;
    if (prod !== 0) {
      let dhp = h2p - h1p;
      if (dhp > 180) dhp -= 360;
      else if (dhp < -180) dhp += 360;
      dHp = 2 * Math.sqrt(prod) * Math.sin((dhp / 2) * RAD);
      if (Math.abs(h1p - h2p) <= 180) hbarp = (h1p + h2p) / 2;
      else if (h1p + h2p < 360) hbarp = (h1p + h2p + 360) / 2;
      else hbarp = (h1p + h2p - 360) / 2;
    }
    ch = Math.cos(hbarp * RAD);
    sh = Math.sin(hbarp * RAD);
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
  let Rt = 0;
  if (hbarp !== -1) {
    const hd = (hbarp - 275) / 25;
    const dTheta = 30 * Math.exp(-(hd * hd));
    const Cbarp2 = Cbarp * Cbarp;
    const Cbarp7 = Cbarp2 * Cbarp2 * Cbarp2 * Cbarp;
    Rt = -Math.sin(2 * dTheta * RAD) * 2 * Math.sqrt(Cbarp7 / (Cbarp7 + POW25_7));
  }
  const Lm = ((L1 + L2) / 2 - 50) ** 2;
  const Sl = 1 + (0.015 * Lm) / Math.sqrt(20 + Lm);
  const Sc = 1 + 0.045 * Cbarp;
  const Sh = 1 + 0.015 * Cbarp * T;
  const tl = dLp / Sl;
  const tc = dCp / Sc;
  const th = dHp / Sh;
  return Math.sqrt(tl * tl + tc * tc + th * th + Rt * tc * th);
}

/** Parses '#rrggbb' or 'rrggbb' into bytes. */
export function parseHex(hex: string): [number, number, number] | undefined {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) return undefined;
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

export function toHex(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}
