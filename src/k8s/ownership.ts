// How eastwest marks what it owns: a label for ownership (pruning only ever touches these), the mesh,
// and a content hash so identical objects are visibly identical across clusters.
import { CONTENT_HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL } from '../core/vocabulary.ts';
import { createHash } from 'node:crypto';
import type { KubeObject } from './object.ts';
import { canonicalJson } from '../util/canonical-json.ts';

/** Adds owner labels and the content hash (of everything but metadata) to a rendered object. */
export function owned(meshID: string, object: KubeObject): KubeObject {
  const { metadata, ...content } = object;
  const hash = createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 16);
  return {
    ...object,
    metadata: {
      ...metadata,
      labels: { ...metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [MESH_LABEL]: meshID },
      annotations: { ...metadata.annotations, [CONTENT_HASH_ANNOTATION]: hash },
    },
  };
}
