/** The output formats: one line per format. */
import { bmp } from './bmp.js';
import { png } from './png.js';
import { tiff } from './tiff.js';
import type { OutputFormat } from './types.js';

const FORMATS: readonly OutputFormat[] = [png, bmp, tiff];

export function formatIds(): string[] {
  return FORMATS.map((format) => format.id);
}

/** Every extension -o may end in: png, bmp, tiff, tif. */
export function outputExtensions(): string[] {
  return FORMATS.flatMap((f) => [f.ext, ...(f.aliases ?? [])]);
}

/** The format with this id; ids come from validated config, so an unknown one is a programming error. */
export function findFormat(id: string): OutputFormat {
  const format = FORMATS.find((f) => f.id === id);
  if (!format) throw new Error(`unknown output format ${id}`);
  return format;
}

/** The format whose extension a file name has, if any. */
export function formatForFile(file: string): OutputFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : FORMATS.find((f) => f.ext === ext || f.aliases?.includes(ext));
}
