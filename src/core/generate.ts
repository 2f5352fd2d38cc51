/**
 * `imagegen generate`: a prompt becomes a picture on ModelScope; with --style, the local loom pipeline
 * finishes it (and --keep-original keeps the download too).
 */
import path from 'node:path';
import type { ResolvedConfig } from './config/resolve.js';
import { AuthError, ImagegenError, describeError } from './errors.js';
import type { GenerateParams } from './generate-request.js';
import { checkExactTargets, resolveLoomSettings, runLoomJob, type LoomFlags, type OutputChoice } from './loom-job.js';
import { nextFreeName, slugify, writeFileAtomic, type OutputFs } from './output.js';
import { describeRequest, providerLimits } from './providers.js';
import { findStyle } from './styles.js';
import type { Ui } from './ui.js';
import type { ProviderDeps } from '../providers/context.js';
import type { ReadText } from '../image/palette-spec.js';
import { decodeImage } from '../image/decode.js';
import { sniffImageType } from '../image/sniff.js';

export interface GenerateRequest {
  params: GenerateParams;
  style?: string;
  keepOriginal: boolean;
  output?: string;
  force: boolean;
  report: boolean;
  reportPath?: string;
  loom: LoomFlags;
  dryRun: boolean;
  maxDownloadMb?: number;
}

export interface GenerateDeps extends Omit<ProviderDeps, 'ui'> {
  resolved: ResolvedConfig;
  ui: Ui;
  fs: OutputFs;
  readText: ReadText;
  cwd: string;
}

export async function runGenerate(request: GenerateRequest, deps: GenerateDeps): Promise<void> {
  const { resolved, ui } = deps;
  const ms = resolved.config.providers.modelscope;
  const style = request.style === undefined ? undefined : findStyle(request.style, resolved.config.styles);
  const settings = style ? await resolveLoomSettings(resolved, style, request.loom, deps.readText) : undefined;
  const { buildGenerateRequest, runGenerateTask } = await import('../providers/modelscope.js');

  if (request.dryRun) {
    const submit = buildGenerateRequest({ apiKey: ms.apiKey ?? '(no key configured)', baseUrl: ms.baseUrl }, request.params);
    ui.data(describeRequest(submit, [ms.apiKey]));
    ui.data(
      describeRequest(
        { method: 'GET', url: `${ms.baseUrl}/v1/tasks/{task_id}`, headers: { Authorization: `Bearer ${ms.apiKey ?? '(no key configured)'}`, 'X-ModelScope-Task-Type': 'image_generation' } },
        [ms.apiKey],
      ),
    );
    if (!ms.apiKey) ui.warn('no ModelScope key is configured: a real run would stop with exit code 3');
    return;
  }
  if (!ms.apiKey) {
    throw new AuthError('no ModelScope key configured', {
      provider: 'modelscope',
      hint: 'set MODELSCOPE_API_KEY, or providers.modelscope.apiKey in .imagegenrc.json (imagegen init)',
    });
  }

  const dir = path.resolve(deps.cwd, resolved.config.output.dir ?? '.');
  const slug = slugify(request.params.prompt);
  const out: OutputChoice = {
    output: request.output && path.resolve(deps.cwd, request.output),
    dir,
    stem: style ? `${slug}.${style.name}` : slug,
    force: request.force,
    report: request.report && style !== undefined,
    reportPath: request.reportPath && path.resolve(deps.cwd, request.reportPath),
  };
  // Before the (billed) generation: an exact target that exists stops the run unless --force.
  await checkExactTargets(out, deps.fs);

  const limits = providerLimits(resolved, request.maxDownloadMb);
  const providerDeps: ProviderDeps = { http: deps.http, sleep: deps.sleep, now: deps.now, ui, signal: deps.signal };
  const task = await runGenerateTask({ apiKey: ms.apiKey, baseUrl: ms.baseUrl }, request.params, limits, providerDeps);
  const { fetchResult } = await import('../providers/result.js');
  const bytes = await fetchResult(task.url, ms.baseUrl, 'modelscope', task.taskId, limits, providerDeps);
  const type = sniffImageType(bytes);
  let image;
  try {
    if (!type) throw new Error('not a PNG, JPEG or WebP image');
    image = await decodeImage(bytes, 'ModelScope result');
  } catch (err) {
    throw new ImagegenError('failure', `ModelScope returned something that is not a usable image: ${describeError(err)}`, { provider: 'modelscope', taskId: task.taskId });
  }

  const meta = { prompt: request.params.prompt, model: request.params.model, taskId: task.taskId, seed: request.params.seed };

  const writeOriginal = async (exact?: string) => {
    await deps.fs.mkdir(dir, { recursive: true });
    const file = exact ? path.resolve(deps.cwd, exact) : await nextFreeName(deps.fs, dir, slug, type!.ext);
    await writeFileAtomic(deps.fs, file, bytes, { overwrite: request.force && exact !== undefined });
    return file;
  };

  if (!style || !settings) {
    const file = await writeOriginal(request.output);
    ui.result({ status: 'ok', input: null, output: file, source: 'modelscope', style: null, width: image.width, height: image.height, colors: null, ...meta });
    return;
  }
  const original = request.keepOriginal ? await writeOriginal() : undefined;
  const { record } = await runLoomJob(
    image,
    settings,
    { prompt: request.params.prompt, style: style.name, source: 'modelscope', taskId: task.taskId, model: request.params.model },
    out,
    deps.fs,
  );
  ui.result({ ...record, ...meta, ...(original ? { original } : {}) });
}
