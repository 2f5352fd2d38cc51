import { Jimp } from 'jimp';
import { resolveConfig } from '../../src/core/config/resolve.js';
import { gotHttpClient } from '../../src/providers/http.js';
import { FakeProviders } from './fake-providers.js';
import { recordingUi } from './ui.js';

export const DASHSCOPE_KEY = 'sk-test-fake-key-6666';
export const MODELSCOPE_KEY = 'ms-test-fake-token-4444';

/** A small PNG for the fake to serve as a result. */
export async function resultPng(width = 64, height = 48): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = x < width / 2 ? 200 : 30;
      data[i + 1] = y < height / 2 ? 40 : 180;
      data[i + 2] = 90;
      data[i + 3] = 255;
    }
  }
  return new Jimp({ width, height, data }).getBuffer('image/png');
}

export async function startFake(): Promise<FakeProviders> {
  const fake = await new FakeProviders({ dashscopeKey: DASHSCOPE_KEY, modelscopeKey: MODELSCOPE_KEY }).start();
  fake.result = { status: 200, body: await resultPng(), contentType: 'image/png' };
  return fake;
}

/** The env vars that point imagegen at the fake, with test keys. */
export function fakeEnv(fake: FakeProviders, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DASHSCOPE_API_KEY: DASHSCOPE_KEY,
    MODELSCOPE_API_KEY: MODELSCOPE_KEY,
    IMAGEGEN_DASHSCOPE_BASE_URL: fake.url,
    IMAGEGEN_MODELSCOPE_BASE_URL: fake.url,
    ...overrides,
  };
}

/** Config pointing at the fake, with keys from env and fast retries; a fake clock that sleep advances. */
export function providerHarness(fake: FakeProviders, env: Record<string, string> = {}) {
  const resolved = resolveConfig({
    file: { path: 'test', data: { retry: { retries: 2, minTimeoutMs: 1 }, polling: { intervalMs: 1000, maxIntervalMs: 5000, timeoutMs: 60_000 }, loom: { width: 32 } } },
    env: fakeEnv(fake, env),
  });
  let clock = 0;
  const slept: number[] = [];
  const rec = recordingUi();
  const controller = new AbortController();
  return {
    resolved,
    rec,
    slept,
    controller,
    deps: {
      http: gotHttpClient(),
      sleep: async (ms: number) => {
        slept.push(ms);
        clock += ms;
      },
      now: () => clock,
      ui: rec.ui,
      signal: controller.signal,
    },
  };
}
