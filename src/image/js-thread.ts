/**
 * Runs the pure-JS decoders (src/image/js-decode.ts) on a thread of their own, so that a decode can be
 * stopped: a run that is interrupted does not wait for it, and a decode that takes longer than its picture's
 * size allows, or whose decoder's heap outgrows its limit, is ended and reported. The headers are checked
 * beforehand (each format of src/image/formats/) for what is known to make these decoders loop; this holds for whatever
 * is not known.
 *
 * One thread is kept between decodes, idle and not holding the process open, so that a batch does not start
 * one per picture; a thread that was stopped is replaced by a new one at the next decode.
 *
 * The thread runs the built module (dist/image/js-decode-worker.js), found from here the same way in the
 * build and in the sources the tests run. It is ended only once it has loaded its module: ending a thread
 * while Node loads an ES module can abort the whole process.
 */
import { Worker } from 'node:worker_threads';
import type { Bitmap } from './wasm-codecs.js';

export interface ThreadRequest {
  bytes: Uint8Array;
  lenient: boolean;
  /** A TIFF's widest row (see src/image/js-decode.ts). */
  widestRow?: number;
}

export type ThreadAnswer =
  | { ready: true }
  | { ok: true; width: number; height: number; data: Uint8Array; warnings: string[] }
  | { ok: false; message: string; range: boolean };

/** The decode took longer than it was given. */
export class DecodeTimeout extends Error {}

/** The decoder's heap outgrew the thread's limit. */
export class DecodeOutOfMemory extends Error {}

const WORKER = new URL('../../dist/image/js-decode-worker.js', import.meta.url);

/** The decoders keep their pixels outside the heap; what they keep on it is small beside them. */
const HEAP_LIMIT_MB = 512;

/** A loaded thread with no decode under way. */
let idle: Worker | undefined;

export interface ThreadLimits {
  /** Longest the decode may take. */
  ms: number;
  /** A TIFF's widest row, as its header declares it. */
  widestRow?: number;
  /** Stops the decode; the promise is then rejected with the signal's reason. */
  signal?: AbortSignal;
}

function startThread(): Worker {
  const worker = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB } });
  worker.on('exit', () => {
    if (idle === worker) idle = undefined;
  });
  return worker;
}

/** Decodes `bytes` (copied, not taken) on the decode thread. */
export function decodeOnThread(
  bytes: Uint8Array,
  lenient: boolean,
  { ms, signal, widestRow }: ThreadLimits,
): Promise<{ bitmap: Bitmap; warnings: string[] }> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  let loaded = idle !== undefined;
  const worker = idle ?? startThread();
  idle = undefined;
  worker.ref();
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const send = () => {
      const copy = new Uint8Array(bytes);
      worker.postMessage({ bytes: copy, lenient, widestRow } satisfies ThreadRequest, [copy.buffer]);
      // The time counts from here: loading the decoders is not the picture's doing.
      timer = setTimeout(
        () =>
          fail(new DecodeTimeout(`stopped after ${Math.round(ms / 1000)} s, the most a picture of its size is given`)),
        ms,
      );
    };
    const detach = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    /** The decoder answered: the thread can take the next picture. */
    const done = (outcome: () => void) => {
      detach();
      if (idle) void worker.terminate();
      else {
        worker.unref();
        idle = worker;
      }
      outcome();
    };
    /** The decode is given up: the thread is ended (once it has loaded, see above). */
    const fail = (err: Error) => {
      if (settled) return;
      detach();
      if (loaded) void worker.terminate();
      else worker.once('message', () => void worker.terminate());
      reject(err);
    };
    const onAbort = () => fail(signal!.reason as Error);
    const onMessage = (answer: ThreadAnswer) => {
      if ('ready' in answer) {
        loaded = true;
        send();
      } else if (answer.ok) {
        const { width, height, data, warnings } = answer;
        const bitmap = { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
        done(() => resolve({ bitmap, warnings }));
      } else {
        const err = answer.range ? new RangeError(answer.message) : new Error(answer.message);
        done(() => reject(err));
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      // A thread that failed has stopped: there is nothing left to end.
      loaded = true;
      fail(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DecodeOutOfMemory(`stopped: its working memory outgrew ${HEAP_LIMIT_MB} MB`)
          : err,
      );
    };
    const onExit = () => {
      loaded = true;
      fail(new Error('the decode thread ended without an answer'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    if (loaded) send();
  });
}
