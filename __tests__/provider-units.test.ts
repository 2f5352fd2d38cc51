import { describe, expect, it } from '@jest/globals';
import { NetworkError, ProviderError } from '../src/kernel/errors.js';
import { Redactor, shortenBody } from '../src/kernel/redact.js';
import { dashscope } from '../src/providers/dashscope/index.js';
import { DASHSCOPE_MODELS } from '../src/providers/dashscope/models.js';
import { classify, parseRetryAfter } from '../src/providers/shared/errors.js';
import { pollPauses } from '../src/providers/shared/poll.js';
import { checkResultUrl } from '../src/providers/shared/result.js';
import { isRetryable } from '../src/providers/shared/retry.js';
import { fitSides, fitWithin } from '../src/providers/shared/size.js';
import { sizeRange } from '../src/providers/modelscope/request.js';

describe('poll pauses', () => {
  const take = (n: number, schedule: { intervalMs: number; maxIntervalMs: number; timeoutMs: number }) => {
    const it = pollPauses(schedule);
    return Array.from({ length: n }, () => it.next().value);
  };
  it('follow the DashScope SDK by default: 1, 1, 2, 2, 2, 4, 4, 4, then 5 s', () => {
    expect(take(11, { intervalMs: 1000, maxIntervalMs: 5000, timeoutMs: 1 })).toEqual([
      1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000, 5000, 5000, 5000,
    ]);
  });
  it('never go below the first interval, even with a smaller cap', () => {
    expect(take(4, { intervalMs: 300, maxIntervalMs: 100, timeoutMs: 1 })).toEqual([300, 300, 300, 300]);
  });
});

describe('provider answers', () => {
  it('parse Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:30 GMT', Date.parse('Sat, 21 Nov 2026 10:00:00 GMT'))).toBe(30_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it.each([
    [{ status: 401 }, 'auth'],
    [{ status: 400, code: 'Arrearage' }, 'quota'],
    [{ status: 403 }, 'quota'],
    [{ status: 429, code: 'Throttling.AllocationQuota' }, 'rate-limit'],
    [{ status: 429, code: 'Throttling.AllocationQuota', message: 'Free allocated quota exceeded.' }, 'quota'],
    [{ status: 429, code: 'CommodityNotPurchased' }, 'quota'],
    [{ status: 429, code: 'PrepaidBillOverdue' }, 'quota'],
    [{ status: 429, code: 'PostpaidBillOverdue' }, 'quota'],
    [{ status: 403, code: 'AllocationQuota.FreeTierOnly' }, 'quota'],
    [{ status: 429, message: 'insufficient balance' }, 'quota'],
    [{ code: 'InternalError.Algo.InvalidParameter' }, 'usage'],
    [{ status: 429, code: 'Throttling.RateQuota' }, 'rate-limit'],
    [{ status: 400, code: 'DataInspectionFailed' }, 'moderation'],
    [{ code: '422' }, 'moderation'],
    [{ status: 404 }, 'usage'],
    [{ status: 400, code: 'InvalidParameter' }, 'usage'],
    [{ status: 500, code: 'InternalError' }, 'network'],
    [{ code: 'InternalError.Algo' }, 'network'],
    [{ code: 'CANCELED' }, 'failure'],
  ])('classify %j as %s', (ctx, kind) => {
    expect(classify({ provider: dashscope, ...ctx }).kind).toBe(kind);
  });
});

describe('redaction', () => {
  it('masks keys anywhere in a text and shortens base64 bodies', () => {
    const key = 'sk-test-redaction-key-3456';
    expect(new Redactor([key, undefined]).text(`Bearer ${key} and again ${key}`)).toBe(
      'Bearer sk-…3456 and again sk-…3456',
    );
    const body = shortenBody({ input: { base_image_url: 'data:image/png;base64,' + 'A'.repeat(500) }, n: 1 }) as {
      input: { base_image_url: string };
    };
    expect(body.input.base_image_url).toMatch(/… \(522 characters\)$/);
  });

  it('shortens a body of any depth without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    const shown = JSON.stringify(shortenBody({ a: deep }));
    expect(shown).toBe(`{"a":${'['.repeat(31)}"…"${']'.repeat(31)}}`);
  });
});

