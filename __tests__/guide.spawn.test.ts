/**
 * The guided session, typed at through a pseudo-terminal (util-linux `script`): it asks from lists, shows the
 * command line, runs it, and names the files written; the command shown, run again in a script, writes the
 * same picture byte for byte.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
const ENTER = '\r';
const DOWN = '\x1b[B';

/** What the terminal showed, without colours, cursor moves and carriage returns. */
function plain(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b[()][A-Z0-9]/g, '')
    .replace(/\r/g, '');
}

interface Session {
  /** Waits until the screen shows `pattern` (after everything matched so far), then types `keys`. */
  answer(pattern: RegExp | string, keys: string): Promise<void>;
  /** Types `keys` a moment after the last ones, once those have been read. */
  type(keys: string): Promise<void>;
  /** The exit code and everything shown. */
  done: Promise<{ code: number; output: string }>;
}

/** The binary on a pseudo-terminal, with no CI in its environment: it is a person's terminal. */
function onTerminal(args: string[], cwd: string, env: Record<string, string> = {}): Session {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  // A terminal of some width: script's own has none, and a spinner on a terminal 0 columns wide redraws forever.
  const child = spawn('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, TERM: 'xterm', NO_COLOR: '1', ...env },
  });
  let output = '';
  let seen = 0;
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  });
  const done = new Promise<{ code: number; output: string }>((resolve) => {
    child.on('close', (code) => {
      for (const wake of waiters.splice(0)) wake();
      resolve({ code: code ?? -1, output: plain(output) });
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  void done.then(() => clearTimeout(timer));
  return {
    async answer(pattern, keys) {
      for (;;) {
        const screen = plain(output).slice(seen);
        const at = typeof pattern === 'string' ? screen.indexOf(pattern) : screen.search(pattern);
        if (at >= 0) {
          seen += at + 1;
          break;
        }
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`ended before showing ${String(pattern)}:\n${plain(output)}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
      // The prompt is drawn before it reads: a moment for its keypress handler to be in place.
      await new Promise((r) => setTimeout(r, 150));
      child.stdin.write(keys);
    },
    async type(keys) {
      await new Promise((r) => setTimeout(r, 400));
      child.stdin.write(keys);
    },
    done,
  };
}

/** The exit code, with the screen in the message when it is not the one expected. */
function exitOf(result: { code: number; output: string }): number {
  if (result.code !== 0 && result.code !== 3) throw new Error(`exit ${result.code}; the screen:\n${result.output}`);
  return result.code;
}

describe('guided session', () => {
  const newDir = tempDirsPerTest();

  it('imagegen alone: every question from a list, the command shown, run, the files named', async () => {
    const dir = newDir();
    copyFileSync(SAMPLE, path.join(dir, 'grace.jpg'));
    copyFileSync(SAMPLE, path.join(dir, 'other.jpg'));
    const s = onTerminal([], dir);
    await s.answer('What would you like to make?', ENTER); // edit, first in the list
    // The picture: a typo narrows the list to nothing and Enter takes nothing; the right name does.
    await s.answer('Picture to weave', 'zzz');
    await s.answer('No results found', ENTER);
    await s.type('\x7f\x7f\x7fgra');
    await s.answer(/gra\n❯ grace\.jpg/, ENTER);
    await s.answer('Style', ENTER); // loom
    await s.answer('Yarn colours', '6' + ENTER);
    await s.answer('Size', DOWN + ENTER); // another width
    await s.answer('Warp ends', '48' + ENTER);
    await s.answer('Weave it', DOWN + ENTER); // yes
    await s.answer('Weft yarns', DOWN + DOWN + ENTER); // several
    await s.answer('Weft colours', '#aa2200, #eeeecc' + ENTER);
    await s.answer('Where to restyle it', ENTER); // local: no key here
    await s.answer('Run it?', ENTER);
    const { code, output } = await s.done;
    expect(exitOf({ code, output })).toBe(0);
    const shown = "imagegen edit grace.jpg --colors 6 --width 48 --weave --wefts '#aa2200,#eeeecc' --local";
    expect(output).toContain(`$ ${shown}`);
    expect(output).toContain('no provider key set');
    expect(output).toMatch(/written:\n {2}grace\.loom\.png\n {2}grace\.loom\.json\n {2}grace\.loom\.lift\.bmp\n/);
    expect(output).toContain(`to do it again: ${shown}`);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining(['grace.loom.png', 'grace.loom.json', 'grace.loom.lift.bmp', 'grace.loom.cloth.png']),
    );
    const report = JSON.parse(readFileSync(path.join(dir, 'grace.loom.json'), 'utf8')) as {
      grid: { ends: number };
      palette: unknown[];
      weave: { wefts: { yarns: Array<{ hex: string }> } };
    };
    expect(report.grid.ends).toBe(48);
    expect(report.weave.wefts.yarns.map((y) => y.hex)).toEqual(['#aa2200', '#eeeecc']);

    // What was shown is what ran: the same words in a script write the same picture.
    const again = await runCli(
      ['edit', 'grace.jpg', '--colors', '6', '--width', '48', '--weave', '--wefts', '#aa2200,#eeeecc', '--local'],
      { cwd: dir },
    );
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(path.join(dir, 'grace.loom-2.png'));
    expect(
      readFileSync(path.join(dir, 'grace.loom-2.png')).equals(readFileSync(path.join(dir, 'grace.loom.png'))),
    ).toBe(true);
  }, 90_000);

  it('edit typed with options but no picture: only the picture is asked; a key offers its provider', async () => {
    const dir = newDir();
    copyFileSync(SAMPLE, path.join(dir, 'grace.jpg'));
    const s = onTerminal(['edit', '--local', '--width', '40'], dir, { DASHSCOPE_API_KEY: 'sk-not-a-real-key' });
    await s.answer('Picture to weave', 'grace');
    await s.answer(/grace\n❯ grace\.jpg/, ENTER);
    await s.answer('Run it?', ENTER);
    const { code, output } = await s.done;
    expect(exitOf({ code, output })).toBe(0);
    expect(output).toContain('$ imagegen edit grace.jpg --local --width 40');
    expect(output).not.toContain('Style');
    expect(readdirSync(dir).sort()).toEqual(['grace.jpg', 'grace.loom.json', 'grace.loom.png']);
  }, 60_000);

  it('with a key, the provider and its model are chosen from lists; declining runs nothing', async () => {
    const dir = newDir();
    copyFileSync(SAMPLE, path.join(dir, 'grace.jpg'));
    const s = onTerminal([], dir, { DASHSCOPE_API_KEY: 'sk-not-a-real-key' });
    await s.answer('What would you like to make?', ENTER);
    await s.answer('Picture to weave', 'grace');
    await s.answer(/grace\n❯ grace\.jpg/, ENTER);
    await s.answer('Style', DOWN + ENTER); // the second style
    await s.answer('Size', DOWN + DOWN + ENTER); // the first loom preset
    await s.answer('Weave it', ENTER);
    await s.answer(/Where to restyle it[\s\S]*dashscope[\s\S]*local/, ENTER); // dashscope, first with a key
    await s.answer('DashScope model', DOWN + ENTER);
    await s.answer('Run it?', 'n' + ENTER);
    const { code, output } = await s.done;
    expect(exitOf({ code, output })).toBe(0);
    expect(output).toMatch(
      /\$ imagegen edit grace\.jpg --style \S+ --loom tc2-1320 --provider dashscope --model \S+\n/,
    );
    expect(output).toContain('not run; to run it later: imagegen edit grace.jpg');
    expect(readdirSync(dir)).toEqual(['grace.jpg']);
  }, 60_000);

  it('generate with no key: exit 3 before any prompt is asked', async () => {
    const dir = newDir();
    const s = onTerminal([], dir);
    await s.answer('What would you like to make?', DOWN + ENTER);
    const { code, output } = await s.done;
    expect(output).toContain('no ModelScope key configured');
    expect(output).not.toContain('What should it draw');
    expect(code).toBe(3);
  }, 60_000);
});
