/**
 * The weave stage, after the loom finish: each colour of the design gets its structure, laid in global
 * phase, with selvedges; floats over the limit are bound; the lift plan and a picture of the cloth are
 * encoded. Pure computation on plain data, so it runs on the worker that wove the design.
 */
import { weaveCompoundStage, type CompoundWoven } from './weave-compound.js';
import { findFormat } from '../formats/registry.js';
import { encodeIndexedPng } from '../formats/png.js';
import { encodeWif, WIF } from '../formats/wif.js';
import { clothResolution } from '../formats/resolution.js';
import { UsageError } from '../kernel/errors.js';
import type { WeaveSettings } from '../config/weave.js';
import { namedStructures } from '../config/weaves.js';
import { toHex } from '../loom/color.js';
import type { LoomResult } from '../loom/pipeline.js';
import type { LoomSettings } from '../loom/types.js';
import { MAX_AUTO_SATIN, assignWeave, parseWeaveMap, type AutoMapping } from '../loom/weave/assign.js';
import {
  PREVIEW_MAX_PIXELS,
  largestPreviewScale,
  previewScale,
  previewSize,
  renderCloth,
} from '../loom/weave/cloth.js';
import { liftImage } from '../loom/weave/plan.js';
import { StructureError, parseStructure } from '../loom/weave/structures.js';
import { hookMap, layRepeats, type HookRange, type LoomLayout } from '../loom/weave/layout.js';
import { layoutOf, layoutReport, type LayoutReport } from './loom-layout.js';
import type { IndexedImage } from '../loom/types.js';
import { seamNote } from '../loom/weave/repeat.js';
import { weaveDesign, type WeaveResult } from '../loom/weave/weave.js';

/** The `weave` section of the report. */
type ShownFloats = { warp: number | 'endless'; weft: number | 'endless' };

type WeaveReport = Omit<WeaveResult, 'plan' | 'floats'> & {
  /** Longest floats; "endless" for a thread that never interlaces in a repeat (--tile). */
  floats: Omit<WeaveResult['floats'], 'before' | 'after'> & { before: ShownFloats; after: ShownFloats };
  map: string;
  warp: string;
  weft: string;
  /** With auto: the satin its shaded family is on, the one asked for, and why a larger one was taken. */
  auto?: { ends: number; asked: number; why?: string };
  /** Colours auto could not keep apart. */
  shared?: AutoMapping['shared'];
  lift: {
    format: string;
    ends: number;
    picks: number;
    /** How the picture shows a raised end; a WIF names the raised ends instead. */
    raised: 'black' | 'white' | 'listed';
  };
  preview: { scale: number; width: number; height: number; pickHeight: number };
  /** The hook map: every hook once, left to right, 1-based. */
  hooks: HookRange[];
  layout: LayoutReport;
  /** What the user was told about this weave (colours that share a structure, a repeat that does not close). */
  warnings?: string[];
};

/** A file written beside the design image: `<stem>.<ext>`. */
interface Companion {
  ext: string;
  bytes: Uint8Array;
}

export type Woven =
  | {
      lift: Companion;
      cloth: Companion;
      back?: undefined;
      shuttles?: undefined;
      report: WeaveReport;
      /** What the job tells the user besides the report. */
      warnings?: string[];
      /** The design across its repeats, when there are several: the design image written. */
      design?: IndexedImage;
    }
  | CompoundWoven;

export function weaveStage(result: LoomResult, settings: WeaveSettings, loom: LoomSettings): Woven {
  const layout = layoutOf(settings, result.image.width);
  const woven = settings.wefts
    ? weaveCompoundStage(result, settings, loom, { wefts: settings.wefts, layout })
    : weaveOneWeft(result, settings, loom, layout);
  const notes: string[] = [];
  if (settings.spareHooks) {
    notes.push(
      `--hooks ${layout.hooks}: ${layout.repeats} repeat${layout.repeats > 1 ? 's' : ''} of ${layout.unit} ends leave ${settings.spareHooks} hook${settings.spareHooks > 1 ? 's' : ''}, woven into the selvedges (${layout.selvedge[0]} left, ${layout.selvedge[1]} right)`,
    );
  }
  // A repeat whose structures do not close at its seams: said, with the sizes that would. Side by side, a point
  // tie meets each structure mirrored, as it should; a straight one needs the ends to close.
  const acrossRepeats = layout.repeats > 1 && layout.tie === 'straight';
  if (settings.tile || acrossRepeats) {
    const sizes = woven.report.structures.map((s) => {
      const [width, height] = s.repeat.split('x').map(Number);
      return { name: s.structure, width, height: settings.tile ? height : 1 };
    });
    const note = seamNote(result.image.width, result.image.height, sizes, settings.tile ? '--tile' : '--repeats');
    if (note) notes.push(note);
  }
  if (notes.length) {
    woven.warnings = [...(woven.warnings ?? []), ...notes];
    woven.report.warnings = [...(woven.report.warnings ?? []), ...notes];
  }
  return woven;
}

