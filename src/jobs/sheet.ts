/**
 * The contact sheet: one static index.html beside a batch's outputs, showing for each item its source picture,
 * the design, the cloth preview, the palette with each colour's share, and what the report says (grid, ΔE,
 * regions), or why it failed. No script, no server, no network: images by relative path, every text from
 * outside (file names, prompts, error messages) escaped.
 */
import path from 'node:path';
import type { ErrorRecord } from '../kernel/errors.js';
import { ImagegenError, OutputExistsError, UsageError, describeIoError } from '../kernel/errors.js';
import { exists, writeFileAtomic } from '../kernel/fs.js';
import type { Fs } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';

const SHEET_NAME = 'index.html';

/** The most of one report that is read: reports are a few kilobytes, some hundreds with a wide hook map. */
const REPORT_MAX_BYTES = 8 * 1024 * 1024;

/** What browsers show in an <img>: a TIFF (design or source) gets a link instead. */
const SHOWN = /\.(png|jpe?g|gif|webp|bmp|avif|svg)$/i;

interface Swatch {
  hex: string;
  share?: number;
  deltaE?: number;
}

/** The fields of a report the sheet shows. */
export interface SheetFacts {
  ends?: number;
  picks?: number;
  swatches: Swatch[];
  regions?: number;
  smallestRegion?: number;
  /** The largest ΔE between a colour asked for and the one woven, where the report has them. */
  deltaE?: number;
  style?: string;
  source?: string;
  model?: string;
  woven?: { width: number; length: number; unit: string };
}

