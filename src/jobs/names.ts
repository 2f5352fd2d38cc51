/** Stems for derived output names, from an input file or a prompt. */
import path from 'node:path';

/** A short, file-name-safe slug of a prompt: lower-case words joined by '-', at most `maxLength` characters. */
export function slugify(text: string, maxLength = 48): string {
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > maxLength) {
      if (!slug) slug = word.slice(0, maxLength);
      break;
    }
    slug = next;
  }
  return slug || 'image';
}

/** The stem of an input file name: photos/cat.jpg -> cat. */
export function inputStem(input: string): string {
  const base = path.basename(input);
  const ext = path.extname(base);
  return (ext ? base.slice(0, -ext.length) : base) || 'image';
}
