/**
 * The decode thread's module (see src/image/js-thread.ts): it says when it has loaded, then answers each
 * picture it is sent with its pixels or the decoder's error.
 */
import { parentPort } from 'node:worker_threads';
import { decodeJs } from './js-decode.js';
import type { ThreadAnswer, ThreadRequest } from './js-thread.js';

const port = parentPort!;
port.on('message', ({ bytes, lenient, widestRow }: ThreadRequest) => {
  decodeJs(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), lenient, widestRow).then(
    ({ bitmap, warnings }) => {
      // Pixels in a buffer of their own are handed over; a view into a shared one is copied first.
      const { data } = bitmap;
      const own =
        data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
          ? new Uint8Array(data.buffer)
          : new Uint8Array(data);
      const answer: ThreadAnswer = { ok: true, width: bitmap.width, height: bitmap.height, data: own, warnings };
      port.postMessage(answer, [own.buffer as ArrayBuffer]);
    },
    (err: unknown) =>
      port.postMessage({
        ok: false,
        message: err instanceof Error ? err.message : String(err),
        range: err instanceof RangeError,
      } satisfies ThreadAnswer),
  );
});
port.postMessage({ ready: true } satisfies ThreadAnswer);
