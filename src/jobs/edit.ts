/**
 * `imagegen edit`: each input picture becomes a loom-ready image. With a key for the edit provider the
 * picture is first restyled remotely; without one, or with --local, the local pipeline does it all.
 */
import path from 'node:path';
import { NO_WEAVE, resolveJobSettings, weaveFileExts, type WeaveFlags } from '../config/weave.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { findStyle, styleInstruction, type StylePreset } from '../config/styles.js';
import { UsageError, throwIfAborted } from '../kernel/errors.js';
import { STDIN, type Services } from '../kernel/ports.js';
import type { JobRecord } from '../kernel/records.js';
import { describeRequest } from '../kernel/redact.js';
import { providersWith } from '../providers/registry.js';
import type { EditInstruction, ProviderDescriptor } from '../providers/types.js';
import { decodeImage } from '../image/decode.js';
import { readInput, remoteEdit, type RemotePicture } from '../stages/acquire.js';
import { finishBytes, wovenWarnings } from '../stages/finish.js';
import type { OutputMeta } from '../stages/report.js';
import {
  STDOUT,
  checkOutputFolders,
  checkTargets,
  isTargetOutput,
  writeLoomImage,
  writtenFields,
} from '../stages/write.js';
import { expandInputs } from './inputs.js';
import { inputStem } from './names.js';
import { chooseFormat, targetFor, type OutputSpec } from './output.js';
import {
  editModelList,
  editProvider,
  isEditModel,
  journalProvider,
  modelFor,
  openGate,
  providerContext,
  taskLimits,
} from './providers.js';
import { itemKey, journaled, openRunJournal, type TaskHooks } from './journal.js';
import { RERUN_HINT, runJobs, type ItemContext } from './run.js';

export interface EditSpec extends OutputSpec {
  inputs: string[];
  style: string;
  /** --local: never call a provider. */
  local: boolean;
  /** --provider, over config's edit.provider. */
  provider?: string;
  /** -m, over the provider's configured model. */
  model?: string;
  /** false with --no-fallback. */
  fallback: boolean;
  /** Print the requests that would be sent; send and write nothing. */
  dryRun: boolean;
  /** --prompt, --function, --strength, --seed: replace the style's instruction. */
  instruction: Partial<EditInstruction>;
  /** --ref: more pictures sent after each edited one, in order, to models that take several. */
  refs?: string[];
  /** --journal FILE: every step of every item written down as it happens (default, for a remote run: in the output folder). */
  journal?: string;
  /** --resume: with the journal, skip what is done and re-attach to tasks still running. */
  resume?: boolean;
  /** --again: pay for every item anew, whatever the journal holds. */
  again?: boolean;
  /** Refuse inputs whose header declares more pixels than this (--max-pixels). */
  maxPixels?: number;
  /** --lenient: accept pictures with missing or corrupt data that can still be read, saying so. */
  lenient?: boolean;
  maxDownloadMb?: number;
  /** --weave, --tile, --invert. */
  weave?: WeaveFlags;
}

function checkSpec(spec: EditSpec): void {
  if (spec.inputs.length === 0) throw new UsageError('edit needs at least one input image');
  if (spec.output && spec.inputs.length > 1)
    throw new UsageError('-o/--output names one file; use --out-dir with several inputs');
  if (typeof spec.report === 'string' && spec.inputs.length > 1) {
    throw new UsageError('--report names one file; with several inputs each report is written beside its image');
  }
}

/** The flag of each instruction field, as typed. */
const INSTRUCTION_FLAGS: Record<keyof EditInstruction, string> = {
  prompt: '--prompt',
  function: '--function',
  strength: '--strength',
  seed: '--seed',
  expand: '--expand',
  upscale: '--upscale',
  sketch: '--sketch',
  promptExtend: '--prompt-extend',
  references: '--ref',
};

