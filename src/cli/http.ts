/**
 * The HTTP port on got. Requests resolve for any HTTP status but a redirect (callers read provider error bodies);
 * they reject for network failures, as NetworkErrors. No redirect is followed: an API call that is sent
 * elsewhere fails, as the key would go with it; a download returns the redirect's target for its caller to
 * check, hop by hop. got is loaded on first use, with its own retries off:
 * retrying is decided in one place (src/providers/shared/retry.ts). With --verbose every exchange is logged,
 * keys masked.
 */
import { ImagegenError, InterruptedError, NetworkError, ProviderError } from '../kernel/errors.js';
import type { HttpClient, HttpResponse } from '../kernel/ports.js';
import { shortenBody, type Redactor } from '../kernel/redact.js';
import type { Duplex } from 'node:stream';

class DownloadTooLargeError extends ImagegenError {
  constructor(maxBytes: number) {
    super('failure', `the result is larger than ${Math.round(maxBytes / 1e6)} MB; download stopped`, {
      hint: 'raise the limit with --max-download <MB> if this is expected',
    });
  }
}

/** The largest API answer read (JSON, or an error page); result downloads have their own cap (--max-download). */
const MAX_ANSWER_BYTES = 1000 * 1000;

/** Host and path of a URL, without its query (which may carry a signature). */
function where(url: string): string {
  try {
    const u = new URL(url);
    return u.host + u.pathname;
  } catch {
    return url.split('?')[0];
  }
}

