// `ca rotate --intermediates`: a new intermediate for each selected cluster from the same root, without
// a failed request. Everything is checked before anything is written (the root key at hand, every
// cluster answering, each cluster's cacerts of the mesh's one root and no root rotation under way). Then,
// per cluster: the new intermediate is written to the CA directory (the old one kept beside it), then to
// `cacerts`; istiod reloads it by itself, and the rotation waits until istiod's own serving certificate is
// signed by the new intermediate (checked, not timed). Proxies keep their certificate, signed by the old
// intermediate, until their agent renews it at half its life: same root, so both chains are trusted
// meanwhile. `restart` moves them now: the Deployments of the mesh's namespaces whose proxies hold the
// old chain are restarted one at a time, each waiting for its rollout (its own surge keeps every replica
// serving while old pods drain). The result says, per proxy, which chain it holds and when it renews.
import { X509Certificate as X509 } from 'node:crypto';
import { AppsV1Api, CoreV1Api, PatchStrategy, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { EastwestError, EXIT, InputError, type Problem } from '../core/errors.ts';
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import type { Reporter } from '../core/reporter.ts';
import { lockCaDirectory } from '../pki/ca-lock.ts';
import { RESTARTED_AT_ANNOTATION, ROTATE_FIELD_MANAGER, SIDECAR_STATUS_ANNOTATION } from '../core/vocabulary.ts';
import type { KubeClient } from '../k8s/client.ts';
import { podTlsChain } from '../k8s/pod-tls.ts';
import { proxyCertificateChain } from '../k8s/proxy-certificate.ts';
import { proxyContainer } from '../k8s/proxy-settings.ts';
import { owned } from '../k8s/ownership.ts';
import { createIntermediateCa, istioCacerts, type CaMaterial } from '../pki/ca.ts';
import { classifyChain, oldIntermediateOutlivesCertificates, type HeldChain } from '../pki/chain-holder.ts';
import { algorithmOfKey, readPki, writeIntermediate } from '../pki/store.ts';
import { certificatesIn, fingerprint } from '../pki/trust-plan.ts';
import { EASTWEST_GATEWAY_LABEL, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { cacertsSecret } from '../render/mesh-objects.ts';
import { pollUntil, sleep } from '../util/poll.ts';
import { classifier, openEngine, type EngineOptions } from './context.ts';
import { decodeCacerts, pkiDirectory } from './mesh-ca.ts';

export interface RotateIntermediatesOptions extends Pick<EngineOptions, 'file' | 'kubeconfig' | 'contexts' | 'clusters' | 'requestTimeoutSeconds'> {
  /** Restart the mesh's workloads whose proxies hold the old chain, one Deployment at a time. */
  restart: boolean;
  /** How long istiod may take to sign with the new intermediate, and each rollout to finish. */
  timeoutSeconds: number;
}

export interface ProxyChain {
  namespace: string;
  pod: string;
  kind: 'sidecar' | 'gateway';
  /** What it holds now; absent with `error`. */
  chain?: HeldChain;
  error?: string;
}

export interface IntermediateView {
  fingerprint: string;
  notAfter: string;
}

export interface ClusterRotation {
  old: IntermediateView;
  new: IntermediateView;
  /** Seconds from writing cacerts until istiod's serving certificate was signed by the new intermediate. */
  istiodSwitchedSeconds: number;
  restarted: { namespace: string; deployment: string; seconds: number }[];
  proxies: ProxyChain[];
  /** Proxies not yet on the new chain (old, earlier or foreign), and the latest moment one of them renews. */
  oldChainProxies: number;
  lastRenewal?: string;
}

export interface RotateResult {
  ok: boolean;
  directory: string;
  rootFingerprint: string;
  clusters: ClusterOutcome<ClusterRotation>[];
  seconds: number;
}

const ISTIOD_XDS_PORT = 15012;
const view = (pem: string): IntermediateView => ({ fingerprint: fingerprint(pem), notAfter: new Date(new X509(pem).validTo).toISOString() });

/** Running pods with an Istio proxy (sidecar or east-west gateway), not being deleted. */
export function proxyPods(pods: V1Pod[]): { namespace: string; pod: string; kind: 'sidecar' | 'gateway'; owner?: string }[] {
  const out: { namespace: string; pod: string; kind: 'sidecar' | 'gateway'; owner?: string }[] = [];
  for (const p of pods) {
    const name = p.metadata?.name;
    const namespace = p.metadata?.namespace;
    if (!name || !namespace || p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp) continue;
    // A sidecar carries the injector's annotation; a gateway (Istio's gateway chart or another install) runs
    // an istio-proxy container without it; native sidecars run it among the init containers.
    const injected = Boolean(p.metadata?.annotations?.[SIDECAR_STATUS_ANNOTATION]);
    const kind = injected ? 'sidecar' : p.metadata?.labels?.istio === EASTWEST_GATEWAY_LABEL.istio || proxyContainer(p) ? 'gateway' : undefined;
    if (!kind) continue;
    const owner = p.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'ReplicaSet')?.name;
    out.push({ namespace, pod: name, kind, ...(owner ? { owner } : {}) });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod));
}

