/**
 * The write stage. Derived names never collide: a name is taken only at the moment the finished file is
 * linked into place, which fails if the name exists, so concurrent jobs and concurrent processes in one
 * folder get `cat.loom.png`, `cat.loom-2.png`, … and never a failure or a clobber. An image and its report
 * are written as a pair: both or neither. Nothing is written after Ctrl-C, and no temporary file is left.
 */
import path from 'node:path';
import { OutputExistsError, UsageError, throwIfAborted } from '../kernel/errors.js';
import { exists, placeExclusive, tempNameFor, writeFileAtomic } from '../kernel/fs.js';
import type { Fs, Services } from '../kernel/ports.js';
import type { OutputFormat } from '../formats/types.js';
import type { LoomResult } from '../loom/pipeline.js';
import type { LoomSettings } from '../loom/types.js';
import { buildReport, imageText, settingsRecord, type OutputMeta, type SettingsRecord } from './report.js';

/** `-o -`: the image goes to stdout. */
export const STDOUT = '-';

export interface Target {
  /** -o: an exact path (already resolved), or STDOUT. */
  exact?: string;
  /** Folder for derived names. */
  dir: string;
  /** Derived name without extension: cat.loom */
  stem: string;
  force: boolean;
  /** Write a JSON report: beside the image (true), at this path (a string), or not at all (false). */
  report: boolean | string;
}

/** The report beside an image: cat.loom.png -> cat.loom.json. */
function reportFileFor(imageFile: string): string {
  return imageFile.replace(/\.[^./\\]+$/, '') + '.json';
}

function exactReport(target: Target): string | undefined {
  if (typeof target.report === 'string') return target.report;
  // An image on stdout has a report only where --report names one.
  if (target.report && target.exact && target.exact !== STDOUT) return reportFileFor(target.exact);
  return undefined;
}

/**
 * Fails before any work (and before a billed remote call) when an exact target (-o, --report, or the report
 * beside -o) already exists and --force was not given, or when the image and its report would be one file.
 * Derived names pick a free name when written instead.
 */
export async function checkTargets(target: Target, fs: Fs): Promise<void> {
  const report = exactReport(target);
  if (target.exact === STDOUT) {
    if (report && !target.force && (await exists(fs, report))) throw new OutputExistsError(report);
    return;
  }
  if (target.exact && report && path.resolve(target.exact) === path.resolve(report)) {
    throw new UsageError(`the image and its report would both be ${target.exact}`, {
      hint: 'give -o a picture extension, or another --report',
    });
  }
  if (target.force) return;
  for (const file of [target.exact, report]) {
    if (file && (await exists(fs, file))) throw new OutputExistsError(file);
  }
}

/** One file of a pair: its bytes, given the image's final path (a report names its image). */
export interface PairFile {
  ext: string;
  render: (imageFile: string) => Uint8Array | string;
}

export interface Written {
  image: string;
  report?: string;
}

/**
 * Writes an image and, optionally, its companion (the report): to exact paths, or to the first derived name
 * at which both are free.
 */