function answerTooLarge(method: string, url: string, maxBytes: number): ImagegenError {
  const mb = Math.round(maxBytes / 1e5) / 10;
  return new ProviderError('failure', `${method} ${where(url)}: answer larger than ${mb} MB; stopped reading it`, {
    code: 'AnswerTooLarge',
    hint: 'check the base URL in the config: it should point at the provider API',
  });
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** Where a redirect points, resolved against the URL that answered it; undefined when it names no place. */
function redirectTarget(url: string, location: unknown): string | undefined {
  if (typeof location !== 'string' || location === '') return undefined;
  try {
    return new URL(location, url).href;
  } catch {
    return undefined;
  }
}

function redirected(method: string, url: string, status: number, location: unknown): ImagegenError {
  const target = redirectTarget(url, location);
  return new ProviderError(
    'failure',
    `${method} ${where(url)} answered HTTP ${status}, a redirect${target ? ` to ${where(target)}` : ''}; API calls do not follow redirects`,
    {
      status,
      code: 'Redirect',
      hint: 'check the base URL in the config: it should be the API host itself, with https',
    },
  );
}

function networkError(err: unknown, url: string, signal?: AbortSignal): ImagegenError {
  if (signal?.aborted) return new InterruptedError();
  const code = (err as { code?: string })?.code;
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const what =
    code === 'ETIMEDOUT'
      ? 'timed out'
      : code === 'ECONNREFUSED'
        ? 'refused the connection'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'could not be resolved'
          : code === 'ECONNRESET'
            ? 'reset the connection'
            : `failed (${code ?? (err instanceof Error ? err.message : String(err))})`;
  return new NetworkError(`${host} ${what}`, { code, hint: 'check the network, or the base URL in the config' });
}

/** The production client, on got. */
export function gotHttpClient(): HttpClient {
  let instance: Promise<typeof import('got').got> | undefined;
  const load = () =>
    (instance ??= import('got').then(({ got }) =>
      got.extend({ retry: { limit: 0 }, throwHttpErrors: false, followRedirect: false }),
    ));
  return {
    async request(req) {
      const client = await load();
      const maxBytes = req.maxBytes ?? MAX_ANSWER_BYTES;
      // Streamed, so that the cap holds while the answer arrives: an endless or huge body is never buffered.
      const stream = client.stream(req.url, {
        method: req.method,
        headers: req.headers,
        // A stream POST without a body would wait for the caller to end it: an empty one is sent instead.
        ...(req.json !== undefined ? { json: req.json } : req.method === 'POST' ? { body: '' } : {}),
        timeout: { request: req.timeoutMs },
      });
      const read = await readCapped(stream, {
        url: req.url,
        maxBytes,
        signal: req.signal,
        tooLarge: () => answerTooLarge(req.method, req.url, maxBytes),
        skipBody: isRedirect,
      });
      if (isRedirect(read.status)) throw redirected(req.method, req.url, read.status, read.headers.location);
      return { status: read.status, headers: read.headers, body: read.body.toString('utf8') };
    },
    async download(url, options) {
      const client = await load();
      const stream = client.stream(url, { timeout: { request: options.timeoutMs } });
      const read = await readCapped(stream, {
        url,
        maxBytes: options.maxBytes,
        signal: options.signal,
        tooLarge: () => new DownloadTooLargeError(options.maxBytes),
        skipBody: (status) => status < 200 || status >= 300,
      });
      const contentType = read.headers['content-type'];
      return {
        status: read.status,
        bytes: read.body,
        contentType: typeof contentType === 'string' ? contentType : undefined,
        redirectTo: isRedirect(read.status) ? redirectTarget(url, read.headers.location) : undefined,
      };
    },
  };
}

interface CappedRead {
  status: number;
  headers: HttpResponse['headers'];
  body: Buffer;
}

/**
 * Reads a got stream to its end, never holding more than `maxBytes`: past it, or when Content-Length says so,
 * the stream is destroyed and the read fails with `tooLarge()`. A status for which `skipBody` holds resolves at
 * once with an empty body. The abort signal is listened to here, not by got, so that the listener goes when the
 * read ends: one run's signal is shared by every request of a batch, and got's listeners stay until the end.
 */
function readCapped(
  stream: Duplex,
  options: {
    url: string;
    maxBytes: number;
    signal?: AbortSignal;
    tooLarge: () => Error;
    skipBody: (status: number) => boolean;
  },
): Promise<CappedRead> {
  const { signal } = options;
  return new Promise<CappedRead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let status = 0;
    let headers: HttpResponse['headers'] = {};
    let settled = false;
    const onAbort = () => fail(new InterruptedError());
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (err: Error) => {
      stream.destroy();
      finish(() => reject(err));
    };
    const empty = () => {
      stream.destroy();
      finish(() => resolve({ status, headers, body: Buffer.alloc(0) }));
    };
    if (signal?.aborted) return fail(new InterruptedError());
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('response', (res: { statusCode: number; headers: HttpResponse['headers'] }) => {
      status = res.statusCode;
      headers = res.headers;
      if (options.skipBody(status)) empty();
      else if (Number(res.headers['content-length']) > options.maxBytes) fail(options.tooLarge());
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) return fail(options.tooLarge());
      chunks.push(chunk);
    });
    stream.on('end', () => finish(() => resolve({ status, headers, body: Buffer.concat(chunks, size) })));
    stream.on('error', (err: unknown) => {
      if (status && options.skipBody(status)) empty();
      else finish(() => reject(networkError(err, options.url, signal)));
    });
  });
}

/** Wraps a client so each exchange is logged (redacted) through `log`. */
export function loggingHttpClient(inner: HttpClient, log: (line: string) => void, redactor: Redactor): HttpClient {
  return {
    async request(req) {
      const started = Date.now();
      log(
        `→ ${req.method} ${req.url} ${JSON.stringify(redactor.headers(req.headers))}${req.json === undefined ? '' : ' ' + redactor.text(JSON.stringify(shortenBody(req.json)))}`,
      );
      try {
        const res = await inner.request(req);
        const body = res.body.length > 500 ? `${res.body.slice(0, 500)}…` : res.body;
        log(`← ${res.status} ${req.method} ${req.url} (${Date.now() - started} ms) ${redactor.text(body)}`);
        return res;
      } catch (err) {
        log(
          `← ${req.method} ${req.url} failed after ${Date.now() - started} ms: ${err instanceof Error ? err.message : String(err)}`,
        );
        throw err;
      }
    },
    async download(url, options) {
      const started = Date.now();
      log(`→ GET ${url}`);
      const res = await inner.download(url, options);
      log(`← ${res.status} GET ${url} (${Date.now() - started} ms, ${res.bytes.length} bytes)`);
      return res;
    },
  };
}
