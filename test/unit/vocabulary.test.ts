// One module holds the mesh's vocabulary (src/core/vocabulary.ts): no other file of src/ spells out one
// of its keys, so a label cannot be renamed in one place and missed in another.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as vocabulary from '../../src/core/vocabulary.ts';

const src = join(import.meta.dirname, '../../src');
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
/** A file's code without its comments (a comment may name a label). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

/** Keys as they appear in code: a whole quoted string, or inside one (a selector, a message). */
export function spelledOut(text: string, keys: readonly string[]): string[] {
  const body = code(text);
  return keys.filter((key) => new RegExp(`['"\`][^'"\`\\n]*${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![a-z0-9.-])`).test(body));
}

describe('the mesh vocabulary', () => {
  // Values that are also ordinary words (the field manager "eastwest") are not searched for.
  const keys = (Object.values(vocabulary) as unknown[]).filter((v): v is string => typeof v === 'string' && /[./]/.test(v));
  it('has the keys eastwest writes (a vocabulary read from nowhere would pass anything)', () => {
    expect(keys).toEqual(expect.arrayContaining(['app.kubernetes.io/managed-by', 'eastwest.dev/mesh', 'eastwest.dev/export-to', 'topology.istio.io/network']));
  });
  it('no file of src/ but the vocabulary spells out one of its keys', () => {
    const offenders = files(src)
      .filter((f) => !f.endsWith(join('core', 'vocabulary.ts')))
      .flatMap((f) => spelledOut(readFileSync(f, 'utf8'), keys).map((key) => `${relative(src, f)}: ${key}`));
    expect(offenders).toEqual([]);
  });
  it('the search finds a key in a string, a selector and a template, not in a comment or a longer key', () => {
    expect(spelledOut(`const a = { 'eastwest.dev/mesh': x };`, ['eastwest.dev/mesh'])).toEqual(['eastwest.dev/mesh']);
    expect(spelledOut('const s = `app.kubernetes.io/managed-by=${v}`;', ['app.kubernetes.io/managed-by'])).toEqual(['app.kubernetes.io/managed-by']);
    expect(spelledOut(`// eastwest.dev/mesh\nconst a = 1;`, ['eastwest.dev/mesh'])).toEqual([]);
    expect(spelledOut(`const a = 'eastwest.dev/mesh-other';`, ['eastwest.dev/mesh'])).toEqual([]);
  });
});
