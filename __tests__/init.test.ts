import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeFs as nodeOutputFs } from '../src/cli/services.js';
import { runInit } from '../src/config/init.js';
import type { Prompts as Asker } from '../src/kernel/ports.js';
import { tempDirsPerTest } from './helpers/tmp.js';

function scriptedAsker(answers: Record<string, string | boolean>): Asker & { asked: string[] } {
  const asked: string[] = [];
  const answer = (message: string, fallback?: string | boolean) => {
    asked.push(message);
    const key = Object.keys(answers).find((k) => message.includes(k));
    return key === undefined ? fallback : answers[key];
  };
  return {
    asked,
    text: async (m, d, validate) => {
      const value = String(answer(m, d));
      // A real prompt would ask again; the script's answers must pass.
      expect(validate?.(value) ?? true).toBe(true);
      return value;
    },
    secret: async (m) => String(answer(m, '')),
    confirm: async (m, d) => Boolean(answer(m, d)),
    choice: async (m, _c, d) => String(answer(m, d)),
  };
}

describe('runInit', () => {
  const setup = tempDirsPerTest();

  it('asks for the settings and writes them without keys by default', async () => {
    const dir = setup();
    const ask = scriptedAsker({ 'Yarn colours': '6', 'Output format': 'bmp' });
    const { file, wroteKeys } = await runInit({}, { fs: nodeOutputFs, cwd: dir, home: '/nowhere', prompts: ask });
    expect(file).toBe(path.join(dir, '.imagegenrc.json'));
    expect(wroteKeys).toBe(false);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      providers: { modelscope: { model: 'Qwen/Qwen-Image' }, dashscope: { model: 'wanx2.1-imageedit' } },
      loom: { colors: 6, width: 600 },
      output: { format: 'bmp' },
    });
    expect(ask.asked.some((q) => q.startsWith('Save API keys'))).toBe(true);
  });

  it('validates answers at the prompt', async () => {
    const dir = setup();
    const seen: Array<true | string> = [];
    const ask = scriptedAsker({});
    ask.text = async (m, d, validate) => {
      if (m.startsWith('Yarn colours')) seen.push(validate!('1'), validate!('300'), validate!('12'));
      return d ?? '';
    };
    await runInit({ saveKeys: false }, { fs: nodeOutputFs, cwd: dir, home: dir, prompts: ask });
    expect(seen).toEqual(['expected an integer from 2 to 256', 'expected an integer from 2 to 256', true]);
  });

  it('writes keys only when asked, into a file only its owner can read', async () => {
    const dir = setup();
    const ask = scriptedAsker({ 'Save API keys': true, 'DashScope API key': 'sk-test-not-a-real-key-0000' });
    const { file, wroteKeys } = await runInit(
      { global: true },
      { fs: nodeOutputFs, cwd: '/nowhere', home: dir, prompts: ask },
    );
    expect(wroteKeys).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const data = JSON.parse(readFileSync(file, 'utf8'));
    expect(data.providers.dashscope.apiKey).toBe('sk-test-not-a-real-key-0000');
    expect(data.providers.modelscope.apiKey).toBeUndefined();
  });

  it('refuses without a terminal unless every answer is a flag', async () => {
    const dir = setup();
    await expect(runInit({}, { fs: nodeOutputFs, cwd: dir, home: dir })).rejects.toMatchObject({
      kind: 'usage',
      hint: expect.stringContaining('--yes'),
    });
    const { file } = await runInit(
      {
        models: { modelscope: 'Tongyi-MAI/Z-Image-Turbo', dashscope: 'wan2.5-i2i-preview' },
        colors: '4',
        width: '1320',
        format: 'png',
        saveKeys: false,
      },
      { fs: nodeOutputFs, cwd: dir, home: dir },
    );
    expect(JSON.parse(readFileSync(file, 'utf8')).loom).toEqual({ colors: 4, width: 1320 });
  });

  it('checks flag values and never replaces a file without --force', async () => {
    const dir = setup();
    await expect(runInit({ yes: true, colors: '1' }, { fs: nodeOutputFs, cwd: dir, home: dir })).rejects.toThrow(
      '--colors: expected an integer from 2 to 256',
    );
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{"keep":true}');
    await expect(runInit({ yes: true }, { fs: nodeOutputFs, cwd: dir, home: dir })).rejects.toThrow('already exists');
    await runInit({ yes: true, force: true }, { fs: nodeOutputFs, cwd: dir, home: dir });
    expect(JSON.parse(readFileSync(path.join(dir, '.imagegenrc.json'), 'utf8')).keep).toBeUndefined();
  });

  it('offers the models from a list, and never writes one imagegen cannot call', async () => {
    const dir = setup();
    const offered: Record<string, readonly string[]> = {};
    const ask = scriptedAsker({ 'DashScope model': 'qwen-image-edit' });
    const choice = ask.choice;
    ask.choice = async (m, choices, d) => {
      offered[m] = choices;
      return choice(m, choices, d);
    };
    const { file } = await runInit({ saveKeys: false }, { fs: nodeOutputFs, cwd: dir, home: dir, prompts: ask });
    expect(offered['DashScope model (edit)']).toEqual(expect.arrayContaining(['wanx2.1-imageedit', 'qwen-image-edit']));
    expect(offered['ModelScope model (generate)']).toEqual(expect.arrayContaining(['Qwen/Qwen-Image']));
    expect(JSON.parse(readFileSync(file, 'utf8')).providers.dashscope.model).toBe('qwen-image-edit');

    const other = setup();
    await expect(
      runInit({ yes: true, models: { dashscope: 'foo' } }, { fs: nodeOutputFs, cwd: other, home: other }),
    ).rejects.toMatchObject({
      kind: 'usage',
      message: '--model dashscope=foo: not a DashScope model imagegen can call',
      hint: expect.stringContaining('wanx2.1-imageedit'),
    });
    expect(readdirSync(other)).toEqual([]);
  });

  it('with a file already there, asks first whether to replace it, and keeps it when told to', async () => {
    const dir = setup();
    const file = path.join(dir, '.imagegenrc.json');
    writeFileSync(file, '{"keep":true}');
    const keep = scriptedAsker({ 'already exists': false });
    expect(await runInit({}, { fs: nodeOutputFs, cwd: dir, home: dir, prompts: keep })).toEqual({
      file,
      written: false,
      wroteKeys: false,
    });
    expect(keep.asked).toEqual([`${file} already exists. Replace it?`]);
    expect(readFileSync(file, 'utf8')).toBe('{"keep":true}');

    const replace = scriptedAsker({ 'already exists': true, 'Yarn colours': '5' });
    await runInit({ saveKeys: false }, { fs: nodeOutputFs, cwd: dir, home: dir, prompts: replace });
    expect(replace.asked[0]).toBe(`${file} already exists. Replace it?`);
    expect(JSON.parse(readFileSync(file, 'utf8')).loom.colors).toBe(5);
  });

  it('without a terminal, names the flags init has: --force for a file there, --model <provider>=<id>', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, '.imagegenrc.json'), '{}');
    const err = await runInit({ yes: true }, { fs: nodeOutputFs, cwd: dir, home: dir }).then(
      () => undefined,
      (e: Error & { hint?: string }) => e,
    );
    expect(err).toMatchObject({ kind: 'failure', hint: 'pass --force to replace it' });
    expect(err?.hint).not.toContain('-o');
    const empty = setup();
    await expect(runInit({}, { fs: nodeOutputFs, cwd: empty, home: empty })).rejects.toMatchObject({
      hint: expect.stringMatching(/^give --model dashscope=<id>, --model modelscope=<id>, --colors/),
    });
  });
});