function weaveOneWeft(result: LoomResult, settings: WeaveSettings, loom: LoomSettings, layout: LoomLayout): Woven {
  const design = result.image;
  const named = namedStructures(settings.weaves);
  const yarns = { warp: settings.warp, weft: settings.weft };
  let assigned;
  try {
    const map = parseWeaveMap(settings.map, named);
    if (settings.autoEnds !== undefined && map.auto !== undefined) map.auto = settings.autoEnds;
    assigned = assignWeave(map, design.palette, yarns, named, settings.autoEnds !== undefined);
  } catch (err) {
    if (err instanceof StructureError) throw new UsageError(`--weave: ${err.message}`);
    throw err;
  }
  const { plan, ...woven } = weaveDesign(design, {
    structures: assigned.structures,
    maxFloat: settings.maxFloat,
    tile: settings.tile,
    selvedge: settings.selvedge,
    layout,
    edge: parseStructure(settings.selvedgeWeave ?? 'plain', named),
  });
  const format = settings.liftFormat === WIF.id ? WIF : findFormat(settings.liftFormat);
  const lift =
    'encode' in format
      ? format.encode(liftImage(plan, settings.invert), [{ keyword: 'Software', text: 'imagegen' }], {
          resolution: clothResolution(loom.density),
        })
      : encodeWif({ plan, warp: settings.warp, wefts: [settings.weft], density: loom.density });
  const aspect = loom.density ? loom.density.ends / loom.density.picks : 1;
  const scale = settings.previewScale ?? previewScale(plan.width, plan.height, aspect);
  const size = previewSize(plan.width, plan.height, scale, aspect);
  if (size.width * size.height > PREVIEW_MAX_PIXELS) {
    const fits = largestPreviewScale(plan.width, plan.height, aspect);
    throw new UsageError(
      `--preview-scale ${scale}: the cloth preview of ${plan.width} ends and ${plan.height} picks would be ${size.width} × ${size.height} pixels, more than ${PREVIEW_MAX_PIXELS / 1e6} megapixels`,
      { hint: fits >= 1 ? `give --preview-scale ${fits} or less` : 'leave --preview-scale out: the default fits' },
    );
  }
  const cloth = renderCloth(plan, yarns, scale, aspect);
  const { auto } = assigned;
  const warnings = auto?.shared.length ? [sharedWarning(auto)] : [];
  return {
    lift: { ext: `lift.${format.ext}`, bytes: lift },
    cloth: {
      ext: 'cloth.png',
      bytes: encodeIndexedPng(cloth, [{ keyword: 'Software', text: 'imagegen' }], {
        // The preview's pixels per end and per pick: it opens at the cloth's size.
        resolution: clothResolution(loom.density, cloth.width / plan.width, cloth.height / plan.height),
        // A large picture for the eye: deflated fast rather than small.
        level: 1,
      }),
    },
    report: {
      map: settings.map,
      warp: toHex(settings.warp[0], settings.warp[1], settings.warp[2]),
      weft: toHex(settings.weft[0], settings.weft[1], settings.weft[2]),
      ...woven,
      floats: { ...woven.floats, before: shownFloats(woven.floats.before), after: shownFloats(woven.floats.after) },
      ...(auto ? { auto: { ends: auto.ends, asked: auto.asked, ...(auto.why ? { why: auto.why } : {}) } } : {}),
      ...(auto?.shared.length ? { shared: auto.shared } : {}),
      lift: {
        format: format.id,
        ends: plan.width,
        picks: plan.height,
        raised: format.id === 'wif' ? 'listed' : settings.invert ? 'white' : 'black',
      },
      preview: { scale, width: cloth.width, height: cloth.height, pickHeight: Math.round(size.pickHeight * 1e4) / 1e4 },
      hooks: hookMap(layout),
      layout: layoutReport(settings, layout),
      ...(warnings.length ? { warnings } : {}),
    },
    ...(warnings.length ? { warnings } : {}),
    ...(layout.repeats > 1 ? { design: layRepeats(design, layout) } : {}),
  };
}

function shownFloats(f: { warp: number; weft: number }): ShownFloats {
  const show = (n: number) => (Number.isFinite(n) ? n : 'endless');
  return { warp: show(f.warp), weft: show(f.weft) };
}

/** One line naming the colours auto gave one structure, and why. */
function sharedWarning(auto: AutoMapping): string {
  const colors = auto.structures.filter((s) => s !== undefined).length;
  const groups = auto.shared.map((g) => `${g.colors.join(', ')} (L* ${g.lightness.join(', ')}) share ${g.structure}`);
  return (
    `--weave auto: ${colors} colours, and the ${auto.ends}-end satin${auto.ends === MAX_AUTO_SATIN ? ', the largest auto takes,' : ''} has ${auto.ends - 1} steps: ` +
    `colours ${groups.join('; ')}`
  );
}
