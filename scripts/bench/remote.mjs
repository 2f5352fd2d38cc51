/**
 * 8 edits in one invocation against the fake DashScope of the test suite (its limits on: 2 tasks in flight, 2
 * submits a second, 429 beyond), with tasks that take T seconds. The bound is 1.15 × 4T + 2 s: four rounds of
 * two tasks, with room for polling and the loom pipeline. The fake is TypeScript; it is transpiled here with
 * the project's own compiler, as it imports nothing but Node.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { root, argValue, RUNS, out, median } from './common.mjs';

export async function main() {
  const ts = (await import('typescript')).default;
  const source = readFileSync(path.join(root, '__tests__', 'helpers', 'fake-providers.ts'), 'utf8');
  const compiled = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const fakeFile = path.join(out, 'fake-providers.mjs');
  writeFileSync(fakeFile, compiled);
  const { FakeProviders } = await import(pathToFileURL(fakeFile).href);
  const key = 'sk-bench-not-a-real-key-0000';
  const T = Number(argValue('--task-seconds', '2'));
  const fake = await new FakeProviders({ dashscopeKey: key, modelscopeKey: 'ms-bench-0000', limits: true }).start();
  fake.taskDurationMs = T * 1000;
  fake.result = {
    status: 200,
    body: readFileSync(path.join(root, 'samples', 'grace-hopper.jpg')),
    contentType: 'image/jpeg',
  };
  const work = path.join(out, 'remote');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(work, 'in'), { recursive: true });
  for (let i = 1; i <= 8; i++)
    writeFileSync(path.join(work, 'in', `p${i}.jpg`), readFileSync(path.join(root, 'samples', 'grace-hopper.jpg')));
  writeFileSync(
    path.join(work, '.imagegenrc.json'),
    JSON.stringify({ polling: { intervalMs: 250, maxIntervalMs: 500, timeoutMs: 120000 }, loom: { width: 600 } }),
  );
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    DASHSCOPE_API_KEY: key,
    IMAGEGEN_DASHSCOPE_BASE_URL: fake.url,
  };
  const bound = 1.15 * 4 * T + 2;
  console.log(
    `imagegen bench --remote: 8 edits, fake DashScope with 2 tasks in flight and 2 submits a second, tasks of ${T} s`,
  );
  const walls = [];
  for (let run = 1; run <= RUNS; run++) {
    fake.resetStats();
    const outDir = path.join(work, `out-${run}`);
    const { spawn } = await import('node:child_process');
    const t0 = process.hrtime.bigint();
    const code = await new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          path.join(root, 'bin', 'imagegen.js'),
          'edit',
          'in',
          '--out-dir',
          outDir,
          '--no-report',
          '--no-fallback',
          '-q',
        ],
        { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      child.on('exit', resolve);
    });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const stats = fake.stats.dashscope;
    const ids = stats.accepted.map((a) => a.taskId);
    const written = existsSync(outDir) ? readdirSync(outDir).length : 0;
    if (code !== 0 || written !== 8) {
      console.log(`run ${run}: exit ${code}, ${written} images: the bench stops`);
      await fake.close();
      process.exit(1);
    }
    walls.push(secs);
    console.log(
      `run ${run}: ${secs.toFixed(2)} s, peak ${stats.peakInFlight} in flight, ${stats.accepted.length} submits (${new Set(ids).size} distinct), 429s: rate ${stats.refused.rate}, in flight ${stats.refused.inFlight}`,
    );
  }
  await fake.close();
  const m = median(walls);
  console.log(
    `median ${m.toFixed(2)} s against the bound 1.15 × 4 × ${T} + 2 = ${bound.toFixed(2)} s: ${m <= bound ? 'met' : 'NOT met'}`,
  );
  process.exit(0);
}
