/**
 * Redirects: an API call never follows one (the key would go with it), and a result download follows one only
 * to a place the first URL's rules accept, checked at each hop.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gotHttpClient } from '../src/cli/http.js';
import { ProviderError } from '../src/kernel/errors.js';
import { isLocalAddress } from '../src/kernel/hosts.js';
import type { HttpClient } from '../src/kernel/ports.js';
import { dashscope } from '../src/providers/dashscope/index.js';
import { fetchResult } from '../src/providers/shared/result.js';
import type { ProviderContext } from '../src/providers/types.js';
import { recordingUi } from './helpers/ui.js';
import { Redactor } from '../src/kernel/redact.js';

/** A server that records every request it gets and answers each path as `routes` says. */
async function recordingServer(
  routes: (path: string, base: string) => { status: number; headers?: Record<string, string>; body?: string },
): Promise<{ server: Server; url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  let url = '';
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    const reply = routes(req.url ?? '/', url);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, seen };
}

describe('gotHttpClient never follows a redirect', () => {
  let api: Awaited<ReturnType<typeof recordingServer>>;
  let elsewhere: Awaited<ReturnType<typeof recordingServer>>;

  beforeAll(async () => {
    elsewhere = await recordingServer(() => ({ status: 200, body: '{"ok":true}' }));
    api = await recordingServer((path) =>
      path.startsWith('/moved')
        ? { status: 307, headers: { location: `${elsewhere.url}/api/v1/x` } }
        : { status: 302, headers: { location: `${elsewhere.url}/r.png` } },
    );
  });
  afterAll(async () => {
    await new Promise((r) => api.server.close(r));
    await new Promise((r) => elsewhere.server.close(r));
  });

  it('an API call answered by a redirect fails, naming it, and nothing reaches its target', async () => {
    const http = gotHttpClient();
    const call = http.request({
      method: 'POST',
      url: `${api.url}/moved/api/v1/services`,
      headers: { authorization: 'Bearer sk-redirect-test-0000' },
      json: { a: 1 },
      timeoutMs: 4000,
    });
    await expect(call).rejects.toBeInstanceOf(ProviderError);
    await expect(call).rejects.toThrow(
      /answered HTTP 307, a redirect to 127\.0\.0\.1:\d+\/api\/v1\/x; API calls do not/,
    );
    expect(api.seen).toHaveLength(1);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('a download answered by a redirect returns its target, resolved, without fetching it', async () => {
    const res = await gotHttpClient().download(`${api.url}/result.png`, { maxBytes: 1000, timeoutMs: 4000 });
    expect(res.status).toBe(302);
    expect(res.redirectTo).toBe(`${elsewhere.url}/r.png`);
    expect(elsewhere.seen).toHaveLength(0);
  });
});

describe('fetchResult checks every hop', () => {
  const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

  /** A provider context on an https base URL whose downloads answer from `hops` (URL → redirect or bytes). */
  function context(hops: Record<string, string | Buffer>) {
    const fetched: string[] = [];
    const http: HttpClient = {
      request: () => Promise.reject(new Error('no API call expected')),
      download: async (url) => {
        fetched.push(url);
        const answer = hops[url];
        if (answer === undefined) return { status: 404, bytes: Buffer.alloc(0) };
        return typeof answer === 'string'
          ? { status: 302, bytes: Buffer.alloc(0), redirectTo: answer }
          : { status: 200, bytes: answer, contentType: 'image/png' };
      },
    };
    const ctx = {
      provider: dashscope,
      settings: { baseUrl: 'https://dashscope.aliyuncs.com', apiKey: 'sk-x' },
      limits: { maxDownloadBytes: 1000, downloadTimeoutMs: 1000 },
      http,
      sleep: () => Promise.resolve(),
      now: () => 0,
      ui: recordingUi().ui,
      redactor: new Redactor([]),
    } as unknown as ProviderContext;
    return { ctx, fetched };
  }

  const first = 'https://dashscope-result.oss-cn-beijing.aliyuncs.com/r.png';

  it('a redirect to plain http is refused before it is fetched', async () => {
    const { ctx, fetched } = context({ [first]: 'http://results.example.com/r.png' });
    await expect(fetchResult(first, 't1', ctx)).rejects.toThrow(
      'the dashscope result redirected to a non-https result URL (http://results.example.com)',
    );
    expect(fetched).toEqual([first]);
    const metadata = context({ [first]: 'http://169.254.169.254/latest/meta-data/' });
    await expect(fetchResult(first, 't1', metadata.ctx)).rejects.toThrow(
      'the dashscope result redirected to a result URL on a local network address (169.254.169.254)',
    );
    expect(metadata.fetched).toEqual([first]);
  });

  it('a redirect to an https address of a local network is refused too', async () => {
    const { ctx, fetched } = context({ [first]: 'https://169.254.169.254/latest/meta-data/' });
    await expect(fetchResult(first, 't1', ctx)).rejects.toThrow('a result URL on a local network address');
    expect(fetched).toEqual([first]);
  });

  it('https hops to public hosts are followed, up to five', async () => {
    const chain = Array.from({ length: 7 }, (_, i) => `https://cdn${i}.example.com/r.png`);
    const ok = context({ [first]: chain[0], [chain[0]]: chain[1], [chain[1]]: PNG });
    await expect(fetchResult(first, 't1', ok.ctx)).resolves.toEqual(PNG);
    expect(ok.fetched).toEqual([first, chain[0], chain[1]]);
    const hops: Record<string, string> = { [first]: chain[0] };
    for (let i = 0; i < 6; i++) hops[chain[i]] = chain[i + 1];
    const loop = context(hops);
    await expect(fetchResult(first, 't1', loop.ctx)).rejects.toThrow('more than 5 redirects');
    expect(loop.fetched).toHaveLength(6);
  });
});

describe('isLocalAddress', () => {
  it('knows loopback, private, link-local and unspecified literals, and takes names as public', () => {
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
    ])
      expect([host, isLocalAddress(host)]).toEqual([host, true]);
    for (const host of ['[::1]', '[fe80::1]', '[fd00::1]', '[::ffff:169.254.169.254]', '[::]', 'localhost'])
      expect([host, isLocalAddress(host)]).toEqual([host, true]);
    for (const host of ['[fec0::1]', '[64:ff9b::a9fe:a9fe]', '198.18.0.1', '224.0.0.1', '255.255.255.255'])
      expect([host, isLocalAddress(host)]).toEqual([host, true]);
    for (const host of ['localhost.', 'foo.localhost', '[ff02::1]'])
      expect([host, isLocalAddress(host)]).toEqual([host, true]);
    // As URL parsing writes them.
    expect(isLocalAddress(new URL('https://[::ffff:169.254.169.254]/').hostname)).toBe(true);
    expect(isLocalAddress(new URL('https://[64:ff9b::8.8.8.8]/').hostname)).toBe(false);
    for (const host of ['8.8.8.8', '172.32.0.1', 'dashscope.aliyuncs.com', '[2001:db8::1]', '100.128.0.1'])
      expect([host, isLocalAddress(host)]).toEqual([host, false]);
  });
});
