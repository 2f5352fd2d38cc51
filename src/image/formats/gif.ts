/**
 * GIF input. The header: the logical screen and every image descriptor. Decoded by sharp (src/image/native.ts),
 * else by jimp's decoder (omggif) on the JS thread, once the first frame's LZW codes are checked the way that
 * decoder reads them.
 */
import { decodeNative } from '../native.js';
import { Frames, ascii, decodeOnJsThread, u16le } from './shared.js';
import type { ImageHeader, InputFormat } from './types.js';

/** More frames than this is refused: the decoder keeps a record for each one it reads. */
const MAX_GIF_FRAMES = 10_000;

/**
 * The header: the screen and every frame; with `codes`, the first frame's LZW codes too (what jimp's decoder
 * needs before it runs: see checkData).
 */
function readGifHeader(b: Uint8Array, codes = false): ImageHeader {
  const frames = new Frames('gif');
  if (b.length < 13) return frames.problem('the file ends inside its header');
  // The screen is what the first frame is drawn into.
  frames.add(u16le(b, 6), u16le(b, 8));
  const flags = b[10];
  let p = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  const skipSubBlocks = () => {
    while (p < b.length && b[p] !== 0) p += b[p] + 1;
    p++;
  };
  let images = 0;
  while (p < b.length) {
    const block = b[p];
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      p += 2; // introducer, label
      skipSubBlocks();
    } else if (block === 0x2c) {
      // left (2), top (2), width (2), height (2), flags (1)
      if (p + 10 > b.length) break;
      const width = u16le(b, p + 5);
      const height = u16le(b, p + 7);
      // The decoder unpacks the first frame whole, however much of it lies off the screen.
      frames.add(width, height, images === 0);
      if (++images > MAX_GIF_FRAMES)
        return frames.unsupported(`a GIF of more than ${MAX_GIF_FRAMES} frames is not supported`);
      const local = b[p + 9];
      p += 10 + (local & 0x80 ? 3 << ((local & 7) + 1) : 0);
      const dataAt = p;
      const codeSize = b[p++];
      skipSubBlocks();
      // The decoder's LZW loop never ends on data that runs past the end of the file.
      if (images === 1 && p > b.length) return frames.problem("the first frame's data is cut short");
      if (images === 1 && (codeSize < 2 || codeSize > 11))
        return frames.problem(`the first frame's LZW code size is ${codeSize}`);
      if (codes && images === 1 && !gifCodesValid(b, dataAt, width * height))
        return frames.problem("the first frame's LZW data refers to codes not yet defined");
    } else {
      break; // the decoder stops here
    }
  }
  if (images === 0) return frames.problem('no image in the file');
  return frames.header();
}

/**
 * Whether the LZW codes of a GIF frame (at `at`: code size, then sub-blocks) only refer to codes already
 * defined. The decoder (omggif) follows each code's chain of prefixes through its table; a code from past
 * the end of the table can make that chain a cycle, and the decoder then never returns. This reads the
 * codes exactly as it does, without writing pixels.
 */
function gifCodesValid(b: Uint8Array, at: number, pixels: number): boolean {
  let p = at;
  const minCodeSize = b[p++];
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  let next = eoi + 1;
  let size = minCodeSize + 1;
  let mask = (1 << size) - 1;
  let shift = 0;
  let cur = 0;
  let out = 0;
  let block = b[p++];
  const prefix = new Int32Array(4096);
  let prev = -1;
  for (;;) {
    while (shift < 16 && block !== 0 && p < b.length) {
      cur |= b[p++] << shift;
      shift += 8;
      if (block === 1) block = b[p++];
      else block--;
    }
    if (shift < size) return true;
    const code = cur & mask;
    cur >>= size;
    shift -= size;
    if (code === clear) {
      next = eoi + 1;
      size = minCodeSize + 1;
      mask = (1 << size) - 1;
      prev = -1;
      continue;
    }
    if (code === eoi) return true;
    if (code > next || (code === next && prev < 0)) return false;
    let length = 0;
    for (let c = code < next ? code : prev; c > clear; c = prefix[c]) length++;
    out += length + 1 + (code < next ? 0 : 1);
    if (out > pixels) return true; // the decoder stops here
    if (prev >= 0 && next < 4096) {
      prefix[next++] = prev;
      if (next >= mask + 1 && size < 12) {
        size++;
        mask = (mask << 1) | 1;
      }
    }
    prev = code;
  }
}

export const gif: InputFormat = {
  id: 'gif',
  name: 'GIF',
  sniff: (b) => ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a',
  native: true,
  readHeader: (bytes) => readGifHeader(bytes),
  decode: (bytes, request) => decodeNative(bytes, request, { autoOrient: false }),
  // libvips' GIF decoder needs no guard against codes not yet defined; omggif does.
  checkData: (bytes) => readGifHeader(bytes, true).problem,
  decodeBitmap: decodeOnJsThread,
};
