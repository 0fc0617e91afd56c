// Before anything changes anywhere: every context reachable, a supported Kubernetes, enough rights.
import { AuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { KubeClient, loadKubeConfig } from '../k8s/client.ts';
import type { ClusterSpec } from '../spec/schema.ts';

export const SUPPORTED_KUBERNETES = { minMinor: 30, maxMinor: 36 } as const;

export type ClusterOutcome<T> = { cluster: string; ok: true; value: T } | { cluster: string; ok: false; step: string; error: string; hint?: string };

/** Runs one operation per cluster at once; a failure is data, never hiding the others' results. */
export async function fanOut<T>(clusters: readonly ClusterSpec[], step: string, op: (cluster: ClusterSpec) => Promise<T>, hint?: (error: unknown) => string | undefined): Promise<ClusterOutcome<T>[]> {
  return Promise.all(
    clusters.map(async (cluster): Promise<ClusterOutcome<T>> => {
      try {
        return { cluster: cluster.name, ok: true, value: await op(cluster) };
      } catch (error) {
        const h = hint?.(error);
        return { cluster: cluster.name, ok: false, step, error: (error as Error).message ?? String(error), ...(h ? { hint: h } : {}) };
      }
    }),
  );
}

export interface PreflightInfo {
  client: KubeClient;
  kubernetesVersion: string;
}

export async function preflight(cluster: ClusterSpec, kubeconfig: string | undefined): Promise<PreflightInfo> {
  const config = loadKubeConfig(cluster.context, kubeconfig);
  const version = await config.makeApiClient(VersionApi).getCode();
  const minor = Number(version.minor.replace(/\D/g, ''));
  if (version.major !== '1' || minor < SUPPORTED_KUBERNETES.minMinor || minor > SUPPORTED_KUBERNETES.maxMinor) {
    throw new Error(`Kubernetes ${version.gitVersion} is not supported (1.${SUPPORTED_KUBERNETES.minMinor}–1.${SUPPORTED_KUBERNETES.maxMinor})`);
  }
  const review = await config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: '*', group: '*', resource: '*' } } },
  });
  if (!review.status?.allowed) throw new Error('the context\'s user is not allowed to manage every resource (installing Istio needs cluster-admin)');
  return { client: new KubeClient(config), kubernetesVersion: version.gitVersion };
}

export function preflightHint(error: unknown): string | undefined {
  const message = (error as Error).message ?? '';
  if (message.includes('is not in the kubeconfig')) return 'pass --kubeconfig, or set KUBECONFIG; for the lab run `eastwest lab up` first';
  if (/ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENOTFOUND|fetch failed/.test(message)) return 'is the cluster up and its API server reachable from here?';
  if (message.includes('cluster-admin')) return 'use a context bound to cluster-admin';
  return undefined;
}
