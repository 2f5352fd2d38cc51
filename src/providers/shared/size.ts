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
