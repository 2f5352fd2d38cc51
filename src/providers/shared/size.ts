import { ImagegenError } from '../../kernel/errors.js';

/**
 * The size to send a picture at: both sides within [minSide, maxSide], the aspect kept, scaled as little as
 * possible; undefined when no scale does it (the picture is too long and narrow).
 */
export function fitSides(
  width: number,
  height: number,
  minSide: number,
  maxSide: number,
): { width: number; height: number } | undefined {
  let scale = 1;
  if (Math.min(width, height) < minSide) scale = minSide / Math.min(width, height);
  if (Math.max(width, height) * scale > maxSide) scale = maxSide / Math.max(width, height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  if (Math.min(w, h) < minSide || Math.max(w, h) > maxSide) return undefined;
  return { width: w, height: h };
}

/**
 * The size to send a `width`×`height` picture at, within [minSide, maxSide] per side (see fitSides); a
 * picture too long and narrow for any scale is refused, naming the aspect ratio that would fit.
 */
export function fitWithin(
  width: number,
  height: number,
  minSide: number,
  maxSide: number,
  sender: { model: string; provider: string },
): { width: number; height: number } {
  const fit = fitSides(width, height, minSide, maxSide);
  if (fit) return fit;
  throw new ImagegenError(
    'failure',
    `a ${width}×${height} picture cannot be brought within ${sender.model}'s ${minSide}-${maxSide} px per side`,
    {
      provider: sender.provider,
      hint: `crop it to a less extreme aspect ratio (at most ${Math.floor((maxSide / minSide) * 10) / 10}:1)`,
    },
  );
}