/** Options for the provider, typed with --local, which sends nothing: they would do nothing. */
function checkLocalOptions(spec: EditSpec): void {
  const given = [
    ...Object.entries(INSTRUCTION_FLAGS).flatMap(([field, flag]) =>
      spec.instruction[field as keyof EditInstruction] === undefined ? [] : [flag],
    ),
    ...(spec.refs?.length ? ['--ref'] : []),
    ...(spec.model === undefined ? [] : ['--model']),
    ...(spec.provider === undefined ? [] : ['--provider']),
    ...(spec.fallback ? [] : ['--no-fallback']),
  ];
  if (given.length === 0) return;
  const them = given.length > 1 ? 'they are' : 'it is';
  throw new UsageError(`${given.join(', ')} with --local: ${them} for the provider, and --local sends nothing`, {
    hint: `drop --local to send the picture to a provider, or drop ${given.join(', ')}`,
  });
}

/** The function an option belongs to, when it is given without --function: `--expand 1.5` expands. */
function impliedFunction(given: Partial<EditInstruction>): string | undefined {
  if (given.expand !== undefined) return 'expand';
  if (given.upscale !== undefined) return 'super_resolution';
  if (given.sketch) return 'doodle';
  return undefined;
}

/** What the style asks of this provider, with the options typed on the command line over it. */
function instructionFor(
  style: StylePreset,
  given: Partial<EditInstruction>,
  provider: ProviderDescriptor,
): EditInstruction {
  const asked = styleInstruction(style, provider);
  return {
    function: given.function ?? impliedFunction(given) ?? asked.function,
    prompt: given.prompt ?? asked.prompt,
    strength: given.strength ?? asked.strength,
    seed: given.seed,
    expand: given.expand,
    upscale: given.upscale,
    sketch: given.sketch,
    promptExtend: given.promptExtend,
  };
}

/** Refuses more pictures (the edited one and --ref) than the model takes, before anything is read or sent. */
function checkPictureCount(provider: ProviderDescriptor, model: string, refs: readonly string[]): void {
  const max = provider.maxPictures?.(model) ?? 1;
  if (1 + refs.length <= max) return;
  const several = providersWith('edit').flatMap((p) =>
    (editModelList(p) ?? []).filter((m) => (p.maxPictures?.(m) ?? 1) > 1).map((m) => `${m} (${p.maxPictures!(m)})`),
  );
  throw new UsageError(
    max === 1
      ? `--ref: ${model} takes one picture, the edited one; got ${refs.length} more`
      : `--ref: ${model} takes at most ${max} pictures, the edited one and ${max - 1} more; got ${refs.length} more`,
    { provider: provider.id, hint: `the models that take several pictures (at most): ${several.join(', ')}` },
  );
}

/** A model the provider cannot be called with is refused before anything is read or sent. */
function checkModel(provider: ProviderDescriptor, model: string): void {
  if (isEditModel(provider, model)) return;
  const listed = providersWith('edit')
    .flatMap((p) => {
      const models = editModelList(p);
      return models ? [`${p.id}: ${models.join(', ')}`] : [];
    })
    .join('; ');
  throw new UsageError(`${provider.label} model "${model}" is not one imagegen can call`, {
    provider: provider.id,
    hint: `supported edit models, per provider: ${listed}`,
  });
}

/** Everything an edit run has settled before its first item: checked, and the same for every item. */
interface EditPlan {
  spec: EditSpec;
  resolved: ResolvedConfig;
  services: Services;
  inputs: string[];
  style: StylePreset;
  loom: Awaited<ReturnType<typeof resolveJobSettings>>['loom'];
  paletteSpec: Awaited<ReturnType<typeof resolveJobSettings>>['paletteSpec'];
  weave: Awaited<ReturnType<typeof resolveJobSettings>>['weave'];
  /** The files a woven design adds beside its image. */
  besides: string[];
  format: ReturnType<typeof chooseFormat>;
  provider: ProviderDescriptor;
  keyed: boolean;
  /** The items go to the provider (a key, and no --local). */
  remote: boolean;
  instruction: EditInstruction;
  ctx: ReturnType<typeof providerContext>;
  read: (input: string) => Promise<Buffer>;
  stemOf: (input: string) => string;
}

