/**
 * `imagegen generate`: each prompt becomes a picture at a provider; with a style, the local loom pipeline
 * finishes it (and --keep-original keeps the download too). Prompts come from the command line or from a
 * file (`--prompts`), and every one is checked before the first is sent.
 */
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle, type StylePreset } from '../config/styles.js';
import { UsageError, isImagegenError, throwIfAborted } from '../kernel/errors.js';
import { STDIN, type Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import { describeRequest } from '../kernel/redact.js';
import type { GenerateOptions, GenerateParams } from '../providers/types.js';
import { readInput, remoteGenerate } from '../stages/acquire.js';
import { finishAndWeave, wovenWarnings } from '../stages/finish.js';
import { NO_WEAVE, resolveJobSettings, weaveFileExts, type WeaveFlags, type WeaveSettings } from '../config/weave.js';
import {
  checkOutputFolders,
  checkTargets,
  isTargetOutput,
  writeLoomImage,
  writtenFields,
  writePair,
  type Target,
} from '../stages/write.js';
import { slugify } from './names.js';
import { checkDownloadOutput, chooseFormat, promptsFileOutput, targetFor, type OutputSpec } from './output.js';
import { parsePrompts, type PromptLine } from './prompts.js';
import {
  generateProvider,
  journalProvider,
  missingKeyError,
  modelFor,
  openGate,
  providerContext,
  taskLimits,
} from './providers.js';
import { itemKey, journaled, openRunJournal, type TaskHooks } from './journal.js';
import { RERUN_HINT, runJobs, type ItemContext } from './run.js';

export interface GenerateSpec extends OutputSpec {
  /** The prompt from the command line; absent with `promptsFile`. */
  prompt?: string;
  /** --prompts FILE, or `-` for stdin. */
  promptsFile?: string;
  options: GenerateOptions;
  provider?: string;
  /** -m, over the provider's configured model. */
  model?: string;
  /** Finish the picture with this style's loom pipeline. */
  style?: string;
  keepOriginal: boolean;
  dryRun: boolean;
  maxDownloadMb?: number;
  /** --journal FILE, --resume and --again, as for edit. */
  journal?: string;
  resume?: boolean;
  again?: boolean;
  /** --weave, --tile, --invert: with a style, the design is woven too. */
  weave?: WeaveFlags;
}

interface GenerateItem {
  /** Names the item in the journal: the prompt, and which of its repeats. */
  key: string;
  params: GenerateParams;
  style?: StylePreset;
  weave?: WeaveSettings;
  target: Target;
  slug: string;
}

const MAX_PROMPTS_BYTES = 10 * 1000 * 1000;

/** What a download kept as it came is named with (see image/sniff.ts). */
const DOWNLOAD_EXTS = ['png', 'jpg', 'webp'];

async function promptLines(spec: GenerateSpec, services: Services): Promise<{ lines: PromptLine[]; file?: string }> {
  if (spec.promptsFile === undefined) {
    if (!spec.prompt?.trim())
      throw new UsageError('generate needs a prompt, or --prompts FILE', {
        hint: 'imagegen generate "a cat on a rug"',
      });
    return { lines: [{ line: 0, prompt: spec.prompt }] };
  }
  if (spec.prompt?.trim()) throw new UsageError('give a prompt or --prompts FILE, not both');
  const file = spec.promptsFile;
  const label = file === STDIN ? 'stdin' : file;
  const bytes = await readInput(services, file, path.resolve(services.cwd, file), MAX_PROMPTS_BYTES);
  return { lines: parsePrompts(bytes.toString('utf8'), label), file: label };
}

/**
 * Options that make or shape the loom image, typed when no prompt has a style: generate then writes the
 * picture as downloaded, and they would do nothing.
 */
function checkUnstyledOptions(spec: GenerateSpec, resolved: ResolvedConfig): void {
  const shaping = (key: string) => key.startsWith('loom.') || key.startsWith('weave.') || key === 'output.format';
  const given = [
    ...(spec.keepOriginal ? ['--keep-original'] : []),
    ...(typeof spec.report === 'string' ? ['--report'] : []),
    ...Object.entries(resolved.sources).flatMap(([key, source]) =>
      shaping(key) && source?.kind === 'flag' ? [source.name] : [],
    ),
  ];
  if (given.length === 0) return;
  throw new UsageError(
    `${given.join(', ')} without --style: generate then writes the picture as downloaded, and ${given.length > 1 ? 'they do' : 'it does'} nothing`,
    { hint: 'add --style loom (or another of imagegen styles) for a loom image' },
  );
}

export async function runGenerate(spec: GenerateSpec, resolved: ResolvedConfig, services: Services): Promise<void> {
  const { ui, fs, cwd } = services;
  const { provider, keyed } = generateProvider(resolved, spec.provider);
  const model = spec.model ?? modelFor(provider, resolved, 'generate');
  if (!spec.prompt?.trim() && spec.promptsFile === undefined && services.prompts) {
    // Asked only once the run could go ahead: a missing key stops it before anyone types a prompt.
    if (!keyed && !spec.dryRun) throw missingKeyError(provider);
    spec = { ...spec, prompt: await services.prompts.text('Prompt') };
  }
  const { lines, file } = await promptLines(spec, services);
  if (spec.output !== undefined && lines.length > 1) {
    throw new UsageError('-o names one file; with several prompts, give each its "output" in the prompts file');
  }
  const ctx = providerContext(provider, resolved, services, taskLimits(resolved, spec.maxDownloadMb), model);
  /** Per style: the loom settings (as the yarns leave them) and the weave settings. */
  const settingsOf = new Map<string, Awaited<ReturnType<typeof resolveJobSettings>>>();

  // Every line is checked, and every target and its folder, before anything is sent.
  const items: GenerateItem[] = [];
  const checked = new Set<string>();
  for (const line of lines) {
    const where = file ? `${file}:${line.line}: ` : '';
    try {
      const options: GenerateOptions = {
        ...spec.options,
        ...(line.seed === undefined ? {} : { seed: line.seed }),
        ...(line.size === undefined ? {} : { size: line.size }),
        ...(line.negative === undefined ? {} : { negative: line.negative }),
      };
      const params = await provider.validateGenerate!(line.prompt, options, model);
      const styleName = line.style ?? spec.style;
      const style = styleName === undefined ? undefined : findStyle(styleName, resolved.config.styles);
      if (style && !settingsOf.has(style.name)) {
        settingsOf.set(style.name, await resolveJobSettings(resolved, style, spec.weave ?? NO_WEAVE, fs));
      }
      const weave = style ? settingsOf.get(style.name)!.weave : undefined;
      if (!style && (spec.weave?.weave || spec.weave?.tile || spec.weave?.invert)) {
        const given = (['weave', 'tile', 'invert'] as const).filter((flag) => spec.weave?.[flag]);
        throw new UsageError(
          `${given.map((flag) => `--${flag}`).join(', ')}: weaving needs a loom design: add --style`,
          {
            hint: 'e.g. --style loom',
          },
        );
      }
      const output = line.output === undefined ? spec.output : await promptsFileOutput(line.output, resolved, cwd, fs);
      if (style) chooseFormat(resolved, output);
      else checkDownloadOutput(output);
      const slug = slugify(params.prompt);
      const target = targetFor(
        { ...spec, output, report: style ? spec.report : false },
        resolved,
        cwd,
        style ? `${slug}.${style.name}` : slug,
      );
      const repeat = items.filter((it) => it.params.prompt === params.prompt).length;
      const key = `generate:${params.prompt}${repeat ? `#${repeat + 1}` : ''}`;
      // A real run keeps a journal, and an item it holds as done is skipped before its target is looked at.
      const companions = weave ? weaveFileExts(weave) : [];
      if (!spec.dryRun) await checkOutputFolders(target, fs, { withDir: spec.keepOriginal, checked });
      else await checkTargets(target, fs, { companions, withDir: spec.keepOriginal, checked });
      items.push({ key, params, style, weave, target, slug });
    } catch (err) {
      if (where && isImagegenError(err) && err.kind === 'usage') throw new UsageError(where + err.message, err);
      throw err;
    }
  }

  if (!items.some((item) => item.style)) checkUnstyledOptions(spec, resolved);

  if (spec.dryRun) {
    const client = await provider.load();
    for (const item of items) {
      for (const planned of client.generate!.plan(item.params, ctx))
        ui.data(describeRequest(planned, services.redactor));
    }
    if (!keyed) ui.warn(`no ${provider.label} key is configured: a real run would stop with exit code 3`);
    return;
  }
  if (!keyed) throw missingKeyError(provider);
  ctx.gate = await openGate(ctx, resolved, services);
  const gate = ctx.gate;
  const journal = await openRunJournal(
    {
      file: spec.journal === undefined ? undefined : path.resolve(cwd, spec.journal),
      outDir: path.resolve(cwd, resolved.config.output.dir ?? '.'),
      resume: spec.resume === true,
      again: spec.again === true,
    },
    services,
  );
  const idOf = (item: GenerateItem) => ({
    item: item.key,
    key: itemKey({
      command: 'generate',
      item: item.key,
      params: item.params,
      provider: provider.id,
      model,
      style: item.style?.name,
      loom: item.style ? settingsOf.get(item.style.name) : undefined,
      keepOriginal: spec.keepOriginal,
      format: item.style ? chooseFormat(resolved, item.target.exact).id : undefined,
    }),
  });
  const ownOutput = (item: GenerateItem) => (output: string, report: string | undefined) =>
    isTargetOutput(
      item.target,
      item.style ? [chooseFormat(resolved, item.target.exact).ext] : DOWNLOAD_EXTS,
      output,
      report,
    );
  // Every target but those of items done earlier is checked before anything is sent.
  try {
    for (const item of items) {
      if (await journal?.intactOutput(idOf(item), ownOutput(item))) continue;
      await checkTargets(item.target, fs, {
        companions: item.weave ? weaveFileExts(item.weave) : [],
        withDir: spec.keepOriginal,
        checked,
      });
    }
  } catch (err) {
    await journal?.close();
    throw err;
  }

  await runJobs({
    items,
    label: (item) => item.params.prompt,
    record: (item) => ({ input: null, prompt: item.params.prompt }),
    ui,
    now: services.now,
    signal: services.signal,
    // Enough items under way to keep the provider's task slots full while finished ones are woven.
    concurrency: items.length > 1 ? gate.limits.tasksInFlight + 1 : 1,
    activity: () => `${gate.inFlight} at ${provider.label}`,
    run: (item, itemCtx) =>
      journaled(
        journal,
        idOf(item),
        journalProvider(provider, ctx),
        fs,
        (hooks) => runOne(item, itemCtx, hooks),
        (output, report) => {
          itemCtx.ui.info(
            `${item.params.prompt}: skipped, done in an earlier run (${path.relative(cwd, output) || output} is unchanged)`,
          );
          return {
            status: 'skipped',
            input: null,
            prompt: item.params.prompt,
            output,
            ...(report ? { report } : {}),
            style: item.style?.name ?? null,
            source: null,
            reason: 'done in an earlier run, and its output is unchanged',
          };
        },
        ownOutput(item),
      ),
    rerunHint: journal ? RERUN_HINT : undefined,
  }).finally(() => journal?.close());

  async function runOne(item: GenerateItem, itemCtx: ItemContext, hooks: TaskHooks): Promise<JobRecord> {
    const { params, style, weave, target, slug } = item;
    const generated = await remoteGenerate(provider, params, {
      ...ctx,
      ...hooks,
      signal: itemCtx.signal,
      ui: itemCtx.ui,
    });
    throwIfAborted(itemCtx.signal);
    const meta = {
      prompt: params.prompt,
      model: generated.model,
      ...(generated.taskId === undefined ? {} : { taskId: generated.taskId }),
      ...(params.seed === undefined ? {} : { seed: params.seed }),
    };
    const ids = { provider: provider.id, ...(generated.requestId ? { requestId: generated.requestId } : {}) };
    const original = (exact: boolean) =>
      writePair(
        fs,
        { ...target, exact: exact ? target.exact : undefined, stem: slug, report: false },
        { ext: generated.ext, render: () => generated.bytes },
        undefined,
        itemCtx.signal,
      );
    const settings = style && settingsOf.get(style.name);
    if (!style || !settings) {
      const written = await original(true);
      return {
        status: 'ok',
        input: null,
        output: written.image,
        source: provider.id,
        style: null,
        width: generated.image.width,
        height: generated.image.height,
        colors: null,
        ...ids,
        ...meta,
      };
    }
    const format = chooseFormat(resolved, target.exact);
    const kept = spec.keepOriginal ? await original(false) : undefined;
    const { result, woven } = await finishAndWeave(generated.image, settings.loom, weave, itemCtx.signal);
    for (const warning of wovenWarnings(woven)) itemCtx.ui.warn(`${slug}: ${warning}`);
    const written = await writeLoomImage(
      services,
      target,
      {
        result,
        loom: settings.loom,
        paletteSpec: settings.paletteSpec,
        format,
        meta: { ...meta, style: style.name, source: provider.id },
      },
      itemCtx.signal,
      undefined,
      woven,
    );
    return {
      status: 'ok',
      input: null,
      ...writtenFields(written),
      style: style.name,
      source: provider.id,
      width: result.image.width,
      height: result.image.height,
      colors: result.image.palette.length / 3,
      ...ids,
      ...meta,
      ...(kept ? { original: kept.image } : {}),
    };
  }
}
