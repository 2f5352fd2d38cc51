/**
 * Brings a picture within what a ModelScope editing model takes, and returns it as a data URI (PNG, or JPEG
 * where a PNG's would be too long). ModelScope documents no input limits for `image_url`; each side is kept
 * within the model's documented output size range (the model works at that scale anyway) and the data URI
 * within 10 MB. Pixels come from our decoder, so EXIF
 * orientation is already applied and alpha is flattened onto white.
 */
import type { RgbaImage } from '../../loom/types.js';
import { encodeWithin, type EncodedPicture } from '../shared/encode.js';
import { fitWithin } from '../shared/size.js';
import { sizeRange } from './request.js';

export type PreparedPicture = EncodedPicture;

/** The 10 MB a picture may be, counted on the data URI sent (decimal megabytes, the smaller reading). */
const MAX_URI_BYTES = 10 * 1000 * 1000;

export function prepareForModelscope(image: RgbaImage, model: string): Promise<PreparedPicture> {
  const [min, max] = sizeRange(model);
  const fit = fitWithin(image.width, image.height, min, max, { model, provider: 'modelscope' });
  return encodeWithin(image, fit, { minSide: min, maxUriBytes: MAX_URI_BYTES }, { model, provider: 'modelscope' });
}
