// Strict decoding of a mesh spec: YAML with positions → zod → every problem with file:line:col and a hint.
import { LineCounter, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../core/errors.ts';
import { API_VERSION, KIND, meshDocumentSchema, type MeshDocument, type MeshSpec } from './schema.ts';
import { LAB_ISTIO_CHARTS, istioVersionProblems } from './istio-version.ts';
import { istioBuildVersion, readLabVersions } from '../sources/lab-versions.ts';
import { formatPath, placeOf } from './yaml-positions.ts';
import { closest } from '../util/closest.ts';

export interface DecodedSpec {
  document: MeshDocument;
  /** File name used in messages and to resolve relative paths. */
  file: string;
}

export interface DecodeOptions {
  /**
   * The Istio versions the spec's chart source has, when they are known without asking it (undefined: not
   * known here; apply's preflight asks the source). Default: the lab's pinned release for the lab's charts.
   */
  istioVersions?: (spec: Pick<MeshSpec, 'istio'>) => readonly string[] | undefined;
}

let labBuilds: { release: string; current: string; previous: string } | undefined;
/**
 * The lab's Istio versions: `lab://istio-charts` is the pinned build (its release, or its exact version);
 * `lab://istio-charts@<version>` names one build exactly (lab/versions.json, read once).
 */
export function offlineIstioVersions(spec: Pick<MeshSpec, 'istio'>): readonly string[] | undefined {
  const directory = spec.istio.charts.directory;
  if (!directory?.startsWith(LAB_ISTIO_CHARTS)) return undefined;
  try {
    if (!labBuilds) {
      const v = readLabVersions();
      labBuilds = { release: v.istio.release, current: istioBuildVersion(v.istio), previous: istioBuildVersion(v.istioPrevious) };
    }
  } catch {
    return undefined; // not shipped alongside (e.g. a copy of the sources without lab/): nothing to check against
  }
  const build = /^@([^/]+)/.exec(directory.slice(LAB_ISTIO_CHARTS.length))?.[1];
  if (build === undefined) return [labBuilds.release, labBuilds.current];
  return [labBuilds.current, labBuilds.previous].includes(build) ? [build] : [];
}

/** Decodes spec text. Pure but for the lab's pinned versions file (see DecodeOptions). Throws InputError with all problems found. */
export function decodeMeshSpec(text: string, file: string, options: DecodeOptions = {}): DecodedSpec {
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
  const locate: Locate = (path, atKey) => placeOf(doc, counter, path, atKey);
  // The Istio version against what the chart source has, when that is known here; also when other fields
  // are wrong, so that every problem shows at once.
  const versioned = result.success ? result.data.spec : istioOf(data, result.error.issues);
  const available = versioned && (options.istioVersions ?? offlineIstioVersions)(versioned);
  const versionPlace = locate(['spec', 'istio', 'version'], false);
  const problems: Problem[] = versioned && available ? istioVersionProblems(versioned, available).map((p) => ({ file, line: versionPlace.line, col: versionPlace.col, ...p })) : [];
  if (result.success && problems.length === 0) return { document: result.data, file };

  for (const issue of result.success ? [] : result.error.issues) {
    problems.push(...problemsFromIssue(issue, data, locate, file, doc));
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) || a.path.localeCompare(b.path));
  throw new InputError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the mesh spec`, problems);
}

type Locate = (path: (string | number)[], atKey: boolean) => { line: number; col: number; exact: boolean };

/** spec.istio of data that failed the schema, when its version and chart source are themselves well formed. */
function istioOf(data: unknown, issues: readonly z.core.$ZodIssue[]): Pick<MeshSpec, 'istio'> | undefined {
  if (issues.some((i) => i.path[0] === 'spec' && i.path[1] === 'istio' && (i.path.length === 2 || i.path[2] === 'version' || i.path[2] === 'charts'))) return undefined;
  const istio = valueAt(data, ['spec', 'istio']) as { version?: unknown; charts?: unknown } | undefined;
  if (typeof istio?.version !== 'string' || istio.charts === null || typeof istio.charts !== 'object') return undefined;
  return { istio: { version: istio.version, charts: istio.charts } } as Pick<MeshSpec, 'istio'>;
}

/** A scalar written where text is expected (`version: 1.31`) is quoted in the hint as it was written. */
function quoteHint(doc: Document, path: readonly (string | number)[]): string | undefined {
  const node = doc.getIn(path, true);
  const written = isScalar(node) ? (node.source ?? String(node.value)) : undefined;
  if (written === undefined) return undefined;
  const key = String(path.at(-1));
  // A version of two parts is written out as three: YAML read 1.30 as the number 1.3.
  const text = key === 'version' && /^\d+\.\d+$/.test(written) ? `${written}.0` : written;
  return `quote it: ${key}: "${text}"`;
}

function problemsFromIssue(issue: z.core.$ZodIssue, data: unknown, locate: Locate, file: string, doc: Document): Problem[] {
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
        const value = valueAt(data, path);
        message = `expected ${issue.expected}, got ${describe(value)}`;
        if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) hint ??= quoteHint(doc, path);
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