describe('redaction of short or unknown keys', () => {
  it('masks any Authorization token and short secrets completely', () => {
    expect(new Redactor(['abc12']).headers({ Authorization: 'Bearer abc12', 'X-Other': 'abc12' })).toEqual({
      Authorization: 'Bearer …',
      'X-Other': '…',
    });
    expect(new Redactor().headers({ Authorization: 'Bearer sk-unknown-key-0000000' })).toEqual({
      Authorization: 'Bearer sk-…0000',
    });
    expect(new Redactor().headers({ Authorization: 'Bearer (no key configured)' })).toEqual({
      Authorization: 'Bearer (no key configured)',
    });
  });

  it('masks any bearer token in free text, and keys echoed back in JSON values', () => {
    const redactor = new Redactor(['sk-test-configured-key-1111']);
    expect(redactor.text('proxy said: Authorization: Bearer sk-other-token-22222222')).toBe(
      'proxy said: Authorization: Bearer sk-…2222',
    );
    expect(redactor.value({ error: { message: 'bad key sk-test-configured-key-1111' } })).toEqual({
      error: { message: 'bad key sk-…1111' },
    });
  });
});

describe('submit retries', () => {
  it('retry 429, 5xx and connections that never got through, but not errors after the request may have arrived', () => {
    expect(isRetryable(new ProviderError('rate-limit', 'x', { status: 429 }))).toBe(true);
    expect(isRetryable(new ProviderError('network', 'x', { status: 503 }))).toBe(true);
    expect(isRetryable(new NetworkError('refused', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(new NetworkError('reset', { code: 'ECONNRESET' }))).toBe(false);
    expect(isRetryable(new NetworkError('timed out', { code: 'ETIMEDOUT' }))).toBe(false);
    expect(isRetryable(new ProviderError('network', 'task failed', { code: 'InternalError' }))).toBe(false);
    expect(isRetryable(new ProviderError('auth', 'x', { status: 401 }))).toBe(false);
  });
});

describe('result URLs', () => {
  it('accept https, and http only between loopback addresses', () => {
    expect(() =>
      checkResultUrl(
        'https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.png',
        'https://dashscope.aliyuncs.com',
        'dashscope',
        't',
      ),
    ).not.toThrow();
    expect(() => checkResultUrl('http://127.0.0.1:9/x.png', 'http://127.0.0.1:9', 'dashscope', 't')).not.toThrow();
    expect(() =>
      checkResultUrl('http://example.com/x.png', 'https://dashscope.aliyuncs.com', 'dashscope', 't'),
    ).toThrow('non-https');
    expect(() => checkResultUrl('http://example.com/x.png', 'http://127.0.0.1:9', 'dashscope', 't')).toThrow(
      'non-https',
    );
    expect(() => checkResultUrl('file:///etc/passwd', 'http://127.0.0.1:9', 'dashscope', 't')).toThrow('non-https');
  });
});

describe('DashScope input size', () => {
  const { minSide, maxSide } = DASHSCOPE_MODELS[0].input;
  const fitDashscopeSize = (width: number, height: number) => fitSides(width, height, minSide, maxSide);
  it('brings each side within 512-4096 px, keeping the aspect ratio', () => {
    expect(fitDashscopeSize(512, 600)).toEqual({ width: 512, height: 600 });
    expect(fitDashscopeSize(100, 80)).toEqual({ width: 640, height: 512 });
    expect(fitDashscopeSize(8000, 6000)).toEqual({ width: 4096, height: 3072 });
    expect(fitDashscopeSize(4000, 500)).toEqual({ width: 4096, height: 512 });
    expect(fitDashscopeSize(6000, 500)).toBeUndefined(); // 12:1 cannot fit
    expect(fitDashscopeSize(10000, 100)).toBeUndefined();
  });

  it('refuses a picture no scale fits, for either provider, naming the aspect ratio that would fit', () => {
    expect(fitWithin(4000, 500, minSide, maxSide, { model: 'DashScope', provider: 'dashscope' })).toEqual({
      width: 4096,
      height: 512,
    });
    expect(() => fitWithin(6000, 500, minSide, maxSide, { model: 'DashScope', provider: 'dashscope' })).toThrow(
      expect.objectContaining({
        kind: 'failure',
        provider: 'dashscope',
        message: "a 6000×500 picture cannot be brought within DashScope's 512-4096 px per side",
        hint: 'crop it to a less extreme aspect ratio (at most 8:1)',
      }),
    );
    // 240-8000 px: the ratio keeps its first decimal.
    expect(() => fitWithin(9000, 100, 240, 8000, { model: 'DashScope', provider: 'dashscope' })).toThrow(
      expect.objectContaining({ hint: 'crop it to a less extreme aspect ratio (at most 33.3:1)' }),
    );
    const model = 'Qwen/Qwen-Image-Edit-2509';
    const [min, max] = sizeRange(model);
    expect(() => fitWithin(2000, 20, min, max, { model, provider: 'modelscope' })).toThrow(
      expect.objectContaining({
        kind: 'failure',
        provider: 'modelscope',
        message: `a 2000×20 picture cannot be brought within ${model}'s 64-1664 px per side`,
        hint: 'crop it to a less extreme aspect ratio (at most 26:1)',
      }),
    );
  });
});
