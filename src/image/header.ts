/**
 * Reads an encoded image's width and height from its header, without decoding any pixels, so that a file
 * that claims an enormous size can be refused before a decoder allocates memory for it.
 *
 * Formats: PNG (IHDR), JPEG (the first SOFn frame header), GIF (logical screen), BMP (core and info headers;
 * a negative height means top-down rows), WebP (VP8, VP8L and VP8X) and TIFF (the first IFD, either byte
 * order). Anything else, or a header cut short, gives `undefined`: the decoder then decides.
 */

export type HeaderFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'tiff';

export interface ImageHeader {
  format: HeaderFormat;
  width: number;
  height: number;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function i32le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

function png(b: Uint8Array): ImageHeader | undefined {
  // Signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4).
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

/** SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpeg(b: Uint8Array): ImageHeader | undefined {
  let p = 2;
  while (p + 1 < b.length) {
    if (b[p] !== 0xff) return undefined; // not at a marker: the segment walk lost its way
    let marker = b[p + 1];
    while (marker === 0xff && p + 2 < b.length) marker = b[++p + 1]; // fill bytes
    p += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // standalone markers
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI or scan data before any frame header
    if (p + 2 > b.length) return undefined;
    const length = u16be(b, p);
    if (length < 2) return undefined;
    if (isSof(marker)) {
      // length (2), precision (1), height (2), width (2)
      if (p + 7 > b.length) return undefined;
      return { format: 'jpeg', width: u16be(b, p + 5), height: u16be(b, p + 3) };
    }
    p += length;
  }
  return undefined;
}

function gif(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 10) return undefined;
  return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
}

function bmp(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 26) return undefined;
  const dib = u32le(b, 14);
  if (dib === 12) return { format: 'bmp', width: u16le(b, 18), height: u16le(b, 20) }; // BITMAPCOREHEADER
  if (dib < 40) return undefined;
  // BITMAPINFOHEADER and later: signed 32-bit width and height; a negative height stores rows top-down.
  return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

function webp(b: Uint8Array): ImageHeader | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scaling bits above each).
    if (b.length < 30 || b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    // Signature 0x2f, then width - 1 and height - 1 in 14 bits each, least significant bits first.
    if (b.length < 25 || b[20] !== 0x2f) return undefined;
    const bits = u32le(b, 21);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    // Flags (1), reserved (3), canvas width - 1 (24 bits), canvas height - 1 (24 bits).
    if (b.length < 30) return undefined;
    const width = (b[24] | (b[25] << 8) | (b[26] << 16)) + 1;
    const height = (b[27] | (b[28] << 8) | (b[29] << 16)) + 1;
    return { format: 'webp', width, height };
  }
  return undefined;
}

function tiff(b: Uint8Array): ImageHeader | undefined {
  const le = b[0] === 0x49;
  const u16 = le ? u16le : u16be;
  const u32 = le ? u32le : u32be;
  if (b.length < 8) return undefined;
  const ifd = u32(b, 4);
  if (ifd < 8 || ifd + 2 > b.length) return undefined;
  const entries = u16(b, ifd);
  let width = -1;
  let height = -1;
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > b.length) return undefined;
    const tag = u16(b, e);
    if (tag !== 256 && tag !== 257) continue;
    const type = u16(b, e + 2);
    // SHORT (3) values sit in the first two bytes of the value field; LONG (4) fill it.
    const value = type === 3 ? u16(b, e + 8) : type === 4 ? u32(b, e + 8) : -1;
    if (value < 0) return undefined;
    if (tag === 256) width = value;
    else height = value;
  }
  if (width < 0 || height < 0) return undefined;
  return { format: 'tiff', width, height };
}

/** The format and size an image file declares, or `undefined` when it is not one of the formats above. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const b = bytes;
  if (
    b.length >= 8 &&
    b[0] === 0x89 &&
    ascii(b, 1, 3) === 'PNG' &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a
  ) {
    return png(b);
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return gif(b);
  if (ascii(b, 0, 2) === 'BM') return bmp(b);
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  if (
    (b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42)
  ) {
    return tiff(b);
  }
  return undefined;
}

/**
 * The EXIF Orientation (1..8) of a JPEG: tag 0x0112 of IFD0 in the first APP1 "Exif" segment, as jimp
 * reads it. 1 (as stored) when there is none or it cannot be read.
 */
export function readJpegOrientation(bytes: Uint8Array): number {
  const b = bytes;
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 1;
  let p = 2;
  while (p + 3 < b.length) {
    if (b[p] !== 0xff) return 1;
    const marker = b[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    p += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) return 1;
    const length = u16be(b, p);
    if (length < 2 || p + length > b.length) return 1;
    if (marker === 0xe1 && length >= 8 + 8 && ascii(b, p + 2, 6) === 'Exif\0\0') {
      const orientation = tiffOrientation(b.subarray(p + 8, p + length));
      if (orientation !== undefined) return orientation;
    }
    p += length;
  }
  return 1;
}

/** Orientation from a TIFF structure (an Exif block): IFD0's tag 0x0112, or undefined if not a TIFF. */
function tiffOrientation(t: Uint8Array): number | undefined {
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const u16 = le ? u16le : u16be;
  const u32 = le ? u32le : u32be;
  if (u16(t, 2) !== 42) return undefined;
  const ifd = u32(t, 4);
  if (ifd + 2 > t.length) return 1;
  const entries = u16(t, ifd);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return 1;
    if (u16(t, e) !== 0x0112) continue;
    const value = u16(t, e + 2) === 3 ? u16(t, e + 8) : u16(t, e + 2) === 4 ? u32(t, e + 8) : 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}
