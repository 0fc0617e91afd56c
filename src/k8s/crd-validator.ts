// Validates objects against the OpenAPI v3 schemas of CustomResourceDefinitions (e.g. Istio's
// crd-all.gen.yaml). Kubernetes extensions (x-kubernetes-*) are read as annotations; CEL rules are not
// evaluated here (the API server does that).
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './object.ts';

interface Crd {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema: unknown } }[] };
}

export interface SchemaViolation {
  object: string;
  path: string;
  message: string;
}

export class CrdValidator {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(crdYaml: string) {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    for (const doc of parseAllDocuments(crdYaml)) {
      const crd = doc.toJS() as Crd | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        if (!version.served || !version.schema) continue;
        this.validators.set(`${crd.spec.group}/${version.name}:${crd.spec.names.kind}`, ajv.compile(stripKubernetesExtensions(version.schema.openAPIV3Schema) as object));
      }
    }
  }

  get kinds(): string[] {
    return [...this.validators.keys()].sort();
  }

  /** Violations of the object's CRD schema; undefined when no CRD serves its apiVersion and kind. */
  validate(object: KubeObject): SchemaViolation[] | undefined {
    const validate = this.validators.get(`${object.apiVersion}:${object.kind}`);
    if (!validate) return undefined;
    if (validate(object as unknown)) return [];
    const name = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    return (validate.errors ?? []).map((e) => ({ object: name, path: e.instancePath || '/', message: `${e.message ?? 'invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}` }));
  }
}

/** Kubernetes-only keywords: int-or-string becomes "integer or string", unknown fields are errors; the rest are dropped. */
function stripKubernetesExtensions(schema: unknown, depth = 0): unknown {
  if (Array.isArray(schema)) return schema.map((s) => stripKubernetesExtensions(s, depth + 1));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const input = schema as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith('x-kubernetes-')) continue;
    out[key] = stripKubernetesExtensions(value, depth + 1);
  }
  if (input['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  // The API server prunes unknown fields silently; here they are errors, so a typo cannot vanish.
  // (Not at the root: apiVersion, kind and metadata are the API server's.)
  if (depth > 0 && out.type === 'object' && out.properties && input['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}
