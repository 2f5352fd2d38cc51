import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { threadsLoaded } from '../src/cli/pool.js';
import { WORKER_LOADED } from '../src/kernel/ports.js';

/** A pool with two threads that say nothing until told to. */
function fakePool() {
  const pool = new EventEmitter();
  const threads = [1, 2].map((threadId) => Object.assign(new EventEmitter(), { threadId }));
  return { pool, threads, view: Object.assign(pool, { threads }) as never };
}

/** Whether `promise` has settled after the pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('threadsLoaded', () => {
  it('waits for every thread to load its module, or to end, and for nothing else', async () => {
    const { pool, threads, view } = fakePool();
    const loaded = threadsLoaded(view);
    pool.emit('message', { other: 1 });
    pool.emit('message', { [WORKER_LOADED]: 1 });
    pool.emit('message', { [WORKER_LOADED]: 1 }); // the same thread twice does not count for the other
    expect(await settled(loaded)).toBe(false);
    threads[1].emit('exit', 1);
    expect(await settled(loaded)).toBe(true);
  });

  it('settles on a thread that fails to start, and gives up after its wait', async () => {
    const failed = fakePool();
    const loaded = threadsLoaded(failed.view);
    failed.pool.emit('message', { [WORKER_LOADED]: 2 });
    failed.threads[0].emit('error', new Error('boot failed'));
    expect(await settled(loaded)).toBe(true);
    const silent = fakePool();
    const waited = threadsLoaded(silent.view, 20);
    expect(await settled(waited)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await settled(waited)).toBe(true);
  });
});