export async function runEdit(spec: EditSpec, resolved: ResolvedConfig, services: Services): Promise<void> {
  const plan = await planEdit(spec, resolved, services);
  if (spec.dryRun) return showRequests(plan);
  if (!plan.remote)
    services.ui.info(
      spec.local
        ? 'running the local loom pipeline (--local)'
        : `no ${plan.provider.label} key configured: running the local loom pipeline`,
    );
  const checked = await checkFolders(plan);
  if (plan.remote) plan.ctx.gate = await openGate(plan.ctx, resolved, services);
  await runItems(plan, checked);
}

/**
 * Expands the inputs and settles everything the items share: the style, loom and weave settings, the format,
 * the provider, model and instruction (checked before anything is sent), and the reference pictures, read once.
 */
async function planEdit(spec: EditSpec, resolved: ResolvedConfig, services: Services): Promise<EditPlan> {
  checkSpec(spec);
  const { ui, fs, cwd, signal } = services;
  const inputs = await expandInputs(spec.inputs, cwd, fs);
  checkSpec({ ...spec, inputs });
  const style = findStyle(spec.style, resolved.config.styles);
  const { loom, paletteSpec, weave } = await resolveJobSettings(resolved, style, spec.weave ?? NO_WEAVE, fs);
  const format = chooseFormat(resolved, spec.output === STDOUT ? undefined : spec.output);
  const { provider, keyed } = editProvider(resolved, spec.provider);
  const instruction = instructionFor(style, spec.instruction, provider);
  const remote = keyed && !spec.local;
  const limits = taskLimits(resolved, spec.maxDownloadMb);
  const ctx = providerContext(provider, resolved, services, limits, spec.model ?? modelFor(provider, resolved, 'edit'));
  const model = ctx.settings.model;
  if (spec.model !== undefined || remote || (spec.dryRun && !spec.local)) checkModel(provider, model);
  // Options typed on the command line are checked even for a local run; the whole instruction only when sent.
  provider.checkInstruction?.({ ...spec.instruction, prompt: '' }, model, true);
  // A value out of range is named first; then options that --local would leave unused.
  if (spec.local) checkLocalOptions(spec);
  if (remote || (spec.dryRun && !spec.local)) provider.checkInstruction?.(instruction, model);
  const refs = spec.refs ?? [];
  if (refs.length > 0 && !spec.local) checkPictureCount(provider, model, refs);
  const read = (input: string) => readInput(services, input, path.resolve(cwd, input));
  if (refs.length > 0 && (remote || (spec.dryRun && !spec.local))) {
    // Read once, before the first item is sent: every item sends the same references.
    const references = [];
    for (const ref of refs) {
      references.push(
        await decodeImage(await read(ref), labelOf(ref), { maxPixels: spec.maxPixels, lenient: spec.lenient, signal }),
      );
    }
    instruction.references = references;
  } else if (refs.length > 0) ui.warn('--ref: the local pipeline uses no reference pictures; they are not read');
  return {
    spec,
    resolved,
    services,
    inputs,
    style,
    loom,
    paletteSpec,
    weave,
    besides: weave ? weaveFileExts(weave) : [],
    format,
    provider,
    keyed,
    remote,
    instruction,
    ctx,
    read,
    stemOf: (input) => `${input === STDIN ? 'stdin' : inputStem(input)}.${style.name}`,
  };
}

