/**
 * The write stage. Derived names never collide: a name is taken only at the moment the finished file is
 * linked into place, which fails if the name exists, so concurrent jobs and concurrent processes in one
 * folder get `cat.loom.png`, `cat.loom-2.png`, … and never a failure or a clobber. An image and its report
 * are written as a pair: both or neither. Nothing is written after Ctrl-C, and no temporary file is left.
 */
import path from 'node:path';
import {
  OutputError,
  OutputExistsError,
  UsageError,
  describeIoError,
  isImagegenError,
  throwIfAborted,
} from '../kernel/errors.js';
import {
  exists,
  keptNameFor,
  nameLengthProblem,
  notRegular,
  placeExclusive,
  replaceable,
  removeTemp,
  tempNameFor,
  writeFileAtomic,
} from '../kernel/fs.js';
import type { Fs, Services } from '../kernel/ports.js';
import { clothResolution } from '../formats/resolution.js';
import type { OutputFormat } from '../formats/types.js';
import type { LoomResult } from '../loom/pipeline.js';
import type { LoomSettings } from '../loom/types.js';
import { buildReport, imageText, settingsRecord, type OutputMeta, type SettingsRecord } from './report.js';
import type { Woven } from './weave.js';

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
  return besideFile(imageFile, 'json');
}

/** A file of the image's set: cat.loom.png -> cat.loom.lift.bmp for `lift.bmp`. */
function besideFile(imageFile: string, ext: string): string {
  return imageFile.replace(/\.[^./\\]+$/, '') + '.' + ext;
}

function exactReport(target: Target): string | undefined {
  if (typeof target.report === 'string') return target.report;
  // An image on stdout has a report only where --report names one.
  if (target.report && target.exact && target.exact !== STDOUT) return reportFileFor(target.exact);
  return undefined;
}

/**
 * Fails before any work (and before a billed remote call) when an exact target (-o, --report, or the report
 * beside -o) already exists and --force was not given, when the image and its report would be one file, or
 * when a folder the files go to cannot take them (checkOutputFolders).
 * Derived names pick a free name when written instead.
 */
