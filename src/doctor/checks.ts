// doctor's checks: pure functions of the spec and what each cluster holds (snapshot.ts), each naming the
// object at fault and the fix. Cluster checks look at one cluster against the spec; mesh checks compare
// clusters (one root, the gateway address every peer routes to, one Istio version).
import { DNS_CAPTURE_KEY, EXPORT_TO_ANNOTATION, GATEWAY_OF_LABEL, PROXY_CONFIG_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NETWORK_LABEL, SYNC_MANAGED_BY, VERIFY_MANAGED_BY } from '../core/vocabulary.ts';
import type { Check, CheckOutput } from '../checks/check.ts';
import type { KubeObject } from '../k8s/object.ts';

import { clusterLocalHost } from '../render/federation-service-entry.ts';
import { EASTWEST_GATEWAY_LABEL, EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { istiodRelease, meshConfigMapName } from '../render/revision.ts';
import { CROSS_NETWORK_GATEWAY, CROSS_NETWORK_PORT } from '../render/mesh-objects.ts';

import { X509Certificate } from 'node:crypto';
import { isSignedBy } from '../pki/ca.ts';
import { certificatesIn, fingerprint, rootFingerprint } from '../pki/trust-plan.ts';
import { SYNC_CONTROLLER, SYNC_LEASE, SYNC_NAMESPACE } from '../render/sync-controller.ts';
import { prometheusLocation } from '../render/observability.ts';
import type { MeshSpec } from '../spec/schema.ts';
import type { ClusterSnapshot } from './snapshot.ts';
import { syncProblems, type ProxySync } from './proxy-sync.ts';

export interface DoctorContext {
  spec: MeshSpec;
  /** The clusters that could be read (the others are reported unreachable by the runner). */
  snapshots: ReadonlyMap<string, ClusterSnapshot>;
  /** The local CA's root, when this checkout has one. */
  localRootPem?: string;
  /** Each snapshot holds its cluster's cacerts certificates (doctor --read-cacerts). */
  cacertsRead?: boolean;
}

type Findings = CheckOutput['findings'];
const DOCS = (id: string) => `#check-${id}`;
/** Made by eastwest (apply) or its sync controller. */
// verify's probes (their own namespace, routed as a spec service) are eastwest's too: never foreign.
const ours = (o: KubeObject) => [MANAGED_BY_VALUE, SYNC_MANAGED_BY, VERIFY_MANAGED_BY].includes(o.metadata.labels?.[MANAGED_BY_LABEL] ?? '');
const ref = (o: KubeObject) => ({ kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name });
const spec$ = <T>(o: KubeObject) => ((o as unknown as { spec?: T }).spec ?? {}) as T;

function snapshotOf(ctx: DoctorContext, cluster: string | undefined): ClusterSnapshot {
  const s = cluster === undefined ? undefined : ctx.snapshots.get(cluster);
  if (!s) throw new Error(`no snapshot of ${cluster}`);
  return s;
}

const versionOf = (image: string | undefined) => image?.split(':').at(-1);

/** The mesh's root: the local CA's when this checkout has it, else the root most clusters publish. */
function meshRoot(ctx: DoctorContext): { pem: string; fingerprint: string; source: string } | undefined {
  if (ctx.localRootPem) {
    const fp = rootFingerprint(ctx.localRootPem);
    return fp ? { pem: certificatesIn(ctx.localRootPem)![0]!, fingerprint: fp, source: 'the local CA' } : undefined;
  }
  const byFp = new Map<string, { pem: string; count: number }>();
  for (const s of ctx.snapshots.values()) {
    const fp = s.rootCertPem ? rootFingerprint(s.rootCertPem) : undefined;
    if (!fp) continue;
    const seen = byFp.get(fp) ?? { pem: certificatesIn(s.rootCertPem!)![0]!, count: 0 };
    seen.count++;
    byFp.set(fp, seen);
  }
  const best = [...byFp].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))[0];
  return best ? { pem: best[1].pem, fingerprint: best[0], source: 'most clusters' } : undefined;
}

const DAY_MS = 86_400_000;
/** Intermediates that expire within this many days are named (a rotation takes planning). */
export const INTERMEDIATE_WARNING_DAYS = 30;

/**
 * Whether `cert` leads to one of `roots` through the intermediates of `chain` (each signed by the next; a
 * multi-level chain walked up to a root). Validity dates are not judged here (expiry has findings of its own).
 */
export function chainsToRoot(cert: string, chain: readonly string[], roots: readonly string[]): boolean {
  const rootPrints = new Set(roots.map(fingerprint));
  const issuers = [...chain, ...roots];
  let current = new X509Certificate(cert);
  for (let hops = 0; hops <= issuers.length; hops++) {
    if (rootPrints.has(fingerprint(current.toString()))) return true;
    const issuer = issuers.map((pem) => new X509Certificate(pem)).find((i) => i.fingerprint256 !== current.fingerprint256 && current.checkIssued(i) && current.verify(i.publicKey));
    if (!issuer) return false;
    current = issuer;
  }
  return false;
}

/** Namespaces of the spec's services that run in `cluster`. */
const serviceNamespaces = (ctx: DoctorContext, cluster: string) => new Set(ctx.spec.services.filter((svc) => svc.clusters.includes(cluster)).map((svc) => svc.namespace));

/** Go's strconv.ParseBool, as Istio reads ISTIO_META_DNS_CAPTURE: 1, t, T, TRUE, true, True are true. */
/**
 * How a revision's istiod goes without a push from a dying istiod: its pods stopped first (helm uninstall deletes
 * its Service and mesh ConfigMap while its pods still serve, which then push the default mesh config).
 */
const removal = (release: string) => `stop it first (kubectl -n ${ISTIO_NAMESPACE} scale deployment ${release} --replicas=0, and wait until its pods are gone), then helm uninstall ${release} -n ${ISTIO_NAMESPACE}`;

/**
 * istiod revisions beside the spec's (a canary upgrade under way, or one left behind), and the proxies still
 * connected to one: what to restart before it can go, or that it can go.
 */
export function revisionFindings(specRevision: string | undefined, controlPlanes: ClusterSnapshot['controlPlanes'], proxies: readonly ProxySync[] | undefined): CheckOutput {
  const want = specRevision ?? 'default';
  const planes = controlPlanes ?? [];
  const byRevision = new Map<string, string[]>();
  for (const p of proxies ?? []) if (p.istiodRevision) byRevision.set(p.istiodRevision, [...(byRevision.get(p.istiodRevision) ?? []), `${p.namespace}/${p.pod}`]);
  const figures = Object.fromEntries(planes.map((c) => [c.revision, `${byRevision.get(c.revision)?.length ?? 0} proxies`]));
  const findings: Findings = [];
  for (const plane of planes.filter((c) => c.revision !== want)) {
    const on = byRevision.get(plane.revision) ?? [];
    const object = { kind: 'Deployment', namespace: ISTIO_NAMESPACE, name: plane.name };
    const release = plane.name; // eastwest's and Istio's Helm guide name the release as the Deployment
    findings.push(on.length
      ? { object, message: `istiod revision ${plane.revision} runs beside the spec's (${want}); ${on.length} prox${on.length === 1 ? 'y' : 'ies'} still connect${on.length === 1 ? 's' : ''} to it: ${on.slice(0, 6).join(', ')}${on.length > 6 ? ', …' : ''}`, hint: `restart those workloads (kubectl rollout restart) so that the spec's revision injects them; once none is left, ${removal(release)}` }
      : { object, message: `istiod revision ${plane.revision} runs beside the spec's (${want}) and no proxy uses it any more`, hint: removal(release) });
  }
  return { figures, findings };
}

