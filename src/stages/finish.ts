/** The finish stage: a decoded picture becomes a loom image through the pure loom pipeline. */
import { MAX_GRID_SIDE } from '../config/schema.js';
import { UsageError, throwIfAborted } from '../kernel/errors.js';
import { runLoomPipeline, type LoomResult } from '../loom/pipeline.js';
import { gridHeight } from '../loom/resize.js';
import type { LoomSettings, RgbaImage } from '../loom/types.js';

export function finishLoom(source: RgbaImage, settings: LoomSettings, signal?: AbortSignal): LoomResult {
  const height = settings.height ?? gridHeight(settings.width, source.width, source.height, settings.density);
  if (height > MAX_GRID_SIDE) {
    throw new UsageError(
      `the grid would be ${settings.width} × ${height}; at most ${MAX_GRID_SIDE} picks are allowed`,
      {
        hint: 'give a smaller --width or an explicit --height',
      },
    );
  }
  throwIfAborted(signal);
  const result = runLoomPipeline(source, { ...settings, height });
  throwIfAborted(signal);
  return result;
}
