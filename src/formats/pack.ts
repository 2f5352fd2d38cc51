/** Bit packing shared by the indexed formats. */

/** Packs one row of indices at `depth` bits per pixel, most significant bits first. */
export function packRow(
  indices: Uint8Array,
  start: number,
  width: number,
  depth: number,
  out: Uint8Array,
  outStart: number,
): void {
  if (depth === 8) {
    out.set(indices.subarray(start, start + width), outStart);
    return;
  }
  // Whole bytes first (perByte pixels each, first pixel in the high bits), then the partial last byte.
  const perByte = 8 / depth;
  const whole = Math.floor(width / perByte);
  let p = start;
  let o = outStart;
  if (depth === 4) {
    for (let i = 0; i < whole; i++, p += 2) out[o++] = (indices[p] << 4) | indices[p + 1];
  } else if (depth === 2) {
    for (let i = 0; i < whole; i++, p += 4)
      out[o++] = (indices[p] << 6) | (indices[p + 1] << 4) | (indices[p + 2] << 2) | indices[p + 3];
  } else {
    for (let i = 0; i < whole; i++, p += 8) {
      out[o++] =
        (indices[p] << 7) |
        (indices[p + 1] << 6) |
        (indices[p + 2] << 5) |
        (indices[p + 3] << 4) |
        (indices[p + 4] << 3) |
        (indices[p + 5] << 2) |
        (indices[p + 6] << 1) |
        indices[p + 7];
    }
  }
  const rest = width - whole * perByte;
  if (rest > 0) {
    let v = 0;
    for (let x = 0; x < rest; x++) v |= indices[p + x] << (8 - depth * (x + 1));
    out[o] = v;
  }
}
