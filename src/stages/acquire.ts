/**
 * The acquire stage: where a job's picture comes from. A file (read with a clear error for each way it can
 * be unusable, then decoded), a remote edit of that picture (with the fallback rule), or a remote generation.
 */
import { ImagegenError, InputError, describeError, isImagegenError, throwIfAborted } from '../kernel/errors.js';
import type { ErrorRecord } from '../kernel/errors.js';
import { STDIN, type Fs, type Services, type Ui } from '../kernel/ports.js';
import { decodeImage } from '../image/decode.js';
import { sniffImageType } from '../image/sniff.js';
import type { RgbaImage } from '../loom/types.js';
import type { EditInstruction, GenerateParams, ProviderContext, ProviderDescriptor } from '../providers/types.js';

/** Largest picture read from a file or from stdin. */
const MAX_INPUT_BYTES = 256 * 1000 * 1000;

/** An input's bytes: a file's, or stdin's for `-`; either fails (InputError) past `maxBytes`. */
export async function readInput(
  services: Services,
  input: string,
  file: string,
  maxBytes = MAX_INPUT_BYTES,
): Promise<Buffer> {
  if (input !== STDIN) return readInputFile(services.fs, file, input, maxBytes);
  if (!services.stdio) throw new InputError('stdin: cannot be read here');
  const bytes = await services.stdio.read(maxBytes);
  if (bytes.length === 0) throw new InputError('stdin: is empty (0 bytes)');
  return bytes;
}

/**
 * Reads an input file; `label` (the path as the user typed it) names it in errors. Only regular files: the
 * stat comes first, so a FIFO (whose opening waits for a writer) or a device (/dev/zero never ends) is refused
 * without being opened, and a file over the cap without being read.
 */
async function readInputFile(fs: Fs, file: string, label: string, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new InputError(`${label}: larger than ${Math.round(maxBytes / 1e5) / 10} MB`);
  let bytes: Buffer;
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw new InputError(`${label}: is a folder, not an image`);
    if (!stat.isFile()) throw new InputError(`${label}: not a regular file`);
    if (stat.size > maxBytes) throw tooLarge();
    bytes = await fs.readFile(file, { maxBytes });
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${label}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${label}: is a folder, not an image`);
    if (code === 'EFTYPE') throw new InputError(`${label}: not a regular file`);
    if (code === 'EFBIG') throw tooLarge();
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`${label}: permission denied`);
    throw new InputError(`${label}: cannot be read (${code ?? 'unknown error'})`);
  }
  if (bytes.length === 0) throw new InputError(`${label}: is empty (0 bytes)`);
  return bytes;
}

/** Provider failures after which `edit` may finish the picture locally: never usage, key, account or moderation. */
function mayFallBack(err: unknown): boolean {
  return isImagegenError(err) && (err.kind === 'network' || err.kind === 'rate-limit' || err.kind === 'failure');
}

export interface RemotePicture {
  image: RgbaImage;
  /** The provider id, or 'local-fallback'. */
  source: string;
  model: string;
  taskId?: string;
  requestId?: string;
  remoteError?: ErrorRecord;
}

/** Decodes a downloaded result under the same pixel limit as inputs (`--max-pixels`, else the default). */
export async function decodeResult(
  bytes: Buffer,
  provider: ProviderDescriptor,
  taskId?: string,
  maxPixels?: number,
): Promise<RgbaImage> {
  try {
    if (!sniffImageType(bytes)) throw new Error(`${provider.label} result: not a supported image (PNG, JPEG or WebP)`);
    return await decodeImage(bytes, `${provider.label} result`, { maxPixels });
  } catch (err) {
    throw new ImagegenError('failure', describeError(err), { provider: provider.id, taskId });
  }
}

/** Restyles a picture remotely; with `fallback`, a failure that allows it gives back the picture itself. */
export async function remoteEdit(
  provider: ProviderDescriptor,
  picture: RgbaImage,
  instruction: EditInstruction,
  ctx: ProviderContext,
  options: { fallback: boolean; label: string; ui: Ui; maxPixels?: number },
): Promise<RemotePicture> {
  try {
    const client = await provider.load();
    const result = await client.edit!.run(picture, instruction, ctx);
    throwIfAborted(ctx.signal);
    const image = await decodeResult(result.bytes, provider, result.taskId, options.maxPixels);
    return { image, source: provider.id, model: result.model, taskId: result.taskId, requestId: result.requestId };
  } catch (err) {
    if (!options.fallback || !mayFallBack(err)) throw err;
    const e = err as ImagegenError;
    const ids = [e.requestId && `request id ${e.requestId}`, e.taskId && `task id ${e.taskId}`]
      .filter(Boolean)
      .join(', ');
    options.ui.warn(
      `${options.label}: ${provider.label} failed (${e.message}${ids ? '; ' + ids : ''}); finishing with the local pipeline instead`,
    );
    return { image: picture, source: 'local-fallback', model: ctx.settings.model, remoteError: e.toJSON() };
  }
}

export interface GeneratedPicture {
  bytes: Buffer;
  ext: string;
  image: RgbaImage;
  /** Absent where the service answered the call itself, without a task. */
  taskId?: string;
  requestId?: string;
  model: string;
}

export async function remoteGenerate(
  provider: ProviderDescriptor,
  params: GenerateParams,
  ctx: ProviderContext,
): Promise<GeneratedPicture> {
  const client = await provider.load();
  const result = await client.generate!.run(params, ctx);
  throwIfAborted(ctx.signal);
  const image = await decodeResult(result.bytes, provider, result.taskId).catch((err: ImagegenError) => {
    throw new ImagegenError(
      'failure',
      `${provider.label} returned something that is not a usable image: ${err.message}`,
      { provider: provider.id, taskId: result.taskId },
    );
  });
  return {
    bytes: result.bytes,
    ext: sniffImageType(result.bytes)!.ext,
    image,
    taskId: result.taskId,
    requestId: result.requestId,
    model: result.model,
  };
}
