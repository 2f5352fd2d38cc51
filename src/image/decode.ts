/**
 * Reads an image file into RGBA pixels with jimp (EXIF orientation applied). Every way a file can be
 * unusable becomes one InputError line.
 */
import { promises as fsp } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { RgbaImage } from '../loom/types.js';

/** Reads an input file; `label` (the path as the user typed it) names it in errors. */
export async function readInputFile(file: string, label = file): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${label}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${label}: is a folder, not an image`);
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`${label}: permission denied`);
    throw new InputError(`${label}: cannot be read (${code ?? 'unknown error'})`);
  }
  if (bytes.length === 0) throw new InputError(`${label}: is empty (0 bytes)`);
  return bytes;
}

/** Decodes an encoded image; `label` names it in errors (a path, or 'download'). */
export async function decodeImage(bytes: Uint8Array, label: string): Promise<RgbaImage> {
  const { Jimp } = await import('jimp');
  let image;
  try {
    image = await Jimp.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Could not find MIME|does not support decoding/i.test(message)) {
      throw new InputError(`${label}: not a supported image (PNG, JPEG, BMP, GIF or TIFF)`);
    }
    throw new InputError(`${label}: corrupt or truncated image (${message.split('\n')[0]})`);
  }
  const { width, height, data } = image.bitmap;
  if (!width || !height) throw new InputError(`${label}: image has no pixels`);
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
