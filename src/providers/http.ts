/**
 * The HTTP seam for providers. Requests resolve for any HTTP status (callers read provider error bodies);
 * they reject only for network failures, as NetworkErrors. got is loaded on first use, with its own retries
 * off: retrying is decided in one place (src/providers/retry.ts). Every exchange can be logged with keys
 * redacted.
 */
import { ImagegenError, InterruptedError } from '../core/errors.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  json?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  status: number;
  bytes: Buffer;
  contentType?: string;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Streams a body, stopping as soon as it passes maxBytes. Non-2xx statuses resolve with an empty body. */
  download(url: string, options: DownloadOptions): Promise<DownloadResult>;
}

export class NetworkError extends ImagegenError {
  constructor(message: string, details: ConstructorParameters<typeof ImagegenError>[2] = {}) {
    super('network', message, details);
  }
}

export class DownloadTooLargeError extends ImagegenError {
  constructor(maxBytes: number) {
    super('failure', `the result is larger than ${Math.round(maxBytes / 1e6)} MB; download stopped`, {
      hint: 'raise the limit with --max-download <MB> if this is expected',
    });
  }
}

/** Masks every secret in a text: `sk-…abcd`, or `…` for one too short to show any of. */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join(secret.length >= 12 ? `${secret.slice(0, 3)}…${secret.slice(-4)}` : '…');
  }
  return out;
}

/** A copy of a JSON body with long strings (base64 images) shortened, for logs and --dry-run. */
export function shortenBody(value: unknown, max = 96): unknown {
  if (typeof value === 'string') {
    return value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value;
  }
  if (Array.isArray(value)) return value.map((v) => shortenBody(v, max));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shortenBody(v, max)]));
  }
  return value;
}

/** Headers with secrets masked; an Authorization token is masked even if it is not a known key. */
export function redactHeaders(headers: Record<string, string>, secrets: readonly (string | undefined)[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => {
      if (k.toLowerCase() !== 'authorization') return [k, redactText(v, secrets)];
      const m = /^(\S+\s+)(.+)$/.exec(v);
      const token = m ? m[2] : v;
      const masked = token.length >= 12 ? `${token.slice(0, 3)}…${token.slice(-4)}` : '…';
      return [k, token.startsWith('(') ? v : `${m ? m[1] : ''}${masked}`];
    }),
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
          if (status && (status < 200 || status >= 300)) finish(() => resolve({ status, bytes: Buffer.alloc(0), contentType }));
          else finish(() => reject(networkError(err, url, options.signal)));
        });
      });
    },
  };
}

/** Wraps a client so each exchange is logged (redacted) through `log`. */
export function loggingHttpClient(inner: HttpClient, log: (line: string) => void, secrets: readonly (string | undefined)[]): HttpClient {
  return {
    async request(req) {
      const started = Date.now();
      log(`→ ${req.method} ${req.url} ${JSON.stringify(redactHeaders(req.headers, secrets))}${req.json === undefined ? '' : ' ' + redactText(JSON.stringify(shortenBody(req.json)), secrets)}`);
      try {
        const res = await inner.request(req);
        const body = res.body.length > 500 ? `${res.body.slice(0, 500)}…` : res.body;
        log(`← ${res.status} ${req.method} ${req.url} (${Date.now() - started} ms) ${redactText(body, secrets)}`);
        return res;
      } catch (err) {
        log(`← ${req.method} ${req.url} failed after ${Date.now() - started} ms: ${err instanceof Error ? err.message : String(err)}`);
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
