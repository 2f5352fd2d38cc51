/**
 * The shape of src/: one folder per layer, imports only downwards, a pure loom, no import cycles.
 * Imports are read with TypeScript's own import scanner (ts.preProcessFile), so multi-line imports, `import type`,
 * `export … from`, side-effect imports and `import('…')` with a literal all count, and comments and strings don't.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Layer folders of src/, highest first: a file may import its own folder or a folder of lower rank. */
const LAYERS: Readonly<Record<string, number>> = {
  cli: 9,
  jobs: 8,
  stages: 7,
  config: 6,
  providers: 5,
  image: 4,
  formats: 3,
  loom: 2,
  kernel: 1,
};
/** Folders whose files import only each other: no node: built-ins, no packages, no other folder of src/. */
const PURE = ['loom'];

const ROOT = path.resolve('.');
const SRC = path.join(ROOT, 'src');

interface Edge {
  from: string; // 'src/a/x.ts'
  to: string; // 'src/b/y.ts', or the bare specifier of a package or built-in
}

const rel = (abs: string): string => path.relative(ROOT, abs).split(path.sep).join('/');
/** The top-level folder of src/ a file is in ('' for a file directly in src/). */
const folderOf = (file: string): string => (file.split('/').length > 2 ? file.split('/')[1] : '');
const show = (folder: string): string => folder || 'src/';
const layerName = (folder: string): string =>
  folder in LAYERS ? `${folder}(${LAYERS[folder]})` : `${show(folder)}(not a layer)`;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const abs = path.join(dir, d.name);
    return d.isDirectory() ? listTs(abs) : d.name.endsWith('.ts') ? [abs] : [];
  });
}

const isFile = (abs: string): boolean => statSync(abs, { throwIfNoEntry: false })?.isFile() ?? false;

/** './x.js' means './x.ts'; './dir/index.js', './x' and './dir' are accepted too. */
function resolveRelative(fromAbs: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(fromAbs), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && c.startsWith(SRC + path.sep) && isFile(c));
}

const files = listTs(SRC).map(rel).sort();
const local: Edge[] = []; // between files of src/
const external: Edge[] = []; // to packages and built-ins
const unresolved: string[] = [];
for (const file of files) {
  const abs = path.join(ROOT, file);
  for (const { fileName: spec } of ts.preProcessFile(readFileSync(abs, 'utf8'), true, true).importedFiles) {
    if (!spec.startsWith('.')) {
      external.push({ from: file, to: spec });
      continue;
    }
    const target = resolveRelative(abs, spec);
    if (!target) unresolved.push(`${file}: '${spec}' does not resolve to a .ts file in src/`);
    else if (!local.some((e) => e.from === file && e.to === rel(target))) local.push({ from: file, to: rel(target) });
  }
}

function graphOf(edges: Array<[string, string]>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [from, to] of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

/** Tarjan's strongly connected components; returns those that hold a cycle (size > 1, or a self-import). */
function cyclicComponents(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.has(v)) found.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One shortest cycle through the first member of a component, as 'a -> b -> a'. */
function shortestCycle(graph: Map<string, Set<string>>, component: string[]): string {
  const start = component[0];
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length && !previous.has(start); i++) {
    for (const w of graph.get(queue[i]) ?? []) {
      if (!component.includes(w) || previous.has(w)) continue;
      previous.set(w, queue[i]);
      queue.push(w);
    }
  }
  const trail = [start];
  for (let v = previous.get(start)!; v !== start; v = previous.get(v)!) trail.unshift(v);
  return [start, ...trail].join(' -> ');
}

describe('architecture of src/', () => {
  test('every file sits in a layer folder', () => {
    const misplaced = [...new Set(files.map(folderOf))]
      .filter((folder) => !(folder in LAYERS))
      .map((folder) => {
        const inside = files.filter((f) => folderOf(f) === folder);
        const where = folder ? `src/${folder}/ is not a layer folder` : 'files directly in src/';
        return `${where} (layers: ${Object.keys(LAYERS).join(', ')}): ${inside.join(', ')}`;
      });
    expect(misplaced).toEqual([]);
  });

  test('every relative import resolves to a file', () => {
    expect(unresolved).toEqual([]);
  });

  test('imports only go to the same folder or to a lower layer', () => {
    const violations = local
      .filter(({ from, to }) => folderOf(from) !== folderOf(to) && !(LAYERS[folderOf(from)] > LAYERS[folderOf(to)]))
      .map(({ from, to }) => `${from} -> ${to}   [${layerName(folderOf(from))} -> ${layerName(folderOf(to))}]`);
    expect(violations).toEqual([]);
  });

  test.each(PURE)('src/%s/ is pure: it imports only its own files', (folder) => {
    const impure = [
      ...local.filter(({ from, to }) => folderOf(from) === folder && folderOf(to) !== folder),
      ...external.filter(({ from }) => folderOf(from) === folder),
    ].map(({ from, to }) => `${from} -> ${to}`);
    expect(impure).toEqual([]);
  });

  test('no import cycle between files', () => {
    const graph = graphOf(local.map(({ from, to }) => [from, to]));
    const cycles = cyclicComponents(graph).map(
      (c) => `${c.length} files in a cycle: ${c.join(', ')}; e.g. ${shortestCycle(graph, c)}`,
    );
    expect(cycles).toEqual([]);
  });

  test('no import cycle between folders', () => {
    const key = (file: string): string => show(folderOf(file));
    const crossing = local.filter(({ from, to }) => key(from) !== key(to));
    const graph = graphOf(crossing.map(({ from, to }) => [key(from), key(to)]));
    const cycles = cyclicComponents(graph).map((c) => {
      const inCycle = crossing.filter((e) => c.includes(key(e.from)) && c.includes(key(e.to)));
      return `folders ${c.join(', ')} import each other, e.g. ${shortestCycle(graph, c)}; through:\n${inCycle
        .map(({ from, to }) => `    ${from} -> ${to}`)
        .join('\n')}`;
    });
    expect(cycles).toEqual([]);
  });
});
