/**
 * The weave stage for several wefts: each design colour is an effect of the yarns (a face weft and a shade, or
 * two wefts sharing the face); the compound lift plan weaves each design row as one pick per weft in shuttle
 * order, with stitching points that bind the back wefts out of sight. Beside the lift plan: the face and the
 * back of the cloth in the yarns' colours, and the shuttle sequence as CSV.
 */
import { findFormat } from '../formats/registry.js';
import { encodeIndexedPng } from '../formats/png.js';
import { encodeWif, WIF } from '../formats/wif.js';
import { clothResolution } from '../formats/resolution.js';
import type { WeaveSettings } from '../config/weave.js';
import { toHex } from '../loom/color.js';
import type { LoomResult } from '../loom/pipeline.js';
import { hookMap, layAcross, layRepeats, type HookRange, type LoomLayout } from '../loom/weave/layout.js';
import { parseStructure } from '../loom/weave/structures.js';
import { namedStructures } from '../config/weaves.js';
import { layoutReport, type LayoutReport } from './loom-layout.js';
import type { IndexedImage, LoomSettings } from '../loom/types.js';
import { compoundPixels, compoundScale, renderCompoundBack, renderCompoundFace } from '../loom/weave/cloth.js';
import {
  FloatsNotHeldError,
  readFaceWefts,
  weaveCompound as weaveCompoundPlan,
  type CompoundResult,
} from '../loom/weave/compound.js';
import { UsageError } from '../kernel/errors.js';
import { effectName, effectsOfPalette, weftEffects } from '../loom/weave/effects.js';
import { liftImage } from '../loom/weave/plan.js';

interface EffectReport {
  index: number;
  hex: string;
  /** 1-based, in shuttle order. */
  weft: number;
  weftHex: string;
  /** The second weft sharing the face, if any. */
  weft2?: number;
  weft2Hex?: string;
  structure: string;
  repeat: string;
  /** The share of the face the warp covers, in the appearance model. */
  warpCover: number;
  /** With a fixed palette: the colour asked for and its CIEDE2000 to this effect. */
  asked?: string[];
  deltaE?: number;
}

interface CompoundReport {
  map: string;
  /** What the user was told about this weave (a repeat that does not close). */
  warnings?: string[];
  warp: string;
  wefts: {
    yarns: Array<{ number: number; hex: string; faceShare: number }>;
    picksPerRow: number;
    picks: number;
    /** The sequence as a weaver follows it: these picks, the shuttles in this order, over and over. */
    runs: Array<{ from: number; to: number; shuttles: number[] }>;
    selectorHooks: 'left' | 'right' | null;
  };
  structures: EffectReport[];
  /** Longest floats per layer; "endless" for a thread that never interlaces in a repeat (--tile). */
  floats: Omit<CompoundResult['floats'], 'before' | 'after'> & { before: ShownFloats; after: ShownFloats };
  stitching: { points: number; hidden: number; hiddenShare: number };
  bindingPoints: number;
  /**
   * The share of design cells whose face weft (one of the two, where two share the face) a reader of the lift
   * plan alone finds (readFaceWefts).
   */
  readBack: number;
  selvedge: number;
  hooks: HookRange[];
  layout: LayoutReport;
  lift: { format: string; ends: number; picks: number; raised: 'black' | 'white' | 'listed' };
  preview: {
    scale: number;
    rowHeight: number;
    width: number;
    height: number;
    back: { pickHeight: number; width: number; height: number };
  };
}

const round4 = (n: number) => Math.round(n * 1e4) / 1e4;

type ShownFloats = Record<keyof CompoundResult['floats']['before'], number | 'endless'>;

function shownFloats(floats: CompoundResult['floats']['before']): ShownFloats {
  const show = (n: number) => (Number.isFinite(n) ? n : 'endless');
  return { weftFace: show(floats.weftFace), weftBack: show(floats.weftBack), warpFace: show(floats.warpFace) };
}

/** The most pixels the pictures of face and back have together: some 2 bytes each while they are made. */
const PREVIEW_MAX_PIXELS = 150e6;

