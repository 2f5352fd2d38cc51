#!/usr/bin/env node
/**
 * npm run bench [-- --runs N] [-- --only NAME]
 * npm run bench -- --startup [--runs N]   start-up time of `imagegen --help` and `edit --help` against `node -e 0`
 * npm run bench -- --fidelity             fidelity only (no timing): imagegen against pngquant on every input
 * npm run bench -- --stages [--runs N]    palette, map and speck-removal times at 1200 ends, in fresh processes
 * npm run bench -- --batch [--runs N]     a batch of 24 photos in one invocation, against GNU parallel and mogrify
 * npm run bench -- --remote [--runs N]    8 remote edits against the test suite's fake DashScope, 2 tasks in flight
 * npm run bench -- --weave [--runs N]     lift plans of --weave auto: floats, tone (Spearman) against naive binaries, time
 * npm run bench -- --wefts [--runs N]     colour jacquard: woven face against the naive cloth, floats per layer, stitches, time
 * npm run bench -- --decode [--runs N]    each JPEG decoded at full size, at half size, and as the CLI decides
 * npm run bench -- --loop [--runs N]      50 small photos, one call each from a shell loop, against the same loop of convert
 * npm run bench -- --native [--runs N]    TIFF, GIF, JPEG, PNG and WebP decoded by the tool and by sharp, with sharp's loading
 * npm run bench -- --kernels [--runs N]   the palette mapping's WebAssembly port against the JavaScript kernel, cold and warm
 *
 * Each suite is a module of scripts/bench/ (the default one is speed.mjs); what they share is in
 * scripts/bench/common.mjs. The first suite flag given, in the order below, picks the suite.
 */
const suites = [
  ['--startup', () => import('./bench/startup.mjs')],
  ['--decode', () => import('./bench/decode.mjs')],
  ['--native', () => import('./bench/native.mjs')],
  ['--loop', () => import('./bench/loop.mjs')],
  ['--batch', () => import('./bench/batch.mjs')],
  ['--remote', () => import('./bench/remote.mjs')],
  ['--weave', () => import('./bench/weave.mjs')],
  ['--wefts', () => import('./bench/wefts.mjs')],
  ['--kernel-child', async () => ({ main: (await import('./bench/kernels.mjs')).child })],
  ['--kernels', () => import('./bench/kernels.mjs')],
  ['--stage-child', async () => ({ main: (await import('./bench/stages.mjs')).child })],
  ['--stages', () => import('./bench/stages.mjs')],
  ['--fidelity', () => import('./bench/fidelity.mjs')],
];
const args = process.argv.slice(2);
const load = suites.find(([flag]) => args.includes(flag))?.[1] ?? (() => import('./bench/speed.mjs'));
const { main } = await load();
await main();
