/**
 * The weave stage, after the loom finish: each colour of the design gets its structure, laid in global
 * phase, with selvedges; floats over the limit are bound; the lift plan and a picture of the cloth are
 * encoded. Pure computation on plain data, so it runs on the worker that wove the design.
 */
import { weaveCompoundStage, type CompoundWoven } from './weave-compound.js';
import { findFormat } from '../formats/registry.js';
import { encodeIndexedPng } from '../formats/png.js';
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
import { StructureError } from '../loom/weave/structures.js';
import { weaveDesign, type WeaveResult } from '../loom/weave/weave.js';

/** The `weave` section of the report. */
type WeaveReport = Omit<WeaveResult, 'plan'> & {
  map: string;
  warp: string;
  weft: string;
  /** With auto: the satin its shaded family is on, the one asked for, and why a larger one was taken. */
  auto?: { ends: number; asked: number; why?: string };
  /** Colours auto could not keep apart. */
  shared?: AutoMapping['shared'];
  lift: { format: string; ends: number; picks: number; raised: 'black' | 'white' };
  preview: { scale: number; width: number; height: number; pickHeight: number };
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
    }
  | CompoundWoven;

export function weaveStage(result: LoomResult, settings: WeaveSettings, loom: LoomSettings): Woven {
  if (settings.wefts) return weaveCompoundStage(result, settings, loom, settings.wefts);
  const design = result.image;
  const named = namedStructures(settings.weaves);
  const yarns = { warp: settings.warp, weft: settings.weft };
  let assigned;
  try {
    assigned = assignWeave(parseWeaveMap(settings.map, named), design.palette, yarns, named);
  } catch (err) {
    if (err instanceof StructureError) throw new UsageError(`--weave: ${err.message}`);
    throw err;
  }
  const { plan, ...woven } = weaveDesign(design, {
    structures: assigned.structures,
    maxFloat: settings.maxFloat,
    tile: settings.tile,
    selvedge: settings.selvedge,
  });
  const format = findFormat(settings.liftFormat);
  const lift = format.encode(liftImage(plan, settings.invert), [{ keyword: 'Software', text: 'imagegen' }]);
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
    cloth: { ext: 'cloth.png', bytes: encodeIndexedPng(cloth, [{ keyword: 'Software', text: 'imagegen' }]) },
    report: {
      map: settings.map,
      warp: toHex(settings.warp[0], settings.warp[1], settings.warp[2]),
      weft: toHex(settings.weft[0], settings.weft[1], settings.weft[2]),
      ...woven,
      ...(auto ? { auto: { ends: auto.ends, asked: auto.asked, ...(auto.why ? { why: auto.why } : {}) } } : {}),
      ...(auto?.shared.length ? { shared: auto.shared } : {}),
      lift: {
        format: format.id,
        ends: plan.width,
        picks: plan.height,
        raised: settings.invert ? 'white' : 'black',
      },
      preview: { scale, width: cloth.width, height: cloth.height, pickHeight: Math.round(size.pickHeight * 1e4) / 1e4 },
    },
    ...(warnings.length ? { warnings } : {}),
  };
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
