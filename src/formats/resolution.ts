/** The resolution of the files of a cloth, from its density: a pixel an end across, a pixel a design row down. */
import type { LoomSettings } from '../loom/types.js';
import type { Resolution } from './types.js';

const CM_PER_INCH = 2.54;

/**
 * Pixels per centimetre of a picture drawn at `perEnd` pixels an end and `perRow` pixels a design row of a
 * cloth woven at `density` (ends and design rows per cm or inch): the picture then opens at the cloth's size.
 * A lift plan of W wefts has W picks, so W pixels, a design row. Undefined without a density.
 */
export function clothResolution(density: LoomSettings['density'], perEnd = 1, perRow = 1): Resolution | undefined {
  if (!density) return undefined;
  const unit = density.unit === 'in' ? CM_PER_INCH : 1;
  return { x: (density.ends / unit) * perEnd, y: (density.picks / unit) * perRow };
}

/** Pixels per metre as the whole number BMP and PNG store, at least 1; 0 for none. */
export function pixelsPerMetre(perCm: number | undefined): number {
  if (perCm === undefined || !(perCm > 0) || !Number.isFinite(perCm)) return 0;
  return Math.min(0x7fffffff, Math.max(1, Math.round(perCm * 100)));
}
