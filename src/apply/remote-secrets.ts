// What a reader's access to a cluster is made of, read live: its API server address and CA as the other
// clusters must use them, and the reader's token (made first where apply may write). The Secrets made
// from them are the components' (src/render/remote-secrets.ts, src/components/).
import type { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { EastwestError } from '../core/errors.ts';
import type { KubeClient } from '../k8s/client.ts';
import { ClusterError } from '../k8s/cluster-error.ts';
import { pollUntil } from '../util/poll.ts';
import { ISTIO_READER, type ReaderTokenSource } from '../render/remote-secrets.ts';

/** Server and CA of a context, as the other clusters must use them. */
export function serverOf(config: KubeConfig): { server: string; caData: string } {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new EastwestError('context-without-cluster', 'the context has no cluster', { hint: 'fix the kubeconfig: the context must name a cluster' });
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  if (!caData) throw new EastwestError('cluster-without-ca', `cluster ${cluster.name} has no CA data; remote secrets need it`, { hint: 'put certificate-authority-data (or a certificate-authority file) in the kubeconfig' });
  if (/^https?:\/\/(127\.|localhost|\[::1\])/.test(cluster.server)) {
    throw new EastwestError('loopback-api-server', `the API server address ${cluster.server} is loopback: other clusters cannot reach it`, { hint: 'use a kubeconfig whose server address the other clusters can reach' });
  }
  return { server: cluster.server, caData };
}

/**
 * A reader service account's token (Istio's by default). With `create`, its prerequisites and token Secret
 * are applied first and the token waited for; without, an existing token or undefined (a cluster that is
 * only read is never written).
 */
export async function readerToken(client: KubeClient, options: { create: boolean; timeoutSeconds?: number; source?: ReaderTokenSource } = { create: true }): Promise<string | undefined> {
  const source = options.source ?? ISTIO_READER;
  const current = async () => {
    const secret = (await client.read(source.secret)) as { data?: { token?: string } } | undefined;
    return secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : undefined;
  };
  if (!options.create) return current();
  for (const object of source.prerequisites) await client.apply(object);
  await client.apply(source.secret);
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  const token = await pollUntil(timeoutSeconds, 500, current);
  if (token !== undefined) return token;
  throw new ClusterError(client.cluster, 'api', `no token in ${source.secret.metadata.namespace}/${source.secret.metadata.name} after ${timeoutSeconds} s`, 'is the token controller (kube-controller-manager) running?');
}
