// The minimal shape of a Kubernetes object as eastwest renders and applies it.
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Apply stages, as flux applies: namespaces first, then secrets, then Istio configuration. */
export type Stage = 'namespaces' | 'secrets' | 'istio-config';
export const STAGES: readonly Stage[] = ['namespaces', 'secrets', 'istio-config'];

export function objectRef(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
