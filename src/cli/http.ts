/**
 * The HTTP port on got. Requests resolve for any HTTP status (callers read provider error bodies); they
 * reject only for network failures, as NetworkErrors. got is loaded on first use, with its own retries off:
 * retrying is decided in one place (src/providers/shared/retry.ts). With --verbose every exchange is logged,
 * keys masked.
 */
import { ImagegenError, InterruptedError, NetworkError } from '../kernel/errors.js';
import type { DownloadResult, HttpClient } from '../kernel/ports.js';
import { shortenBody, type Redactor } from '../kernel/redact.js';

class DownloadTooLargeError extends ImagegenError {
  constructor(maxBytes: number) {
    super('failure', `the result is larger than ${Math.round(maxBytes / 1e6)} MB; download stopped`, {
      hint: 'raise the limit with --max-download <MB> if this is expected',
    });
  }
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
      got.extend({ retry: { limit: 0 }, throwHttpErrors: false, followRedirect: true }),
    ));
  return {
    async request(req) {
      const client = await load();
      try {
        const res = await client(req.url, {
          method: req.method,
          headers: req.headers,
          json: req.json,
          timeout: { request: req.timeoutMs },
          signal: req.signal,
          responseType: 'text',
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        throw networkError(err, req.url, req.signal);
      }
    },
    async download(url, options) {
      const client = await load();
      const stream = client.stream(url, { timeout: { request: options.timeoutMs }, signal: options.signal });
      return new Promise<DownloadResult>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let status = 0;
        let contentType: string | undefined;
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          fn();
        };
        stream.on('response', (res: { statusCode: number; headers: Record<string, string | undefined> }) => {
          status = res.statusCode;
          contentType = res.headers['content-type'];
          const declared = Number(res.headers['content-length']);
          if (status >= 200 && status < 300 && declared > options.maxBytes) {
            stream.destroy();
            finish(() => reject(new DownloadTooLargeError(options.maxBytes)));
          } else if (status < 200 || status >= 300) {
            stream.destroy();
            finish(() => resolve({ status, bytes: Buffer.alloc(0), contentType }));
          }
        });
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            stream.destroy();
            finish(() => reject(new DownloadTooLargeError(options.maxBytes)));
            return;
          }
          chunks.push(chunk);
        });
        stream.on('end', () => finish(() => resolve({ status, bytes: Buffer.concat(chunks), contentType })));
        stream.on('error', (err: unknown) => {
          // got raises an HTTPError-like error for non-2xx only with throwHttpErrors; a status we saw wins.
          if (status && (status < 200 || status >= 300))
            finish(() => resolve({ status, bytes: Buffer.alloc(0), contentType }));
          else finish(() => reject(networkError(err, url, options.signal)));
        });
      });
    },
  };
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
