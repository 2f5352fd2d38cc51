import { gotHttpClient } from '../../src/cli/http.js';
import { nodeFs } from '../../src/cli/services.js';
import type { Services } from '../../src/kernel/ports.js';
import { Redactor } from '../../src/kernel/redact.js';
import { recordingUi } from './ui.js';

/**
 * A Services container for the core: the real file system and HTTP client, a recording UI, and a fake clock
 * that `sleep` advances (every pause is recorded in `slept`).
 */
export function testServices(cwd: string, overrides: Partial<Services> = {}) {
  const rec = recordingUi();
  const controller = new AbortController();
  const slept: number[] = [];
  let clock = 0;
  const services: Services = {
    fs: nodeFs,
    http: gotHttpClient(),
    sleep: async (ms: number) => {
      slept.push(ms);
      clock += ms;
    },
    now: () => clock,
    ui: rec.ui,
    signal: controller.signal,
    redactor: new Redactor(),
    cwd,
    home: cwd,
    env: {},
    ...overrides,
  };
  return { services, rec, controller, slept };
}
