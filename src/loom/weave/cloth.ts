/**
 * A picture of the woven cloth: each crossing drawn in the colour of the yarn on top, warp where it is
 * raised and weft where it is down. From three pixels a crossing up, the thread's edges are shaded along
 * its length (warp edges run up the cloth, weft edges across), so floats and twill lines read as they do in
 * cloth.
 */
import type { IndexedImage } from '../types.js';
import type { Yarns } from './assign.js';
import type { LiftPlan } from './plan.js';

function edgeShade(rgb: readonly number[]): number[] {
  const light = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  // A dark yarn's edge catches the light; a light yarn's edge is in shadow.
  return rgb.map((v) => (light < 64 ? Math.min(255, v + 48) : Math.round(v * 0.72)));
}

/** The preview scale that makes the picture at least `minWidth` pixels wide. */
export function previewScale(ends: number, minWidth = 1200): number {
  return Math.max(1, Math.ceil(minWidth / ends));
}

/**
 * Renders the plan at `scale` pixels per end; `aspect` (pick height over end width, from the density) keeps
 * the cloth's proportions. Palette: warp, warp edge, weft, weft edge.
 */
export function renderCloth(plan: LiftPlan, yarns: Yarns, scale: number, aspect = 1): IndexedImage {
  const { width, height, cells } = plan;
  const cw = scale;
  const ch = Math.max(1, Math.round(scale * aspect));
  const outW = width * cw;
  const outH = height * ch;
  const indices = new Uint8Array(outW * outH);
  const palette = Uint8Array.from([...yarns.warp, ...edgeShade(yarns.warp), ...yarns.weft, ...edgeShade(yarns.weft)]);
  // One crossing's block, for each yarn on top.
  const block = [new Uint8Array(cw * ch), new Uint8Array(cw * ch)];
  for (let j = 0; j < ch; j++) {
    for (let i = 0; i < cw; i++) {
      block[1][j * cw + i] = cw >= 3 && (i === 0 || i === cw - 1) ? 1 : 0;
      block[0][j * cw + i] = ch >= 3 && (j === 0 || j === ch - 1) ? 3 : 2;
    }
  }
  if (cw === 1 && ch === 1) {
    for (let y = 0; y < height; y++) {
      const top = (height - 1 - y) * outW;
      for (let x = 0; x < width; x++) indices[top + x] = cells[y * width + x] ? 0 : 2;
    }
    return { width: outW, height: outH, indices, palette };
  }
  for (let y = 0; y < height; y++) {
    const top = (height - 1 - y) * ch;
    for (let x = 0; x < width; x++) {
      const b = block[cells[y * width + x]];
      const left = x * cw;
      for (let j = 0; j < ch; j++) {
        const o = (top + j) * outW + left;
        for (let i = 0; i < cw; i++) indices[o + i] = b[j * cw + i];
      }
    }
  }
  return { width: outW, height: outH, indices, palette };
}
