/**
 * The weave settings a job runs with, checked in full before any picture is fetched or woven: the map (from
 * --weave, else the style's, else `weave.map`, else auto) against the configured structures and the palette,
 * the yarns, the float limit and the selvedge. The checks of a weave are in weaving.ts, loaded only when
 * something asks for weaving.
 */
import { UsageError } from '../kernel/errors.js';
import type { Fs } from '../kernel/ports.js';
import type { LoomSettings } from '../loom/types.js';
import type { ReadFile } from './palette.js';
import { hasWidth, resolveLoomSettings } from './loom.js';
import type { ResolvedConfig } from './resolve.js';
import type { StylePreset } from './styles.js';
import type { WeaveFlags, WeaveSettings } from './weaving.js';

export type { WeaveFlags, WeaveSettings } from './weaving.js';

export const NO_WEAVE: WeaveFlags = { weave: false, tile: false, invert: false };

/** The extensions of the files a woven design adds beside its image. */
export function weaveFileExts(settings: WeaveSettings): string[] {
  return [`lift.${settings.liftFormat}`, 'cloth.png', ...(settings.wefts ? ['back.png', 'wefts.csv'] : [])];
}

/**
 * The weave settings (undefined when nothing asks for weaving: no --weave and no `weave.map`), and the loom
 * settings the design is made with: with several wefts its palette is taken among the colours the yarns can
 * weave, or a fixed palette is moved to the nearest of them.
 */
async function resolveWeaveSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  loom: LoomSettings,
  flags: WeaveFlags,
  readFile: ReadFile,
): Promise<{ weave?: WeaveSettings; loom: LoomSettings }> {
  const { config, sources } = resolved;
  if (!flags.weave && sources['weave.map'] === undefined) {
    // Options of the lift plan and the cloth preview, typed with nothing to weave, would do nothing.
    const given = [
      ...(flags.tile ? ['--tile'] : []),
      ...(flags.invert ? ['--invert'] : []),
      ...Object.entries(sources).flatMap(([key, source]) =>
        key.startsWith('weave.') && source?.kind === 'flag' ? [source.name] : [],
      ),
    ];
    if (given.length) {
      throw new UsageError(
        `${given.join(', ')} ${given.length > 1 ? 'apply' : 'applies'} to the lift plan: add --weave`,
      );
    }
    // Without a lift plan there are no selvedges: the design takes every hook.
    const hooks = config.loom.hooks;
    if (hooks === undefined) return { loom };
    if (hasWidth(resolved) && loom.width !== hooks) {
      throw new UsageError(
        `--hooks ${hooks} and --width ${loom.width}: without --weave the design is the loom's width`,
        {
          hint: 'give one of them, or add --weave to lay repeats and selvedges across the hooks',
        },
      );
    }
    return { loom: { ...loom, width: hooks } };
  }
  return (await import('./weaving.js')).weaveSettings(resolved, style, loom, flags, readFile);
}

/** A job's loom and weave settings for one style: the loom's as the yarns leave them, and its palette as written. */
export async function resolveJobSettings(
  resolved: ResolvedConfig,
  style: StylePreset,
  flags: WeaveFlags,
  fs: Pick<Fs, 'readFile'>,
): Promise<{ loom: LoomSettings; paletteSpec?: string | string[]; weave?: WeaveSettings }> {
  const { loom, paletteSpec } = await resolveLoomSettings(resolved, style, fs);
  const readFile: ReadFile = (file, options) => fs.readFile(file, options);
  return { paletteSpec, ...(await resolveWeaveSettings(resolved, style, loom, flags, readFile)) };
}
