/**
 * A provider is a descriptor plus one registry line: one registered here, with no change to any other file,
 * gets its config keys, is chosen by --provider and by having a key, and runs through the edit job.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { resolveConfig } from '../src/config/resolve.js';
import { configKeys } from '../src/config/schema.js';
import { runEdit, type EditSpec } from '../src/jobs/edit.js';
import { configuredKeys } from '../src/jobs/providers.js';
import type { EditInstruction, ProviderDescriptor } from '../src/providers/types.js';
import { registerProvider } from '../src/providers/registry.js';
import { formatForFile } from '../src/formats/registry.js';
import { testServices } from './helpers/services.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ACME_KEY = 'acme-test-key-not-real-9999';

/** Edits by painting the left half red and the right half blue; records what it was asked. */
function acmeProvider(asked: EditInstruction[]): ProviderDescriptor {
  return {
    id: 'acme',
    label: 'Acme',
    keyEnv: ['ACME_API_KEY'],
    keyShape: 'acme-…',
    baseUrlEnv: 'IMAGEGEN_ACME_BASE_URL',
    defaultBaseUrl: 'https://acme.example',
    defaultModel: 'acme-edit-1',
    modelDescription: 'Acme edit model',
    capabilities: ['edit'],
    limits: { tasksInFlight: 3, submitsPerSecond: 5 },
    hints: { auth: 'check ACME_API_KEY', forbidden: 'not allowed', rateLimit: 'slow down' },
    load: async () => ({
      edit: {
        plan: async (_image, _instruction, ctx) => [
          {
            method: 'POST',
            url: `${ctx.settings.baseUrl}/edit`,
            headers: { Authorization: `Bearer ${ctx.settings.apiKey}` },
          },
        ],
        run: async (image, instruction, ctx) => {
          asked.push(instruction);
          const data = Buffer.alloc(image.width * image.height * 4);
          for (let i = 0; i < image.width * image.height; i++) {
            const left = i % image.width < image.width / 2;
            data.set(left ? [220, 30, 30, 255] : [30, 30, 220, 255], i * 4);
          }
          const bytes = await new Jimp({ width: image.width, height: image.height, data }).getBuffer('image/png');
          return { bytes, taskId: 'acme-task-1', requestId: 'acme-req-1', model: ctx.settings.model };
        },
      },
    }),
  };
}

describe('the provider registry', () => {
  const setup = tempDirsPerTest();
  let unregister = () => {};
  afterEach(() => unregister());

  const spec = (extra: Partial<EditSpec> = {}): EditSpec => ({
    inputs: [SAMPLE],
    style: 'loom',
    local: false,
    fallback: false,
    dryRun: false,
    force: false,
    report: true,
    instruction: {},
    ...extra,
  });

  it('runs an edit through a provider registered with one call, masking its key everywhere', async () => {
    const asked: EditInstruction[] = [];
    unregister = registerProvider(acmeProvider(asked));
    expect(Object.keys(configKeys())).toEqual(
      expect.arrayContaining(['providers.acme.apiKey', 'providers.acme.baseUrl', 'providers.acme.model']),
    );

    const dir = setup();
    const resolved = resolveConfig({
      env: { ACME_API_KEY: ACME_KEY },
      flags: { 'loom.width': { value: '40', flag: '--width' } },
    });
    expect(resolved.config.providers.acme).toEqual({
      apiKey: ACME_KEY,
      baseUrl: 'https://acme.example',
      model: 'acme-edit-1',
      limits: { tasksInFlight: 3, submitsPerSecond: 5 },
    });
    const { services, rec } = testServices(dir);
    services.redactor.add(configuredKeys(resolved));

    // The only keyed editor is chosen without being named.
    await runEdit(spec(), resolved, services);
    expect(asked).toHaveLength(1);
    expect(rec.results).toEqual([
      expect.objectContaining({
        status: 'ok',
        source: 'acme',
        provider: 'acme',
        model: 'acme-edit-1',
        taskId: 'acme-task-1',
        colors: 2,
      }),
    ]);
    const report = readFileSync(path.join(dir, 'grace-hopper.loom.json'), 'utf8');
    expect(JSON.parse(report).source).toEqual(
      expect.objectContaining({ kind: 'acme', model: 'acme-edit-1', taskId: 'acme-task-1' }),
    );

    // --dry-run shows its planned request with the key masked.
    await runEdit(spec({ provider: 'acme', dryRun: true }), resolved, services);
    const printed = JSON.stringify(rec.data);
    expect(printed).toContain('https://acme.example/edit');
    expect(printed).toContain('Bearer acm…9999');
    expect(printed).not.toContain(ACME_KEY);
  });

  it('refuses a provider name it does not know, naming the ones it does', async () => {
    const dir = setup();
    const { services } = testServices(dir);
    const resolved = resolveConfig({ env: {} });
    await expect(runEdit(spec({ provider: 'acme' }), resolved, services)).rejects.toMatchObject({
      kind: 'usage',
      message: 'no provider "acme" for edit',
    });
    expect(() => registerProvider({ ...acmeProvider([]), id: 'dashscope' })).toThrow('already registered');
  });

  it('finds a format by a file name extension, whatever its case', () => {
    expect(formatForFile('out/CAT.BMP')?.id).toBe('bmp');
    expect(formatForFile('cat.png')?.id).toBe('png');
    expect(formatForFile('cat.TIFF')?.id).toBe('tiff');
    expect(formatForFile('scan.tif')?.id).toBe('tiff');
    expect(formatForFile('cat.webp')).toBeUndefined();
  });
});
