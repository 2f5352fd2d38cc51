import { describe, expect, it } from '@jest/globals';
import { loomStages, runLoomPipeline } from '../src/loom/pipeline.js';
import { finishLoom } from '../src/stages/finish.js';
import { noisyGradient } from './helpers/images.js';

const settings = { width: 60, colors: 6, dither: 'none', minRegion: 4 } as const;

describe('stopping the weaving', () => {
  it('the pipeline pauses after each stage, and its result is the one-go result', () => {
    const source = noisyGradient(90, 70);
    const stages = loomStages(source, settings);
    const names: string[] = [];
    let step = stages.next();
    while (!step.done) {
      names.push(step.value);
      step = stages.next();
    }
    expect(names).toEqual(['resize', 'palette', 'map', 'clean']);
    expect(step.value).toEqual(runLoomPipeline(source, settings));
  });

  it('a signal that fires while a stage runs stops the weaving at the next stage', async () => {
    const source = noisyGradient(90, 70);
    for (let turns = 0; turns < 5; turns++) {
      const controller = new AbortController();
      // Fires after `turns` turns of the event loop, as a Ctrl-C handled between two stages would.
      const fire = (left: number): void => void setImmediate(() => (left ? fire(left - 1) : controller.abort()));
      fire(turns);
      await expect(finishLoom(source, settings, controller.signal)).rejects.toMatchObject({ kind: 'interrupted' });
    }
  });

  it('without a signal that fires, the result is the pipeline result', async () => {
    const source = noisyGradient(90, 70);
    const woven = await finishLoom(source, settings, new AbortController().signal);
    expect(woven).toEqual(runLoomPipeline(source, { ...settings, height: woven.image.height }));
  });
});
