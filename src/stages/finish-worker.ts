/** The worker-thread module of the finish pool: each export is a task the pool can run by name. */
import { parentPort, threadId } from 'node:worker_threads';
import { WORKER_LOADED } from '../kernel/ports.js';
import { finishBytesOutcome, type FinishInput, type FinishOutcome } from './finish.js';

export function finishBytes(input: FinishInput): Promise<FinishOutcome> {
  return finishBytesOutcome(input);
}

// The pool waits for this before it stops the thread (see finishPool).
parentPort?.postMessage({ [WORKER_LOADED]: threadId });
