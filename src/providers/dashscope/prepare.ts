/**
 * Brings a picture within a DashScope model's input limits (wanx2.1-imageedit: each side 512-4096 px, at most
 * 10 MB; the others in src/providers/dashscope/models.ts) by scaling and re-encoding, and returns it as a data
 * URI. Pixels come from our decoder, so EXIF orientation is already
 * applied and alpha is flattened onto white.
 */
import { encodeRgbPng } from '../../formats/png.js';
import { ImagegenError } from '../../kernel/errors.js';
import { resizeToGrid } from '../../loom/resize.js';
import type { RgbaImage } from '../../loom/types.js';
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

export interface PreparedImage {
  dataUri: string;
  width: number;
  height: number;
  bytes: number;
  mime: 'image/png' | 'image/jpeg';
}

export async function prepareForDashscope(
  image: RgbaImage,
  limits: InputLimits = WANX_LIMITS,
  model = 'DashScope',
): Promise<PreparedImage> {
  const { minSide: MIN_SIDE, maxSide: MAX_SIDE, maxBytes: MAX_BYTES } = limits;
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
  let { width, height } = fit;
  for (let attempt = 0; attempt < 6; attempt++) {
    const rgb = resizeToGrid(image, width, height);
    const png = encodeRgbPng(rgb);
    if (png.length <= MAX_BYTES)
      return {
        dataUri: `data:image/png;base64,${png.toString('base64')}`,
        width,
        height,
        bytes: png.length,
        mime: 'image/png',
      };
    // A photo near the largest side can exceed 10 MB as PNG; JPEG at quality 90 is far smaller.
    const { Jimp } = await import('jimp');
    const rgba = Buffer.alloc(width * height * 4, 255);
    for (let i = 0, j = 0; i < rgb.data.length; i += 3, j += 4) {
      rgba[j] = rgb.data[i];
      rgba[j + 1] = rgb.data[i + 1];
      rgba[j + 2] = rgb.data[i + 2];
    }
    const jpeg = await new Jimp({ width, height, data: rgba }).getBuffer('image/jpeg', { quality: 90 });
    if (jpeg.length <= MAX_BYTES)
      return {
        dataUri: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        width,
        height,
        bytes: jpeg.length,
        mime: 'image/jpeg',
      };
    // Still too large: shrink, but never below the minimum side.
    const shrink = Math.max(0.8, MIN_SIDE / Math.min(width, height));
    if (shrink >= 1) break;
    width = Math.round(width * shrink);
    height = Math.round(height * shrink);
  }
  throw new ImagegenError(
    'failure',
    `the picture cannot be encoded within ${model}'s ${MAX_BYTES / 1024 / 1024} MB limit`,
    {
      provider: 'dashscope',
    },
  );
}