/** --dry-run: the requests each input would send, redacted, on stdout; nothing sent or written. */
async function showRequests(plan: EditPlan): Promise<void> {
  const { spec, services, provider } = plan;
  const { ui, signal } = services;
  if (spec.local) return ui.info('--local sends nothing; nothing to show');
  if (!plan.keyed) ui.warn(`no ${provider.label} key is configured: a real run would be local`);
  const client = await provider.load();
  for (const input of plan.inputs) {
    const picture = await decodeImage(await plan.read(input), labelOf(input), {
      maxPixels: spec.maxPixels,
      lenient: spec.lenient,
      signal,
    });
    for (const planned of await client.edit!.plan(picture, plan.instruction, plan.ctx))
      ui.data({ input, ...describeRequest(planned, services.redactor) });
  }
}

/** Every folder the results go to, looked at once before anything is sent; the set of those looked at. */
async function checkFolders(plan: EditPlan): Promise<Set<string>> {
  const { spec, resolved, services } = plan;
  const checked = new Set<string>();
  for (const input of plan.inputs) {
    await checkOutputFolders(targetFor(spec, resolved, services.cwd, plan.stemOf(input)), services.fs, {
      checked,
      companions: plan.besides,
    });
  }
  return checked;
}

/** Runs every item under the run's journal: skipped when done before, re-attached when its task still runs. */
async function runItems(plan: EditPlan, checked: Set<string>): Promise<void> {
  const { spec, resolved, services, provider, ctx, remote, style, format, inputs } = plan;
  const { ui, fs, cwd } = services;
  const journal = await openRunJournal(
    {
      file: spec.journal === undefined ? undefined : path.resolve(cwd, spec.journal),
      outDir: remote ? path.resolve(cwd, resolved.config.output.dir ?? '.') : undefined,
      resume: spec.resume === true,
      again: spec.again === true,
    },
    services,
  );
  /** What an item's paid result depends on, besides its input's bytes. */
  const settings = {
    ...(remote ? { provider: provider.id, model: ctx.settings.model, instruction: plan.instruction } : {}),
    style: style.name,
    loom: plan.loom,
    paletteSpec: plan.paletteSpec,
    weave: plan.weave,
    format: format.id,
    maxPixels: spec.maxPixels,
    lenient: spec.lenient,
  };
  // One picture is woven here; a batch goes to the worker threads, as many items under way as there are
  // threads (one more, reading ahead, measured no faster).
  const pool = inputs.length > 1 ? services.pool : undefined;
  const threads = pool?.threads ?? 1;
  await runJobs({
    items: inputs,
    label: labelOf,
    ui,
    now: services.now,
    signal: services.signal,
    // Remote items wait for a task slot at the provider's gate; enough of them are under way to fill its slots
    // while others are woven.
    concurrency: inputs.length > 1 ? threads + (remote ? (ctx.gate?.limits.tasksInFlight ?? 1) : 0) : 1,
    activity: () => (remote && ctx.gate ? `${ctx.gate.inFlight} at ${provider.label}` : undefined),
    run: async (input, item) => {
      // Read once: the key is made of its bytes, and stdin cannot be read twice.
      const bytes = journal ? await plan.read(input) : undefined;
      const name = `edit:${input === STDIN ? STDIN : path.resolve(cwd, input)}`;
      return journaled(
        journal,
        // The same picture in two files is two items, with an output each.
        { item: name, key: journal ? itemKey({ item: name, input: bytes, ...settings }) : '' },
        remote ? journalProvider(provider, ctx) : undefined,
        fs,
        (hooks) => editOne(plan, checked, pool, { input, item, hooks, given: bytes }),
        (output, report) => {
          item.ui.info(`${labelOf(input)}: skipped, done in an earlier run (${shown(cwd, output)} is unchanged)`);
          return {
            status: 'skipped',
            input: labelOf(input),
            output,
            ...(report ? { report } : {}),
            style: style.name,
            source: null,
            reason: 'done in an earlier run, and its output is unchanged',
          };
        },
        (output, report) =>
          isTargetOutput(targetFor(spec, resolved, cwd, plan.stemOf(input)), [format.ext], output, report),
      );
    },
    rerunHint: journal ? RERUN_HINT : undefined,
  }).finally(() => journal?.close());
}

