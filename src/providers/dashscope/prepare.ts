/**
 * Brings a picture within a DashScope model's input limits (wanx2.1-imageedit: each side 512-4096 px, at most
 * 10 MB as sent, the data URI; the others in src/providers/dashscope/models.ts) by scaling and re-encoding, and
 * returns it as a data URI. Pixels come from our decoder, so EXIF orientation is already
 * applied and alpha is flattened onto white.
 */
import type { RgbaImage } from '../../loom/types.js';
import { encodeWithin, type EncodedPicture } from '../shared/encode.js';
import { fitWithin } from '../shared/size.js';
import { DASHSCOPE_MODELS, type InputLimits } from './models.js';

const WANX_LIMITS = DASHSCOPE_MODELS[0].input;

export type PreparedImage = EncodedPicture;

export async function prepareForDashscope(
  image: RgbaImage,
  limits: InputLimits = WANX_LIMITS,
  model = 'DashScope',
): Promise<PreparedImage> {
  const { minSide, maxSide, maxBytes } = limits;
  const fit = fitWithin(image.width, image.height, minSide, maxSide, { model, provider: 'dashscope' });
  return encodeWithin(image, fit, { minSide, maxUriBytes: maxBytes }, { model, provider: 'dashscope' });
}