export async function checkTargets(
  target: Target,
  fs: Fs,
  options: { companions?: readonly string[]; withDir?: boolean; checked?: Set<string> } = {},
): Promise<void> {
  const companions = options.companions ?? [];
  await checkOutputFolders(target, fs, options);
  const report = exactReport(target);
  if (target.exact === STDOUT && companions.length) {
    throw new UsageError(`-o - writes one image to stdout; the ${companions.join(' and ')} files need a name`, {
      hint: 'give -o a file name, or --out-dir',
    });
  }
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
  const besides = target.exact ? companions.map((ext) => besideFile(target.exact!, ext)) : [];
  for (const file of [target.exact, report, ...besides]) {
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

interface FolderStat {
  isDirectory(): boolean;
  isFile(): boolean;
}

async function statOrNone(fs: Fs, file: string): Promise<FolderStat | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Fails (usage error) when files could not be written where they are to go, before any work and before a
 * billed remote call: -o or --report names a folder, a device, a pipe or a socket (only a regular file is
 * ever replaced), or their folder is missing, is a file or cannot be written; a name is too long for the file
 * system, with the temporary name written beside it; the output folder is a file, or neither it nor the
 * nearest folder above it that exists (the missing ones are created) can be written. `companions` are the
 * extensions of the files written beside the image (lift plan, cloth preview). `withDir` checks the output
 * folder even beside -o (a kept original goes there). Folders in `checked` are not looked at again.
 */
export async function checkOutputFolders(
  target: Target,
  fs: Fs,
  options: { companions?: readonly string[]; withDir?: boolean; checked?: Set<string> } = {},
): Promise<void> {
  const checked = options.checked ?? new Set<string>();
  const companions = options.companions ?? [];
  const exact = target.exact === STDOUT ? undefined : target.exact;
  const files: Array<[string | undefined, string]> = [
    [exact, '-o'],
    [exactReport(target), typeof target.report === 'string' ? '--report' : 'the report'],
    ...companions.map((ext): [string | undefined, string] => [exact && besideFile(exact, ext), `the .${ext} file`]),
  ];
  for (const [file, what] of files) {
    if (!file) continue;
    const why = nameLengthProblem(file);
    if (why) throw new UsageError(`${what} ${file}: too long (${why})`, { hint: 'choose a shorter name' });
    const stat = await lookAt(fs, file, what);
    if (stat?.isDirectory()) {
      throw new UsageError(`${what} ${file}: is a folder, not a file`, { hint: 'name a file in it' });
    }
    if (stat && !stat.isFile()) {
      throw new UsageError(`${what} ${file}: is not a regular file (a device, a pipe or a socket): not replaced`, {
        hint: 'choose another name',
      });
    }
    await checkFolder(fs, path.dirname(file), `the folder of ${what}`, false, checked);
  }
  if (!target.exact || options.withDir) {
    checkDerivedNames(target, companions);
    await checkFolder(fs, target.dir, 'the output folder', true, checked);
  }
}

/** The image extensions a derived name may end with; the longest is what a name must leave room for. */
const DERIVED_EXTS = ['png', 'bmp', 'tiff', 'jpg', 'webp', 'json'];

/** The longest names derived from the target's stem (`cat.loom-9999.tiff`) must fit, with their temporary names. */
function checkDerivedNames(target: Target, companions: readonly string[]): void {
  for (const ext of [...DERIVED_EXTS, ...companions]) {
    const longest = path.join(target.dir, `${target.stem}-9999.${ext}`);
    const why = nameLengthProblem(longest);
    if (why) {
      throw new UsageError(`the output name ${path.join(target.dir, target.stem)}…: too long (${why})`, {
        hint: 'give -o a shorter name, or rename the input',
      });
    }
  }
}

/**
 * Whether `output` (and `report`, when one was recorded) is a file this target writes: its exact path, or a
 * name derived from its stem in its folder with one of `exts`, and the report that goes with it.
 */
export function isTargetOutput(
  target: Target,
  exts: readonly string[],
  output: string,
  report: string | undefined,
): boolean {
  if (target.exact === STDOUT) return false;
  if (target.exact) {
    if (path.resolve(output) !== path.resolve(target.exact)) return false;
  } else {
    if (path.resolve(path.dirname(output)) !== path.resolve(target.dir)) return false;
    const name = path.basename(output);
    const derived = exts.some((ext) => {
      if (!name.startsWith(target.stem) || !name.endsWith(`.${ext}`)) return false;
      const middle = name.slice(target.stem.length, name.length - ext.length - 1);
      return middle === '' || /^-[1-9]\d{0,3}$/.test(middle);
    });
    if (!derived) return false;
  }
  if (report === undefined) return true;
  const expected = exactReport(target) ?? (target.report === true ? reportFileFor(output) : undefined);
  return expected !== undefined && path.resolve(report) === path.resolve(expected);
}

async function lookAt(fs: Fs, file: string, what: string): Promise<FolderStat | undefined> {
  try {
    return await statOrNone(fs, file);
  } catch (err) {
    throw new UsageError(`${what} ${file}: cannot be used (${describeIoError(err)})`);
  }
}

/**
 * The output folder, or the nearest folder above it that exists (the missing ones are created), must be a
 * folder that can be written: what edit and generate check before any work, and what doctor reports. Returns
 * that folder; throws a UsageError saying what is wrong.
 */
export async function checkOutputFolder(fs: Fs, dir: string): Promise<string> {
  return checkFolder(fs, dir, 'the output folder', true, new Set());
}

/**
 * The folder (or, with `create`, the nearest one above it that exists) must be a folder that can be written;
 * returns the folder that was looked at.
 */
async function checkFolder(fs: Fs, dir: string, what: string, create: boolean, checked: Set<string>): Promise<string> {
  if (checked.has(dir)) return dir;
  let existing = dir;
  for (;;) {
    const stat = await lookAt(fs, existing, what);
    if (stat?.isDirectory()) break;
    if (stat) {
      throw new UsageError(`${what} ${existing}: is a file, not a folder`, {
        hint: create ? 'choose another --out-dir (or output.dir)' : 'choose another path',
      });
    }
    if (!create || path.dirname(existing) === existing) {
      throw new UsageError(`${what} ${existing}: does not exist`, { hint: 'create it first, or choose another' });
    }
    existing = path.dirname(existing);
  }
  // A file written and removed: permission bits alone do not tell (root, read-only mounts, ACLs).
  const probe = tempNameFor(path.join(existing, 'imagegen-check'));
  try {
    await fs.writeFile(probe, '');
  } catch (err) {
    await removeTemp(fs, probe);
    throw new UsageError(`${what} ${existing}: cannot be written in (${describeIoError(err)})`, {
      hint: 'choose another folder, or make this one writable',
    });
  }
  await removeTemp(fs, probe);
  checked.add(dir);
  return existing;
}

/**
 * Writes an image and, optionally, its companion (the report), and the files that share its name
 * (`besides`: the lift plan and cloth preview): to exact paths, or to the first derived name at which all
 * are free. All of them or none: one that cannot be placed takes back those placed before it.
 */
export async function writePair(
  fs: Fs,
  target: Target,
  image: PairFile,
  report: PairFile | undefined,
  signal?: AbortSignal,
  besides: readonly PairFile[] = [],
): Promise<Written> {
  const temps: string[] = [];
  // The file the step under way is for: a failure names it, never a temporary name.
  let writing = target.exact ?? target.dir;
  const temp = async (near: string, data: Uint8Array | string) => {
    writing = near;
    const tmp = tempNameFor(near);
    temps.push(tmp);
    await fs.writeFile(tmp, data);
    return tmp;
  };
  // The files of the set placed so far: taken back together if a later one cannot be placed.
  let placed: string[] = [];
  // With --force, the files the set replaced, kept under another name until the whole set is placed: taking
  // the set back puts them back, so that a failed write never loses what was there.
  let kept: KeptFile[] = [];
  const takeBack = async () => {
    await Promise.all(placed.map((file) => fs.unlink(file).catch(() => undefined)));
    placed = [];
    for (const { file, backup } of kept.reverse()) await fs.rename(backup, file).catch(() => undefined);
    kept = [];
  };
  /** Runs a step after the image is placed; if the step fails, what was placed is taken back. */
  const orTakeBack = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      await takeBack();
      throw err;
    }
  };
  try {
    // A report whose path is fixed (--report FILE, or beside -o) is placed as the image is placed.
    const fixedReport = report ? exactReport(target) : undefined;
    if (target.exact) {
      const exact = target.exact;
      const imageTmp = await temp(exact, image.render(exact));
      const reportTmp = report && fixedReport ? await temp(fixedReport, report.render(exact)) : undefined;
      const besideTmps: Array<{ file: string; tmp: string }> = [];
      for (const b of besides) {
        const file = besideFile(exact, b.ext);
        besideTmps.push({ file, tmp: await temp(file, b.render(exact)) });
      }
      throwIfAborted(signal);
      writing = exact;
      await placeFixed(fs, imageTmp, exact, target.force, kept);
      placed.push(exact);
      await orTakeBack(async () => {
        for (const b of besideTmps) {
          writing = b.file;
          await placeFixed(fs, b.tmp, b.file, target.force, kept);
          placed.push(b.file);
        }
        if (reportTmp && fixedReport) {
          writing = fixedReport;
          await placeFixed(fs, reportTmp, fixedReport, target.force, kept);
        }
      });
      return reportTmp && fixedReport ? { image: exact, report: fixedReport } : { image: exact };
    }
    writing = target.dir;
    await fs.mkdir(target.dir, { recursive: true });
    const imageTmp = await temp(path.join(target.dir, `${target.stem}.${image.ext}`), image.render(''));
    const besideReport = fixedReport ? undefined : report;
    for (let n = 1; n < 10_000; n++) {
      const name = n === 1 ? target.stem : `${target.stem}-${n}`;
      const imageFile = path.join(target.dir, `${name}.${image.ext}`);
      const reportFile = besideReport && path.join(target.dir, `${name}.${besideReport.ext}`);
      const besideFiles = besides.map((b) => path.join(target.dir, `${name}.${b.ext}`));
      writing = imageFile;
      // Cheap look first; the links below are what make it safe.
      if ((await exists(fs, imageFile)) || (reportFile && (await exists(fs, reportFile)))) continue;
      if ((await Promise.all(besideFiles.map((file) => exists(fs, file)))).some(Boolean)) continue;
      throwIfAborted(signal);
      if (!(await placeExclusive(fs, imageTmp, imageFile))) continue;
      placed.push(imageFile);
      const free = await orTakeBack(async () => {
        for (let i = 0; i < besides.length; i++) {
          const tmp = await temp(besideFiles[i], besides[i].render(imageFile));
          writing = besideFiles[i];
          if (!(await placeExclusive(fs, tmp, besideFiles[i]))) return false;
          placed.push(besideFiles[i]);
        }
        if (report && fixedReport) {
          const reportTmp = await temp(fixedReport, report.render(imageFile));
          writing = fixedReport;
          await placeFixed(fs, reportTmp, fixedReport, target.force, kept);
          return true;
        }
        if (!besideReport || !reportFile) return true;
        const reportTmp = await temp(reportFile, besideReport.render(imageFile));
        writing = reportFile;
        return placeExclusive(fs, reportTmp, reportFile);
      });
      if (free) {
        if (report && fixedReport) return { image: imageFile, report: fixedReport };
        return reportFile ? { image: imageFile, report: reportFile } : { image: imageFile };
      }
      // Someone took one of the names between our look and our link: give the set's names back.
      await takeBack();
    }
    throw new OutputExistsError(path.join(target.dir, `${target.stem}.${image.ext}`));
  } catch (err) {
    await takeBack();
    throw isImagegenError(err) ? err : new OutputError(writing, err);
  } finally {
    // Whatever is still kept was replaced by a set that is now in place.
    await Promise.all(kept.map(({ backup }) => fs.unlink(backup).catch(() => undefined)));
    await Promise.all(temps.map((tmp) => removeTemp(fs, tmp)));
  }
}