function shown(cwd: string, file: string): string {
  return path.relative(cwd, file) || file;
}

/** One picture: read, restyled by the provider when the run is remote, woven, written with its report. */
async function editOne(
  plan: EditPlan,
  checked: Set<string>,
  pool: Services['pool'],
  job: { input: string; item: ItemContext; hooks: TaskHooks; given?: Buffer },
): Promise<JobRecord> {
  const { spec, resolved, services, provider, style, loom, paletteSpec, weave, format } = plan;
  const { input, item, hooks, given } = job;
  const { fs, cwd } = services;
  const label = labelOf(input);
  const target = targetFor(spec, resolved, cwd, plan.stemOf(input));
  await checkTargets(target, fs, { companions: plan.besides, checked });
  const bytes = given ?? (await plan.read(input));
  throwIfAborted(item.signal);
  let acquired: RemotePicture | undefined;
  let inputWarnings: string[] = [];
  if (plan.remote) {
    const picture = await decodeImage(bytes, label, {
      maxPixels: spec.maxPixels,
      lenient: spec.lenient,
      signal: item.signal,
    });
    inputWarnings = picture.warnings;
    acquired = await remoteEdit(
      provider,
      picture,
      plan.instruction,
      { ...plan.ctx, ...hooks, signal: item.signal, ui: item.ui },
      {
        fallback: spec.fallback,
        label,
        ui: item.ui,
        maxPixels: spec.maxPixels,
      },
    );
  }
  throwIfAborted(item.signal);
  const meta: OutputMeta = {
    input: label,
    style: style.name,
    source: acquired?.source ?? 'local',
    provider: acquired ? provider.id : undefined,
    model: acquired?.model,
    taskId: acquired?.taskId,
    requestId: acquired?.requestId,
    remoteError: acquired?.remoteError,
  };
  const spinner = item.ui.spinner(`${label}: weaving ${loom.width} ends, ${loom.colors} colours`);
  try {
    // A remote result is already decoded (and checked); a local picture is decoded where it is woven.
    const finished = await finishBytes(
      {
        ...(acquired ? { image: acquired.image } : { bytes }),
        label,
        maxPixels: spec.maxPixels,
        lenient: spec.lenient,
        loom,
        encode: { format: format.id, meta: services.redactor.value(meta), paletteSpec },
        ...(weave ? { weave } : {}),
      },
      pool,
      item.signal,
    );
    const { result } = finished;
    inputWarnings = [...inputWarnings, ...finished.inputWarnings];
    if (inputWarnings.length > 0) {
      meta.inputWarnings = inputWarnings;
      for (const warning of inputWarnings) item.ui.warn(`${label}: ${warning} (accepted with --lenient)`);
    }
    for (const warning of wovenWarnings(finished.woven)) item.ui.warn(`${label}: ${warning}`);
    const written = await writeLoomImage(
      services,
      target,
      { result, loom, paletteSpec, format, meta },
      item.signal,
      finished.encoded,
      finished.woven,
    );
    spinner.succeed(`${label} → ${written.image === STDOUT ? 'stdout' : shown(cwd, written.image)}`);
    return {
      status: 'ok',
      input: label,
      ...writtenFields(written),
      style: style.name,
      source: meta.source,
      ...(meta.provider ? { provider: meta.provider, model: meta.model } : {}),
      ...(meta.taskId ? { taskId: meta.taskId } : {}),
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
      width: result.image.width,
      height: result.image.height,
      colors: result.image.palette.length / 3,
      ...(meta.remoteError ? { remoteError: meta.remoteError } : {}),
    };
  } catch (err) {
    spinner.fail(`${label}: failed`);
    throw err;
  }
}

/** How an input is named in messages and records: `-` is stdin. */
function labelOf(input: string): string {
  return input === STDIN ? 'stdin' : input;
}