export const goTrue = (value: string | undefined) => value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);

/**
 * Names that resolve in a pod of `s`'s cluster only through the sidecar's DNS proxy: the hosts of the
 * ServiceEntries eastwest made (another cluster's <svc>.<cluster>.mesh.local, clusterset names), and in
 * endpoint-discovery mode the spec's services this cluster does not run (no Service here for kube-dns).
 */
function remoteOnlyNames(ctx: DoctorContext, s: ClusterSnapshot): string[] {
  const hosts = s.serviceEntries.filter((se) => ours(se)).flatMap((se) => spec$<{ hosts?: string[] }>(se).hosts ?? []);
  const elsewhere = ctx.spec.federation.mode === 'endpoint-discovery' ? ctx.spec.services.filter((svc) => !svc.clusters.includes(s.cluster)).map((svc) => clusterLocalHost(svc)) : [];
  return [...new Set([...hosts, ...elsewhere])].sort();
}

/** Whether a Sidecar egress entry (`<namespace>/<host>`) lets workloads in `from` see `host` defined in `namespace`. */
function egressSees(entry: string, from: string, namespace: string, host: string): boolean {
  const slash = entry.indexOf('/');
  const ns = slash < 0 ? '*' : entry.slice(0, slash);
  const name = slash < 0 ? entry : entry.slice(slash + 1);
  const nsOk = ns === '*' || ns === namespace || (ns === '.' && namespace === from);
  const hostOk = name === '*' || name === host || (name.startsWith('*.') && host.endsWith(name.slice(1)));
  return nsOk && hostOk;
}

