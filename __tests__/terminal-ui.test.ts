import { describe, expect, it } from '@jest/globals';
import { colorLevel, createTerminalUi } from '../src/cli/ui.js';
import { ImagegenError } from '../src/kernel/errors.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import type { JobRecord } from '../src/kernel/records.js';
import { Redactor, escapeControls } from '../src/kernel/redact.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => void chunks.push(s), text: () => chunks.join('') };
}

describe('colorLevel', () => {
  it('colours only a TTY, and never with NO_COLOR, TERM=dumb or --no-color', () => {
    expect(colorLevel({}, true, true)).toBe(1);
    expect(colorLevel({}, false, true)).toBe(0);
    expect(colorLevel({ NO_COLOR: '1' }, true, true)).toBe(0);
    expect(colorLevel({ TERM: 'dumb' }, true, true)).toBe(0);
    expect(colorLevel({}, true, false)).toBe(0);
  });

  it('lets FORCE_COLOR decide when set, but not over --no-color', () => {
    expect(colorLevel({ FORCE_COLOR: '1' }, false, true)).toBe(1);
    expect(colorLevel({ FORCE_COLOR: '3', NO_COLOR: '1' }, false, true)).toBe(3);
    expect(colorLevel({ FORCE_COLOR: '0' }, true, true)).toBe(0);
    expect(colorLevel({ FORCE_COLOR: '1' }, true, false)).toBe(0);
  });
});

describe('terminal ui', () => {
  it('prints paths in text mode and NDJSON in json mode; error items only in json', async () => {
    for (const json of [false, true]) {
      const stdout = sink();
      const stderr = sink();
      const ui = await createTerminalUi({
        stdout,
        stderr,
        env: {},
        json,
        quiet: false,
        verbose: false,
        color: true,
        redactor: new Redactor(),
      });
      ui.result({ status: 'ok', output: '/x/a.png', input: 'a.jpg' } as JobRecord);
      ui.result({ status: 'error', input: 'b.jpg', error: { message: 'bad' } } as JobRecord);
      expect(stdout.text()).toBe(
        json
          ? '{"status":"ok","output":"/x/a.png","input":"a.jpg"}\n{"status":"error","input":"b.jpg","error":{"message":"bad"}}\n'
          : '/x/a.png\n',
      );
      expect(stderr.text()).toBe('');
    }
  });

  it('prints plain spinner lines off a TTY, nothing with --quiet, but warnings always', async () => {
    const stderr = sink(false);
    const ui = await createTerminalUi({
      stdout: sink(),
      stderr,
      env: {},
      json: false,
      quiet: false,
      verbose: false,
      color: true,
      redactor: new Redactor(),
    });
    const s = ui.spinner('working');
    s.update('still working');
    s.succeed('done');
    expect(stderr.text()).toBe('working\ndone\n');
    const quietErr = sink(false);
    const quiet = await createTerminalUi({
      stdout: sink(),
      stderr: quietErr,
      env: {},
      json: false,
      quiet: true,
      verbose: false,
      color: true,
      redactor: new Redactor(),
    });
    quiet.spinner('working').succeed('done');
    quiet.info('note');
    quiet.warn('careful');
    expect(quietErr.text()).toBe('warning: careful\n');
  });

  it('prints a fatal error with its ids and hint, and a stack only with --verbose', async () => {
    const err = new ImagegenError('auth', 'DashScope rejected the key', {
      requestId: 'req-1',
      hint: 'check DASHSCOPE_API_KEY',
    });
    for (const verbose of [false, true]) {
      const stderr = sink(false);
      const ui = await createTerminalUi({
        stdout: sink(),
        stderr,
        env: {},
        json: false,
        quiet: false,
        verbose,
        color: true,
        redactor: new Redactor(),
      });
      ui.fatal(err);
      expect(stderr.text()).toContain(
        'error: DashScope rejected the key\n  request id req-1\n  hint: check DASHSCOPE_API_KEY\n',
      );
      expect(stderr.text().includes('    at ')).toBe(verbose);
    }
  });
});

describe('names from outside', () => {
  it('escapes every control character, newlines and tabs too, and the controls that reorder a line', () => {
    expect(escapeControls('a\nb\r\tc\x1b[31md\x7f\x9b')).toBe('a\\x0ab\\x0d\\x09c\\x1b[31md\\x7f\\x9b');
    expect(escapeControls('x\u2028y\u202ez\u2066')).toBe('x\\u2028y\\u202ez\\u2066');
    expect(escapeControls('一只猫 café ✓')).toBe('一只猫 café ✓');
  });

  it('prints a message, a path line and a fatal error with a newline in a name as one line each', async () => {
    const stdout = sink();
    const stderr = sink();
    const ui = await createTerminalUi({
      stdout,
      stderr,
      env: {},
      json: false,
      quiet: false,
      verbose: true,
      color: false,
      redactor: new Redactor(),
    });
    ui.warn('x\nerror: forged.png: unreadable');
    ui.result({ status: 'ok', output: '/out/a\nb.loom.png', input: 'a\nb.png' } as JobRecord);
    ui.fatal(new ImagegenError('failure', 'task a\nb failed', { taskId: 'a\nb', hint: 'see\nthis' }));
    expect(stdout.text()).toBe('/out/a\\x0ab.loom.png\n');
    const lines = stderr.text().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'warning: x\\x0aerror: forged.png: unreadable',
      'error: task a\\x0ab failed',
      '  task id a\\x0ab',
      '  hint: see\\x0athis',
    ]);
    // With --verbose, the stack's frames follow, each a line of its own.
    expect(lines.slice(4, -1).every((l) => l.startsWith('    at '))).toBe(true);
  });

  it('colours warnings and errors at the level FORCE_COLOR gives, and adds nothing without colour', async () => {
    const lines = async (env: Record<string, string>, color: boolean) => {
      const stderr = sink();
      const ui = await createTerminalUi({
        stdout: sink(),
        stderr,
        env,
        json: false,
        quiet: false,
        verbose: false,
        color,
        redactor: new Redactor(),
      });
      ui.warn('low');
      ui.fatal(new ImagegenError('failure', 'broke', { hint: 'mend' }));
      return { level: ui.colorLevel, text: stderr.text() };
    };
    expect(await lines({ FORCE_COLOR: '1' }, true)).toEqual({
      level: 1,
      text: '\x1b[33mwarning:\x1b[39m low\n\x1b[31merror:\x1b[39m broke\n  \x1b[2mhint:\x1b[22m mend\n',
    });
    expect(await lines({ FORCE_COLOR: '1' }, false)).toEqual({
      level: 0,
      text: 'warning: low\nerror: broke\n  hint: mend\n',
    });
  });

  it('keeps --json records valid JSON, one a line, with the exact name', async () => {
    const stdout = sink();
    const ui = await createTerminalUi({
      stdout,
      stderr: sink(),
      env: {},
      json: true,
      quiet: false,
      verbose: false,
      color: false,
      redactor: new Redactor(),
    });
    ui.result({ status: 'ok', output: '/out/a\nb.loom.png', input: 'a\nb.png' } as JobRecord);
    const lines = stdout.text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ output: '/out/a\nb.loom.png' });
  });
});

describe('exit codes', () => {
  it('maps each error kind to its documented code, anything else to 1', () => {
    expect(exitCodeFor(new ImagegenError('usage', 'x'))).toBe(2);
    expect(exitCodeFor(new ImagegenError('rate-limit', 'x'))).toBe(6);
    expect(exitCodeFor(new ImagegenError('interrupted', 'x'))).toBe(130);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });
});
