/** The worker-thread module of the finish pool: each export is a task the pool can run by name. */
import { finishBytesOutcome, type FinishInput, type FinishOutcome } from './finish.js';

export function finishBytes(input: FinishInput): Promise<FinishOutcome> {
  return finishBytesOutcome(input);
}
