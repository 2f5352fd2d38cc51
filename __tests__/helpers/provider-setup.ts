import { Jimp } from 'jimp';
import { resolveConfig } from '../../src/config/resolve.js';
import { configuredKeys } from '../../src/jobs/providers.js';
import { FakeProviders } from './fake-providers.js';
import { testServices } from './services.js';

export const DASHSCOPE_KEY = 'sk-test-fake-key-6666';
export const MODELSCOPE_KEY = 'ms-test-fake-token-4444';

/** A small PNG for the fake to serve as a result. */
async function resultPng(width = 64, height = 48): Promise<Buffer> {
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

/**
 * Config pointing at the fake, with keys from env and fast retries; services with a fake clock. `config`
 * replaces whole top-level sections of the test config file (`polling`, `edit`, …).
 */
export function providerHarness(
  fake: FakeProviders,
  cwd: string,
  env: Record<string, string> = {},
  config: Record<string, unknown> = {},
) {
  const resolved = resolveConfig({
    file: {
      path: 'test',
      data: {
        retry: { retries: 2, minTimeoutMs: 1 },
        polling: { intervalMs: 1000, maxIntervalMs: 5000, timeoutMs: 60_000 },
        loom: { width: 32 },
        ...config,
      },
    },
    env: fakeEnv(fake, env),
  });
  const harness = testServices(cwd);
  harness.services.redactor.add(configuredKeys(resolved));
  return { resolved, ...harness };
}
