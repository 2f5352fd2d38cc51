/**
 * Keys never leave the process in full: every configured key is masked (`sk-…abcd`) in whatever text passes
 * through a Redactor, and an Authorization header is masked even when its token is not a known key.
 */

/** A secret as its first three and last four characters: `sk-…abcd`; `…` for one too short to show. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 3)}…${secret.slice(-4)}` : '…';
}

export class Redactor {
  private readonly secrets = new Set<string>();

  constructor(secrets: Iterable<string | undefined> = []) {
    this.add(secrets);
  }

  add(secrets: Iterable<string | undefined>): void {
    for (const secret of secrets) {
      // A key of one or two characters would mask ordinary text; such a key is rejected by the service anyway.
      if (secret && secret.trim().length >= 3) this.secrets.add(secret.trim());
    }
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(maskSecret(secret));
    // Any bearer token, known or not (a key echoed by a proxy may differ from ours by a character).
    // A token already masked is left as it is.
    return out.replace(/\b(Bearer\s+)([^\s"',;]{8,})/g, (whole, prefix: string, token: string) =>
      token.includes('…') ? whole : prefix + maskSecret(token),
    );
  }

  /** Headers with secrets masked; an Authorization token is masked even if it is not a known key. */
  headers(headers: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(headers).map(([k, v]) => {
        if (k.toLowerCase() !== 'authorization') return [k, this.text(v)];
        const m = /^(\S+\s+)(.+)$/.exec(v);
        const token = m ? m[2] : v;
        return [k, token.startsWith('(') ? v : `${m ? m[1] : ''}${maskSecret(token)}`];
      }),
    );
  }

  /** A JSON value with every string redacted. */
  value<T>(value: T): T {
    return JSON.parse(this.text(JSON.stringify(value))) as T;
  }
}

/**
 * Text from outside (file names, provider messages, task ids) as it may be printed: every control character,
 * newline and tab included, as a `\xNN` escape, so that a name cannot forge a line, split one path into two or
 * drive the terminal; the line separators and the controls that reorder a line, as `\uNNNN`.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Deeper than this, a body is shown as `…`: the copy is recursive, and a request body is never this deep. */
const MAX_SHOWN_DEPTH = 32;

/** A copy of a JSON body with long strings (base64 images) shortened, for logs and --dry-run. */
export function shortenBody(value: unknown, max = 96, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value;
  }
  if (value && typeof value === 'object' && depth >= MAX_SHOWN_DEPTH) return '…';
  if (Array.isArray(value)) return value.map((v) => shortenBody(v, max, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shortenBody(v, max, depth + 1)]));
  }
  return value;
}

/** A request that would be sent, as --dry-run prints it. */
export interface PlannedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  json?: unknown;
}

/** A planned request as --dry-run and --verbose show it: keys masked, base64 shortened. */
export function describeRequest(request: PlannedRequest, redactor: Redactor): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url,
    headers: redactor.headers(request.headers),
    ...(request.json === undefined ? {} : { body: redactor.value(shortenBody(request.json)) }),
  };
}