export async function writePair(
  fs: Fs,
  target: Target,
  image: PairFile,
  report: PairFile | undefined,
  signal?: AbortSignal,
): Promise<Written> {
  const temps: string[] = [];
  const temp = async (near: string, data: Uint8Array | string) => {
    const tmp = tempNameFor(near);
    temps.push(tmp);
    await fs.writeFile(tmp, data);
    return tmp;
  };
  try {
    // A report whose path is fixed (--report FILE, or beside -o) is placed as the image is placed.
    const fixedReport = report ? exactReport(target) : undefined;
    if (target.exact) {
      const imageTmp = await temp(target.exact, image.render(target.exact));
      const reportTmp = report && fixedReport ? await temp(fixedReport, report.render(target.exact)) : undefined;
      throwIfAborted(signal);
      await placeFixed(fs, imageTmp, target.exact, target.force);
      if (!reportTmp || !fixedReport) return { image: target.exact };
      await placeCompanion(fs, target.exact, reportTmp, fixedReport, target.force);
      return { image: target.exact, report: fixedReport };
    }
    await fs.mkdir(target.dir, { recursive: true });
    const imageTmp = await temp(path.join(target.dir, `${target.stem}.${image.ext}`), image.render(''));
    const besideReport = fixedReport ? undefined : report;
    for (let n = 1; n < 10_000; n++) {
      const name = n === 1 ? target.stem : `${target.stem}-${n}`;
      const imageFile = path.join(target.dir, `${name}.${image.ext}`);
      const reportFile = besideReport && path.join(target.dir, `${name}.${besideReport.ext}`);
      // Cheap look first; the link below is what makes it safe.
      if ((await exists(fs, imageFile)) || (reportFile && (await exists(fs, reportFile)))) continue;
      throwIfAborted(signal);
      if (!(await placeExclusive(fs, imageTmp, imageFile))) continue;
      if (report && fixedReport) {
        const reportTmp = await orTakeBack(imageFile, () => temp(fixedReport, report.render(imageFile)));
        await placeCompanion(fs, imageFile, reportTmp, fixedReport, target.force);
        return { image: imageFile, report: fixedReport };
      }
      if (!besideReport || !reportFile) return { image: imageFile };
      const placed = await orTakeBack(imageFile, async () =>
        placeExclusive(fs, await temp(reportFile, besideReport.render(imageFile)), reportFile),
      );
      if (placed) return { image: imageFile, report: reportFile };
      // Someone took the report's name between our look and our link: give the image's name back.
      await fs.unlink(imageFile);
    }
    throw new OutputExistsError(path.join(target.dir, `${target.stem}.${image.ext}`));
  } finally {
    await Promise.all(temps.map((tmp) => fs.unlink(tmp).catch(() => undefined)));
  }

  /** Runs a step after the image is placed; if the step fails, the image is taken back. */
  async function orTakeBack<T>(imageFile: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      await fs.unlink(imageFile).catch(() => undefined);
      throw err;
    }
  }
}

/** Moves a finished temp file to an exact path: replacing only with --force. */
async function placeFixed(fs: Fs, tmp: string, file: string, force: boolean): Promise<void> {
  if (force) await fs.rename(tmp, file);
  else if (!(await placeExclusive(fs, tmp, file))) throw new OutputExistsError(file);
}

/** Places the companion of an image already placed; if it cannot be, the image is taken back (both or neither). */
async function placeCompanion(fs: Fs, imageFile: string, tmp: string, file: string, force: boolean): Promise<void> {
  let placed = false;
  try {
    await placeFixed(fs, tmp, file, force);
    placed = true;
  } finally {
    if (!placed) await fs.unlink(imageFile).catch(() => undefined);
  }
}

export interface LoomImageOutput {
  result: LoomResult;
  loom: LoomSettings;
  paletteSpec?: string | string[];
  format: OutputFormat;
  meta: OutputMeta;
}

/** A loom image in its format's bytes, with what its report needs. */
export interface EncodedLoomImage {
  bytes: Uint8Array;
  settings: SettingsRecord;
}

/** Encodes a loom image; `meta` must already be redacted (this may run on a worker, with no redactor). */
export function encodeLoomImage(output: LoomImageOutput): EncodedLoomImage {
  const settings = settingsRecord(output.loom, output.result, output.format.id, output.paletteSpec);
  return { bytes: output.format.encode(output.result.image, imageText(output.meta, settings)), settings };
}

/**
 * Writes a finished loom image with its report; keys are masked in both. `encoded` is the image already
 * encoded (on a worker) from the same output, with its meta redacted the same way.
 */
export async function writeLoomImage(
  services: Pick<Services, 'fs' | 'redactor' | 'stdio'>,
  target: Target,
  output: LoomImageOutput,
  signal?: AbortSignal,
  encoded?: EncodedLoomImage,
): Promise<Written> {
  const { fs, redactor } = services;
  const { result, format } = output;
  const meta = redactor.value(output.meta);
  const { bytes, settings } = encoded ?? encodeLoomImage({ ...output, meta });
  const renderReport = (imageName: string) =>
    JSON.stringify(buildReport(imageName, result, output.loom, settings, meta), null, 2) + '\n';
  if (target.exact === STDOUT) {
    if (!services.stdio) throw new UsageError('-o -: there is no stdout to write to');
    throwIfAborted(signal);
    const reportFile = exactReport(target);
    // The report first: if it cannot be written, no image has gone out either.
    if (reportFile) await writeFileAtomic(fs, reportFile, renderReport(STDOUT), { overwrite: target.force });
    await services.stdio.write(bytes);
    return { image: STDOUT, report: reportFile };
  }
  const report: PairFile | undefined = target.report
    ? { ext: 'json', render: (imageFile) => renderReport(path.basename(imageFile)) }
    : undefined;
  return writePair(fs, target, { ext: format.ext, render: () => bytes }, report, signal);
}
