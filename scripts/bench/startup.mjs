/** --startup: start-up time of `imagegen --help` and `edit --help` against `node -e 0`. */
import path from 'node:path';
import { root, RUNS, median, wall } from './common.mjs';

export async function main() {
  const bin = path.join(root, 'bin', 'imagegen.js');
  const commands = [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: 'imagegen --help', argv: [bin, '--help'] },
    { name: 'imagegen edit --help', argv: [bin, 'edit', '--help'] },
  ];
  for (const c of commands) wall(c.argv); // warm the file cache
  const times = commands.map(() => []);
  // Interleaved, so that a noisy moment weighs on every command alike.
  for (let i = 0; i < RUNS; i++) commands.forEach((c, k) => times[k].push(wall(c.argv)));
  const base = median(times[0]);
  console.log(`start-up, ${RUNS} interleaved runs each (median), node ${process.version}`);
  commands.forEach((c, k) => {
    const m = median(times[k]);
    const runs = times[k].map((t) => t.toFixed(3)).join(' ');
    console.log(`  ${c.name.padEnd(22)} ${m.toFixed(3)} s  ${(m / base).toFixed(2)}× node -e 0   (${runs})`);
  });
  process.exit(0);
}
