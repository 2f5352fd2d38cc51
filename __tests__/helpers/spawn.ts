import { execFile } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/imagegen.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built binary with a clean environment (no keys, no colour forcing, no TTY). */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.cwd ?? process.cwd(),
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd, env, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}
