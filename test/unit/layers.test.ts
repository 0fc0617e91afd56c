// The import direction of src/: every folder sits in a layer of the README's table ("How it is built")
// and imports only from lower layers. Read from the sources (static and dynamic imports, re-exports).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const src = join(root, 'src');

/** Folder → layer, from the README's table (rows "| n | `a`, `b` | …"). */
export function layersFromReadme(readme: string): Map<string, number> {
  const section = readme.slice(readme.indexOf('## How it is built'));
  const layers = new Map<string, number>();
  for (const m of section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    for (const folder of m[2]!.matchAll(/`([a-z0-9-]+)`/g)) layers.set(folder[1]!, Number(m[1]));
  }
  return layers;
}

/** Every import between two folders of src: [from file, to file]. */
export function crossFolderImports(dir: string): { from: string; to: string; fromFolder: string; toFolder: string }[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(dir);
  const folder = (p: string) => relative(dir, p).split('/')[0]!;
  const out = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)) {
      const target = resolve(dirname(file), m[1]!);
      if (!target.startsWith(dir)) continue;
      if (folder(file) !== folder(target)) out.push({ from: relative(dir, file), to: relative(dir, target), fromFolder: folder(file), toFolder: folder(target) });
    }
  }
  return out;
}

describe('layers of src (README: How it is built)', () => {
  const layers = layersFromReadme(readFileSync(join(root, 'README.md'), 'utf8'));
  const imports = crossFolderImports(src);

  it('the README\'s table places every folder of src, and only those', () => {
    const folders = readdirSync(src).filter((f) => statSync(join(src, f)).isDirectory()).sort();
    expect([...layers.keys()].sort()).toEqual(folders);
  });
  it('no import points to the same or a higher layer (so no cycle between folders)', () => {
    const upward = imports.filter((i) => layers.get(i.toFolder)! >= layers.get(i.fromFolder)!).map((i) => `${i.from} → ${i.to} (layer ${layers.get(i.fromFolder)} → ${layers.get(i.toFolder)})`);
    expect(upward).toEqual([]);
  });
  it('the lab is reached only from the CLI (it provides clusters and images; nothing else depends on it)', () => {
    expect(imports.filter((i) => i.toFolder === 'lab' && i.fromFolder !== 'cli').map((i) => `${i.from} → ${i.to}`)).toEqual([]);
  });
  it('only the lab reads the lab\'s state (the engine gets it from the provider the CLI registers)', () => {
    expect(imports.filter((i) => i.to === 'sources/lab-state-files.ts' && i.fromFolder !== 'lab').map((i) => `${i.from} → ${i.to}`)).toEqual([]);
  });
  it('the reading finds imports at all: static, dynamic and re-exports (a reader that finds none would pass everything)', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(crossFolderImports(src).some((i) => i.from === 'cli/main.ts')).toBe(true);
  });
});
