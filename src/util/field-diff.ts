// Field-level differences between what eastwest wants and what a cluster has (pure).
import { canonicalJson } from './canonical-json.ts';
import { isPlainObject } from './deep-merge.ts';

export interface FieldDifference {
  path: string;
  want: unknown;
  live: unknown;
}

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** Every leaf where `want` and `live` differ; lists are compared item by item. */
export function fieldDifferences(want: unknown, live: unknown, path = ''): FieldDifference[] {
  if (canonicalJson(want) === canonicalJson(live)) return [];
  if (isPlainObject(want) && isPlainObject(live)) {
    const keys = [...new Set([...Object.keys(want), ...Object.keys(live)])].sort();
    return keys.flatMap((k) => fieldDifferences(want[k], live[k], join(path, k)));
  }
  if (Array.isArray(want) && Array.isArray(live) && want.length === live.length) {
    return want.flatMap((w, i) => fieldDifferences(w, live[i], join(path, i)));
  }
  return [{ path, want, live }];
}

/** A key that names a secret (a password, token, key or credential in Helm values). */
const SENSITIVE_KEY = /(pass(word|wd)?|secret|token|api.?key|private.?key|credential)s?$/i;
const maskOne = (value: unknown) => (value === undefined ? undefined : '<masked: its key names a secret>');

/** The differences with values whose key names a secret replaced by a placeholder (both sides). */
export function maskSensitive(fields: readonly FieldDifference[]): FieldDifference[] {
  return fields.map((f) => {
    const key = f.path.split(/[.[\]]/).filter(Boolean).at(-1) ?? '';
    return SENSITIVE_KEY.test(key) ? { path: f.path, want: maskOne(f.want), live: maskOne(f.live) } : f;
  });
}

/** The parts of an object that say what it is, without the API server's bookkeeping. */
export function comparable(object: Record<string, unknown>): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = object as { metadata?: Record<string, unknown>; status?: unknown };
  const { managedFields: _m, resourceVersion: _r, generation: _g, uid: _u, creationTimestamp: _c, ...meta } = metadata ?? {};
  return { ...rest, metadata: meta };
}
