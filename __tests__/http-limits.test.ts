/**
 * Answers too large to hold: every API answer is read with a cap while it streams, so a hostile or broken
 * server gets a clear error instead of the process running out of memory.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gotHttpClient } from '../src/cli/http.js';
import { InterruptedError } from '../src/kernel/errors.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import type { FakeProviders } from './helpers/fake-providers.js';
import { providerHarness, startFake } from './helpers/provider-setup.js';
import { tempDir } from './helpers/tmp.js';

const MB = 1000 * 1000;

describe('gotHttpClient.request caps the answer', () => {
  let server: Server;
  let url = '';
  /** Bytes the endless route wrote before the client hung up. */
  let endlessSent = 0;

  /** Writes 64 KiB every few ms until the client goes away; never ends, never says how long it is. */
  function endless(res: ServerResponse, status: number) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.write('{"message":"');
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      endlessSent += chunk.length;
      res.write(chunk);
    }, 5);
    res.on('close', () => clearInterval(timer));
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      const route = (req.url ?? '/').split('?')[0];
      if (route === '/endless') return endless(res, 200);
      if (route === '/endless-error') return endless(res, 500);
      if (route === '/declared') {
        // Says it is 50 MB up front; sends a little and then stalls.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(50 * MB) });
        res.write('{"a":');
        return;
      }
      if (route === '/stall') {
        // A small answer that never ends.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"a":');
        return;
      }
      if (route === '/small') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, pad: 'y'.repeat(900 * 1000) }));
        return;
      }
      if (route === '/just-over') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('z'.repeat(MB + 1));
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const http = gotHttpClient();
  const get = (route: string, timeoutMs = 4000) =>
    http.request({ method: 'GET', url: `${url}${route}?token=secret`, headers: {}, timeoutMs });

  it('stops reading an endless 200 answer past 1 MB, naming the host and path', async () => {
    endlessSent = 0;
    const started = Date.now();
    const err = (await get('/endless').catch((e: unknown) => e)) as Error & { kind?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('answer larger than 1 MB');
    expect(err.message).toContain(`127.0.0.1:${new URL(url).port}/endless`);
    expect(err.message).not.toContain('secret');
    expect(err.kind).toBe('failure');
    expect(Date.now() - started).toBeLessThan(3000);
    // The client hung up soon after the cap, not at the timeout.
    await new Promise((r) => setTimeout(r, 100));
    expect(endlessSent).toBeLessThan(8 * MB);
  });

  it('stops reading an endless error answer too (error bodies are capped as well)', async () => {
    const err = (await get('/endless-error').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('answer larger than 1 MB');
  });

  it('refuses at once an answer whose Content-Length is over the cap', async () => {
    const started = Date.now();
    const err = (await get('/declared', 20_000).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('answer larger than 1 MB');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses an answer one byte over the cap', async () => {
    const err = (await get('/just-over').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('answer larger than 1 MB');
  });

  it('still reads an answer under the cap, whatever its status', async () => {
    const res = await get('/small');
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { ok: boolean }).ok).toBe(true);
    const missing = await get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('');
  });

  it('stops at once when the run is interrupted, and leaves no listener on the shared signal', async () => {
    const run = new AbortController();
    for (let i = 0; i < 15; i++) {
      await http.request({ method: 'GET', url: `${url}/small`, headers: {}, timeoutMs: 4000, signal: run.signal });
    }
    await http.download(`${url}/small`, { timeoutMs: 4000, maxBytes: MB, signal: run.signal });
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    const pending = http.request({
      method: 'GET',
      url: `${url}/stall`,
      headers: {},
      timeoutMs: 4000,
      signal: run.signal,
    });
    setTimeout(() => run.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('still sends a JSON body with POST', async () => {
    const echo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-seen': String(req.headers['content-type']) });
        res.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const res = await http.request({
        method: 'POST',
        url: `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`,
        headers: { authorization: 'Bearer k' },
        json: { a: [1, 2], b: 'ü' },
        timeoutMs: 4000,
      });
      expect(res.status).toBe(201);
      expect(res.headers['x-seen']).toMatch(/application\/json/);
      expect(JSON.parse(res.body)).toEqual({ a: [1, 2], b: 'ü' });
      // A POST without a body (a task cancel) goes out at once, empty.
      const empty = await http.request({
        method: 'POST',
        url: `http://127.0.0.1:${(echo.address() as AddressInfo).port}/cancel`,
        headers: {},
        timeoutMs: 2000,
      });
      expect(empty.status).toBe(201);
      expect(empty.body).toBe('');
    } finally {
      echo.closeAllConnections();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});

describe('a provider that answers with an oversized body', () => {
  let fake: FakeProviders;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => fake.close());
  let cleanup = () => {};
  afterEach(() => {
    cleanup();
    fake.dashscopeSubmitReplies = [];
    fake.dashscopeSteps = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  });

  async function edit(fallback: boolean) {
    const t = tempDir();
    cleanup = t.cleanup;
    const h = providerHarness(fake, t.dir);
    const spec: EditSpec = {
      inputs: [path.resolve('samples/grace-hopper.jpg')],
      style: 'loom',
      local: false,
      fallback,
      dryRun: false,
      force: false,
      report: false,
      instruction: {},
    };
    const error = await runEdit(spec, h.resolved, h.services).then(
      () => undefined,
      (err: unknown) => err as Error & { kind?: string },
    );
    return { ...h, error };
  }

  it('fails the submit with "answer larger than 1 MB" instead of reading a 50 MB error body', async () => {
    fake.paddingSent = 0;
    fake.dashscopeSubmitReplies = [{ status: 500, body: { code: 'InternalError', message: 'boom' }, padTo: 50 * MB }];
    const { error } = await edit(false);
    expect(error?.message).toContain('answer larger than 1 MB');
    expect(error?.message).toContain('/api/v1/services/aigc/image2image/image-synthesis');
    expect(error?.kind).toBe('failure');
    expect(fake.paddingSent).toBeLessThan(50 * MB);
  });

  it('fails a poll the same way, and edit may fall back to the local pipeline', async () => {
    fake.dashscopeSteps = ['PENDING', { status: 200, body: { output: { task_status: 'RUNNING' } }, padTo: 5 * MB }];
    const { error, rec } = await edit(true);
    expect(error).toBeUndefined();
    expect(JSON.stringify(rec.lines)).toContain('answer larger than 1 MB');
  });
});
