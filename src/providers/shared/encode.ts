/**
 * A picture as a data URI within a size limit on the URI itself (Base64 and its prefix included: that is
 * what a service receives and counts): a PNG where it fits, else a JPEG, else smaller, never below the
 * smallest side the model takes.
 */
import { encodeRgbPng } from '../../formats/png.js';
import { ImagegenError } from '../../kernel/errors.js';
import { resizeToGrid } from '../../loom/resize.js';
import type { RgbaImage } from '../../loom/types.js';

export interface EncodedPicture {
  dataUri: string;
  width: number;
  height: number;
  /** The encoded file, before Base64. */
  bytes: number;
  mime: 'image/png' | 'image/jpeg';
}

/** The length of `bytes` bytes as a data URI of this type. */
export function dataUriLength(bytes: number, mime: string): number {
  return `data:${mime};base64,`.length + 4 * Math.ceil(bytes / 3);
}

function asDataUri(file: Buffer, mime: EncodedPicture['mime'], width: number, height: number): EncodedPicture {
  return { dataUri: `data:${mime};base64,${file.toString('base64')}`, width, height, bytes: file.length, mime };
}

/**
 * Encodes `image` at `width`×`height` (already within the model's sides) so that its data URI is at most
 * `maxUriBytes` long. `what` names the model and `provider` the service, for the error when nothing fits.
 */
export async function encodeWithin(
  image: RgbaImage,
  size: { width: number; height: number },
  limits: { minSide: number; maxUriBytes: number },
  what: { model: string; provider: string },
): Promise<EncodedPicture> {
  let { width, height } = size;
  for (let attempt = 0; attempt < 6; attempt++) {
    const rgb = resizeToGrid(image, width, height);
    const png = encodeRgbPng(rgb);
    if (dataUriLength(png.length, 'image/png') <= limits.maxUriBytes) return asDataUri(png, 'image/png', width, height);
    // A photo near the largest side can be too large as PNG; JPEG at quality 90 is far smaller.
    const { Jimp } = await import('jimp');
    const rgba = Buffer.alloc(width * height * 4, 255);
    for (let i = 0, j = 0; i < rgb.data.length; i += 3, j += 4) {
      rgba[j] = rgb.data[i];
      rgba[j + 1] = rgb.data[i + 1];
      rgba[j + 2] = rgb.data[i + 2];
    }
    const jpeg = await new Jimp({ width, height, data: rgba }).getBuffer('image/jpeg', { quality: 90 });
    if (dataUriLength(jpeg.length, 'image/jpeg') <= limits.maxUriBytes)
      return asDataUri(jpeg, 'image/jpeg', width, height);
    // Still too large: shrink, but never below the minimum side.
    const shrink = Math.max(0.8, limits.minSide / Math.min(width, height));
    if (shrink >= 1) break;
    width = Math.round(width * shrink);
    height = Math.round(height * shrink);
  }
  throw new ImagegenError(
    'failure',
    `the picture cannot be sent within ${what.model}'s ${limits.maxUriBytes / 1e6} MB limit (as a data URI)`,
    { provider: what.provider },
  );
}
