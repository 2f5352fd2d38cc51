/** The loom's layout as a woven design's report gives it. */
import type { WeaveSettings } from '../config/weave.js';
import { layoutLoom, type LoomLayout } from '../loom/weave/layout.js';

export interface LayoutReport {
  hooks: number;
  designEnds: number;
  repeats: number;
  tie: LoomLayout['tie'];
  selvedge: { left: number; right: number; structure: string };
  selectorHooks: number;
}

/** The settings' layout, or one repeat of the design with the selvedges and selector hooks asked for. */
export function layoutOf(settings: WeaveSettings, designWidth: number): LoomLayout {
  return (
    settings.layout ??
    layoutLoom({
      unit: designWidth,
      tie: 'straight',
      selvedge: settings.selvedge,
      ...(settings.selectorHooks && settings.wefts
        ? { selector: { side: settings.selectorHooks, ends: settings.wefts.length } }
        : {}),
    })
  );
}

export function layoutReport(settings: WeaveSettings, layout: LoomLayout): LayoutReport {
  return {
    hooks: layout.hooks,
    designEnds: layout.unit,
    repeats: layout.repeats,
    tie: layout.tie,
    selvedge: { left: layout.selvedge[0], right: layout.selvedge[1], structure: settings.selvedgeWeave ?? 'plain' },
    selectorHooks: layout.selector?.ends ?? 0,
  };
}
