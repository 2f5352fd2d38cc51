import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeFs } from '../src/cli/services.js';
import { InputError } from '../src/kernel/errors.js';
import type { WorkPool } from '../src/kernel/ports.js';
import { finishBytes, type FinishInput } from '../src/stages/finish.js';

/** A pool that runs nothing: it records what it was given and answers with an error record. */
function recordingPool(): { pool: WorkPool; seen: Array<{ input: unknown; transfer?: ArrayBuffer[] }> } {
  const seen: Array<{ input: unknown; transfer?: ArrayBuffer[] }> = [];
  return {
    seen,
    pool: {
      threads: 1,
      prestart: () => {},
      run: async (_task, input, options) => {
        seen.push({ input, transfer: options?.transfer });
        return { ok: false, error: new InputError('not run here').toJSON() };
      },
      close: async () => {},
    },
  };
}

function input(bytes: Uint8Array): FinishInput {
  return {
    bytes,
    label: 'x.png',
    loom: { width: 4, colors: 2, dither: 'none', minRegion: 1 },
    encode: { format: 'png', meta: {} as never },
  };
}

describe('handing a picture to a worker thread', () => {
  it('moves bytes that fill their own buffer, and copies a view into a shared one', async () => {
    const { pool, seen } = recordingPool();
    const own = new Uint8Array(5000);
    await expect(finishBytes(input(own), pool)).rejects.toThrow('not run here');
    expect(seen[0].transfer).toEqual([own.buffer]);
    const shared = Buffer.from('a small file'); // from Node's pool of small buffers
    expect(shared.byteLength).toBeLessThan(shared.buffer.byteLength);
    await expect(finishBytes(input(shared), pool)).rejects.toThrow('not run here');
    expect(seen[1].transfer).toBeUndefined();
  });

  it('reads a file into a buffer of its own, exactly its size, which can be moved', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'imagegen-handover-'));
    for (const size of [0, 10, 70_000]) {
      const file = path.join(dir, `f${size}`);
      writeFileSync(file, Buffer.alloc(size, 7));
      const bytes = await nodeFs.readFile(file, { maxBytes: 100_000 });
      expect(bytes.byteLength).toBe(size);
      if (size > 0) expect([bytes.byteOffset, bytes.buffer.byteLength]).toEqual([0, size]);
    }
  });
});
