/**
 * `imagegen weaves`: the built-in and configured structures, each with its repeat drawn in text; with
 * --wefts, the effects those yarns can weave in a compound cloth, each with its colour.
 */
import { Chalk } from 'chalk';
import { parseWefts } from '../../config/weaving.js';
import { namedStructures } from '../../config/weaves.js';
import { parseHex, toHex } from '../../loom/color.js';
import { parseWeaveMap } from '../../loom/weave/assign.js';
import { effectName, weftEffects, type Rgb } from '../../loom/weave/effects.js';
import { builtInStructures, drawStructure, warpCover, type Structure } from '../../loom/weave/structures.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { createServices, loadConfig } from '../services.js';

/** Repeats wider than this are drawn cut short. */
const DRAW_MAX = 16;

export async function weavesCommand(ctx: CliContext, opts: GlobalOptions & Record<string, unknown>): Promise<void> {
  const services = await createServices(ctx, opts);
  const flags = {
    ...(typeof opts.wefts === 'string' ? { 'weave.wefts': { value: opts.wefts, flag: '--wefts' } } : {}),
    ...(typeof opts.warp === 'string' ? { 'weave.warp': { value: opts.warp, flag: '--warp' } } : {}),
  };
  const resolved = await loadConfig(ctx, opts, flags, services);
  const chalk = new Chalk({ level: services.ui.colorLevel });
  const weftSpec = resolved.config.weave.wefts;
  if (weftSpec !== undefined) {
    const where = resolved.sources['weave.wefts']?.kind === 'flag' ? '--wefts' : 'weave.wefts';
    const yarns: Rgb[] = await parseWefts(weftSpec, where, (file, options) => services.fs.readFile(file, options));
    const warp = parseHex(resolved.config.weave.warp)!;
    // The satin of the configured map's auto:N, as edit would weave.
    let ends = 8;
    try {
      ends = parseWeaveMap(resolved.config.weave.map ?? 'auto', namedStructures(resolved.config.weaves)).auto ?? 8;
    } catch {
      // a map that is no auto map: edit refuses it with several wefts, and names it there
    }
    const effects = weftEffects(warp, yarns, ends, { mixes: true });
    const hex = (rgb: readonly number[]) => toHex(rgb[0], rgb[1], rgb[2]);
    if (!opts.json) {
      ctx.stdout.write(
        `The effects of warp ${hex(warp)} and wefts ${yarns.map(hex).join(', ')} (shuttle order), as --weave auto --wefts chooses among them:\n` +
          `each design row is woven as one pick per weft; a colour is a face weft in a shaded ${ends}-end satin (the others behind),\n` +
          "or two wefts sharing the face end by end (1:1, 2:1 or 3:1). Colours are the appearance model's: the face weft and the warp mixed in\n" +
          'linear light by the warp cover, the back wefts hidden.\n\n',
      );
    }
    for (const e of effects) {
      const record = {
        hex: hex(e.rgb),
        weft: e.weft + 1,
        ...(e.weft2 === undefined ? {} : { weft2: e.weft2 + 1 }),
        structure: effectName(e),
        warpCover: Math.round(e.cover * 1000) / 1000,
      };
      if (opts.json) {
        services.ui.data(record);
        continue;
      }
      const swatch = chalk.level > 0 ? `${chalk.bgHex(record.hex)('    ')} ` : '';
      const wefts = e.weft2 === undefined ? `weft ${e.weft + 1}` : `wefts ${e.weft + 1}+${e.weft2 + 1}`;
      ctx.stdout.write(
        `${swatch}${record.hex}  ${wefts.padEnd(10)} ${record.structure.padEnd(28)} warp cover ${record.warpCover}\n`,
      );
    }
    return;
  }
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
