/**
 * The worker pool behind --jobs (piscina). Threads start on the first task, or earlier when a batch is likely,
 * so a run that never needs them (one picture, a remote-only run, --help) pays nothing for them.
 */
import { WORKER_LOADED, type WorkPool } from '../kernel/ports.js';

type Piscina = import('piscina').Piscina;

export function finishPool(threads: number): WorkPool {
  let piscina: Promise<Piscina> | undefined;
  let loaded: Promise<void> = Promise.resolve();
  let closed = false;
  const start = () =>
    (piscina ??= Promise.all([import('piscina'), import('node:v8')]).then(([{ Piscina }, v8]) => {
      v8.setFlagsFromString(SYNC_OPTIMISATION);
      const pool = new Piscina({
        filename: new URL('../stages/finish-worker.js', import.meta.url).href,
        minThreads: threads,
        maxThreads: threads,
        // Every task is a whole picture; a queue deeper than the threads only holds decoded pixels longer.
        concurrentTasksPerWorker: 1,
      });
      loaded = threadsLoaded(pool);
      return pool;
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
          async (pool) => {
            await loaded;
            await pool.destroy();
          },
          () => undefined,
        );
    },
  };
}

/** Longest wait for the threads to load their module before stopping them anyway. */
const LOAD_WAIT_MS = 10_000;

/**
 * Settles once every thread of `pool` has loaded the worker module, or ended. A thread stopped while Node
 * loads that module (an ES module, which piscina loads through require) can abort the whole process with a
 * fatal V8 error, so the pool is stopped only after this: a run that fails at once, or is interrupted, while
 * the threads still boot waits the rest of their boot.
 */
export function threadsLoaded(pool: Pick<Piscina, 'threads' | 'on'>, waitMs = LOAD_WAIT_MS): Promise<void> {
  const waiting = new Set(pool.threads.map((thread) => thread.threadId));
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    timer.unref();
    const settle = (id: number) => {
      waiting.delete(id);
      if (waiting.size > 0) return;
      clearTimeout(timer);
      resolve();
    };
    pool.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && WORKER_LOADED in message)
        settle(Number((message as Record<string, unknown>)[WORKER_LOADED]));
    });
    for (const thread of pool.threads) {
      const id = thread.threadId;
      thread.once('exit', () => settle(id));
      thread.once('error', () => settle(id));
    }
    if (waiting.size === 0) resolve();
  });
}

/**
 * The V8 flag by which threads started after it is set optimise hot code on their own thread instead of
 * handing it to a compiler thread. With every core busy weaving, a handed-over compile waits for a free core
 * while the thread goes on in slow unoptimised code; this is what made the first pictures of each thread
 * slow. (The flag is the process's; in a batch the main thread does little but hand out the work.)
 */
const SYNC_OPTIMISATION = '--no-concurrent-recompilation';
