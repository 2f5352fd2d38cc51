import { describe, expect, it } from '@jest/globals';
import { loomStages, runLoomPipeline } from '../src/loom/pipeline.js';
import { finishLoom } from '../src/stages/finish.js';
import { RERUN_HINT, runJobs, type ItemContext } from '../src/jobs/run.js';
import { InterruptedError } from '../src/kernel/errors.js';
import type { JobRecord } from '../src/kernel/records.js';
import { noisyGradient } from './helpers/images.js';
import { recordingUi } from './helpers/ui.js';

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

describe('a batch stopped by Ctrl-C', () => {
  it('reports every item: stopped ones interrupted, unstarted ones skipped; then each running task, the summary, the hint', async () => {
    const rec = recordingUi();
    const controller = new AbortController();
    const run = (item: string, ctx: ItemContext) =>
      new Promise<JobRecord>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () =>
          reject(
            new InterruptedError('interrupted; its task may still finish', {
              provider: 'dashscope',
              taskId: `t${item}`,
            }),
          ),
        );
        if (item === 'c') controller.abort(new InterruptedError());
      });
    const error = await runJobs({
      items: ['a', 'c', 'b', 'd', 'e'],
      label: (item) => `${item}.png`,
      run,
      ui: rec.ui,
      now: () => 0,
      signal: controller.signal,
      concurrency: 2,
      rerunHint: RERUN_HINT,
    }).then(
      () => undefined,
      (err: unknown) => err as InterruptedError,
    );
    expect(error).toMatchObject({
      kind: 'interrupted',
      message: 'interrupted; 2 tasks may still finish (see above)',
      hint: RERUN_HINT,
    });
    const byInput = Object.fromEntries(rec.results.map((r) => [r.input, r]));
    expect(byInput['a.png']).toMatchObject({ status: 'interrupted', error: { taskId: 'ta' } });
    expect(byInput['c.png']).toMatchObject({ status: 'interrupted', error: { taskId: 'tc' } });
    for (const unstarted of ['b.png', 'd.png', 'e.png'])
      expect(byInput[unstarted]).toMatchObject({ status: 'skipped', reason: 'not started: the run was interrupted' });
    expect(rec.summaries).toEqual([
      expect.objectContaining({ total: 5, ok: 0, failed: 0, interrupted: 2, skipped: 3 }),
    ]);
    expect(rec.lines.warn).toEqual([
      'a.png: its dashscope task may still finish; fetch it with: imagegen task wait dashscope:ta',
      'c.png: its dashscope task may still finish; fetch it with: imagegen task wait dashscope:tc',
    ]);
  });

  it('a task canceled at the interrupt has no line to fetch it; a local run ends without the rerun hint', async () => {
    const rec = recordingUi();
    const controller = new AbortController();
    const error = await runJobs({
      items: ['a'],
      label: (item) => item,
      run: () => {
        controller.abort(new InterruptedError());
        return Promise.reject(
          new InterruptedError('interrupted; its task was canceled', {
            code: 'TaskCanceled',
            provider: 'dashscope',
            taskId: 't',
          }),
        );
      },
      ui: rec.ui,
      now: () => 0,
      signal: controller.signal,
      concurrency: 1,
    }).catch((err: unknown) => err as InterruptedError);
    expect(error).toMatchObject({ kind: 'interrupted', message: 'interrupted; its task was canceled' });
    expect(error?.hint).toBeUndefined();
    expect(rec.lines.warn).toEqual([]);
    expect(rec.results).toEqual([expect.objectContaining({ status: 'interrupted' })]);
  });
});