/** The pictures of face and back are large and for the eye: deflated fast rather than small. */
const PREVIEW_DEFLATE = 1;

/** One line per pick, pick 1 first: its weft's number and colour. */
function shuttleCsv(picks: number, wefts: readonly (readonly number[])[]): Uint8Array {
  const W = wefts.length;
  const hexes = wefts.map((w) => toHex(w[0], w[1], w[2]));
  const lines = ['pick,weft,colour'];
  for (let p = 0; p < picks; p++) lines.push(`${p + 1},${(p % W) + 1},${hexes[p % W]}`);
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

/** A file written beside the design image: `<stem>.<ext>`. */
interface Companion {
  ext: string;
  bytes: Uint8Array;
}

export interface CompoundWoven {
  /** Said to the user, and kept in the report (`weave.warnings`). */
  warnings?: string[];
  lift: Companion;
  cloth: Companion;
  back: Companion;
  shuttles: Companion;
  report: CompoundReport;
  /** The design across its repeats, when there are several: the design image written. */
  design?: IndexedImage;
}

export function weaveCompoundStage(
  result: LoomResult,
  settings: WeaveSettings,
  loom: LoomSettings,
  { wefts, layout }: { wefts: readonly [number, number, number][]; layout: LoomLayout },
): CompoundWoven {
  const design = result.image;
  const W = wefts.length;
  const effects = effectsOfPalette(
    design.palette,
    weftEffects(settings.warp, wefts, settings.effectEnds, { mixes: true }),
  );
  let woven: CompoundResult;
  try {
    woven = weaveCompoundPlan(design, {
      effects,
      wefts: W,
      maxFloat: settings.maxFloat,
      maxBackFloat: settings.maxBackFloat,
      tile: settings.tile,
      selvedge: settings.selvedge,
      selectorHooks: settings.selectorHooks,
      layout,
      edge: parseStructure(settings.selvedgeWeave ?? 'plain', namedStructures(settings.weaves)),
    });
  } catch (err) {
    if (err instanceof FloatsNotHeldError) {
      throw new UsageError(
        `--max-float ${settings.maxFloat}, --max-back-float ${settings.maxBackFloat}: ${err.message}`,
        {
          hint: 'raise --max-float or --max-back-float, or weave on a smaller satin (--weave auto:5)',
        },
      );
    }
    throw err;
  }
  const { plan } = woven;
  const software = [{ keyword: 'Software', text: 'imagegen' }];
  const format = settings.liftFormat === WIF.id ? WIF : findFormat(settings.liftFormat);
  // A design row is W picks of the lift plan.
  const lift =
    'encode' in format
      ? format.encode(liftImage(plan, settings.invert), software, { resolution: clothResolution(loom.density, 1, W) })
      : encodeWif({ plan, warp: settings.warp, wefts, density: loom.density });
  const aspect = loom.density ? loom.density.ends / loom.density.picks : 1;
  const rows = plan.height / W;
  // The pictures show the design across its repeats.
  const designEnds = layout.unit * layout.repeats;
  let scale = compoundScale(designEnds, W, aspect, settings.previewScale);
  if (compoundPixels(designEnds, rows, W, scale) > PREVIEW_MAX_PIXELS) {
    if (settings.previewScale !== undefined) {
      throw new UsageError(
        `--preview-scale ${settings.previewScale}: the pictures of face and back would have ${Math.round(compoundPixels(designEnds, rows, W, scale) / 1e6)} megapixels, more than ${PREVIEW_MAX_PIXELS / 1e6}`,
        { hint: 'give a smaller --preview-scale' },
      );
    }
    // A large cloth's default pictures: the largest scale within the bound, down to a pixel an end.
    for (let s = scale.scale - 1; s >= 1; s--) {
      scale = compoundScale(designEnds, W, aspect, s);
      if (compoundPixels(designEnds, rows, W, scale) <= PREVIEW_MAX_PIXELS) break;
    }
  }
  const cloth = {
    plan,
    offset: woven.offset,
    designWidth: designEnds,
    wefts: W,
    face: layAcross(woven.face, woven.designWidth, rows, layout),
  };
  const yarns = { warp: settings.warp, wefts };
  const face = renderCompoundFace(cloth, yarns, scale);
  const back = renderCompoundBack(cloth, yarns, scale);
  // Read back on the first repeat: the others are copies of it.
  const read = readFaceWefts(
    plan,
    { offset: woven.offset, designWidth: woven.designWidth, wefts: W, selvedge: 0 },
    settings.effectEnds,
  );
  let cells = 0;
  let agree = 0;
  const faceCells = new Array<number>(W).fill(0);
  for (let i = 0; i < woven.face.length; i++) {
    faceCells[woven.face[i]]++;
    cells++;
    if (read[i] === woven.face[i] || read[i] === woven.shared[i]) agree++;
  }
  const asked = settings.askedColors ?? [];
  const hex = (rgb: readonly number[]) => toHex(rgb[0], rgb[1], rgb[2]);
  const structures = effects.map((e, index): EffectReport => {
    const own = hex(e.rgb);
    const mine = asked.filter((a) => a.hex === own);
    return {
      index,
      hex: own,
      weft: e.weft + 1,
      weftHex: hex(wefts[e.weft]),
      ...(e.weft2 === undefined ? {} : { weft2: e.weft2 + 1, weft2Hex: hex(wefts[e.weft2]) }),
      structure: effectName(e),
      repeat: `${e.structure.width}x${e.structure.height}`,
      warpCover: round4(e.cover),
      ...(mine.length ? { asked: mine.map((a) => a.asked), deltaE: Math.max(...mine.map((a) => a.deltaE)) } : {}),
    };
  });
  const stitches = woven.stitches;
  const report: CompoundReport = {
    map: settings.map,
    warp: hex(settings.warp),
    wefts: {
      yarns: wefts.map((w, k) => ({
        number: k + 1,
        hex: hex(w),
        faceShare: round4(faceCells[k] / Math.max(1, woven.face.length)),
      })),
      picksPerRow: W,
      picks: plan.height,
      runs: [{ from: 1, to: plan.height, shuttles: wefts.map((_, k) => k + 1) }],
      selectorHooks: settings.selectorHooks ?? null,
    },
    structures,
    floats: {
      ...woven.floats,
      before: shownFloats(woven.floats.before),
      after: shownFloats(woven.floats.after),
    },
    stitching: {
      points: stitches.points,
      hidden: stitches.hidden,
      hiddenShare: stitches.points ? round4(stitches.hidden / stitches.points) : 1,
    },
    bindingPoints: woven.bindingPoints,
    readBack: cells ? round4(agree / cells) : 1,
    selvedge: layout.selvedge[0],
    hooks: hookMap(layout),
    layout: layoutReport(settings, layout),
    lift: {
      format: format.id,
      ends: plan.width,
      picks: plan.height,
      raised: format.id === 'wif' ? 'listed' : settings.invert ? 'white' : 'black',
    },
    preview: {
      scale: scale.scale,
      rowHeight: scale.rowHeight,
      width: face.width,
      height: face.height,
      back: { pickHeight: scale.pickHeight, width: back.width, height: back.height },
    },
  };
  return {
    lift: { ext: `lift.${format.ext}`, bytes: lift },
    cloth: {
      ext: 'cloth.png',
      bytes: encodeIndexedPng(face, software, {
        level: PREVIEW_DEFLATE,
        resolution: clothResolution(loom.density, scale.scale, scale.rowHeight),
      }),
    },
    back: {
      ext: 'back.png',
      bytes: encodeIndexedPng(back, software, {
        level: PREVIEW_DEFLATE,
        resolution: clothResolution(loom.density, scale.scale, W * scale.pickHeight),
      }),
    },
    shuttles: { ext: 'wefts.csv', bytes: shuttleCsv(plan.height, wefts) },
    report,
    ...(layout.repeats > 1 ? { design: layRepeats(design, layout) } : {}),
  };
}
