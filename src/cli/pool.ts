/**
 * The worker pool behind --jobs (piscina). Threads start on the first task, or earlier when a batch is likely,
 * so a run that never needs them (one picture, a remote-only run, --help) pays nothing for them.
 */
import { setFlagsFromString } from 'node:v8';
import type { WorkPool } from '../kernel/ports.js';

type Piscina = import('piscina').Piscina;

export function finishPool(threads: number): WorkPool {
  let piscina: Promise<Piscina> | undefined;
  let closed = false;
  const start = () =>
    (piscina ??= import('piscina').then(({ Piscina }) => {
      syncOptimiseNewThreads();
      return new Piscina({
        filename: new URL('../stages/finish-worker.js', import.meta.url).href,
        minThreads: threads,
        maxThreads: threads,
        // Every task is a whole picture; a queue deeper than the threads only holds decoded pixels longer.
        concurrentTasksPerWorker: 1,
      });
    }));
  return {
    threads,
    prestart() {
      // A failed start is seen by the first run, which awaits the same promise.
      if (!closed) start().catch(() => undefined);
    },
    async run(task, input, options = {}) {
      return (await start()).run(input, { name: task, signal: options.signal, transferList: options.transfer });
    },
    async close() {
      closed = true;
      // A start that failed was reported by the run that needed it, if any did; closing does not repeat it.
      if (piscina)
        await piscina.then(
          (pool) => pool.destroy(),
          () => undefined,
        );
    },
  };
}

/**
 * Threads started from now on optimise hot code on their own thread instead of handing it to a compiler
 * thread. With every core busy weaving, a handed-over compile waits for a free core while the thread goes on
 * in slow unoptimised code; this is what made the first pictures of each thread slow. A thread already
 * running (the main one) keeps the compiler thread it was started with.
 */
function syncOptimiseNewThreads(): void {
  setFlagsFromString('--no-concurrent-recompilation');
}
