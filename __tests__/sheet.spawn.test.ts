/**
 * The contact sheet through the binary: `--sheet` on a batch and `imagegen sheet <folder>` write one static
 * index.html whose every picture loads in a real browser (Debian's headless Chromium), with names from
 * outside escaped and failures shown with their cause. .ci/run installs Chromium and sets CI, where a missing
 * browser fails the run; a developer's machine without it skips the browser checks only.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/spawn.js';
import { tempDirsPerTest } from './helpers/tmp.js';

const SAMPLE = path.resolve('samples/grace-hopper.jpg');
/** A name with every character HTML and URLs treat specially. */
const HOSTILE = `a <b>&'x"#%.jpg`;

const CHROMIUM = ['/usr/bin/chromium', 'chromium'].find((bin) => {
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
});
const maybe = CHROMIUM ? it : it.skip;

if (!CHROMIUM && process.env.CI) {
  it('has Chromium in CI', () => {
    throw new Error('chromium is not installed; .ci/run installs it with apt-get');
  });
}

/**
 * Each <img> of the sheet as the browser loaded it: [role, loaded, natural width]. The page is copied beside
 * itself (same relative paths, same image policy) with a script that records each picture once the page
 * has loaded, and the DOM is dumped by headless Chromium.
 */
function loadedImages(sheet: string, profile: string): Promise<Array<[string, boolean, number]>> {
  const html = readFileSync(sheet, 'utf8');
  expect(html).not.toContain('<script');
  const probe = path.join(path.dirname(sheet), 'probe.html');
  writeFileSync(
    probe,
    html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';") +
      `<script>addEventListener('load',()=>{for(const i of document.images)` +
      `i.setAttribute('data-loaded',(i.complete&&i.naturalWidth>0)+':'+i.naturalWidth)})</script>\n`,
  );
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=5000',
    '--dump-dom',
    pathToFileURL(probe).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM!, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout) => {
      rmSync(probe);
      if (error) return reject(error);
      const images = [...stdout.matchAll(/<img [^>]*data-role="(\w+)"[^>]*data-loaded="(true|false):(\d+)"/g)];
      resolve(images.map((m) => [m[1], m[2] === 'true', Number(m[3])]));
    });
  });
}

