/**
 * `imagegen edit`: each input picture becomes a loom-ready image. With a DashScope key the picture is first
 * restyled remotely (src/core/remote-edit.ts); without one, or with --local, the local pipeline does it all.
 */
import path from 'node:path';
import { runBatch } from './batch.js';
import type { ResolvedConfig } from './config/resolve.js';
import { InterruptedError, UsageError } from './errors.js';
import { resolveLoomSettings, runLoomJob, type LoomFlags, type LoomJobMeta } from './loom-job.js';
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
}

export async function runEdit(request: EditRequest, deps: EditDeps): Promise<void> {
  validateEditRequest(request);
  const { resolved, ui } = deps;
  const style = findStyle(request.style, resolved.config.styles);
  const settings = await resolveLoomSettings(resolved, style, request.loom, deps.readText);
  const dir = path.resolve(deps.cwd, resolved.config.output.dir ?? '.');
  if (!deps.remote) ui.info(request.local ? 'running the local loom pipeline (--local)' : 'no DashScope key configured: running the local loom pipeline');

  await runBatch(
    request.inputs,
    (input) => input,
    async (input) => {
      const file = path.resolve(deps.cwd, input);
      const bytes = await readInputFile(file, input);
      const decoded = await decodeImage(bytes, input);
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
        const { record } = await runLoomJob(
          image,
          settings,
          meta,
          {
            output: request.output && path.resolve(deps.cwd, request.output),
            dir,
            stem: `${inputStem(input)}.${style.name}`,
            force: request.force,
            report: request.report,
            reportPath: request.reportPath && path.resolve(deps.cwd, request.reportPath),
          },
          deps.fs,
        );
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
