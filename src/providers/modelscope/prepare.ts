/**
 * Brings a picture within what a ModelScope editing model takes, and returns it as a PNG data URI. ModelScope
 * documents no input limits for `image_url`; each side is kept within the model's documented output size range
 * (the model works at that scale anyway) and the file within 10 MB. Pixels come from our decoder, so EXIF
 * orientation is already applied and alpha is flattened onto white.
 */
import { encodeRgbPng } from '../../formats/png.js';
import { ImagegenError } from '../../kernel/errors.js';
import { resizeToGrid } from '../../loom/resize.js';
import type { RgbaImage } from '../../loom/types.js';
import { fitSides } from '../shared/size.js';
import { sizeRange } from './request.js';

const MAX_BYTES = 10 * 1024 * 1024;

/** The size to send for `model`: both sides within its range, aspect kept; undefined when that is impossible. */
export function fitModelscopeSize(
  width: number,
  height: number,
  model: string,
): { width: number; height: number } | undefined {
  const [min, max] = sizeRange(model);
  return fitSides(width, height, min, max);
}

export interface PreparedPicture {
  dataUri: string;
  width: number;
  height: number;
  bytes: number;
}

export function prepareForModelscope(image: RgbaImage, model: string): PreparedPicture {
  const fit = fitModelscopeSize(image.width, image.height, model);
  if (!fit) {
    const [min, max] = sizeRange(model);
    throw new ImagegenError(
      'failure',
      `a ${image.width}×${image.height} picture cannot be brought within ${model}'s ${min}-${max} px per side`,
      { provider: 'modelscope', hint: `crop it to a less extreme aspect ratio (at most ${Math.floor(max / min)}:1)` },
    );
  }
  const { width, height } = fit;
  const png = encodeRgbPng(resizeToGrid(image, width, height));
  // An RGB PNG of at most 1664² is never much larger than its raw pixels: this holds unless the ranges grow.
  if (png.length > MAX_BYTES) {
    throw new ImagegenError('failure', `the picture is ${png.length} bytes as PNG, over the 10 MB sent to ModelScope`, {
      provider: 'modelscope',
    });
  }
  return { dataUri: `data:image/png;base64,${png.toString('base64')}`, width, height, bytes: png.length };
}
