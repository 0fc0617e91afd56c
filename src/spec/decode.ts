// Strict decoding of a mesh spec: YAML with positions → zod → every problem with file:line:col and a hint.
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../core/errors.ts';
import { API_VERSION, KIND, meshDocumentSchema, type MeshDocument } from './schema.ts';
import { formatPath, placeOf } from './yaml-positions.ts';
import { closest } from '../util/closest.ts';

export interface DecodedSpec {
  document: MeshDocument;
  /** File name used in messages and to resolve relative paths. */
  file: string;
}

/** Decodes spec text. Pure: no file system. Throws InputError with all problems found. */
export function decodeMeshSpec(text: string, file: string): DecodedSpec {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map<Problem>((e) => {
      const pos = counter.linePos(e.pos[0]);
      return { file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}`, hint: 'check indentation, quoting and duplicate keys' };
    });
    throw new InputError(`${file}: not valid YAML`, problems);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const result = meshDocumentSchema.safeParse(data);
  if (result.success) return { document: result.data, file };

  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    problems.push(...problemsFromIssue(issue, data, (path, atKey) => placeOf(doc, counter, path, atKey), file));
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) || a.path.localeCompare(b.path));
  throw new InputError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the mesh spec`, problems);
}

type Locate = (path: (string | number)[], atKey: boolean) => { line: number; col: number; exact: boolean };

function problemsFromIssue(issue: z.core.$ZodIssue, data: unknown, locate: Locate, file: string): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path);
    return issue.keys.map((key) => {
      const place = locate([...path, key], true);
      const suggestion = closest(key, known);
      return {
        file, line: place.line, col: place.col,
        path: formatPath([...path, key]),
        message: `unknown field "${key}"`,
        hint: suggestion ? `did you mean "${suggestion}"?` : known.length ? `allowed here: ${known.join(', ')}` : 'remove it',
      };
    });
  }
  const place = locate(path, false);
  const present = valueAt(data, path) !== undefined;
  let message = issue.message;
  let hint = (issue as { params?: { hint?: string } }).params?.hint;
  switch (issue.code) {
    case 'invalid_type':
      if (!present) {
        message = `required field "${String(path.at(-1))}" is missing`;
        hint ??= `add ${String(path.at(-1))} (${issue.expected})`;
      } else {
        message = `expected ${issue.expected}, got ${describe(valueAt(data, path))}`;
      }
      break;
    case 'invalid_value':
      message = `invalid value ${JSON.stringify(valueAt(data, path))}`;
      hint ??= issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `one of: ${issue.values.map((v) => String(v)).join(', ')}`;
      if (path.length === 1 && path[0] === 'apiVersion') hint = `this eastwest reads ${API_VERSION}`;
      if (path.length === 1 && path[0] === 'kind') hint = `the kind is ${KIND}`;
      break;
    case 'too_small':
      if (issue.origin === 'array') {
        message = `needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
        hint ??= 'add the missing entries';
      } else if (issue.origin === 'number') message = `must be at least ${String(issue.minimum)}`;
      break;
    case 'too_big':
      if (issue.origin === 'number') message = `must be at most ${String(issue.maximum)}`;
      break;
    default:
      break;
  }
  return [{ file, line: place.line, col: place.col, path: formatPath(path), message, ...(hint ? { hint } : {}) }];
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The field names the schema allows at a data path (for "did you mean"). */
export function knownKeys(path: readonly (string | number)[]): string[] {
  let schema: unknown = meshDocumentSchema;
  const unwrap = (s: unknown): unknown => {
    let cur = s as { def?: { type?: string; innerType?: unknown; in?: unknown; schema?: unknown } } | undefined;
    for (let i = 0; i < 10 && cur?.def; i++) {
      const t = cur.def.type;
      if (t === 'default' || t === 'prefault' || t === 'optional' || t === 'nullable' || t === 'readonly' || t === 'catch') cur = cur.def.innerType as typeof cur;
      else if (t === 'pipe') cur = cur.def.in as typeof cur;
      else break;
    }
    return cur;
  };
  schema = unwrap(schema);
  for (const seg of path) {
    const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'object' && typeof seg === 'string') schema = unwrap(def.shape?.[seg]);
    else if (def?.type === 'array' && typeof seg === 'number') schema = unwrap(def.element);
    else return [];
  }
  const def = (schema as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}
