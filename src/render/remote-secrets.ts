// What `istioctl create-remote-secret` makes, without istioctl (pure): a kubeconfig with a reader's token
// for the source cluster, in a Secret labelled istio/multiCluster=true in every other cluster; and which
// Secret holds a reader's token.
import { CLUSTER_ANNOTATION, MULTI_CLUSTER_SECRET_LABEL } from '../core/vocabulary.ts';
import { stringify } from 'yaml';
import type { KubeObject } from '../k8s/object.ts';
import { ISTIO_NAMESPACE } from './helm-releases.ts';

export const READER_SERVICE_ACCOUNT = 'istio-reader-service-account';
export const READER_TOKEN_SECRET = 'istio-reader-service-account-token';

export function readerTokenSecret(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: READER_TOKEN_SECRET, namespace: ISTIO_NAMESPACE, annotations: { 'kubernetes.io/service-account.name': READER_SERVICE_ACCOUNT } },
    type: 'kubernetes.io/service-account-token',
  };
}

/** A kubeconfig for cluster `name` with a bearer token (pure). Its cluster, context and user are all `name`. */
export function tokenKubeconfig(name: string, server: string, caData: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': caData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    users: [{ name, user: { token } }],
    'current-context': name,
    preferences: {},
  });
}

/** The remote secret for cluster `name` (pure). */
export function remoteSecret(name: string, server: string, caData: string, token: string): KubeObject {
  const kubeconfig = tokenKubeconfig(name, server, caData, token);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `istio-remote-secret-${name}`, namespace: ISTIO_NAMESPACE, labels: { [MULTI_CLUSTER_SECRET_LABEL]: 'true' }, annotations: { [CLUSTER_ANNOTATION]: name } },
    type: 'Opaque',
    stringData: { [name]: kubeconfig },
  };
}

/** Which reader token: its Secret, and what must exist before it (its namespace, its account). */
export interface ReaderTokenSource {
  secret: KubeObject;
  prerequisites: KubeObject[];
}

export const ISTIO_READER: ReaderTokenSource = { secret: readerTokenSecret(), prerequisites: [] };