describe('contact sheet', () => {
  const newDir = tempDirsPerTest();

  /** A folder `in` with the sample, the sample under a hostile name, and a file that is no picture. */
  function inputs(): string {
    const dir = newDir();
    mkdirSync(path.join(dir, 'in'));
    copyFileSync(SAMPLE, path.join(dir, 'in', 'grace.jpg'));
    copyFileSync(SAMPLE, path.join(dir, 'in', HOSTILE));
    writeFileSync(path.join(dir, 'in', 'broken.png'), 'not a picture');
    return dir;
  }

  it('--sheet on a woven batch: every item, its pictures, palette and report, and the failure with its cause', async () => {
    const dir = inputs();
    const r = await runCli(['edit', 'in', '--local', '--width', '48', '--weave', '--out-dir', 'out', '--sheet'], {
      cwd: dir,
    });
    expect(r.code).toBe(8); // one of three failed
    expect(r.stderr).toContain(`contact sheet: ${path.join(dir, 'out', 'index.html')}`);
    const html = readFileSync(path.join(dir, 'out', 'index.html'), 'utf8');
    // Names from outside are text, never markup.
    expect(html).not.toContain('<b>');
    expect(html).toContain('a &lt;b&gt;&amp;&#39;x&quot;#%.jpg');
    expect(html).toContain('src="../in/a%20%3Cb%3E%26&#39;x%22%23%25.jpg"');
    expect(html).toContain('failed: in/broken.png: not a supported image');
    expect(html).toMatch(/grid 48 × \d+ \(ends × picks\)/);
    expect(html).toMatch(/<span class="chip" style="background:#[0-9a-f]{6}"><\/span>#[0-9a-f]{6} \d+\.\d %/);
    expect(html).toMatch(/\d+ regions, smallest \d+ px/);
    expect(html).toContain('2 of 3 done, 1 failed');
    // No network: nothing is fetched from anywhere but beside the sheet.
    expect(html).not.toMatch(/https?:/);
    expect(readdirSync(path.join(dir, 'out')).filter((f) => f.includes('.tmp'))).toEqual([]);

    if (!CHROMIUM) return;
    const images = await loadedImages(path.join(dir, 'out', 'index.html'), path.join(dir, 'profile'));
    // Two woven items, each with its source, design and cloth preview, every one loaded.
    expect(images.map(([role]) => role).sort()).toEqual(
      ['cloth', 'cloth', 'design', 'design', 'source', 'source'].sort(),
    );
    for (const [, loaded, width] of images) {
      expect(loaded).toBe(true);
      expect(width).toBeGreaterThan(0);
    }
    // The designs are shown at their own size: 48 ends.
    expect(images.filter(([role]) => role === 'design').map(([, , w]) => w)).toEqual([48, 48]);
  }, 120_000);

  maybe(
    'the browser check sees a picture that does not load',
    async () => {
      const dir = inputs();
      const r = await runCli(['edit', 'in/grace.jpg', '--local', '--width', '40', '--out-dir', 'out', '--sheet'], {
        cwd: dir,
      });
      expect(r.code).toBe(0);
      rmSync(path.join(dir, 'out', 'grace.loom.png'));
      const images = await loadedImages(path.join(dir, 'out', 'index.html'), path.join(dir, 'profile'));
      expect(images).toContainEqual(['design', false, 0]);
      expect(images).toContainEqual(['source', true, 512]);
    },
    120_000,
  );

  it('an index.html already there stops the run before anything is written, unless --force', async () => {
    const dir = inputs();
    mkdirSync(path.join(dir, 'out'));
    writeFileSync(path.join(dir, 'out', 'index.html'), 'mine');
    const args = ['edit', 'in/grace.jpg', '--local', '--width', '40', '--out-dir', 'out', '--sheet'];
    const r = await runCli(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('out/index.html already exists');
    expect(r.stderr).toContain('pass --force to replace it');
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['index.html']);
    expect(readFileSync(path.join(dir, 'out', 'index.html'), 'utf8')).toBe('mine');
    const forced = await runCli([...args, '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(dir, 'out', 'index.html'), 'utf8')).toContain('grace.loom.png');
  }, 60_000);

  it('--sheet with --dry-run or -o -: exit 2, nothing written', async () => {
    const dir = inputs();
    for (const extra of [['--dry-run'], ['-o', '-']]) {
      const r = await runCli(['edit', 'in/grace.jpg', '--local', '--sheet', ...extra], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--sheet with (--dry-run|-o -)/);
    }
    expect(existsSync(path.join(dir, 'index.html'))).toBe(false);
  });

  it('imagegen sheet <folder>: the reports there, and the failures of its journal', async () => {
    const dir = inputs();
    const made = await runCli(['edit', 'in', '--local', '--width', '40', '--weave', '--out-dir', 'out'], { cwd: dir });
    expect(made.code).toBe(8);
    mkdirSync(path.join(dir, 'out', '.imagegen'));
    const at = new Date(0).toISOString();
    writeFileSync(
      path.join(dir, 'out', '.imagegen', 'journal.jsonl'),
      [
        { event: 'failed', item: 'in/late.jpg', error: { kind: 'failure', message: 'first try' }, at },
        { event: 'finished', item: 'in/late.jpg', output: 'x', sha256: 'y', at },
        { event: 'failed', item: 'in/<i>gone</i>.jpg', error: { kind: 'provider', message: 'task FAILED' }, at },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n{"torn',
    );
    const r = await runCli(['sheet', 'out'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(path.join(dir, 'out', 'index.html') + '\n');
    const html = readFileSync(path.join(dir, 'out', 'index.html'), 'utf8');
    expect(html).toContain('2 of 3 done, 1 failed');
    expect(html).toContain('in/&lt;i&gt;gone&lt;/i&gt;.jpg');
    expect(html).toContain('failed: task FAILED');
    expect(html).not.toContain('first try');
    expect(html).toMatch(/grid 40 × \d+/);

    const again = await runCli(['sheet', 'out'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect((await runCli(['sheet', 'out', '--force'], { cwd: dir })).code).toBe(0);
    const empty = await runCli(['sheet', 'in'], { cwd: dir });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no imagegen reports');

    if (!CHROMIUM) return;
    const images = await loadedImages(path.join(dir, 'out', 'index.html'), path.join(dir, 'profile'));
    expect(images.length).toBe(6);
    expect(images.every(([, loaded]) => loaded)).toBe(true);
  }, 120_000);
});
