/**
 * Brings a picture within a DashScope model's input limits (wanx2.1-imageedit: each side 512-4096 px, at most
 * 10 MB as sent, the data URI; the others in src/providers/dashscope/models.ts) by scaling and re-encoding, and
 * returns it as a data URI. Pixels come from our decoder, so EXIF orientation is already
 * applied and alpha is flattened onto white.
 */
import { ImagegenError } from '../../kernel/errors.js';
import type { RgbaImage } from '../../loom/types.js';
import { encodeWithin, type EncodedPicture } from '../shared/encode.js';
import { fitSides } from '../shared/size.js';
import { DASHSCOPE_MODELS, type InputLimits } from './models.js';

const WANX_LIMITS = DASHSCOPE_MODELS[0].input;

/** The size to send: within [minSide, maxSide] on both sides, aspect kept; undefined when that is impossible. */
export function fitDashscopeSize(
  width: number,
  height: number,
  limits: InputLimits = WANX_LIMITS,
): { width: number; height: number } | undefined {
  return fitSides(width, height, limits.minSide, limits.maxSide);
}

export type PreparedImage = EncodedPicture;

export async function prepareForDashscope(
  image: RgbaImage,
  limits: InputLimits = WANX_LIMITS,
  model = 'DashScope',
): Promise<PreparedImage> {
  const { minSide: MIN_SIDE, maxSide: MAX_SIDE, maxBytes } = limits;
  const fit = fitDashscopeSize(image.width, image.height, limits);
  if (!fit) {
    throw new ImagegenError(
      'failure',
      `a ${image.width}×${image.height} picture cannot be brought within ${model}'s ${MIN_SIDE}-${MAX_SIDE} px per side`,
      {
        provider: 'dashscope',
        hint: `crop it to a less extreme aspect ratio (at most ${Math.floor((MAX_SIDE / MIN_SIDE) * 10) / 10}:1)`,
      },
    );
  }
  return encodeWithin(image, fit, { minSide: MIN_SIDE, maxUriBytes: maxBytes }, { model, provider: 'dashscope' });
}