async function proxyChains(config: KubeConfig, oldPem: string, newPem: string, rootPem: string, timeoutMs: number): Promise<ProxyChain[]> {
  const pods = proxyPods((await config.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items);
  return mapLimit(pods, 4, async ({ namespace, pod, kind }): Promise<ProxyChain> => {
    try {
      const pem = await proxyCertificateChain(config, namespace, pod, timeoutMs);
      const chain = pem ? classifyChain(pem, oldPem, newPem, rootPem) : undefined;
      return chain ? { namespace, pod, kind, chain } : { namespace, pod, kind, error: 'it holds no workload certificate yet' };
    } catch (error) {
      return { namespace, pod, kind, error: (error as Error).message };
    }
  });
}

/** Whether every running istiod serves a certificate signed by `intermediatePem` (its CA reloaded cacerts). */
/**
 * Whether every running istiod pod serves (on 15012) a certificate issued by `intermediatePem`, and if not,
 * what it does instead (which intermediate, or why it could not be read): the reason a wait gives up with.
 */
export async function istiodSigning(config: KubeConfig, intermediatePem: string, timeoutMs: number): Promise<{ signsWith: boolean; detail: string }> {
  const pods = (await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ISTIO_NAMESPACE, labelSelector: 'app=istiod' })).items
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.metadata?.name);
  if (!pods.length) return { signsWith: false, detail: 'no running istiod pod' };
  const want = fingerprint(intermediatePem);
  for (const p of pods) {
    const name = p.metadata!.name!;
    let chain: string[];
    try {
      chain = await podTlsChain(config, ISTIO_NAMESPACE, name, ISTIOD_XDS_PORT, `istiod.${ISTIO_NAMESPACE}.svc`, timeoutMs);
    } catch (error) {
      return { signsWith: false, detail: `${name}: its certificate on ${ISTIOD_XDS_PORT} could not be read (${(error as Error).message})` };
    }
    const leaf = chain[0];
    if (!leaf) return { signsWith: false, detail: `${name}: no certificate on ${ISTIOD_XDS_PORT}` };
    const issuer = chain.slice(1).find((c) => new X509(leaf).checkIssued(new X509(c)));
    if (!issuer) return { signsWith: false, detail: `${name}: its certificate's issuer is not in the chain it serves` };
    if (fingerprint(issuer) !== want) return { signsWith: false, detail: `${name}: still signs with intermediate ${fingerprint(issuer)}` };
  }
  return { signsWith: true, detail: `every istiod pod signs with ${want}` };
}

/** Restarts a Deployment (as `kubectl rollout restart`: a merge patch of one template annotation) and waits until its rollout is complete. */
export async function restartDeployment(client: KubeClient, namespace: string, name: string, timeoutSeconds: number): Promise<number> {
  const apps = client.config.makeApiClient(AppsV1Api);
  const started = Date.now();
  const patched = await client.call(`restart deployment/${name}`, () => client.objects.patch(
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date().toISOString() } } } } } as KubernetesObject,
    undefined, undefined, ROTATE_FIELD_MANAGER, undefined, PatchStrategy.MergePatch,
  ));
  const generation = patched.metadata?.generation ?? 0;
  const done = await pollUntil(timeoutSeconds, 500, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= generation && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want ? true : undefined;
  });
  if (!done) throw new EastwestError('rollout-timeout', `the restart of deployment ${namespace}/${name} did not finish within ${timeoutSeconds} s`, { exitCode: EXIT.clusterError, hint: `kubectl -n ${namespace} rollout status deployment/${name} tells why` });
  return Math.round((Date.now() - started) / 100) / 10;
}