/** A file replaced under --force, and the name it is kept under meanwhile. */
interface KeptFile {
  file: string;
  backup: string;
}

/**
 * Moves a finished temp file to an exact path: replacing only with --force, and then keeping the file it
 * replaces (a hard link, or a copy where links are not to be had) in `kept`.
 */
async function placeFixed(fs: Fs, tmp: string, file: string, force: boolean, kept: KeptFile[]): Promise<void> {
  if (!force) {
    if (!(await placeExclusive(fs, tmp, file))) throw new OutputExistsError(file);
    return;
  }
  // Looked at before the paid work too; a device put there since is still not replaced, nor copied to keep.
  if (!(await replaceable(fs, file))) throw notRegular(file);
  const backup = keptNameFor(file);
  const saved = await fs.link(file, backup).then(
    () => true,
    async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      await fs.copyFile(file, backup, true);
      return true;
    },
  );
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    if (saved) await fs.unlink(backup).catch(() => undefined);
    throw err;
  }
  if (saved) kept.push({ file, backup });
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
export function encodeLoomImage(output: LoomImageOutput, woven?: Woven): EncodedLoomImage {
  const settings = settingsRecord(output.loom, output.result, output.format.id, output.paletteSpec);
  // A pixel an end and a design row: the design opens at the cloth's size.
  const resolution = clothResolution(output.loom.density);
  // A woven design of several repeats is written across them, as its hooks weave it.
  const image = woven?.design ?? output.result.image;
  return {
    bytes: output.format.encode(image, imageText(output.meta, settings), { resolution }),
    settings,
  };
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
  woven?: Woven,
): Promise<WrittenSet> {
  const { fs, redactor } = services;
  const { result, format } = output;
  const meta = redactor.value(output.meta);
  const { bytes, settings } = encoded ?? encodeLoomImage({ ...output, meta }, woven);
  const weaveSection = (imageName: string) =>
    woven && {
      ...woven.report,
      lift: { ...woven.report.lift, file: besideFile(imageName, woven.lift.ext) },
      preview: {
        ...woven.report.preview,
        file: besideFile(imageName, woven.cloth.ext),
        ...(woven.back && 'back' in woven.report.preview
          ? { back: { ...woven.report.preview.back, file: besideFile(imageName, woven.back.ext) } }
          : {}),
      },
      ...('wefts' in woven.report && woven.shuttles
        ? { wefts: { ...woven.report.wefts, file: besideFile(imageName, woven.shuttles.ext) } }
        : {}),
    };
  const renderReport = (imageName: string) =>
    JSON.stringify(buildReport(imageName, result, output.loom, settings, meta, weaveSection(imageName)), null, 2) +
    '\n';
  if (target.exact === STDOUT) {
    if (woven) throw new UsageError('-o -: the lift plan and cloth preview need a file name; give -o a file name');
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
  const companions = woven ? [woven.lift, woven.cloth, woven.back, woven.shuttles].filter((c) => c !== undefined) : [];
  const besides: PairFile[] = companions.map((c) => ({ ext: c.ext, render: () => c.bytes }));
  const written = await writePair(fs, target, { ext: format.ext, render: () => bytes }, report, signal, besides);
  if (!woven) return written;
  return {
    ...written,
    lift: besideFile(written.image, woven.lift.ext),
    cloth: besideFile(written.image, woven.cloth.ext),
    ...(woven.back ? { back: besideFile(written.image, woven.back.ext) } : {}),
    ...(woven.shuttles ? { wefts: besideFile(written.image, woven.shuttles.ext) } : {}),
  };
}

/**
 * What a loom image's set came to: the image, its report, and with weaving the lift plan and cloth preview
 * (with several wefts, the back of the cloth and the shuttle sequence too).
 */
export interface WrittenSet extends Written {
  lift?: string;
  cloth?: string;
  back?: string;
  wefts?: string;
}

/** The files of a written set as a job record names them: output, report, and the woven files. */
export function writtenFields(written: WrittenSet): {
  output: string;
  report?: string;
  lift?: string;
  cloth?: string;
  back?: string;
  wefts?: string;
} {
  return {
    output: written.image,
    ...(written.report ? { report: written.report } : {}),
    ...(written.lift ? { lift: written.lift, cloth: written.cloth } : {}),
    ...(written.back ? { back: written.back, wefts: written.wefts } : {}),
  };
}
