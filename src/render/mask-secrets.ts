// Rendered objects as they may be shown (`render -o -`): a Secret's data and stringData keep their keys,
// each value replaced by a note that carries nothing of it but its size. Pure.
import type { KubeObject } from '../k8s/object.ts';

export const INCLUDE_SECRETS_FLAG = '--include-secrets';

const SECRET_FIELDS = ['data', 'stringData'] as const;

const note = (bytes: number) => `<masked: ${bytes} bytes; ${INCLUDE_SECRETS_FLAG} shows it>`;

const sizeOf = (value: unknown, base64: boolean) =>
  typeof value === 'string' ? (base64 ? Buffer.from(value, 'base64').length : Buffer.byteLength(value)) : Buffer.byteLength(JSON.stringify(value) ?? '');

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The number of values a Secret holds in data and stringData (0 for any other object). */
export function secretValueCount(object: KubeObject): number {
  if (object.kind !== 'Secret') return 0;
  return SECRET_FIELDS.reduce((n, field) => {
    const values = object[field];
    return n + (values === undefined || values === null ? 0 : isMap(values) ? Object.keys(values).length : 1);
  }, 0);
}

/** The object with every Secret value masked (key names kept); any other object as it is. */
export function maskSecretValues(object: KubeObject): KubeObject {
  if (secretValueCount(object) === 0) return object;
  const masked: KubeObject = { ...object };
  for (const field of SECRET_FIELDS) {
    const values = object[field];
    if (values === undefined || values === null) continue;
    masked[field] = isMap(values) ? Object.fromEntries(Object.entries(values).map(([key, v]) => [key, note(sizeOf(v, field === 'data'))])) : note(sizeOf(values, field === 'data'));
  }
  return masked;
}
