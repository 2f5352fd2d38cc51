import type { RgbaImage, RgbImage } from '../../src/loom/types.js';

/** An RGBA image filled by `pixel(x, y)` -> [r, g, b, a?]. */
export function rgbaImage(width: number, height: number, pixel: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

export function rgbImage(width: number, height: number, pixel: (x: number, y: number) => number[]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(pixel(x, y).slice(0, 3), (y * width + x) * 3);
  return { width, height, data };
}

/** A deterministic pseudo-photo: smooth gradients plus seeded noise. */
export function noisyGradient(width: number, height: number, seed = 1): RgbaImage {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return rgbaImage(width, height, (x, y) => [
    Math.min(255, Math.round((x / width) * 200 + rand() * 55)),
    Math.min(255, Math.round((y / height) * 180 + rand() * 60)),
    Math.min(255, Math.round(((x + y) / (width + height)) * 220 + rand() * 35)),
  ]);
}