/** doctor only reads: no check changes a cluster, and each is explained at its README anchor (#check-<id>). */
const DEFINITIONS: Omit<Check<DoctorContext>, 'disruptive' | 'docs'>[] = [
  {
    id: 'istiod-ready',
    category: 'control-plane',
    title: 'istiod is installed and ready',
    severity: 'error',
    scope: 'cluster',
    hint: 'eastwest apply installs it (the spec\'s revision beside any other); kubectl -n istio-system describe deploy/<istiod> tells why it is not ready',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const object = { kind: 'Deployment', namespace: ISTIO_NAMESPACE, name: istiodRelease(ctx.spec) };
      if (!s.istiod) return { findings: [{ object, message: 'istiod is not installed' }] };
      const figures = { ready: `${s.istiod.ready}/${s.istiod.desired}`, version: versionOf(s.istiod.image) ?? '?' };
      return { figures, findings: s.istiod.ready < 1 ? [{ object, field: 'status.readyReplicas', message: `no ready replica (${s.istiod.ready}/${s.istiod.desired})` }] : [] };
    },
  },
  {
    id: 'mesh-identity',
    category: 'control-plane',
    title: 'meshID, trust domain, cluster name and network as the spec says',
    severity: 'error',
    scope: 'cluster',
    hint: 'eastwest apply sets them; a hand-made install must use the spec\'s values (global.meshID, meshConfig.trustDomain, global.multiCluster.clusterName, global.network)',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const want = ctx.spec.clusters.find((c) => c.name === cluster)!;
      const findings: Findings = [];
      const mesh = { kind: 'ConfigMap', namespace: ISTIO_NAMESPACE, name: meshConfigMapName(ctx.spec.istio.revision) };
      if (s.meshConfig) {
        if (s.meshConfig.trustDomain !== ctx.spec.trustDomain) findings.push({ object: mesh, field: 'data.mesh.trustDomain', message: `trust domain ${JSON.stringify(s.meshConfig.trustDomain ?? 'cluster.local')}, the spec says ${ctx.spec.trustDomain}: identities from here fail authorization everywhere else` });
        if (s.meshConfig.meshId !== undefined && s.meshConfig.meshId !== ctx.spec.meshID) findings.push({ object: mesh, field: 'data.mesh.defaultConfig.meshId', message: `mesh ID ${s.meshConfig.meshId}, the spec says ${ctx.spec.meshID}` });
      } else if (s.istiod) {
        findings.push({ object: mesh, message: 'istiod\'s mesh config is missing', severity: 'warning' });
      }
      const clusterId = s.istiod?.env['CLUSTER_ID'];
      if (s.istiod && clusterId !== cluster) findings.push({ object: { kind: 'Deployment', namespace: ISTIO_NAMESPACE, name: istiodRelease(ctx.spec) }, field: 'env.CLUSTER_ID', message: `cluster name ${JSON.stringify(clusterId ?? 'Kubernetes')}, the spec says ${cluster}: remote secrets and locality name the wrong cluster` });
      const network = s.istioSystemLabels?.[NETWORK_LABEL];
      if (s.istioSystemLabels && network !== want.network) findings.push({ object: { kind: 'Namespace', name: ISTIO_NAMESPACE }, field: `metadata.labels.${NETWORK_LABEL}`, message: network ? `network ${network}, the spec says ${want.network}` : `no network label (the spec says ${want.network}): istiod treats every endpoint as its own network's and sends cross-network traffic straight to pod IPs`, hint: `kubectl label namespace ${ISTIO_NAMESPACE} ${NETWORK_LABEL}=${want.network} --overwrite (or eastwest apply)` });
      return { findings };
    },
  },
  {
    id: 'istio-version-skew',
    category: 'control-plane',
    title: 'one Istio version across clusters',
    severity: 'warning',
    scope: 'mesh',
    hint: 'upgrade the older clusters (eastwest apply with the spec\'s istio.version); keep skew within one minor version during an upgrade',
    run: async (ctx) => {
      const versions = new Map([...ctx.snapshots.values()].flatMap((s) => (s.istiod?.image ? [[s.cluster, versionOf(s.istiod.image)!] as [string, string]] : [])));
      const distinct = [...new Set(versions.values())];
      const figures = Object.fromEntries(versions);
      if (distinct.length <= 1) return { figures, findings: [] };
      return { figures, findings: [{ message: `istiod versions differ: ${[...versions].map(([c, v]) => `${c} ${v}`).join(', ')}` }] };
    },
  },
  {
    id: 'control-plane-revisions',
    category: 'control-plane',
    title: 'one istiod revision, the spec\'s, and every proxy connected to it',
    severity: 'warning',
    scope: 'cluster',
    hint: 'a canary upgrade moves workloads to the new revision by restarting them; once no proxy uses the old one, scale its istiod to 0, wait for its pods to go, then helm uninstall <its release> -n istio-system',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      return revisionFindings(ctx.spec.istio.revision, s.controlPlanes, s.proxySync?.proxies);
    },
  },
  {
    id: 'same-root',
    category: 'trust',
    title: 'every cluster publishes the mesh\'s root',
    severity: 'error',
    scope: 'mesh',
    hint: 'each cluster\'s cacerts must chain to one root: eastwest apply from the checkout that holds the mesh\'s CA (eastwest status shows each root)',
    run: async (ctx) => {
      const findings: Findings = [];
      const roots = new Map<string, string>();
      for (const s of ctx.snapshots.values()) {
        const object = { kind: 'ConfigMap', namespace: ISTIO_NAMESPACE, name: 'istio-ca-root-cert' };
        const fp = s.rootCertPem ? rootFingerprint(s.rootCertPem) : undefined;
        if (!fp) {
          if (s.istiod) findings.push({ cluster: s.cluster, object, message: s.rootCertPem ? 'istiod publishes a root that is not a certificate' : 'istiod publishes no root' });
          continue;
        }
        roots.set(s.cluster, fp);
      }
      const counts = new Map<string, number>();
      for (const fp of roots.values()) counts.set(fp, (counts.get(fp) ?? 0) + 1);
      // The local CA's root when this checkout has it; else the one most clusters publish.
      const want = ctx.localRootPem ? rootFingerprint(ctx.localRootPem) : [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
      for (const [cluster, fp] of roots) {
        if (fp !== want) findings.push({ cluster, object: { kind: 'ConfigMap', namespace: ISTIO_NAMESPACE, name: 'istio-ca-root-cert' }, message: `root ${fp.slice(0, 30)}… is not the mesh's (${want?.slice(0, 30)}…, ${ctx.localRootPem ? 'the local CA' : 'most clusters'}): mTLS between this cluster and the others fails` });
      }
      return { figures: Object.fromEntries([...roots].map(([c, fp]) => [c, `${fp.slice(0, 20)}…`])), findings };
    },
  },
  {
    id: 'gateway-ready',
    category: 'network',
    title: 'the east-west gateway runs, in the cluster\'s network, with an address',
    severity: 'error',
    scope: 'cluster',
    hint: 'eastwest apply installs it; kubectl -n istio-system describe deploy/istio-eastwestgateway and its Service tell why',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const want = ctx.spec.clusters.find((c) => c.name === cluster)!;
      const deployment = { kind: 'Deployment', namespace: ISTIO_NAMESPACE, name: EASTWEST_GATEWAY_RELEASE };
      if (!s.gateway) return { findings: [{ object: deployment, message: 'no east-west gateway: no other cluster can reach this one' }] };
      const findings: Findings = [];
      if (s.gateway.ready < 1) findings.push({ object: deployment, field: 'status.readyReplicas', message: `no ready replica (${s.gateway.ready}/${s.gateway.desired}): every other cluster's requests to this one fail`, hint: `kubectl -n ${ISTIO_NAMESPACE} scale deploy/${EASTWEST_GATEWAY_RELEASE} --replicas 1 (or eastwest apply); describe it if it does not become ready` });
      const label = s.gateway.podLabels[NETWORK_LABEL];
      if (label !== want.network) findings.push({ object: deployment, field: `spec.template.metadata.labels.${NETWORK_LABEL}`, message: `the gateway's pods are in network ${label ?? '(none)'}, the spec says ${want.network}: istiod does not use it as ${want.network}'s gateway` });
      const view = s.gateway.env['ISTIO_META_REQUESTED_NETWORK_VIEW'];
      if (view !== undefined && view !== want.network) findings.push({ object: deployment, field: 'env.ISTIO_META_REQUESTED_NETWORK_VIEW', message: `the gateway asks for network ${view}'s view, not ${want.network}'s: it would route to other networks' endpoints`, severity: 'error' });
      const address = want.eastWestGateway.address ?? s.gatewayService?.address;
      if (!address) findings.push({ object: { kind: 'Service', namespace: ISTIO_NAMESPACE, name: EASTWEST_GATEWAY_RELEASE }, field: 'status.loadBalancer.ingress', message: s.gatewayService ? `no external address (type ${s.gatewayService.type ?? '?'}): the other clusters have nothing to route to` : 'no gateway Service', hint: 'a LoadBalancer implementation must give the Service an address, or set clusters[].eastWestGateway.address in the spec' });
      return { figures: { ready: `${s.gateway.ready}/${s.gateway.desired}`, ...(address ? { address } : {}) }, findings };
    },
  },
  {
    id: 'cross-network-gateway',
    category: 'network',
    title: 'one Gateway passes 15443 through (AUTO_PASSTHROUGH) on the east-west gateway',
    severity: 'error',
    scope: 'cluster',
    hint: `eastwest apply makes Gateway/${ISTIO_NAMESPACE}/${CROSS_NETWORK_GATEWAY}; remove other Gateways that claim port ${CROSS_NETWORK_PORT} on the east-west gateway`,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      type GatewaySpec = { selector?: Record<string, string>; servers?: { port?: { number?: number }; tls?: { mode?: string }; hosts?: string[] }[] };
      const onGateway = s.gateways.filter((g) => Object.entries(spec$<GatewaySpec>(g).selector ?? {}).every(([k, v]) => (EASTWEST_GATEWAY_LABEL as Record<string, string>)[k] === v) && Object.keys(spec$<GatewaySpec>(g).selector ?? {}).length > 0);
      const claiming = onGateway.filter((g) => (spec$<GatewaySpec>(g).servers ?? []).some((sv) => sv.port?.number === CROSS_NETWORK_PORT));
      const passthrough = claiming.filter((g) => (spec$<GatewaySpec>(g).servers ?? []).some((sv) => sv.port?.number === CROSS_NETWORK_PORT && sv.tls?.mode === 'AUTO_PASSTHROUGH'));
      if (claiming.length === 0) return { findings: [{ object: { kind: 'Gateway', namespace: ISTIO_NAMESPACE, name: CROSS_NETWORK_GATEWAY }, message: `no Gateway serves port ${CROSS_NETWORK_PORT} on the east-west gateway: it refuses every cross-network connection` }] };
      const findings: Findings = [];
      for (const g of claiming.filter((x) => !passthrough.includes(x))) findings.push({ object: ref(g), field: 'spec.servers[].tls.mode', message: `serves port ${CROSS_NETWORK_PORT} without AUTO_PASSTHROUGH: the gateway would end mTLS it must pass through` });
      if (passthrough.length > 1) findings.push({ object: ref(passthrough.find((g) => g.metadata.name !== CROSS_NETWORK_GATEWAY) ?? passthrough[1]!), message: `${passthrough.length} Gateways pass ${CROSS_NETWORK_PORT} through (${passthrough.map((g) => `${g.metadata.namespace}/${g.metadata.name}`).join(', ')}): Istio merges them unpredictably`, severity: 'warning' });
      return { findings };
    },
  },
  {
    id: 'peers-route-to-gateway',
    category: 'network',
    title: 'every other cluster routes to this gateway\'s address on 15443',
    severity: 'error',
    scope: 'mesh',
    hint: 'eastwest apply rewrites the routes with the gateway\'s current address',
    run: async (ctx) => {
      const findings: Findings = [];
      const address = new Map(ctx.spec.clusters.map((c) => [c.name, c.eastWestGateway.address ?? ctx.snapshots.get(c.name)?.gatewayService?.address]));
      for (const s of ctx.snapshots.values()) {
        for (const o of [...s.serviceEntries, ...s.workloadEntries].filter((x) => ours(x) && x.metadata.labels?.[GATEWAY_OF_LABEL])) {
          const of = o.metadata.labels![GATEWAY_OF_LABEL]!;
          const want = address.get(of);
          if (!want) continue; // that gateway's address is not known here (its cluster unread)
          const targets = o.kind === 'WorkloadEntry'
            ? [{ address: spec$<{ address?: string }>(o).address, ports: Object.values(spec$<{ ports?: Record<string, number> }>(o).ports ?? {}) }]
            : (spec$<{ endpoints?: { address?: string; ports?: Record<string, number> }[] }>(o).endpoints ?? []).map((e) => ({ address: e.address, ports: Object.values(e.ports ?? {}) }));
          for (const t of targets) {
            if (t.address !== want) findings.push({ cluster: s.cluster, peer: of, object: ref(o), field: o.kind === 'WorkloadEntry' ? 'spec.address' : 'spec.endpoints[].address', message: `routes to ${t.address}, but ${of}'s east-west gateway is at ${want}` });
            else if (t.ports.some((p) => p !== CROSS_NETWORK_PORT)) findings.push({ cluster: s.cluster, peer: of, object: ref(o), field: 'ports', message: `routes to ${of}'s gateway on port ${t.ports.join(',')}, not ${CROSS_NETWORK_PORT}` });
          }
        }
      }
      return { findings };
    },
  },
  {
    id: 'remote-routes-mtls',
    category: 'routing',
    title: 'every route through a remote gateway uses Istio mTLS (ISTIO_MUTUAL)',
    severity: 'error',
    scope: 'cluster',
    hint: 'a DestinationRule for the host with trafficPolicy.tls.mode ISTIO_MUTUAL (and the outbound_ SNI of the remote service): eastwest apply makes it',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const findings: Findings = [];
      type Dr = { host?: string; trafficPolicy?: { tls?: { mode?: string; sni?: string } } };
      for (const se of s.serviceEntries.filter((x) => ours(x) && x.metadata.labels?.[GATEWAY_OF_LABEL])) {
        for (const host of spec$<{ hosts?: string[] }>(se).hosts ?? []) {
          const rules = s.destinationRules.filter((d) => spec$<Dr>(d).host === host);
          if (rules.length === 0) {
            findings.push({ object: { kind: 'DestinationRule', namespace: se.metadata.namespace!, name: se.metadata.name }, message: `no DestinationRule for ${host}: the sidecar sends plaintext to ${se.metadata.labels![GATEWAY_OF_LABEL]}'s gateway, which passes only mTLS through` });
            continue;
          }
          for (const d of rules) {
            const mode = spec$<Dr>(d).trafficPolicy?.tls?.mode;
            if (mode !== 'ISTIO_MUTUAL') findings.push({ object: ref(d), field: 'spec.trafficPolicy.tls.mode', message: `${host}: tls mode ${mode ?? '(none)'}, not ISTIO_MUTUAL: the remote gateway cannot route it`, ...(ours(d) ? {} : { hint: `this DestinationRule is not eastwest's: remove it or set ISTIO_MUTUAL` }) });
          }
        }
      }
      return { findings };
    },
  },
  {
    id: 'foreign-overrides',
    category: 'routing',
    title: 'no object eastwest did not make overrides its hosts',
    severity: 'warning',
    scope: 'cluster',
    hint: 'remove it, or make it agree with eastwest\'s (mTLS ISTIO_MUTUAL, outlier detection for failover); Istio merges DestinationRules of one host unpredictably',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const hosts = new Set([...s.serviceEntries.filter(ours).flatMap((se) => spec$<{ hosts?: string[] }>(se).hosts ?? []), ...ctx.spec.services.map((svc) => clusterLocalHost(svc))]);
      const findings: Findings = [];
      for (const d of s.destinationRules.filter((x) => !ours(x))) {
        const host = spec$<{ host?: string }>(d).host;
        if (!host || !hosts.has(host)) continue;
        const mode = spec$<{ trafficPolicy?: { tls?: { mode?: string } } }>(d).trafficPolicy?.tls?.mode;
        // One that sets another TLS mode breaks the host outright (plaintext or the wrong certificates into a STRICT mesh).
        if (mode !== undefined && mode !== 'ISTIO_MUTUAL') findings.push({ object: ref(d), field: 'spec.trafficPolicy.tls.mode', severity: 'error', message: `a DestinationRule eastwest did not make sets tls mode ${mode} for ${host}: requests through it fail under STRICT mTLS or leave the mesh's identity` });
        else findings.push({ object: ref(d), field: 'spec.host', message: `a DestinationRule eastwest did not make, for ${host}, beside eastwest's: its traffic policy may replace the mTLS and failover eastwest set` });
      }
      for (const v of s.virtualServices.filter((x) => !ours(x))) {
        const matched = (spec$<{ hosts?: string[] }>(v).hosts ?? []).filter((h) => hosts.has(h));
        if (matched.length) findings.push({ object: ref(v), field: 'spec.hosts', message: `a VirtualService for ${matched.join(', ')}: it decides where that traffic goes, not eastwest's routes` });
      }
      return { findings };
    },
  },
  {
    id: 'failover-outlier-detection',
    category: 'routing',
    title: 'services served by several clusters fail over (outlier detection set)',
    severity: 'error',
    scope: 'cluster',
    hint: 'locality failover needs outlierDetection in the DestinationRule of the host: eastwest apply sets it',
    applies: (ctx) => ctx.spec.services.some((svc) => svc.clusters.length > 1),
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const findings: Findings = [];
      type Dr = { host?: string; trafficPolicy?: { outlierDetection?: unknown; loadBalancer?: { localityLbSetting?: unknown } } };
      for (const svc of ctx.spec.services.filter((x) => x.clusters.length > 1 && x.clusters.includes(cluster!))) {
        const host = clusterLocalHost(svc);
        const rules = s.destinationRules.filter((d) => spec$<Dr>(d).host === host);
        if (!rules.some((d) => spec$<Dr>(d).trafficPolicy?.outlierDetection)) {
          const d = rules[0];
          findings.push({ object: d ? ref(d) : { kind: 'DestinationRule', namespace: svc.namespace, name: svc.name }, field: 'spec.trafficPolicy.outlierDetection', message: `${host} has no outlier detection: with its pods here gone, requests fail instead of going to another region` });
        }
      }
      return { findings };
    },
  },
  {
    id: 'proxy-xds-sync',
    category: 'proxies',
    title: 'every proxy accepted the configuration its istiod sent (no rejected config, none left unacknowledged)',
    severity: 'error',
    scope: 'cluster',
    hint: 'a rejected config leaves the proxy on its previous one: Envoy\'s message says which object (an EnvoyFilter, a port or listener clash between a ServiceEntry and a Service); fix or remove that object. A proxy that stopped acknowledging is stuck or overloaded: its pod\'s istio-proxy logs tell, restarting it resyncs',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const p = s.proxySync;
      if (!p) return { findings: [] }; // no running istiod pod: istiod-ready names it
      if (!p.proxies) return { findings: [{ object: { kind: 'Pod', namespace: ISTIO_NAMESPACE, name: p.pod }, severity: 'warning', message: `istiod's view of its proxies could not be read (${p.error ?? 'no answer'})`, hint: 'doctor reads it through port-forward to istiod\'s debug port (15014): the read role grants pods/portforward' }] };
      const problems = syncProblems(p.proxies, p.readAt);
      // EnvoyFilters in the pod's namespace or the root namespace (they apply mesh-wide) are the usual cause.
      const suspects = (namespace: string) => {
        const names = (s.envoyFilters ?? []).filter((f) => f.metadata.namespace === namespace || f.metadata.namespace === ISTIO_NAMESPACE).map((f) => `EnvoyFilter/${f.metadata.namespace}/${f.metadata.name}`);
        return names.length ? ` (EnvoyFilters that may apply to it: ${names.join(', ')})` : '';
      };
      const findings: Findings = problems.map((x) => (x.kind === 'rejected'
        ? { object: { kind: 'Pod', namespace: x.namespace, name: x.pod }, field: x.type, message: `its proxy rejected the ${x.type} istiod sent (it runs on the previous ones): ${x.detail}${suspects(x.namespace)}` }
        : { object: { kind: 'Pod', namespace: x.namespace, name: x.pod }, field: x.type, severity: 'warning' as const, message: `its proxy has not acknowledged the ${x.type} istiod sent ${x.detail.replace(/^sent /, '')}` }));
      return { figures: { proxies: p.proxies.length, rejected: problems.filter((x) => x.kind === 'rejected').length, stale: problems.filter((x) => x.kind === 'stale').length }, findings };
    },
  },
  {
    id: 'cacerts',
    category: 'trust',
    title: 'cacerts (what istiod signs with, and will after a restart) holds the root istiod publishes and the mesh\'s, an intermediate signed by it and not expiring soon, a complete chain (--read-cacerts)',
    severity: 'error',
    scope: 'cluster',
    hint: 'put the mesh\'s cacerts back with `eastwest apply` from the checkout that holds the mesh\'s CA; a new root goes in by phases (every cluster trusts both roots first), never by replacing cacerts',
    applies: (ctx) => ctx.cacertsRead === true,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const object = { kind: 'Secret', namespace: ISTIO_NAMESPACE, name: 'cacerts' };
      const c = s.cacerts;
      if (!c) return { findings: [{ object, severity: 'warning', message: 'not read' }] };
      if (!c.present) return { findings: [{ object, message: 'no cacerts: istiod signs with a root of its own making, which no other cluster trusts' }] };
      const roots = c.rootCertPem ? certificatesIn(c.rootCertPem) : undefined;
      const ca = c.caCertPem ? certificatesIn(c.caCertPem)?.[0] : undefined;
      if (!roots || !ca) return { findings: [{ object, field: !roots ? 'data[root-cert.pem]' : 'data[ca-cert.pem]', message: `${!roots ? 'root-cert.pem' : 'ca-cert.pem'} is missing or not a certificate: istiod cannot use this cacerts (it fails to start, or keeps what it runs on)` }] };
      const findings: Findings = [];
      const mine = new Set(roots.map(fingerprint));
      const published = s.rootCertPem ? certificatesIn(s.rootCertPem) : undefined;
      const publishedSet = new Set((published ?? []).map(fingerprint));
      const sameAsPublished = published !== undefined && publishedSet.size === mine.size && [...mine].every((f) => publishedSet.has(f));
      if (published && !sameAsPublished) {
        const only = (a: Set<string>, b: Set<string>) => [...a].filter((f) => !b.has(f)).map((f) => `${f.slice(0, 30)}…`).join(', ') || 'none';
        findings.push({ object, field: 'data[root-cert.pem]', message: `holds other roots (only in cacerts: ${only(mine, publishedSet)}; only published: ${only(publishedSet, mine)}) than istiod publishes: istiod kept its previous CA (a running istiod takes no root it cannot bundle with its own), so its next restart switches ${cluster} to this root and every other cluster refuses it` });
      }
      const root = meshRoot(ctx);
      if (root && !mine.has(root.fingerprint) && (sameAsPublished || !published)) {
        findings.push({ object, field: 'data[root-cert.pem]', message: `its root is not the mesh's (${root.source}, ${root.fingerprint.slice(0, 30)}…): the other clusters refuse what this istiod signs` });
      }
      const now = new Date();
      const chain = c.certChainPem ? certificatesIn(c.certChainPem) : undefined;
      const signed = chainsToRoot(ca, chain ?? [], roots);
      if (!signed) findings.push({ object, field: 'data[ca-cert.pem]', message: 'its intermediate (ca-cert.pem) is not signed by its root-cert.pem: istiod refuses it (or keeps what it runs on)' });
      if (!chain || fingerprint(chain[0]!) !== fingerprint(ca)) findings.push({ object, field: 'data[cert-chain.pem]', severity: 'warning', message: 'cert-chain.pem does not begin with the intermediate (ca-cert.pem): proxies are handed a chain that does not lead to their certificate\'s issuer' });
      const cert = new X509Certificate(ca);
      const days = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY_MS);
      if (days < 0) findings.push({ object, field: 'data[ca-cert.pem]', message: `the intermediate expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}: what istiod signs with it is refused everywhere`, hint: 'eastwest ca rotate --intermediates (or ca init --rotate intermediates and apply)' });
      else if (days < INTERMEDIATE_WARNING_DAYS) findings.push({ object, field: 'data[ca-cert.pem]', severity: 'warning', message: `the intermediate expires in ${days} day(s) (${new Date(cert.validTo).toISOString().slice(0, 10)})`, hint: 'rotate the intermediates before then (eastwest ca rotate --intermediates, or ca init --rotate intermediates and apply)' });
      return { figures: { intermediateDaysLeft: days, roots: mine.size }, findings };
    },
  },
  {
    id: 'remote-endpoints',
    category: 'proxies',
    title: 'client proxies (one per namespace of the spec\'s services) hold a usable endpoint for every name that leaves the cluster',
    severity: 'error',
    scope: 'cluster',
    hint: 'a remote name needs its ServiceEntry\'s endpoint (the other cluster\'s east-west gateway on 15443) in the proxy: eastwest apply; an endpoint ejected by outlier detection means the remote gateway failed requests (eastwest doctor there; it comes back after the ejection time)',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const findings: Findings = [];
      let names = 0;
      for (const proxy of s.clientProxies ?? []) {
        const object = { kind: 'Pod', namespace: proxy.namespace, name: proxy.pod };
        if (!proxy.endpoints) {
          findings.push({ object, severity: 'warning', message: `its proxy's endpoints could not be read (${proxy.error ?? 'no answer'})`, hint: 'doctor reads them through port-forward to the proxy\'s admin port (15000): the read role grants pods/portforward' });
          continue;
        }
        for (const [envoyCluster, health] of Object.entries(proxy.endpoints)) {
          names++;
          const host = envoyCluster.split('|')[3] ?? envoyCluster;
          const why = Object.entries(health.reasons).map(([r, n]) => `${n} ${r}`).join(', ');
          if (health.total === 0) findings.push({ object, field: envoyCluster, message: `its proxy holds no endpoint for ${host}: requests to it fail with 503 (no healthy upstream)` });
          else if (health.healthy === 0) findings.push({ object, field: envoyCluster, message: `none of the ${health.total} endpoint(s) its proxy holds for ${host} is usable (${why}): requests to it fail` });
        }
      }
      return { figures: { proxies: (s.clientProxies ?? []).length, names }, findings };
    },
  },
  {
    id: 'proxy-certificates',
    category: 'trust',
    title: 'the east-west gateway\'s proxy holds a chain to the mesh\'s root, its intermediate not expiring soon',
    severity: 'error',
    scope: 'cluster',
    hint: 'its istiod signs with the cluster\'s cacerts: `eastwest apply` from the checkout that holds the mesh\'s CA; proxies take the new chain when they renew (restart them to take it now); a rotation of intermediates is planned before they expire',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const p = s.gatewayProxy;
      if (!p) return { findings: [] }; // no running gateway pod: gateway-ready names it
      const object = { kind: 'Pod', namespace: ISTIO_NAMESPACE, name: p.pod };
      if (!p.chainPem) return { findings: [{ object, severity: 'warning', message: `its proxy's certificates could not be read (${p.error ?? 'no answer'})`, hint: 'doctor reads them through port-forward to the proxy\'s admin port (15000): the read role grants pods/portforward; a proxy that holds no certificate yet has not reached its istiod' }] };
      const certs = certificatesIn(p.chainPem);
      if (!certs) return { findings: [{ object, message: 'its proxy holds a certificate chain that cannot be read as certificates' }] };
      const findings: Findings = [];
      const now = Date.now();
      const root = meshRoot(ctx);
      const figures: Record<string, string | number> = {};
      for (const pem of certs) {
        const cert = new X509Certificate(pem);
        if (!cert.ca || (root && fingerprint(pem) === root.fingerprint)) continue;
        const days = Math.floor((new Date(cert.validTo).getTime() - now) / DAY_MS);
        figures['intermediateDaysLeft'] = days;
        if (days < 0) findings.push({ object, field: 'certificate chain', message: `the intermediate ${cert.subject.replace(/\n/g, ', ')} expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}: its workload certificates are refused everywhere` });
        else if (days < INTERMEDIATE_WARNING_DAYS) findings.push({ object, field: 'certificate chain', severity: 'warning', message: `the intermediate ${cert.subject.replace(/\n/g, ', ')} expires in ${days} day(s) (${new Date(cert.validTo).toISOString().slice(0, 10)})`, hint: 'rotate the intermediates before then (eastwest ca rotate --intermediates, or ca init --rotate and apply)' });
      }
      for (let i = 0; i + 1 < certs.length; i++) {
        let ok = false;
        try {
          ok = isSignedBy(certs[i]!, certs[i + 1]!, new Date(now));
        } catch {
          ok = false;
        }
        if (!ok) {
          findings.push({ object, field: 'certificate chain', message: `its chain is broken or expired at certificate ${i + 1} of ${certs.length}: peers refuse its mTLS` });
          break;
        }
      }
      const top = certs.at(-1)!;
      if (root && fingerprint(top) !== root.fingerprint) {
        let fromRoot = false;
        try {
          fromRoot = isSignedBy(top, root.pem, new Date(now));
        } catch {
          fromRoot = false;
        }
        if (!fromRoot) findings.push({ object, field: 'certificate chain', message: `its proxy holds a chain that does not lead to the mesh's root (${root.source}, ${root.fingerprint.slice(0, 30)}…): every other cluster refuses its mTLS` });
      }
      return { figures, findings };
    },
  },
  {
    id: 'service-endpoints',
    category: 'routing',
    title: 'every spec service has ready endpoints in each of its clusters',
    severity: 'error',
    scope: 'cluster',
    hint: 'its pods are not ready: kubectl -n <namespace> get deploy,pods -l app=<service> and describe them; callers here fail over to another region meanwhile',
    applies: (ctx) => ctx.spec.services.length > 0,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const findings: Findings = [];
      const figures: Record<string, number> = {};
      for (const svc of ctx.spec.services.filter((x) => x.clusters.includes(cluster!))) {
        const key = `${svc.namespace}/${svc.name}`;
        const ready = s.serviceEndpoints[key];
        const others = svc.clusters.filter((c) => c !== cluster);
        const object = { kind: 'Service', namespace: svc.namespace, name: svc.name };
        if (ready === undefined) findings.push({ object, message: `the spec runs ${svc.name} here, but it has no EndpointSlice (no Service, or nothing to select)${others.length ? `: callers here are sent to ${others.join(', ')}` : ''}` });
        else {
          figures[key] = ready;
          if (ready === 0) findings.push({ object, field: 'endpoints', message: `no ready endpoint of ${svc.name} in ${cluster}${others.length ? `: callers here fail over to ${others.join(', ')}, and ${others.join(', ')} cannot fail over here` : ': every call fails'}`, hint: `kubectl -n ${svc.namespace} get deploy,pods -l app=${svc.name}; scale it up or find why its pods are not ready` });
        }
      }
      return { figures, findings };
    },
  },
  {
    id: 'remote-name-dns',
    category: 'routing',
    title: "names only Istio knows (another cluster's <svc>.<cluster>.mesh.local, clusterset names, services not run here) resolve in pods: the sidecar DNS proxy is on",
    severity: 'error',
    scope: 'cluster',
    hint: `eastwest apply sets meshConfig.defaultConfig.proxyMetadata.${DNS_CAPTURE_KEY}: "true"; remove what turns it off (a pod's ${PROXY_CONFIG_ANNOTATION} annotation, a ProxyConfig's environmentVariables); pods take it when they restart`,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const names = remoteOnlyNames(ctx, s);
      if (names.length === 0) return { figures: { names: 0 }, findings: [] };
      const findings: Findings = [];
      const example = `${names[0]}${names.length > 1 ? ` and ${names.length - 1} more` : ''}`;
      if (s.meshConfig && !goTrue(s.meshConfig.dnsCapture)) {
        findings.push({ object: { kind: 'ConfigMap', namespace: ISTIO_NAMESPACE, name: 'istio' }, field: `data.mesh: defaultConfig.proxyMetadata.${DNS_CAPTURE_KEY}`, message: `the mesh's proxies do not capture DNS (${DNS_CAPTURE_KEY}=${s.meshConfig.dnsCapture ?? 'unset'}): ${example} do not resolve in pods (curl: could not resolve host)`, hint: `eastwest apply (it installs istiod with ${DNS_CAPTURE_KEY}: "true"), then restart the workloads` });
      }
      const mine = serviceNamespaces(ctx, cluster!);
      const callers = new Set([...ctx.spec.services.map((svc) => svc.namespace), ISTIO_NAMESPACE]);
      for (const o of s.dnsOverrides ?? []) {
        if (goTrue(o.dnsCapture)) continue;
        const meshWide = o.object.kind === 'ProxyConfig' && o.object.namespace === ISTIO_NAMESPACE;
        const where = meshWide ? 'every proxy of the mesh' : o.object.kind === 'Pod' ? `pod ${o.object.name}${o.owner ? ` (${o.owner})` : ''}` : `the proxies of namespace ${o.object.namespace}`;
        findings.push({
          object: o.object,
          field: o.object.kind === 'Pod' ? `metadata.annotations[${PROXY_CONFIG_ANNOTATION}]` : `spec.environmentVariables.${DNS_CAPTURE_KEY}`,
          message: `turns the DNS proxy off for ${where} (${DNS_CAPTURE_KEY}=${o.dnsCapture}): ${example} do not resolve there`,
          // Where the spec's services (and their callers) live it breaks them: an error; elsewhere a warning.
          severity: meshWide || callers.has(o.object.namespace) || mine.has(o.object.namespace) ? 'error' : 'warning',
          hint: o.object.kind === 'Pod' ? `remove ${DNS_CAPTURE_KEY} from the ${PROXY_CONFIG_ANNOTATION} annotation of the pod template that made it${o.owner ? ` (${o.owner}: its Deployment's)` : ''}, or set it to "true"; the pods take it when they restart` : `remove ${DNS_CAPTURE_KEY} from its environmentVariables (or set it to "true"); pods take it when they restart`,
        });
      }
      if (!s.dnsOverrides) findings.push({ object: { kind: 'Namespace', name: ISTIO_NAMESPACE }, severity: 'warning', message: 'the pods and ProxyConfigs that could turn the DNS proxy off could not be read', hint: 'the read role lists pods and proxyconfigs.networking.istio.io: eastwest doctor --print-rbac' });
      return { figures: { names: names.length }, findings };
    },
  },
  {
    id: 'sidecar-scope',
    category: 'routing',
    title: 'no Sidecar eastwest did not make hides its hosts from the services\' namespaces',
    severity: 'error',
    scope: 'cluster',
    hint: 'add the hosts to the Sidecar\'s egress (e.g. "<namespace>/*" or "*/*.mesh.local"), or remove it: a proxy has no route for a host its Sidecar does not list',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const namespaces = serviceNamespaces(ctx, cluster!);
      // eastwest's hosts, each with the namespace that defines it and the namespaces it is exported to.
      type Se = { hosts?: string[]; exportTo?: string[] };
      const hosts = [
        ...s.serviceEntries.filter(ours).flatMap((se) => (spec$<Se>(se).hosts ?? []).map((h) => ({ host: h, namespace: se.metadata.namespace ?? '', exportTo: spec$<Se>(se).exportTo ?? ['*'] }))),
        ...ctx.spec.services.map((svc) => ({ host: clusterLocalHost(svc), namespace: svc.namespace, exportTo: ['*'] })),
      ];
      const visibleIn = (h: (typeof hosts)[number], from: string) => h.exportTo.includes('*') || h.exportTo.includes(from) || (h.exportTo.includes('.') && h.namespace === from);
      const findings: Findings = [];
      type SidecarSpec = { workloadSelector?: unknown; egress?: { hosts?: string[] }[] };
      // A namespace with a Sidecar of its own (without a selector) uses it instead of the root namespace's.
      const ownSidecar = new Set(s.sidecars.filter((x) => x.metadata.namespace !== ISTIO_NAMESPACE && !spec$<SidecarSpec>(x).workloadSelector).map((x) => x.metadata.namespace ?? ''));
      for (const sc of s.sidecars.filter((x) => !ours(x))) {
        const ns = sc.metadata.namespace ?? '';
        const meshWide = ns === ISTIO_NAMESPACE && !spec$<SidecarSpec>(sc).workloadSelector;
        const affected = meshWide ? [...namespaces].filter((n) => !ownSidecar.has(n)) : namespaces.has(ns) ? [ns] : [];
        const egress = spec$<SidecarSpec>(sc).egress;
        if (!egress || affected.length === 0) continue;
        const entries = egress.flatMap((e) => e.hosts ?? []);
        // Only what the namespace could see without the Sidecar counts (a host exported elsewhere is not hidden by it).
        const hidden = [...new Set(hosts.filter((h) => affected.some((from) => visibleIn(h, from) && !entries.some((e) => egressSees(e, from, h.namespace, h.host)))).map((h) => h.host))].sort();
        if (hidden.length) findings.push({ object: ref(sc), field: 'spec.egress[].hosts', message: `hides ${hidden.slice(0, 3).join(', ')}${hidden.length > 3 ? ` and ${hidden.length - 3} more` : ''} from ${meshWide ? 'every namespace' : `namespace ${ns}`}${spec$<SidecarSpec>(sc).workloadSelector ? ' (the workloads it selects)' : ''}: their proxies have no route there` });
      }
      return { findings };
    },
  },
  {
    id: 'authorization-policies',
    category: 'policy',
    title: 'no AuthorizationPolicy eastwest did not make denies or allows beyond the spec',
    severity: 'error',
    scope: 'cluster',
    hint: 'put the rule in the spec\'s policy.authorization (eastwest applies it in every cluster) and remove the hand-made one',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const namespaces = serviceNamespaces(ctx, cluster!);
      const findings: Findings = [];
      type Ap = { selector?: unknown; action?: string; rules?: unknown[]; provider?: unknown };
      // Namespaces where eastwest applies the spec's ALLOW policies (its authorization matrix).
      const specAllows = new Set(s.authorizationPolicies.filter((x) => ours(x) && (spec$<Ap>(x).action ?? 'ALLOW') === 'ALLOW').map((x) => x.metadata.namespace ?? ''));
      for (const ap of s.authorizationPolicies.filter((x) => !ours(x))) {
        const ns = ap.metadata.namespace ?? '';
        const meshWide = ns === ISTIO_NAMESPACE;
        if (!meshWide && !namespaces.has(ns)) continue;
        const p = spec$<Ap>(ap);
        const action = p.action ?? 'ALLOW';
        const where = p.selector ? `the workloads it selects in ${meshWide ? 'every namespace' : `namespace ${ns}`}` : meshWide ? 'every workload in the mesh' : `every workload in namespace ${ns}`;
        // Istio: a DENY without rules never matches; an ALLOW without rules allows nothing, which refuses
        // only what no other ALLOW policy allows; any ALLOW makes the workloads it applies to refuse the callers it does not name.
        if (action === 'DENY' && p.rules?.length) findings.push({ object: ref(ap), field: 'spec.action', message: `denies requests matching its rules to ${where}: the spec's authorization does not` });
        else if (action === 'ALLOW' && !p.rules?.length) findings.push({ object: ref(ap), field: 'spec.rules', severity: 'warning', message: `allows nothing: ${where} refuse every request that no other ALLOW policy allows` });
        else if (action === 'ALLOW' && !meshWide && !specAllows.has(ns)) findings.push({ object: ref(ap), field: 'spec.rules', message: `an ALLOW policy where the spec allows every caller: ${where} now refuse every caller it does not name` });
        else if (action === 'ALLOW') findings.push({ object: ref(ap), field: 'spec.rules', severity: 'warning', message: `allows callers to ${where} that the spec's authorization may not name` });
        else if (action === 'CUSTOM') findings.push({ object: ref(ap), field: 'spec.action', severity: 'warning', message: `sends requests to ${where} to an external authorizer: they fail when it does not answer` });
      }
      return { findings };
    },
  },
  {
    id: 'sync-controller',
    category: 'sync',
    title: 'the in-cluster sync controller runs and one replica holds its lease',
    severity: 'error',
    scope: 'cluster',
    hint: `eastwest apply installs it; kubectl -n ${SYNC_NAMESPACE} describe deploy/${SYNC_CONTROLLER} and its logs tell why it does not run`,
    applies: (ctx) => ctx.spec.sync.inCluster,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const deployment = { kind: 'Deployment', namespace: SYNC_NAMESPACE, name: SYNC_CONTROLLER };
      const d = s.sync?.deployment;
      if (!d) return { findings: [{ object: deployment, message: 'not installed: exports in this cluster are not routed anywhere' }] };
      const findings: Findings = [];
      if (d.ready < 1) findings.push({ object: deployment, field: 'status.readyReplicas', message: `no ready replica (${d.ready}/${d.desired}): new exports here are not routed, and what this cluster imports is not kept up to date` });
      const lease = s.sync?.lease;
      const renewed = lease?.renewTime ? Date.parse(lease.renewTime) : undefined;
      const stale = renewed === undefined || Date.now() - renewed > ((lease?.durationSeconds ?? 15) + 10) * 1000;
      if (d.ready >= 1 && (!lease?.holder || stale)) findings.push({ object: { kind: 'Lease', namespace: SYNC_NAMESPACE, name: SYNC_LEASE }, field: 'spec.renewTime', message: lease?.holder ? `held by ${lease.holder} but not renewed since ${lease.renewTime ?? 'ever'}: no replica acts` : 'no replica holds it: none acts' });
      return { figures: { ready: `${d.ready}/${d.desired}`, ...(lease?.holder ? { holder: lease.holder } : {}) }, findings };
    },
  },
  {
    id: 'prometheus-targets',
    category: 'observability',
    title: "the cluster's Prometheus is ready and scrapes the mesh: istiod, the gateways, the sidecars of the spec's namespaces and the other clusters' Prometheus (federation) are up",
    severity: 'error',
    scope: 'cluster',
    hint: 'eastwest apply installs it; its targets page (port-forward to 9090, /targets) says why a target is down: a pod not answering on its metrics port, the other cluster\'s Prometheus not reachable through the east-west gateways',
    applies: (ctx) => ctx.spec.observability.prometheus,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const location = prometheusLocation(ctx.spec);
      const service = { kind: 'Service', namespace: location.namespace, name: location.service };
      const p = s.prometheus;
      if (!p) return { findings: [{ object: service, message: 'not read' }] };
      if (!p.pod && !p.notReady) return { findings: [{ object: service, severity: 'warning', message: `Prometheus could not be found: ${p.error ?? 'no answer'}`, hint: 'the read role lists pods; a slow API server may need a higher --request-timeout' }] };
      if (!p.pod) return { findings: [{ object: service, message: `no ready Prometheus: ${p.error ?? 'none found'} (no metrics here, and the other clusters lose this one's series)`, hint: `kubectl -n ${location.namespace} get pods -l ${Object.entries(location.selector).map(([k, v]) => `${k}=${v}`).join(',')} and describe them; eastwest apply installs it` }] };
      if (p.error) return { findings: [{ object: { kind: 'Pod', namespace: location.namespace, name: p.pod }, message: `could not be asked: ${p.error}`, severity: 'warning' }] };
      const mesh = new Set([...ctx.spec.services.map((svc) => svc.namespace), ISTIO_NAMESPACE]);
      const findings: Findings = [];
      for (const t of p.down ?? []) {
        // The other clusters' own targets (federated) are theirs to report.
        if (t.cluster && t.cluster !== cluster) continue;
        const federation = t.job.startsWith('federate-');
        if (federation) {
          findings.push({ object: service, field: `scrape job ${t.job}`, message: `${t.job} has been down for a minute (${t.instance}): this Prometheus has no series of ${t.job.slice('federate-'.length)}, so the traffic between clusters shows only from this side`, hint: `${t.job.slice('federate-'.length)}'s Prometheus must be ready and reachable through the east-west gateways (eastwest doctor there; eastwest traffic shows what each Prometheus answers)` });
        } else if (t.pod && t.namespace && mesh.has(t.namespace)) {
          findings.push({ object: { kind: 'Pod', namespace: t.namespace, name: t.pod }, field: `scrape job ${t.job}`, message: `scraped and down (${t.instance}): its proxy's metrics (requests, connections through the gateways) are missing`, hint: `kubectl -n ${t.namespace} describe pod ${t.pod}; its metrics port (15020 for Istio's proxies) must answer` });
        }
      }
      return { figures: { targets: p.targets ?? 0, down: (p.down ?? []).filter((t) => !t.cluster || t.cluster === cluster).length }, findings };
    },
  },
  {
    id: 'service-exports',
    category: 'sync',
    title: 'ServiceExports are valid and without conflict',
    severity: 'warning',
    scope: 'cluster',
    hint: `its conditions say why (kubectl get serviceexport -o yaml): a Service that does not exist, ports that differ from the other clusters' export of the name, an unusable ${EXPORT_TO_ANNOTATION}`,
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      const findings: Findings = [];
      type Status = { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
      for (const e of s.serviceExports) {
        const conditions = (e as Status).status?.conditions ?? [];
        const invalid = conditions.find((c) => c.type === 'Valid' && c.status === 'False');
        const conflict = conditions.find((c) => c.type === 'Conflict' && c.status === 'True');
        const bad = invalid ?? conflict;
        if (bad) findings.push({ object: ref({ ...e, kind: 'ServiceExport' }), field: `status.conditions[${bad.type}]`, message: `${bad.type === 'Valid' ? 'not valid' : 'in conflict'} (${bad.reason ?? '?'}): ${bad.message ?? ''}`.trim() });
      }
      return { figures: { exports: s.serviceExports.length }, findings };
    },
  },
  {
    id: 'strict-mtls',
    category: 'policy',
    title: 'mTLS is STRICT mesh-wide and nothing loosens it',
    severity: 'error',
    scope: 'cluster',
    hint: 'a PeerAuthentication "default" in istio-system with mtls.mode STRICT (eastwest apply); remove PERMISSIVE or DISABLE PeerAuthentications',
    applies: (ctx) => ctx.spec.policy.mtls === 'STRICT',
    run: async (ctx, cluster) => {
      const s = snapshotOf(ctx, cluster);
      type Pa = { selector?: unknown; mtls?: { mode?: string }; portLevelMtls?: Record<string, { mode?: string }> };
      const meshWide = s.peerAuthentications.filter((p) => p.metadata.namespace === ISTIO_NAMESPACE && !spec$<Pa>(p).selector);
      const findings: Findings = [];
      if (!meshWide.some((p) => spec$<Pa>(p).mtls?.mode === 'STRICT')) findings.push({ object: { kind: 'PeerAuthentication', namespace: ISTIO_NAMESPACE, name: meshWide[0]?.metadata.name ?? 'default' }, field: 'spec.mtls.mode', message: meshWide.length ? `mesh-wide mode ${spec$<Pa>(meshWide[0]!).mtls?.mode ?? 'UNSET'}, not STRICT: plaintext is accepted` : 'no mesh-wide PeerAuthentication: plaintext is accepted' });
      for (const p of s.peerAuthentications) {
        // The mesh-wide one that is not STRICT is named above already; eastwest's own (a scrape port
        // left PERMISSIVE for Prometheus) are as the spec makes them.
        if ((meshWide.includes(p) && findings.length > 0) || (ours(p) && !meshWide.includes(p))) continue;
        const modes = [spec$<Pa>(p).mtls?.mode, ...Object.values(spec$<Pa>(p).portLevelMtls ?? {}).map((m) => m.mode)];
        const loose = modes.find((m) => m === 'PERMISSIVE' || m === 'DISABLE');
        // Where the spec's services run it is weaker than the spec: an error; elsewhere a warning.
        const weakens = serviceNamespaces(ctx, cluster!).has(p.metadata.namespace ?? '') || p.metadata.namespace === ISTIO_NAMESPACE;
        if (loose) findings.push({ object: ref(p), field: 'spec.mtls.mode', message: `${loose}: ${p.metadata.namespace === ISTIO_NAMESPACE && !spec$<Pa>(p).selector ? 'mesh-wide' : `in namespace ${p.metadata.namespace}`}, plaintext is accepted${weakens ? ' where the spec says STRICT' : ''}`, severity: weakens ? 'error' : 'warning' });
      }
      return { findings };
    },
  },
];

export const DOCTOR_CHECKS: Check<DoctorContext>[] = DEFINITIONS.map((c) => ({ ...c, disruptive: false, docs: DOCS(c.id) }));
