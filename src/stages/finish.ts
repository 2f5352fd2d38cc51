/**
 * The finish stage: a picture becomes a loom image through the pure loom pipeline. A picture still in its
 * file's bytes is decoded and woven on a worker thread when the services have a pool (a batch), so that
 * every core works; the result comes back as plain data.
 */
import { decodeForGrid, loadDecoderFor } from '../image/decode.js';
import { UsageError, errorFromRecord, isImagegenError, throwIfAborted, type ErrorRecord } from '../kernel/errors.js';
import type { WorkPool } from '../kernel/ports.js';
import { findFormat } from '../formats/registry.js';
import type { OutputMeta } from './report.js';
import { encodeLoomImage, type EncodedLoomImage } from './write.js';
import { loomStages, type LoomResult, type ReadyGrid } from '../loom/pipeline.js';
import { loomHeight } from '../loom/resize.js';
import { MAX_GRID_SIDE, type LoomSettings, type RgbaImage } from '../loom/types.js';
import type { WeaveSettings } from '../config/weave.js';
import type { Woven } from './weave.js';

/**
 * Weaves a picture. Between the pipeline's stages it lets the event loop turn (a Ctrl-C is handled there, not
 * while a stage runs) and stops with InterruptedError once `signal` has fired.
 */
export async function finishLoom(
  source: RgbaImage | ReadyGrid,
  settings: LoomSettings,
  signal?: AbortSignal,
): Promise<LoomResult> {
  const height = 'grid' in source ? source.grid.height : loomHeight(settings, source.width, source.height);
  if (height > MAX_GRID_SIDE) {
    throw new UsageError(
      `the grid would be ${settings.width} × ${height}; at most ${MAX_GRID_SIDE} picks are allowed`,
      {
        hint: 'give a smaller --width or an explicit --height',
      },
    );
  }
  const stages = loomStages(source, { ...settings, height });
  const turn = async () => {
    if (!signal) return;
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
  };
  for (;;) {
    await turn();
    const step = stages.next();
    if (step.done) {
      await turn();
      return step.value;
    }
  }
}

/** A picture (its file's bytes, or its pixels), how to weave it, and how to encode the result. */
export interface FinishInput {
  bytes?: Uint8Array;
  /** Pixels already decoded (a provider's result, checked on the main thread). */
  image?: RgbaImage;
  /** Names the picture in errors. */
  label: string;
  maxPixels?: number;
  /** Accept missing or corrupt data a decoder can still read; what was wrong goes into the report. */
  lenient?: boolean;
  loom: LoomSettings;
  /** Encoding is done where the weaving is: on a worker it would otherwise hold up the main thread. */
  encode: { format: string; meta: OutputMeta; paletteSpec?: string | string[] };
  /** With --weave: the lift plan and cloth preview are made here too. */
  weave?: WeaveSettings;
}

export interface Finished {
  /** From a worker thread, without the pixels (`result.image.indices` is empty): `encoded` holds them. */
  result: LoomResult;
  encoded: EncodedLoomImage;
  /** What was wrong with the picture's data when `lenient` accepted it. */
  inputWarnings: string[];
  woven?: Woven;
}

/** What crosses back from a worker: typed errors do not survive the crossing, their records do. */
export type FinishOutcome = ({ ok: true } & Finished) | { ok: false; error: ErrorRecord };

async function finishBytesHere(input: FinishInput, signal?: AbortSignal): Promise<Finished> {
  const { loom } = input;
  let picture: RgbaImage | ReadyGrid;
  let height = loom.height;
  let inputWarnings: string[] = [];
  let release: (() => void) | undefined;
  if (input.image) picture = input.image;
  else {
    // The grid is sized from the picture's full size, which a JPEG decoded reduced is not.
    const gridFor = (w: number, h: number) => ({
      width: loom.width,
      height: loomHeight(loom, w, h),
    });
    const decoded = await decodeForGrid(
      input.bytes!,
      input.label,
      { maxPixels: input.maxPixels, lenient: input.lenient, signal },
      gridFor,
      loom.background,
    );
    picture = decoded;
    inputWarnings = decoded.warnings;
    height = gridFor(decoded.fullWidth, decoded.fullHeight).height;
    if ('release' in decoded) release = decoded.release;
  }
  let result: LoomResult;
  try {
    result = await finishLoom(picture, { ...loom, height }, signal);
  } finally {
    release?.();
  }
  const { format, meta, paletteSpec } = input.encode;
  throwIfAborted(signal);
  const woven = await weaveIfAsked(result, input.weave, input.loom);
  const encoded = encodeLoomImage({ result, loom: input.loom, paletteSpec, format: findFormat(format), meta }, woven);
  // Encoded: the design across its repeats need not cross back from a worker.
  if (woven) delete woven.design;
  return { result, encoded, inputWarnings, ...(woven ? { woven } : {}) };
}

/** A picture woven into its design and, with weave settings, its lift plan: the one order every job follows. */
export async function finishAndWeave(
  image: RgbaImage,
  loom: LoomSettings,
  weave: WeaveSettings | undefined,
  signal?: AbortSignal,
): Promise<{ result: LoomResult; woven?: Woven }> {
  const result = await finishLoom(image, loom, signal);
  throwIfAborted(signal);
  const woven = await weaveIfAsked(result, weave, loom);
  return { result, ...(woven ? { woven } : {}) };
}

/** The weave stage, when asked for; only a woven run loads its modules. */
async function weaveIfAsked(
  result: LoomResult,
  weave: WeaveSettings | undefined,
  loom: LoomSettings,
): Promise<Woven | undefined> {
  return weave ? (await import('./weave.js')).weaveStage(result, weave, loom) : undefined;
}

/** The warnings a woven design carries (colours that share a structure), for the job to print. */
export function wovenWarnings(woven: Woven | undefined): readonly string[] {
  return (woven && 'warnings' in woven && woven.warnings) || [];
}

/** The worker's side of finishBytes; expected failures come back as records. */
export async function finishBytesOutcome(input: FinishInput): Promise<FinishOutcome> {
  try {
    const finished = await finishBytesHere(input);
    // The pixels stay here: the image is encoded already, and the other side needs only its size, palette and
    // counts (copying the pixels across cost the main thread more than the rest of its work per picture).
    const { image } = finished.result;
    const result = { ...finished.result, image: { ...image, indices: new Uint8Array(0) } };
    return { ok: true, ...finished, result };
  } catch (err) {
    if (isImagegenError(err)) return { ok: false, error: err.toJSON() };
    throw err;
  }
}

/**
 * Decodes and weaves a picture: on the pool's worker threads when there is one, else here. With a pool, a
 * picture's bytes that fill their own buffer are moved to the worker: `input.bytes` is then emptied.
 */
export async function finishBytes(
  input: FinishInput,
  pool: WorkPool | undefined,
  signal?: AbortSignal,
): Promise<Finished> {
  if (!pool) return finishBytesHere(input, signal);
  if (input.bytes) await loadDecoderFor(input.bytes);
  // The file's bytes are handed over, not copied (copying a batch of big files held up the main thread,
  // and with it every worker): the caller does not read them again. A view into a shared pool is copied.
  const bytes = input.bytes;
  const own = bytes !== undefined && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  let outcome: FinishOutcome;
  try {
    outcome = (await pool.run('finishBytes', input, {
      signal,
      ...(own && bytes.buffer instanceof ArrayBuffer ? { transfer: [bytes.buffer] } : {}),
    })) as FinishOutcome;
  } catch (err) {
    throwIfAborted(signal);
    throw err;
  }
  if (!outcome.ok) throw errorFromRecord(outcome.error);
  return outcome;
}