export interface SheetItem {
  /** The input as given, or the prompt. */
  label: string;
  status: JobRecord['status'];
  /** Absolute paths of the pictures, where there are files to show. */
  source?: string;
  design?: string;
  cloth?: string;
  back?: string;
  facts?: SheetFacts;
  error?: ErrorRecord;
  reason?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The sheet's facts from a parsed report; undefined when it is not an imagegen report. */
export function factsOf(report: unknown): SheetFacts | undefined {
  if (!isObject(report) || typeof report.image !== 'string' || !Array.isArray(report.palette)) return undefined;
  const grid = isObject(report.grid) ? report.grid : {};
  const regions = isObject(report.regions) ? report.regions : {};
  const source = isObject(report.source) ? report.source : {};
  const weave = isObject(report.weave) ? report.weave : {};
  const structures = Array.isArray(weave.structures) ? weave.structures.filter(isObject) : [];
  const deltaOf = (hex: string) => num(structures.find((s) => s.hex === hex)?.deltaE);
  const swatches = report.palette.filter(isObject).flatMap((entry): Swatch[] => {
    const hex = str(entry.hex);
    if (!hex || !/^#[0-9a-f]{6}$/i.test(hex)) return [];
    return [{ hex, share: num(entry.share), deltaE: deltaOf(hex) }];
  });
  const deltas = swatches.map((s) => s.deltaE).filter((d): d is number => d !== undefined);
  const woven = isObject(report.woven) ? report.woven : undefined;
  return {
    ends: num(grid.ends),
    picks: num(grid.picks),
    swatches,
    regions: num(regions.count),
    smallestRegion: num(regions.smallest),
    deltaE: deltas.length ? Math.max(...deltas) : undefined,
    style: str(source.style),
    source: str(source.kind),
    model: str(source.model),
    woven:
      woven && num(woven.width) !== undefined && num(woven.length) !== undefined
        ? { width: woven.width as number, length: woven.length as number, unit: str(woven.unit) ?? '' }
        : undefined,
  };
}

async function readJson(fs: Fs, file: string): Promise<unknown> {
  try {
    return JSON.parse((await fs.readFile(file, { maxBytes: REPORT_MAX_BYTES })).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** An input that names a picture file still there (not `-`, not a URL): its absolute path. */
async function sourceFile(fs: Fs, input: string | null | undefined, bases: string[]): Promise<string | undefined> {
  if (!input || input === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return undefined;
  for (const base of bases) {
    const file = path.resolve(base, input);
    try {
      if ((await fs.stat(file)).isFile()) return file;
    } catch {
      // not there from this folder
    }
  }
  return undefined;
}

/** The report's own files (cloth preview, back), beside it. */
function wovenFiles(report: unknown, dir: string): Pick<SheetItem, 'cloth' | 'back'> {
  const weave = isObject(report) && isObject(report.weave) ? report.weave : undefined;
  const preview = weave && isObject(weave.preview) ? weave.preview : undefined;
  const cloth = str(preview?.file);
  const back = isObject(preview?.back) ? str(preview.back.file) : undefined;
  return {
    ...(cloth ? { cloth: path.resolve(dir, path.basename(cloth)) } : {}),
    ...(back ? { back: path.resolve(dir, path.basename(back)) } : {}),
  };
}

/** The items of a run that just ended, from its records (in the order of `records`). */
export async function itemsFromRecords(records: readonly JobRecord[], fs: Fs, cwd: string): Promise<SheetItem[]> {
  const items: SheetItem[] = [];
  for (const record of records) {
    const label = record.input ?? record.prompt ?? '(stdin)';
    const report = record.report ? await readJson(fs, path.resolve(cwd, record.report)) : undefined;
    const design = record.output && record.output !== '-' ? path.resolve(cwd, record.output) : undefined;
    items.push({
      label,
      status: record.status,
      source: await sourceFile(fs, record.input, [cwd]),
      ...(design ? { design } : {}),
      ...(record.cloth ? { cloth: path.resolve(cwd, record.cloth) } : {}),
      ...(record.back ? { back: path.resolve(cwd, record.back) } : {}),
      facts: report === undefined ? undefined : factsOf(report),
      error: record.error,
      reason: record.reason,
    });
  }
  // Records come as items end; the sheet lists them by name.
  return items.sort((a, b) => a.label.localeCompare(b.label));
}

/** The failed items a journal names and never finished: their last failure. */
async function journalFailures(fs: Fs, file: string): Promise<SheetItem[]> {
  let text: string;
  try {
    text = (await fs.readFile(file, { maxBytes: 64 * 1024 * 1024 })).toString('utf8');
  } catch {
    return [];
  }
  const failed = new Map<string, ErrorRecord>();
  for (const line of text.split('\n')) {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue; // a torn last line
    }
    if (!isObject(event) || typeof event.item !== 'string') continue;
    if (event.event === 'finished') failed.delete(event.item);
    else if (event.event === 'failed' && isObject(event.error))
      failed.set(event.item, {
        kind: (str(event.error.kind) ?? 'failure') as ErrorRecord['kind'],
        message: str(event.error.message) ?? 'failed',
        ...(str(event.error.hint) ? { hint: str(event.error.hint) } : {}),
      });
  }
  return [...failed].map(([label, error]) => ({ label, status: 'error' as const, error }));
}

/**
 * The items of earlier runs in a folder: every imagegen report (`*.json`) there, and the failures of the
 * journal (`journal`, else the folder's own .imagegen/journal.jsonl where there is one).
 */
export async function itemsFromFolder(folder: string, fs: Fs, cwd: string, journal?: string): Promise<SheetItem[]> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch (err) {
    throw new UsageError(`${folder}: ${describeIoError(err)}`, { hint: 'imagegen sheet <folder of results>' });
  }
  const items: SheetItem[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.json')).sort()) {
    const report = await readJson(fs, path.join(folder, name));
    const facts = factsOf(report);
    if (!facts) continue;
    const r = report as { image: string; source?: { input?: unknown; prompt?: unknown } };
    const input = str(r.source?.input);
    const design = path.resolve(folder, path.basename(r.image));
    items.push({
      label: input ?? str(r.source?.prompt) ?? path.basename(r.image),
      status: 'ok',
      source: await sourceFile(fs, input, [cwd, folder]),
      design,
      ...wovenFiles(report, folder),
      facts,
    });
  }
  const journalFile = journal ?? path.join(folder, '.imagegen', 'journal.jsonl');
  items.push(...(await journalFailures(fs, journalFile)));
  return items;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text from outside, safe in an element or a quoted attribute. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A file as a relative URL from the sheet's folder: each segment percent-encoded (`#`, `?`, `%` in names). */
function relativeUrl(from: string, file: string): string {
  return path.relative(from, file).split(path.sep).map(encodeURIComponent).join('/');
}

/** A picture, or with `linkOnly` (a file that may not be a picture at all) a link to it. */
function picture(dir: string, file: string | undefined, caption: string, linkOnly = false): string {
  if (!file) return `<figure class="none"><figcaption>${caption}: none</figcaption></figure>`;
  const url = escapeHtml(relativeUrl(dir, file));
  const name = escapeHtml(path.basename(file));
  const body =
    SHOWN.test(file) && !linkOnly
      ? `<a href="${url}"><img src="${url}" alt="${caption} ${name}" data-role="${caption}"></a>`
      : `<a class="file" href="${url}">${name}</a>`;
  return `<figure>${body}<figcaption>${caption}: ${name}</figcaption></figure>`;
}

function percent(share: number | undefined): string {
  return share === undefined ? '' : `${(share * 100).toFixed(1)} %`;
}

function factsHtml(facts: SheetFacts | undefined): string {
  if (!facts) return '<p class="facts">no report</p>';
  const rows: string[] = [];
  if (facts.ends !== undefined && facts.picks !== undefined)
    rows.push(`grid ${facts.ends} × ${facts.picks} (ends × picks)`);
  if (facts.woven) rows.push(`cloth ${facts.woven.width} × ${facts.woven.length} ${escapeHtml(facts.woven.unit)}`);
  if (facts.regions !== undefined)
    rows.push(
      `${facts.regions} regions${facts.smallestRegion === undefined ? '' : `, smallest ${facts.smallestRegion} px`}`,
    );
  if (facts.deltaE !== undefined) rows.push(`ΔE at most ${facts.deltaE}`);
  const from = [facts.style && `style ${facts.style}`, facts.source, facts.model].filter(Boolean) as string[];
  if (from.length) rows.push(escapeHtml(from.join(', ')));
  const swatches = facts.swatches
    .map((s) => {
      const hex = escapeHtml(s.hex);
      const delta = s.deltaE === undefined ? '' : ` ΔE ${s.deltaE}`;
      return `<li><span class="chip" style="background:${hex}"></span>${hex} ${percent(s.share)}${delta}</li>`;
    })
    .join('');
  return `<ul class="facts">${rows.map((r) => `<li>${r}</li>`).join('')}</ul><ul class="palette">${swatches}</ul>`;
}

function itemHtml(dir: string, item: SheetItem, index: number): string {
  const label = escapeHtml(item.label);
  if (item.status !== 'ok') {
    const error = item.error;
    const cause = error
      ? `${escapeHtml(error.message)}${error.hint ? `<br><span class="hint">hint: ${escapeHtml(error.hint)}</span>` : ''}`
      : escapeHtml(item.reason ?? item.status);
    return (
      `<section class="item ${item.status}" id="item-${index}"><h2>${label}</h2>` +
      `${item.source ? picture(dir, item.source, 'source', true) : ''}` +
      `<p class="cause">${item.status === 'error' ? 'failed' : item.status}: ${cause}</p></section>`
    );
  }
  const woven = [
    ...(item.cloth ? [picture(dir, item.cloth, 'cloth')] : []),
    ...(item.back ? [picture(dir, item.back, 'back')] : []),
  ].join('');
  return (
    `<section class="item ok" id="item-${index}"><h2>${label}</h2><div class="pictures">` +
    `${picture(dir, item.source, 'source')}${picture(dir, item.design, 'design')}${woven}</div>` +
    `${factsHtml(item.facts)}</section>`
  );
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1em;background:#fafafa;color:#222}
h1{font-size:1.3em}.item{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:0 0 1em}
.item h2{font-size:1em;margin:.3em 0;word-break:break-all}.pictures{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;text-align:center}figure img{max-width:260px;max-height:260px;image-rendering:pixelated;border:1px solid #ccc}
figcaption{font-size:.85em;color:#555;word-break:break-all;max-width:260px}
.palette{display:flex;flex-wrap:wrap;gap:.3em 1em;list-style:none;padding:0}
.chip{display:inline-block;width:1.2em;height:1.2em;border:1px solid #999;vertical-align:middle;margin-right:.3em}
.facts{color:#333}.error{border-color:#c33}.cause{color:#a00}.hint{color:#555}.skipped{border-color:#ca3}`;

/** The whole page; `dir` is the folder it is written to, which every image path is relative to. */
export function renderSheet(items: readonly SheetItem[], dir: string, title: string): string {
  const ok = items.filter((i) => i.status === 'ok').length;
  const failed = items.filter((i) => i.status === 'error').length;
  const counts = `${ok} of ${items.length} done${failed ? `, ${failed} failed` : ''}`;
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body><h1>${escapeHtml(title)}</h1>` +
    `<p>${counts}</p>\n${items.map((item, i) => itemHtml(dir, item, i)).join('\n')}\n</body></html>\n`
  );
}

function sheetExists(file: string): ImagegenError {
  return new ImagegenError('failure', `${file} already exists`, { hint: 'pass --force to replace it' });
}

/** Before a paid run: an index.html already there stops it, unless it may be replaced. */
export async function checkSheetTarget(fs: Fs, dir: string, force: boolean): Promise<void> {
  const file = path.join(dir, SHEET_NAME);
  if (!force && (await exists(fs, file))) throw sheetExists(file);
}

/** Writes the sheet through a temporary file; an existing one only with `force`. */
export async function writeSheet(
  items: readonly SheetItem[],
  dir: string,
  options: { force: boolean; title: string },
  fs: Fs,
): Promise<string> {
  const file = path.join(dir, SHEET_NAME);
  await writeFileAtomic(fs, file, renderSheet(items, dir, options.title), { overwrite: options.force }).catch(
    (err: unknown) => {
      throw err instanceof OutputExistsError ? sheetExists(file) : err;
    },
  );
  return file;
}
