/**
 * `imagegen edit`: each input picture becomes a loom-ready image. With a DashScope key the picture is first
 * restyled remotely (src/core/remote-edit.ts); without one, or with --local, the local pipeline does it all.
 */
import path from 'node:path';
import { runBatch } from './batch.js';
import type { ResolvedConfig } from './config/resolve.js';
import { DASHSCOPE_FUNCTIONS } from './config/schema.js';
import { InterruptedError, UsageError } from './errors.js';
import { planEditRequests, remoteInstruction, type EditOverrides } from './providers.js';
import { checkExactTargets, resolveLoomSettings, runLoomJob, type LoomFlags, type LoomJobMeta, type OutputChoice } from './loom-job.js';
import { inputStem, type OutputFs } from './output.js';
import { findStyle } from './styles.js';
import type { Ui } from './ui.js';
import { decodeImage, readInputFile } from '../image/decode.js';
import type { ReadText } from '../image/palette-spec.js';
import type { RgbaImage } from '../loom/types.js';

export interface EditRequest {
  inputs: string[];
  style: string;
  local: boolean;
  output?: string;
  force: boolean;
  report: boolean;
  reportPath?: string;
  loom: LoomFlags;
  /** Print the requests that would be sent; send and write nothing. */
  dryRun?: boolean;
  /** --prompt, --function, --strength, --seed for the remote model. */
  overrides?: EditOverrides;
  /** Refuse inputs whose header declares more pixels than this (--max-pixels). */
  maxPixels?: number;
}

/** What a remote restyle returns: the picture to finish locally, and where it came from. */
export interface RemoteEditResult {
  image: RgbaImage;
  meta: Pick<LoomJobMeta, 'source' | 'taskId' | 'remoteError' | 'model'>;
}

/** Restyles one decoded input remotely, or falls back; provided by the provider layer. */
export type RemoteEditor = (input: { file: string; bytes: Buffer; image: RgbaImage; style: ReturnType<typeof findStyle> }) => Promise<RemoteEditResult>;

export interface EditDeps {
  resolved: ResolvedConfig;
  ui: Ui;
  fs: OutputFs;
  readText: ReadText;
  cwd: string;
  signal?: AbortSignal;
  /** Absent when no DashScope key is configured or --local is given. */
  remote?: RemoteEditor;
}

export function validateEditRequest(request: EditRequest): void {
  if (request.inputs.length === 0) throw new UsageError('edit needs at least one input image');
  if (request.output && request.inputs.length > 1) {
    throw new UsageError('-o/--output names one file; use --out-dir with several inputs');
  }
  if (request.reportPath && request.inputs.length > 1) {
    throw new UsageError('--report names one file; with several inputs each report is written beside its image');
  }
  const o = request.overrides ?? {};
  if (o.function !== undefined && !(DASHSCOPE_FUNCTIONS as readonly string[]).includes(o.function)) {
    throw new UsageError(`--function: expected one of ${DASHSCOPE_FUNCTIONS.join(', ')}, got "${o.function}"`);
  }
  if (o.strength !== undefined && !(o.strength >= 0 && o.strength <= 1)) throw new UsageError('--strength: expected a number from 0 to 1');
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 2 ** 31 - 1)) {
    throw new UsageError('--seed: expected an integer from 0 to 2147483647');
  }
}

export async function runEdit(request: EditRequest, deps: EditDeps): Promise<void> {
  validateEditRequest(request);
  const { resolved, ui } = deps;
  const style = findStyle(request.style, resolved.config.styles);
  const settings = await resolveLoomSettings(resolved, style, request.loom, deps.readText);
  const dir = path.resolve(deps.cwd, resolved.config.output.dir ?? '.');
  const instruction = remoteInstruction(style, request.overrides ?? {});
  if (deps.remote || request.dryRun) {
    if (instruction.prompt.length > 800) {
      throw new UsageError(`the instruction has ${instruction.prompt.length} characters; DashScope takes at most 800 and would cut the rest`);
    }
    if (instruction.function === 'description_edit_with_mask') {
      throw new UsageError('description_edit_with_mask needs a mask image, which imagegen does not send', { hint: 'use description_edit' });
    }
  }
  if (request.dryRun) return dryRunEdit(request, deps, style);
  if (!deps.remote) ui.info(request.local ? 'running the local loom pipeline (--local)' : 'no DashScope key configured: running the local loom pipeline');

  await runBatch(
    request.inputs,
    (input) => input,
    async (input) => {
      const file = path.resolve(deps.cwd, input);
      const out: OutputChoice = {
        output: request.output && path.resolve(deps.cwd, request.output),
        dir,
        stem: `${inputStem(input)}.${style.name}`,
        force: request.force,
        report: request.report,
        reportPath: request.reportPath && path.resolve(deps.cwd, request.reportPath),
      };
      await checkExactTargets(out, deps.fs);
      const bytes = await readInputFile(file, input);
      const decoded = await decodeImage(bytes, input, { maxPixels: request.maxPixels });
      if (deps.signal?.aborted) throw new InterruptedError();

      let image = decoded;
      let meta: LoomJobMeta = { input, style: style.name, source: 'local' };
      if (deps.remote) {
        const remote = await deps.remote({ file, bytes, image: decoded, style });
        image = remote.image;
        meta = { ...meta, ...remote.meta };
      }
      if (deps.signal?.aborted) throw new InterruptedError();
      const spinner = ui.spinner(`${input}: weaving ${settings.width} ends, ${settings.colors} colours`);
      try {
        const { record } = await runLoomJob(image, settings, meta, out, deps.fs);
        spinner.succeed(`${input} → ${path.relative(deps.cwd, record.output as string) || record.output}`);
        return record;
      } catch (err) {
        spinner.fail(`${input}: failed`);
        throw err;
      }
    },
    ui,
    deps.signal,
  );
}

async function dryRunEdit(request: EditRequest, deps: EditDeps, style: ReturnType<typeof findStyle>): Promise<void> {
  if (request.local) {
    deps.ui.info('--local sends nothing; nothing to show');
    return;
  }
  if (!deps.resolved.config.providers.dashscope.apiKey) deps.ui.warn('no DashScope key is configured: a real run would be local');
  for (const input of request.inputs) {
    const image = await decodeImage(await readInputFile(path.resolve(deps.cwd, input), input), input, { maxPixels: request.maxPixels });
    for (const planned of await planEditRequests(deps.resolved, style, request.overrides ?? {}, image)) deps.ui.data({ input, ...planned });
  }
}
