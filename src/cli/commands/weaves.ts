/** `imagegen weaves`: the built-in and configured structures, each with its repeat drawn in text. */
import { namedStructures } from '../../config/weaves.js';
import { builtInStructures, drawStructure, warpCover, type Structure } from '../../loom/weave/structures.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { createServices, loadConfig } from '../services.js';

/** Repeats wider than this are drawn cut short. */
const DRAW_MAX = 16;

export async function weavesCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const resolved = await loadConfig(ctx, opts, {}, services);
  const { chalk } = services.ui;
  const list: Array<{ structure: Structure; configured: boolean }> = [
    ...builtInStructures().map((structure) => ({ structure, configured: false })),
    ...[...namedStructures(resolved.config.weaves).values()].map((structure) => ({ structure, configured: true })),
  ];
  if (!opts.json) {
    ctx.stdout.write(
      'Each picture is one repeat, top pick first: # warp raised (warp on the face), . warp down (weft on the face).\n' +
        'Use the names in --weave, e.g. --weave "0=satin:8/warp,1=twill:2/2/z,*=plain", or --weave auto (shaded 8-end satins).\n\n',
    );
  }
  for (const { structure, configured } of list) {
    const cover = Math.round(warpCover(structure) * 1000) / 1000;
    const rows = drawStructure(structure);
    if (opts.json) {
      services.ui.data({
        name: structure.name,
        source: configured ? 'config' : 'built-in',
        ends: structure.width,
        picks: structure.height,
        warpCover: cover,
        rows: rows.map((r) => r.replace(/#/g, '1').replace(/\./g, '0')),
      });
      continue;
    }
    const picture = rows
      .slice(0, DRAW_MAX)
      .map((r) => `    ${r.length > DRAW_MAX ? `${r.slice(0, DRAW_MAX)}…` : r}`)
      .join('\n');
    ctx.stdout.write(
      `${chalk.bold(structure.name)}${configured ? ' (config)' : ''}  ${structure.width}×${structure.height}, warp cover ${cover}\n` +
        `${picture}${rows.length > DRAW_MAX ? '\n    …' : ''}\n\n`,
    );
  }
}