/** The Deployments (by ReplicaSet owner) of the given namespaces whose proxies hold the old chain. */
async function deploymentsOnOldChain(config: KubeConfig, proxies: ProxyChain[], namespaces: ReadonlySet<string>, withGateways: boolean): Promise<{ namespace: string; deployment: string }[]> {
  const old = proxies.filter((p) => (p.kind === 'sidecar' ? namespaces.has(p.namespace) : withGateways) && p.chain?.holds !== 'new');
  const apps = config.makeApiClient(AppsV1Api);
  const found = new Map<string, { namespace: string; deployment: string }>();
  for (const namespace of new Set(old.map((p) => p.namespace))) {
    const pods = (await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items;
    const sets = (await apps.listNamespacedReplicaSet({ namespace })).items;
    for (const p of old.filter((x) => x.namespace === namespace)) {
      const rsName = pods.find((x) => x.metadata?.name === p.pod)?.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
      const deployment = sets.find((s) => s.metadata?.name === rsName)?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
      if (deployment) found.set(`${namespace}/${deployment}`, { namespace, deployment });
    }
  }
  return [...found.values()].sort((a, b) => `${a.namespace}/${a.deployment}`.localeCompare(`${b.namespace}/${b.deployment}`));
}

/**
 * Proxies that still hold a chain of an earlier intermediate of this root (`old`, `earlier`) or could not be
 * read: what --restart did not move (not in a Deployment, outside the spec's namespaces, restarted too late).
 */
export function leftOnOldChain(proxies: readonly ProxyChain[]): ProxyChain[] {
  return proxies.filter((p) => p.error !== undefined || p.chain?.holds === 'old' || p.chain?.holds === 'earlier');
}

function summarize(proxies: ProxyChain[]): { oldChainProxies: number; lastRenewal?: string } {
  const old = proxies.filter((p) => p.chain && p.chain.holds !== 'new');
  const last = old.map((p) => p.chain!.renewsAt).sort().at(-1);
  return { oldChainProxies: old.length, ...(last ? { lastRenewal: last } : {}) };
}

export async function rotateIntermediates(options: RotateIntermediatesOptions, reporter: Reporter): Promise<RotateResult> {
  const started = Date.now();
  const say = (message: string) => reporter.report({ level: 'info', code: 'ca-rotate', message });
  const engine = await openEngine({ ...options, access: 'write', command: 'ca rotate' });
  const { spec } = engine;
  const directory = pkiDirectory(engine.decoded);
  const timeoutMs = engine.requestTimeoutSeconds * 1000;
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  const unreachable = engine.connections.filter((c) => !c.ok);
  if (unreachable.length) {
    // Nothing is rotated anywhere unless every selected cluster answers (limit the run with --clusters).
    return { ok: false, directory, rootFingerprint: '', clusters: engine.connections.map((c) => (c.ok ? { cluster: c.cluster, ok: false, step: 'preflight', error: 'not rotated: another selected cluster did not answer', unreachable: false } : c)), seconds: seconds() };
  }
  // Input checks, all before any write: the root key, each cluster's cacerts of that one root.
  const local = await readPki(directory, spec.clusters.map((c) => c.name));
  const problems: Problem[] = [];
  if (!local?.rootCertPem || !local.rootKeyPem) {
    throw new InputError(`no root key in ${directory}: new intermediates are issued from the mesh's root`, [{ path: 'spec.pki.directory', message: `${directory} holds no root-cert.pem and root-key.pem` }], 'run this where the team\'s CA directory is (spec.pki.directory, relative to the spec file)');
  }
  // One writer at a time in the CA directory (a killed run's lock is taken over by the next).
  const lock = await lockCaDirectory(directory, 'ca rotate --intermediates');
  try {
    const rootFingerprint = fingerprint(local.rootCertPem);
    const live = new Map<string, string>();
    for (const cluster of engine.selected) {
      const secret = await engine.connected.get(cluster.name)!.client.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE } });
      const cacerts = decodeCacerts(secret as { data?: Record<string, string> } | undefined);
      const roots = certificatesIn(cacerts?.['root-cert.pem'] ?? '') ?? [];
      if (!cacerts?.['ca-cert.pem'] || roots.length === 0) {
        problems.push({ path: '--clusters', message: `${cluster.name} has no complete istio-system/cacerts: there is no intermediate to rotate`, hint: 'run `eastwest apply` first (it installs the intermediate)' });
      } else if (roots.length > 1) {
        problems.push({ path: '--clusters', message: `${cluster.name} trusts ${roots.length} roots: a root rotation is under way there`, hint: 'finish the root rotation before rotating intermediates' });
      } else if (fingerprint(roots[0]!) !== rootFingerprint) {
        problems.push({ path: 'spec.pki.directory', message: `${cluster.name} trusts root ${fingerprint(roots[0]!)}, not the root in ${directory} (${rootFingerprint})`, hint: 'use the team\'s CA directory: an intermediate of another root would break mTLS with every other cluster' });
      } else live.set(cluster.name, cacerts['ca-cert.pem']);
    }
    if (problems.length) throw new InputError('the intermediates cannot be rotated: nothing was changed', problems);
    const root: CaMaterial = { certPem: local.rootCertPem, keyPem: local.rootKeyPem };
    const issued = new Map<string, CaMaterial>();
    // Clusters whose old intermediate expires before a certificate it signed would: every proxy must move now.
    const expiring = new Map<string, { hoursLeft: number; expiresAt: string }>();
    for (const cluster of engine.selected) {
      const margin = oldIntermediateOutlivesCertificates(live.get(cluster.name)!, new Date());
      if (!margin.ok) expiring.set(cluster.name, margin);
      if (!margin.ok && !options.restart) {
        throw new InputError('the intermediates cannot be rotated without --restart: nothing was changed', [{ path: '--restart', message: `${cluster.name}'s intermediate expires in ${margin.hoursLeft} h (${margin.expiresAt}): certificates it signed live up to 24 h and would outlive it before proxies renew`, hint: 'add --restart: proxies are moved to the new intermediate now' }]);
      }
      issued.set(cluster.name, await createIntermediateCa(root, algorithmOfKey(root.keyPem), { keyAlgorithm: spec.pki.keyAlgorithm, validityDays: spec.pki.intermediateValidityDays, organization: spec.meshID, cluster: cluster.name }));
    }
    const namespaces = new Set(spec.services.map((s) => s.namespace));
    // One cluster at a time: a failure stops before the next cluster is touched.
    const outcomes: ClusterOutcome<ClusterRotation>[] = [];
    for (const cluster of engine.selected) {
      if (outcomes.some((o) => !o.ok)) {
        outcomes.push({ cluster: cluster.name, ok: false, step: 'not started', error: 'not rotated: an earlier cluster failed', unreachable: false });
        continue;
      }
      const { client } = engine.connected.get(cluster.name)!;
      const config = client.config;
      const oldPem = live.get(cluster.name)!;
      const material = issued.get(cluster.name)!;
      const [outcome] = await fanOut([cluster], 'rotate', async (): Promise<ClusterRotation> => {
        await writeIntermediate(directory, cluster.name, material);
        await client.apply(owned(spec.meshID, cacertsSecret(istioCacerts(material, root.certPem))));
        say(`${cluster.name}: cacerts holds the new intermediate ${fingerprint(material.certPem)}; waiting for istiod to sign with it`);
        const written = Date.now();
        let last = '';
        const switched = await pollUntil(options.timeoutSeconds, 2000, async () => {
          const seen = await istiodSigning(config, material.certPem, timeoutMs).catch((error: unknown) => ({ signsWith: false, detail: (error as Error).message }));
          last = seen.detail;
          return seen.signsWith ? true : undefined;
        });
        if (!switched) throw new EastwestError('istiod-not-reloaded', `${cluster.name}: istiod did not sign with the new intermediate ${fingerprint(material.certPem)} within ${options.timeoutSeconds} s of cacerts being written (last seen: ${last || 'nothing read'})`, { exitCode: EXIT.clusterError, hint: 'kubectl -n istio-system logs deploy/istiod | grep -i cacerts tells why (a bad bundle is only logged); the old intermediate is still in use and trusted' });
        const istiodSwitchedSeconds = Math.round((Date.now() - written) / 100) / 10;
        say(`${cluster.name}: istiod signs with the new intermediate (${istiodSwitchedSeconds} s after cacerts was written)`);
        const restarted: ClusterRotation['restarted'] = [];
        if (options.restart) {
          const before = await proxyChains(config, oldPem, material.certPem, root.certPem, timeoutMs);
          // With the old intermediate expiring, the east-west gateways move too (a rollout keeps their Service and address).
          for (const { namespace, deployment } of await deploymentsOnOldChain(config, before, namespaces, expiring.has(cluster.name))) {
            say(`${cluster.name}: restarting deployment ${namespace}/${deployment}`);
            restarted.push({ namespace, deployment, seconds: await restartDeployment(client, namespace, deployment, options.timeoutSeconds) });
          }
          // The restarted pods' agents fetch their certificate at start: give the last one a moment.
          if (restarted.length) await sleep(1000);
        }
        const proxies = await proxyChains(config, oldPem, material.certPem, root.certPem, timeoutMs);
        const margin = expiring.get(cluster.name);
        const left = margin ? leftOnOldChain(proxies) : [];
        if (left.length) {
          const named = left.slice(0, 10).map((p) => `${p.namespace}/${p.pod}${p.error ? ' (unread)' : ''}`).join(', ');
          throw new EastwestError('old-chain-left', `${cluster.name}: ${left.length} prox${left.length === 1 ? 'y' : 'ies'} still on the old intermediate, which expires in ${margin!.hoursLeft} h (${margin!.expiresAt}): ${named}${left.length > 10 ? ', …' : ''}`, { exitCode: EXIT.clusterError, hint: `they are not in a Deployment of the spec's namespaces: restart them (kubectl rollout restart, or delete the pod) before ${margin!.expiresAt}; cacerts already holds the new intermediate` });
        }
        return { old: view(oldPem), new: view(material.certPem), istiodSwitchedSeconds, restarted, proxies, ...summarize(proxies) };
      }, classifier(engine.requestTimeoutSeconds));
      outcomes.push(outcome!);
    }
    return { ok: outcomes.every((o) => o.ok), directory, rootFingerprint, clusters: outcomes, seconds: seconds() };
  } finally {
    await lock.release();
  }
}
