/**
 * EXIF orientation applied to RGBA pixels, with the same eight transforms as jimp's exifRotate, but as a
 * single typed-array pass (jimp's version calls a closure and two Buffer methods per pixel, about ten times
 * slower on a 12-megapixel photo).
 */

export interface RgbaBitmap {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Returns the upright image for EXIF orientation 1..8 (the input itself for 1 or an unknown value). Output
 * pixel (x, y) comes from source pixel base + x * ax + y * ay (in pixels), as jimp maps them.
 */
export function applyOrientation(image: RgbaBitmap, orientation: number): RgbaBitmap {
  const { width: w, height: h, data } = image;
  if (orientation < 2 || orientation > 8 || !Number.isInteger(orientation)) return image;
  const swap = orientation > 4;
  const nw = swap ? h : w;
  const nh = swap ? w : h;
  const last = (h - 1) * w;
  // [base, ax, ay] per orientation.
  const steps: Record<number, [number, number, number]> = {
    2: [w - 1, -1, w], // mirror horizontally
    3: [last + w - 1, -1, -w], // turn 180°
    4: [last, 1, -w], // mirror vertically
    5: [0, w, 1], // mirror along the main diagonal
    6: [last, -w, 1], // turn 90° clockwise
    7: [last + w - 1, -w, -1], // mirror along the other diagonal
    8: [w - 1, w, -1], // turn 90° anticlockwise
  };
  const [base, ax, ay] = steps[orientation];
  const out = new Uint8Array(nw * nh * 4);
  if (data.byteOffset % 4 === 0) {
    const src = new Uint32Array(data.buffer, data.byteOffset, w * h);
    const dst = new Uint32Array(out.buffer);
    for (let y = 0, o = 0; y < nh; y++) {
      for (let x = 0, s = base + y * ay; x < nw; x++, s += ax) dst[o++] = src[s];
    }
  } else {
    for (let y = 0, o = 0; y < nh; y++) {
      for (let x = 0, s = base + y * ay; x < nw; x++, s += ax, o += 4) {
        const q = s * 4;
        out[o] = data[q];
        out[o + 1] = data[q + 1];
        out[o + 2] = data[q + 2];
        out[o + 3] = data[q + 3];
      }
    }
  }
  return { width: nw, height: nh, data: out };
}
