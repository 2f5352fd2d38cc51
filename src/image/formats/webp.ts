/**
 * WebP input. The header: the VP8X canvas and every VP8 and VP8L bitstream; an animation is refused. Decoded
 * by libwebp (WebAssembly).
 */
import { Frames, ascii, decodeWasm, u16le, u32le } from './shared.js';
import type { ImageHeader, InputFormat } from './types.js';

function readWebpHeader(b: Uint8Array): ImageHeader {
  const frames = new Frames('webp');
  let bitstreams = 0;
  for (let p = 12; p + 8 <= b.length;) {
    const chunk = ascii(b, p, 4);
    const size = u32le(b, p + 4);
    const d = p + 8;
    if (chunk === 'VP8X') {
      // Flags (1), reserved (3), canvas width - 1 (24 bits), canvas height - 1 (24 bits).
      if (d + 10 > b.length) break;
      frames.add(
        (b[d + 4] | (b[d + 5] << 8) | (b[d + 6] << 16)) + 1,
        (b[d + 7] | (b[d + 8] << 8) | (b[d + 9] << 16)) + 1,
      );
      if (b[d] & 0x02) return frames.unsupported('animated WebP: not supported; export one frame as a still picture');
    } else if (chunk === 'ANIM' || chunk === 'ANMF') {
      return frames.unsupported('animated WebP: not supported; export one frame as a still picture');
    } else if (chunk === 'VP8 ') {
      // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scaling bits above each).
      if (d + 10 > b.length) break;
      if (b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a)
        return frames.problem('the VP8 bitstream has no start code');
      frames.add(u16le(b, d + 6) & 0x3fff, u16le(b, d + 8) & 0x3fff);
      bitstreams++;
    } else if (chunk === 'VP8L') {
      // Signature 0x2f, then width - 1 and height - 1 in 14 bits each, least significant bits first.
      if (d + 5 > b.length) break;
      if (b[d] !== 0x2f) return frames.problem('the VP8L bitstream has no signature');
      const bits = u32le(b, d + 1);
      frames.add((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
      bitstreams++;
    }
    p = d + size + (size & 1);
  }
  if (bitstreams === 0) return frames.problem('no image data (VP8 or VP8L chunk) in the file');
  if (frames.width === 0 || frames.height === 0)
    return frames.problem(`the bitstream declares ${frames.width} × ${frames.height} pixels`);
  return frames.header();
}

export const webp: InputFormat = {
  id: 'webp',
  name: 'WebP',
  sniff: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP',
  readHeader: readWebpHeader,
  decodeBitmap: (bytes, request) => decodeWasm('image/webp', bytes, request),
};
