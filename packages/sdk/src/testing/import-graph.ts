/**
 * The static and dynamic import graph of a compiled ES module, as a bundler for browsers
 * would follow it: relative imports, workspace and registry packages (resolved through their
 * package.json `exports` with the `browser`, then `import`, then `default` condition), and
 * Node built-ins, which end the walk. Node only: a test helper for the browser entry.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const CONDITIONS = ['browser', 'import', 'default'];

export interface ImportGraph {
  /** Every module file reached, absolute paths. */
  files: Set<string>;
  /** Every package reached by name (`@scope/name` or `name`), built-ins excluded. */
  packages: Set<string>;
  /** Node built-ins imported, each with the file that imports it. */
  builtins: { specifier: string; from: string }[];
}

export function importGraph(entry: string): ImportGraph {
  const graph: ImportGraph = { files: new Set(), packages: new Set(), builtins: [] };
  const queue = [realpathSync(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    if (!/\.[cm]?js$/.test(file)) continue; // JSON, native addons: nothing to follow
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (isBuiltin(specifier)) {
        graph.builtins.push({ specifier, from: file });
      } else if (specifier.startsWith('.')) {
        queue.push(resolveFile(resolve(dirname(file), specifier)));
      } else {
        const resolved = resolvePackage(specifier, dirname(file));
        graph.packages.add(resolved.name);
        // A package not installed here (another platform's optional build) is reached, not walked.
        if (resolved.target) queue.push(resolved.target);
      }
    }
  }
  return graph;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

function resolvePackage(specifier: string, fromDir: string): { name: string; target?: string } {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  const dir = packageDir(name, fromDir);
  if (!dir) return { name };
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const target = manifest.exports
    ? exportTarget(manifest.exports, subpath)
    : subpath === '.'
      ? (manifest.module ?? manifest.main ?? 'index.js')
      : subpath;
  if (!target) throw new Error(`${specifier} (from ${fromDir}) is not exported for a browser`);
  return { name, target: resolveFile(join(dir, target)) };
}

/** A path as written, or as CommonJS completes it (`.js`, `.json`, `/index.js`). */
function resolveFile(path: string): string {
  for (const candidate of [path, `${path}.js`, `${path}.json`, join(path, 'index.js')]) {
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return realpathSync(candidate);
  }
  throw new Error(`cannot resolve ${path}`);
}

function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (statSync(join(candidate, 'package.json'), { throwIfNoEntry: false })) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

type Exports = string | null | Exports[] | { [key: string]: Exports };

function exportTarget(exports: Exports, subpath: string): string | undefined {
  const isMap = typeof exports === 'object' && exports !== null && !Array.isArray(exports);
  const subpaths = isMap && Object.keys(exports).some((k) => k.startsWith('.'));
  if (!subpaths) return subpath === '.' ? pickCondition(exports) : undefined;
  const map = exports as { [key: string]: Exports };
  if (subpath in map) return pickCondition(map[subpath]!);
  for (const [pattern, value] of Object.entries(map)) {
    const star = pattern.indexOf('*');
    if (star < 0) continue;
    const [before, after] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after)) {
      const match = subpath.slice(before.length, subpath.length - after.length);
      return pickCondition(value)?.replaceAll('*', match);
    }
  }
  return undefined;
}

function pickCondition(value: Exports): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(pickCondition).find((t) => t !== undefined);
  for (const condition of CONDITIONS) {
    if (condition in value) {
      const target = pickCondition(value[condition]!);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}
