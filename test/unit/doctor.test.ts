// doctor's checks on cluster snapshots: a healthy mesh is built from eastwest's own render of the lab spec
// (plus istiod and the gateway as the Helm charts run them), then one fault at a time is made in it, as a
// hand edit or a foreign object would, and the finding must name the cluster, the object and the fix.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/checks/run-checks.ts';
import type { CheckResult, Finding } from '../../src/checks/check.ts';
import { chainsToRoot, DOCTOR_CHECKS, goTrue, revisionFindings, type DoctorContext } from '../../src/doctor/checks.ts';
import { cacertsCertificates, type ClusterSnapshot } from '../../src/doctor/snapshot.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { ensurePki } from '../../src/pki/store.ts';
import { renderMesh } from '../../src/components/render-mesh.ts';
import { istioAddonObjects, istioDashboards } from '../../src/sources/upstream-sources.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { planCluster, readersNeeded } from '../../src/components/plan.ts';
import type { RenderAddons } from '../../src/render/render-mesh.ts';
import type { PkiBundle } from '../../src/pki/store.ts';
import { probeObjects } from '../../src/verify/probe-workload.ts';

const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
const ADDRESSES = new Map([['us', '198.18.2.1'], ['eu', '198.18.2.17']]);
let rootPem = '';
let otherRootPem = '';
/** Each cluster's chain as its istiod hands it to proxies (its intermediate, then the root). */
let chains: Map<string, string>;
/** Each cluster's intermediate (cacerts' ca-cert.pem). */
let caCerts: Map<string, string>;
let otherChain = '';
let otherCacerts: PkiBundle;
let healthy: Map<string, ClusterSnapshot>;
let pkiBundle: PkiBundle;
let renderAddons: RenderAddons;

function snapshotFrom(objects: KubeObject[], cluster: string, of$: MeshSpec = spec): ClusterSnapshot {
  const spec = of$;
  const c = spec.clusters.find((x) => x.name === cluster)!;
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    cluster,
    istiod: { ready: 1, desired: 1, image: 'lab.eastwest.dev/istio/pilot:1.31-lab', env: { CLUSTER_ID: cluster }, podLabels: {} },
    controlPlanes: [{ name: 'istiod', revision: 'default', ready: 1, desired: 1, image: 'lab.eastwest.dev/istio/pilot:1.31-lab' }],
    meshConfig: { trustDomain: spec.trustDomain, meshId: spec.meshID, dnsCapture: 'true' },
    dnsOverrides: [],
    ...(spec.observability.prometheus ? { prometheus: { pod: 'prometheus-abc', targets: 20, down: [] } } : {}),
    istioSystemLabels: of('Namespace').find((n) => n.metadata.name === 'istio-system')?.metadata.labels ?? {},
    gateway: { ready: 1, desired: 1, image: 'lab.eastwest.dev/istio/proxyv2:1.31-lab', env: { ISTIO_META_REQUESTED_NETWORK_VIEW: c.network }, podLabels: { istio: 'eastwestgateway', 'topology.istio.io/network': c.network } },
    gatewayService: { address: ADDRESSES.get(cluster)!, type: 'LoadBalancer' },
    rootCertPem: rootPem,
    gateways: of('Gateway'),
    serviceEntries: of('ServiceEntry'),
    workloadEntries: of('WorkloadEntry'),
    destinationRules: of('DestinationRule'),
    virtualServices: of('VirtualService'),
    peerAuthentications: of('PeerAuthentication'),
    authorizationPolicies: of('AuthorizationPolicy'),
    sidecars: of('Sidecar'),
    serviceEndpoints: Object.fromEntries(spec.services.filter((svc) => svc.clusters.includes(cluster)).map((svc) => [`${svc.namespace}/${svc.name}`, 1])),
    serviceExports: [],
    ...(spec.sync.inCluster ? { sync: { deployment: { ready: 1, desired: 2, env: {}, podLabels: {} }, lease: { holder: 'eastwest-sync-abc', renewTime: new Date().toISOString(), durationSeconds: 15 } } } : {}),
    gatewayProxy: { pod: 'istio-eastwestgateway-abc', chainPem: chains.get(cluster)! },
    cacerts: { present: true, rootCertPem: rootPem, caCertPem: caCerts.get(cluster)!, certChainPem: chains.get(cluster)! },
    clientProxies: [{ namespace: 'echo', pod: 'client-abc', endpoints: Object.fromEntries(objects.filter((o) => o.kind === 'ServiceEntry').flatMap((se) => ((se as any).spec.hosts as string[]).map((h) => [`outbound|80||${h}`, { total: 1, healthy: 1, reasons: {} }]))) }],
  };
}

beforeAll(async () => {
  const pki = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'doctor-')), clusters: ['us', 'eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'doctor' })).bundle;
  rootPem = pki.rootCertPem!;
  chains = new Map([...pki.cacerts].map(([c, certs]) => [c, certs['cert-chain.pem']]));
  caCerts = new Map([...pki.cacerts].map(([c, certs]) => [c, certs['ca-cert.pem']]));
  otherCacerts = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'doctor-other-eu-')), clusters: ['eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'other' })).bundle;
  const other = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'doctor-other-')), clusters: ['us'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'other' })).bundle;
  otherRootPem = other.rootCertPem!;
  otherChain = other.cacerts.get('us')!['cert-chain.pem'];
  const addons = { prometheus: await istioAddonObjects('prometheus'), kiali: await istioAddonObjects('kiali'), dashboards: await istioDashboards() };
  pkiBundle = pki;
  renderAddons = addons;
  healthy = new Map(renderMesh({ spec, pki, addons, gatewayAddresses: ADDRESSES }).map((r) => [r.cluster.name, snapshotFrom([...r.preInstall, ...r.postInstall].map((s) => s.object), r.cluster.name)]));
});

/** A deep copy of the healthy mesh with one change made to one cluster's snapshot. */
function withFault(cluster: string, change: (s: ClusterSnapshot) => void): Map<string, ClusterSnapshot> {
  const copy = new Map([...healthy].map(([k, v]) => [k, structuredClone(v)]));
  change(copy.get(cluster)!);
  return copy;
}

async function doctor(snapshots: Map<string, ClusterSnapshot>, extra: Partial<DoctorContext> = {}, unreachable: string[] = []): Promise<CheckResult[]> {
  for (const u of unreachable) snapshots.delete(u);
  return runChecks(DOCTOR_CHECKS, { ctx: { spec, snapshots, localRootPem: rootPem, cacertsRead: true, ...extra }, clusters: spec.clusters.map((c) => ({ name: c.name, reachable: !unreachable.includes(c.name), why: 'timeout' })), deadlineSeconds: 5 });
}
const problems = (results: CheckResult[]): Finding[] => results.flatMap((r) => r.findings).filter((f) => f.severity !== 'info');
const named = (f: Finding) => `${f.check} ${f.cluster ?? '-'} ${f.object ? `${f.object.kind}/${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}` : '-'}`;

describe('doctor on a healthy mesh (eastwest\'s own render)', () => {
  it('finds nothing, runs every check in every cluster', async () => {
    const results = await doctor(new Map(healthy));
    expect(problems(results)).toEqual([]);
    expect(results.every((r) => r.status === 'passed')).toBe(true);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(DOCTOR_CHECKS.map((c) => c.id)));
  });
  it("verify's own probes beside the mesh (a running verify): no finding, they are eastwest's", async () => {
    const withProbes = new Map([...healthy].map(([name]) => {
      const rendered = renderMesh({ spec, pki: pkiBundle, addons: renderAddons, gatewayAddresses: ADDRESSES }).find((r) => r.cluster.name === name)!;
      const probes = probeObjects(spec, rendered.cluster, ['us', 'eu'], ADDRESSES).objects;
      return [name, snapshotFrom([...[...rendered.preInstall, ...rendered.postInstall].map((x) => x.object), ...probes], name)];
    }));
    expect(withProbes.get('us')!.authorizationPolicies.some((p) => p.metadata.namespace === 'eastwest-verify')).toBe(true);
    expect(problems(await doctor(withProbes))).toEqual([]);
  });
  it('every check has a category, a hint and a README anchor', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const c of DOCTOR_CHECKS) {
      expect(c.hint.length).toBeGreaterThan(20);
      expect(c.docs).toBe(`#check-${c.id}`);
      expect(readme, `README anchor for ${c.id}`).toContain(`<a id="check-${c.id}"></a>`);
    }
  });
});

describe('doctor raises no false alarm on other shapes of a healthy mesh', () => {
  const specOf = (file: string) => decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples', file), 'utf8'), file).document.spec;
  const variants: [string, () => MeshSpec][] = [
    ['endpoint discovery (remote secrets, no ServiceEntries)', () => specOf('lab-endpoint-discovery.yaml')],
    ['no sync controller, no observability', () => ({ ...spec, sync: { ...spec.sync, inCluster: false }, observability: { ...spec.observability, prometheus: false, kiali: false } })],
    ['no demo workload', () => ({ ...spec, demo: { ...spec.demo, enabled: false } })],
  ];
  it.each(variants)('%s', async (_name, make) => {
    const variant = make();
    // What apply leaves in each cluster: the whole plan, every peer's token known.
    const live = { readers: Object.fromEntries([...readersNeeded(variant)].map(([id]) => [id, new Map(variant.clusters.map((c) => [c.name, { server: `https://${c.name}.example:6443`, caData: 'Q0E=', token: 't' }]))])), syncImage: 'img:1' };
    const snapshots = new Map(variant.clusters.map((c) => {
      const plan = planCluster({ spec: variant, pki: pkiBundle, addons: renderAddons, gatewayAddresses: ADDRESSES }, c, live);
      return [c.name, snapshotFrom([...plan.preInstall, ...plan.postInstall], c.name, variant)];
    }));
    const results = await runChecks(DOCTOR_CHECKS, { ctx: { spec: variant, snapshots, localRootPem: rootPem }, clusters: variant.clusters.map((c) => ({ name: c.name, reachable: true, why: 'timeout' })), deadlineSeconds: 5 });
    expect(problems(results).map(named)).toEqual([]);
    expect(results.every((r) => r.status === 'passed' || r.status === 'skipped')).toBe(true);
  });
});

describe('doctor names the object at fault, the cluster and the fix', () => {
  const cases: [string, string, (s: ClusterSnapshot) => void, string][] = [
    ['istiod at zero ready replicas', 'eu', (s) => (s.istiod!.ready = 0), 'istiod-ready eu Deployment/istio-system/istiod'],
    ['a proxy that rejected the clusters istiod sent (an EnvoyFilter)', 'us', (s) => {
      s.envoyFilters = [{ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'bad-timeout', namespace: 'echo' } }];
      s.proxySync = { pod: 'istiod-1', readAt: Date.now(), proxies: [{ pod: 'client-abc', namespace: 'echo', kind: 'sidecar', types: [{ type: 'clusters', sent: 'n2', acked: 'n1', error: 'Invalid duration: Expected positive duration' }] }] };
    }, 'proxy-xds-sync us Pod/echo/client-abc'],
    ['a proxy that has not acknowledged its listeners for a minute', 'eu', (s) => {
      s.proxySync = { pod: 'istiod-1', readAt: Date.now(), proxies: [{ pod: 'echo-xyz', namespace: 'echo', kind: 'sidecar', types: [{ type: 'listeners', sent: 'n2', acked: 'n1', sentAt: new Date(Date.now() - 60_000).toISOString() }] }] };
    }, 'proxy-xds-sync eu Pod/echo/echo-xyz'],
    ['istiod\'s view of its proxies unreadable', 'eu', (s) => (s.proxySync = { pod: 'istiod-1', error: 'port-forward refused', readAt: Date.now() }), 'proxy-xds-sync eu Pod/istio-system/istiod-1'],
    ['istiod not installed', 'us', (s) => delete s.istiod, 'istiod-ready us Deployment/istio-system/istiod'],
    ['another trust domain', 'eu', (s) => (s.meshConfig!.trustDomain = 'cluster.local'), 'mesh-identity eu ConfigMap/istio-system/istio'],
    ['istiod with the wrong cluster name', 'us', (s) => (s.istiod!.env['CLUSTER_ID'] = 'Kubernetes'), 'mesh-identity us Deployment/istio-system/istiod'],
    ['the network label removed from istio-system', 'eu', (s) => delete s.istioSystemLabels!['topology.istio.io/network'], 'mesh-identity eu Namespace/istio-system'],
    ['the east-west gateway at zero', 'eu', (s) => (s.gateway!.ready = 0), 'gateway-ready eu Deployment/istio-system/istio-eastwestgateway'],
    ['the gateway without an address', 'us', (s) => delete s.gatewayService!.address, 'gateway-ready us Service/istio-system/istio-eastwestgateway'],
    ['the gateway asking for another network\'s view', 'us', (s) => (s.gateway!.env['ISTIO_META_REQUESTED_NETWORK_VIEW'] = 'eu-net'), 'gateway-ready us Deployment/istio-system/istio-eastwestgateway'],
    ['the 15443 Gateway deleted', 'eu', (s) => (s.gateways = []), 'cross-network-gateway eu Gateway/istio-system/cross-network-gateway'],
    ['the 15443 Gateway made SIMPLE', 'us', (s) => ((s.gateways[0] as any).spec.servers[0].tls.mode = 'SIMPLE'), 'cross-network-gateway us Gateway/istio-system/cross-network-gateway'],
    ['a route to an old gateway address', 'us', (s) => ((s.workloadEntries.find((w) => w.metadata.name === 'echo-via-eu') as any).spec.address = '198.18.2.99'), 'peers-route-to-gateway us WorkloadEntry/echo/echo-via-eu'],
    ['the remote route\'s DestinationRule in plaintext', 'us', (s) => ((s.destinationRules.find((d) => d.metadata.name === 'echo-eu') as any).spec.trafficPolicy.tls.mode = 'DISABLE'), 'remote-routes-mtls us DestinationRule/echo/echo-eu'],
    ['a foreign DestinationRule for echo', 'eu', (s) => s.destinationRules.push({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'team-echo', namespace: 'echo' }, spec: { host: 'echo.echo.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } } } as KubeObject), 'foreign-overrides eu DestinationRule/echo/team-echo'],
    ['a foreign VirtualService for echo.eu.mesh.local', 'us', (s) => s.virtualServices.push({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'canary', namespace: 'echo' }, spec: { hosts: ['echo.eu.mesh.local'], http: [] } } as KubeObject), 'foreign-overrides us VirtualService/echo/canary'],
    ['outlier detection removed from the locality rule', 'eu', (s) => s.destinationRules.filter((d) => (d as any).spec.host === 'echo.echo.svc.cluster.local').forEach((d) => delete (d as any).spec.trafficPolicy.outlierDetection), 'failover-outlier-detection eu DestinationRule/echo/echo-locality'],
    ['mesh-wide mTLS made PERMISSIVE', 'us', (s) => ((s.peerAuthentications[0] as any).spec.mtls.mode = 'PERMISSIVE'), 'strict-mtls us PeerAuthentication/istio-system/default'],
    ['the gateway proxy holding a chain from another root', 'eu', (s) => (s.gatewayProxy!.chainPem = otherChain), 'proxy-certificates eu Pod/istio-system/istio-eastwestgateway-abc'],
    ['echo with no ready endpoint in eu', 'eu', (s) => (s.serviceEndpoints['echo/echo'] = 0), 'service-endpoints eu Service/echo/echo'],
    ['echo\'s Service gone in us', 'us', (s) => delete s.serviceEndpoints['echo/echo'], 'service-endpoints us Service/echo/echo'],
    ['a hand-made deny-all AuthorizationPolicy in echo', 'us', (s) => s.authorizationPolicies.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', namespace: 'echo' }, spec: { action: 'DENY', rules: [{}] } } as KubeObject), 'authorization-policies us AuthorizationPolicy/echo/deny-all'],
    ['a hand-made mesh-wide DENY with rules', 'eu', (s) => s.authorizationPolicies.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'lockdown', namespace: 'istio-system' }, spec: { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['istio-system'] } }] }] } } as KubeObject), 'authorization-policies eu AuthorizationPolicy/istio-system/lockdown'],
    ['a Sidecar that keeps echo\'s namespace to itself', 'us', (s) => s.sidecars.push({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'echo' }, spec: { egress: [{ hosts: ['./echo.echo.svc.cluster.local', 'istio-system/*'] }] } } as KubeObject), 'sidecar-scope us Sidecar/echo/default'],
    ['the sync controller at zero', 'eu', (s) => (s.sync!.deployment!.ready = 0), 'sync-controller eu Deployment/eastwest-system/eastwest-sync'],
    ['the sync lease not renewed', 'us', (s) => (s.sync!.lease!.renewTime = new Date(Date.now() - 60_000).toISOString()), 'sync-controller us Lease/eastwest-system/eastwest-sync'],
    ['DNS capture off mesh-wide: the remote names do not resolve', 'us', (s) => (s.meshConfig!.dnsCapture = 'false'), 'remote-name-dns us ConfigMap/istio-system/istio'],
    ['DNS capture never set mesh-wide', 'eu', (s) => delete s.meshConfig!.dnsCapture, 'remote-name-dns eu ConfigMap/istio-system/istio'],
    ['a client pod whose own proxy config turns DNS capture off', 'us', (s) => s.dnsOverrides!.push({ object: { kind: 'Pod', namespace: 'echo', name: 'client-6d4-x' }, owner: 'ReplicaSet/client-6d4', dnsCapture: 'false' }), 'remote-name-dns us Pod/echo/client-6d4-x'],
    ['a mesh-wide ProxyConfig that turns DNS capture off', 'eu', (s) => s.dnsOverrides!.push({ object: { kind: 'ProxyConfig', namespace: 'istio-system', name: 'no-dns' }, dnsCapture: 'false' }), 'remote-name-dns eu ProxyConfig/istio-system/no-dns'],
    ['the client proxy holds no endpoint for the remote name', 'us', (s) => (s.clientProxies![0]!.endpoints!['outbound|80||echo.eu.mesh.local'] = { total: 0, healthy: 0, reasons: {} }), 'remote-endpoints us Pod/echo/client-abc'],
    ['the remote gateway ejected by the client proxy\'s outlier detection', 'eu', (s) => (s.clientProxies![0]!.endpoints!['outbound|80||echo.us.mesh.local'] = { total: 1, healthy: 0, reasons: { 'ejected by outlier detection': 1 } }), 'remote-endpoints eu Pod/echo/client-abc'],
    ['no ready Prometheus', 'eu', (s) => (s.prometheus = { error: 'no ready Prometheus (app.kubernetes.io/name=prometheus) in istio-system' }), 'prometheus-targets eu Service/istio-system/prometheus'],
    ['a gateway target down in Prometheus', 'us', (s) => s.prometheus!.down!.push({ job: 'kubernetes-pods', instance: '10.0.0.9:15020', namespace: 'istio-system', pod: 'istio-eastwestgateway-abc', cluster: 'us' }), 'prometheus-targets us Pod/istio-system/istio-eastwestgateway-abc'],
    ['the other cluster\'s Prometheus not federated', 'us', (s) => s.prometheus!.down!.push({ job: 'federate-eu', instance: 'prometheus.eu.mesh.local:9090', cluster: 'us' }), 'prometheus-targets us Service/istio-system/prometheus'],
    ['a namespace PeerAuthentication that disables mTLS', 'eu', (s) => s.peerAuthentications.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'legacy', namespace: 'echo' }, spec: { mtls: { mode: 'DISABLE' } } } as KubeObject), 'strict-mtls eu PeerAuthentication/echo/legacy'],
  ];
  for (const [what, cluster, change, expected] of cases) {
    it(what, async () => {
      const found = problems(await doctor(withFault(cluster, change)));
      expect(found.map(named)).toContain(expected);
      const finding = found.find((f) => named(f) === expected)!;
      expect(finding.hint, 'a fix').toBeTruthy();
      // One fault, one place: nothing is blamed in the healthy cluster.
      expect(found.filter((f) => f.cluster !== cluster && f.cluster !== undefined).map(named)).toEqual([]);
    });
  }
  it('a cluster with another root: same-root names that cluster\'s published root', async () => {
    const found = problems(await doctor(withFault('eu', (s) => (s.rootCertPem = otherRootPem))));
    // Its cacerts still holds the mesh's root: istiod runs on another CA than it would restart with.
    expect(found.map(named)).toEqual(['same-root eu ConfigMap/istio-system/istio-ca-root-cert', 'cacerts eu Secret/istio-system/cacerts']);
  });
  it('a checkout whose CA is not the one the clusters publish: every cluster is named (the local CA is the mesh\'s)', async () => {
    const found = problems(await doctor(new Map(healthy), { localRootPem: otherRootPem }));
    // Both publish another root, and both gateways' proxies hold chains to it.
    expect(found.map(named).sort()).toEqual(['cacerts eu Secret/istio-system/cacerts', 'cacerts us Secret/istio-system/cacerts', 'proxy-certificates eu Pod/istio-system/istio-eastwestgateway-abc', 'proxy-certificates us Pod/istio-system/istio-eastwestgateway-abc', 'same-root eu ConfigMap/istio-system/istio-ca-root-cert', 'same-root us ConfigMap/istio-system/istio-ca-root-cert']);
  });
  it('a foreign DestinationRule that only adds a policy is a warning; one that changes the TLS mode an error', async () => {
    const add = (tls?: object) => withFault('eu', (s) => s.destinationRules.push({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'team-echo', namespace: 'echo' }, spec: { host: 'echo.echo.svc.cluster.local', trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } }, ...(tls ? { tls } : {}) } } } as KubeObject));
    expect(problems(await doctor(add())).map((f) => f.severity)).toEqual(['warning']);
    expect(problems(await doctor(add({ mode: 'ISTIO_MUTUAL' }))).map((f) => f.severity)).toEqual(['warning']);
    expect(problems(await doctor(add({ mode: 'SIMPLE' }))).map((f) => f.severity)).toEqual(['error']);
  });
  it('DNS overrides: one that turns it on is no finding; one outside the mesh\'s namespaces a warning; no remote-only name, no finding', async () => {
    const pod = (namespace: string, dnsCapture: string) => withFault('us', (s) => s.dnsOverrides!.push({ object: { kind: 'Pod', namespace, name: 'p' }, dnsCapture }));
    expect(problems(await doctor(pod('echo', 'true')))).toEqual([]);
    expect(problems(await doctor(pod('batch', 'false'))).map((f) => `${f.severity} ${named(f)}`)).toEqual(['warning remote-name-dns us Pod/batch/p']);
    // A cluster with no ServiceEntry of eastwest's (nothing served elsewhere) needs no DNS proxy.
    const alone = withFault('us', (s) => {
      s.meshConfig!.dnsCapture = 'false';
      s.serviceEntries = s.serviceEntries.filter((se) => !se.metadata.labels?.['app.kubernetes.io/managed-by']);
    });
    expect(problems(await doctor(alone)).filter((f) => f.check === 'remote-name-dns')).toEqual([]);
  });
  it('endpoint-discovery: a service this cluster does not run resolves only through the DNS proxy', async () => {
    const discovery: MeshSpec = { ...spec, federation: { ...spec.federation, mode: 'endpoint-discovery' }, services: [...spec.services, { ...spec.services[0]!, name: 'only-eu', clusters: ['eu'] }] };
    const snapshots = withFault('us', (s) => {
      s.meshConfig!.dnsCapture = 'false';
      s.serviceEntries = [];
    });
    const results = await runChecks(DOCTOR_CHECKS.filter((c) => c.id === 'remote-name-dns'), { ctx: { spec: discovery, snapshots, localRootPem: rootPem }, clusters: discovery.clusters.map((c) => ({ name: c.name, reachable: true })), deadlineSeconds: 5 });
    expect(problems(results).map((f) => `${named(f)} ${f.message}`)).toEqual([expect.stringMatching(/^remote-name-dns us ConfigMap\/istio-system\/istio .*only-eu\.echo\.svc\.cluster\.local/)]);
  });
  it('Prometheus: the other clusters\' federated targets and targets outside the mesh are not this cluster\'s findings', async () => {
    const down = withFault('us', (s) => s.prometheus!.down!.push(
      { job: 'kubernetes-pods', instance: '10.1.0.9:15020', namespace: 'istio-system', pod: 'istiod-x', cluster: 'eu' },
      { job: 'node-exporter', instance: '10.0.0.1:9100', namespace: 'monitoring', pod: 'node-exporter-x', cluster: 'us' },
      { job: 'kubelet', instance: '10.0.0.1:10250', cluster: 'us' },
    ));
    expect(problems(await doctor(down))).toEqual([]);
    // A Prometheus that answered nothing is a warning (it runs; doctor could not ask it).
    const mute = withFault('eu', (s) => (s.prometheus = { pod: 'prometheus-abc', error: 'timeout after 5 s' }));
    expect(problems(await doctor(mute)).map((f) => `${f.severity} ${named(f)}`)).toEqual(['warning prometheus-targets eu Pod/istio-system/prometheus-abc']);
  });
  it('a mesh-wide PERMISSIVE is named once', async () => {
    const found = problems(await doctor(withFault('us', (s) => ((s.peerAuthentications[0] as any).spec.mtls.mode = 'PERMISSIVE'))));
    expect(found.map(named)).toEqual(['strict-mtls us PeerAuthentication/istio-system/default']);
  });
  it('a Sidecar that lists eastwest\'s namespaces, or one in a namespace without spec services, is no finding', async () => {
    const add = (namespace: string, hosts: string[]) => withFault('us', (s) => s.sidecars.push({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace }, spec: { egress: [{ hosts }] } } as KubeObject));
    expect(problems(await doctor(add('echo', ['./*', 'istio-system/*'])))).toEqual([]);
    expect(problems(await doctor(add('echo', ['*/*'])))).toEqual([]);
    expect(problems(await doctor(add('elsewhere', ['./*'])))).toEqual([]);
  });
  it('Istio\'s semantics: a DENY without rules never matches (no finding); an ALLOW without rules refuses only what no other ALLOW allows (a warning)', async () => {
    const add = (spec: object) => withFault('us', (s) => s.authorizationPolicies.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'x', namespace: 'echo' }, spec } as KubeObject));
    expect(problems(await doctor(add({ action: 'DENY' })))).toEqual([]);
    expect(problems(await doctor(add({}))).map((f) => `${f.check} ${f.severity}`)).toEqual(['authorization-policies warning']);
  });
  it('a Sidecar judged only for hosts its namespace could see (exportTo), and a root Sidecar not for a namespace with its own', async () => {
    const hidden = (extra: (s: ClusterSnapshot) => void) => withFault('us', (s) => {
      s.serviceEntries.push({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'private', namespace: 'monitoring', labels: { 'app.kubernetes.io/managed-by': 'eastwest' } }, spec: { hosts: ['private.eu.mesh.local'], exportTo: ['.'] } } as KubeObject);
      extra(s);
    });
    const sidecar = (namespace: string, hosts: string[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace }, spec: { egress: [{ hosts }] } } as KubeObject);
    expect(problems(await doctor(hidden((s) => s.sidecars.push(sidecar('echo', ['./*', 'istio-system/*'])))))).toEqual([]);
    // The root Sidecar hides echo's hosts, but echo has its own that sees them.
    expect(problems(await doctor(hidden((s) => s.sidecars.push(sidecar('istio-system', ['istio-system/*']), sidecar('echo', ['./*', 'istio-system/*'])))))).toEqual([]);
  });
  it('a hand-made ALLOW with rules where the spec allows every caller is an error (the workloads refuse everyone else)', async () => {
    const found = problems(await doctor(withFault('eu', (s) => {
      s.authorizationPolicies = s.authorizationPolicies.filter((a) => a.metadata.namespace !== 'echo');
      s.authorizationPolicies.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'only-x', namespace: 'echo' }, spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['x'] } }] }] } } as KubeObject);
    })));
    expect(found.map((f) => `${named(f)} ${f.severity}`)).toEqual(['authorization-policies eu AuthorizationPolicy/echo/only-x error']);
  });
  it('a hand-made ALLOW policy with rules is a warning; one in a namespace without spec services is no finding', async () => {
    const add = (namespace: string) => withFault('eu', (s) => s.authorizationPolicies.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'extra', namespace }, spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['x'] } }] }] } } as KubeObject));
    expect(problems(await doctor(add('echo'))).map((f) => `${f.check} ${f.severity}`)).toEqual(['authorization-policies warning']);
    expect(problems(await doctor(add('elsewhere')))).toEqual([]);
  });
  it('PERMISSIVE in a namespace without spec services is a warning; where they run an error', async () => {
    const add = (namespace: string) => withFault('eu', (s) => s.peerAuthentications.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'legacy', namespace }, spec: { mtls: { mode: 'PERMISSIVE' } } } as KubeObject));
    expect(problems(await doctor(add('elsewhere'))).map((f) => f.severity)).toEqual(['warning']);
    expect(problems(await doctor(add('echo'))).map((f) => f.severity)).toEqual(['error']);
  });
  it('an export in conflict is a warning naming it', async () => {
    const found = problems(await doctor(withFault('us', (s) => s.serviceExports.push({ apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceExport', metadata: { name: 'hello', namespace: 'shop' }, status: { conditions: [{ type: 'Valid', status: 'True' }, { type: 'Conflict', status: 'True', reason: 'PortConflict', message: 'ports differ from eu\'s' }] } } as KubeObject))));
    expect(found.map((f) => `${named(f)} ${f.severity}`)).toEqual(['service-exports us ServiceExport/shop/hello warning']);
  });
  it('an intermediate that expires within 30 days is a warning with the days left', async () => {
    const soon = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'doctor-soon-')), clusters: ['eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 10, organization: 'doctor' })).bundle;
    const found = problems(await doctor(withFault('eu', (s) => (s.gatewayProxy!.chainPem = soon.cacerts.get('eu')!['cert-chain.pem'])), { localRootPem: soon.rootCertPem! }));
    const expiring = found.filter((f) => f.check === 'proxy-certificates' && f.cluster === 'eu');
    expect(expiring.map((f) => `${named(f)} ${f.severity}`)).toEqual(['proxy-certificates eu Pod/istio-system/istio-eastwestgateway-abc warning']);
    expect(expiring[0]!.message).toMatch(/expires in (9|10) day/);
  });
  it('cacerts replaced by another root\'s while istiod runs on the old one: named as the switch its next restart makes', async () => {
    const other = otherCacerts.cacerts.get('eu')!;
    const found = problems(await doctor(withFault('eu', (s) => (s.cacerts = { present: true, rootCertPem: other['root-cert.pem'], caCertPem: other['ca-cert.pem'], certChainPem: other['cert-chain.pem'] }))));
    expect(found.map((f) => `${named(f)} ${f.severity}`)).toEqual(['cacerts eu Secret/istio-system/cacerts error']);
    expect(found[0]!.message).toMatch(/next restart switches eu to this root/);
  });
  it('reading cacerts keeps certificates only: the key file is never decoded, a key pasted into a certificate file is dropped', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    const ca = caCerts.get('us')!;
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, data: { 'ca-key.pem': b64(key), 'ca-cert.pem': b64(ca), 'cert-chain.pem': b64(`${chains.get('us')!}${key}`), 'root-cert.pem': b64(rootPem) } } as unknown as KubeObject;
    const read = await cacertsCertificates({ read: async () => secret });
    expect(JSON.stringify(read)).not.toMatch(/PRIVATE KEY|MIGHAgEAMBMG/);
    expect(read).toMatchObject({ present: true, caCertPem: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(await cacertsCertificates({ read: async () => undefined })).toEqual({ present: false });
  });
  it('a chain walked up to its root through every intermediate; DNS capture read as Go reads a bool', () => {
    expect(chainsToRoot(caCerts.get('us')!, [caCerts.get('us')!, rootPem], [rootPem])).toBe(true);
    expect(chainsToRoot(caCerts.get('us')!, [], [rootPem])).toBe(true);
    expect(chainsToRoot(otherCacerts.cacerts.get('eu')!['ca-cert.pem'], [rootPem], [rootPem])).toBe(false);
    for (const yes of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(goTrue(yes)).toBe(true);
    for (const no of [undefined, '', '0', 'false', 'yes', 'on']) expect(goTrue(no)).toBe(false);
  });
  it('cacerts: missing, an intermediate of another root beside this root, a chain not led by it, an intermediate expiring', async () => {
    const missing = problems(await doctor(withFault('us', (s) => (s.cacerts = { present: false }))));
    expect(missing.map((f) => `${named(f)} ${f.message}`)).toEqual([expect.stringMatching(/^cacerts us Secret\/istio-system\/cacerts no cacerts/)]);
    const foreignCa = otherCacerts.cacerts.get('eu')!['ca-cert.pem'];
    const unsigned = problems(await doctor(withFault('us', (s) => (s.cacerts!.caCertPem = foreignCa))));
    expect(unsigned.map((f) => `${named(f)} ${f.field}`)).toEqual(expect.arrayContaining(['cacerts us Secret/istio-system/cacerts data[ca-cert.pem]']));
    const chain = problems(await doctor(withFault('us', (s) => (s.cacerts!.certChainPem = rootPem))));
    expect(chain.map((f) => `${named(f)} ${f.field} ${f.severity}`)).toEqual(['cacerts us Secret/istio-system/cacerts data[cert-chain.pem] warning']);
    const soon = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'doctor-cacerts-soon-')), clusters: ['us'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 12, organization: 'doctor' })).bundle;
    const expiring = problems(await doctor(withFault('us', (s) => {
      s.rootCertPem = soon.rootCertPem!;
      s.cacerts = { present: true, rootCertPem: soon.rootCertPem!, caCertPem: soon.cacerts.get('us')!['ca-cert.pem'], certChainPem: soon.cacerts.get('us')!['cert-chain.pem'] };
    }), { localRootPem: soon.rootCertPem! }));
    expect(expiring.filter((f) => f.check === 'cacerts' && f.cluster === 'us').map((f) => `${f.severity} ${f.message}`)).toEqual([expect.stringMatching(/^warning the intermediate expires in 1[12] day/)]);
  });
  it('client proxies: one that cannot be read is a warning; the healthy mesh\'s proxies hold each remote name', async () => {
    expect(healthy.get('us')!.clientProxies![0]!.endpoints).toHaveProperty(['outbound|80||echo.eu.mesh.local']);
    const unread = problems(await doctor(withFault('us', (s) => (s.clientProxies = [{ namespace: 'echo', pod: 'client-abc', error: 'port-forward refused' }]))));
    expect(unread.map((f) => `${named(f)} ${f.severity}`)).toEqual(['remote-endpoints us Pod/echo/client-abc warning']);
  });
  it('cacerts is checked only when asked (--read-cacerts): doctor reads no Secret otherwise', async () => {
    const results = await doctor(withFault('us', (s) => (s.cacerts = { present: false })), { cacertsRead: false });
    expect(results.some((r) => r.id === 'cacerts')).toBe(false);
    expect(problems(results)).toEqual([]);
  });
  it('proxy certificates that cannot be read are a warning, not an error', async () => {
    const found = problems(await doctor(withFault('us', (s) => (s.gatewayProxy = { pod: 'gw', error: 'port-forward refused' }))));
    expect(found.map((f) => `${named(f)} ${f.severity}`)).toEqual(['proxy-certificates us Pod/istio-system/gw warning']);
  });
  it('istiod versions that differ: a warning with both versions', async () => {
    const found = problems(await doctor(withFault('eu', (s) => (s.istiod!.image = 'lab.eastwest.dev/istio/pilot:1.30.3'))));
    expect(found).toEqual([expect.objectContaining({ check: 'istio-version-skew', severity: 'warning' })]);
    expect(found[0]!.message).toContain('us 1.31-lab');
    expect(found[0]!.message).toContain('eu 1.30.3');
  });
  it('a cluster that cannot be read: its checks are unreachable (exit 3), the other is still diagnosed', async () => {
    const results = await doctor(withFault('eu', (s) => (s.gateway!.ready = 0)), {}, ['eu']);
    expect(results.filter((r) => r.cluster === 'eu').every((r) => r.status === 'unreachable')).toBe(true);
    expect(results.filter((r) => r.cluster === 'us').every((r) => r.status === 'passed')).toBe(true);
  });
});

describe('control-plane-revisions: a canary under way or left behind', () => {
  const plane = (name: string, revision: string) => ({ name, revision, ready: 1, desired: 1 });
  const proxy = (pod: string, istiodRevision: string) => ({ pod, namespace: 'echo', kind: 'sidecar', types: [], istiodRevision });

  it('the spec\'s revision alone, every proxy on it: nothing found; figures per revision', () => {
    expect(revisionFindings(undefined, [plane('istiod', 'default')], [proxy('echo-1', 'default')])).toEqual({ figures: { default: '1 proxies' }, findings: [] });
    expect(revisionFindings('1-31-0', [plane('istiod-1-31-0', '1-31-0')], [])).toEqual({ figures: { '1-31-0': '0 proxies' }, findings: [] });
  });

  it('another revision with proxies still on it: named with its Deployment and the proxies, the fix is restart then uninstall', () => {
    const out = revisionFindings('1-31-0', [plane('istiod', 'default'), plane('istiod-1-31-0', '1-31-0')], [proxy('echo-1', 'default'), proxy('client-1', 'default'), proxy('echo-2', '1-31-0')]);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]).toMatchObject({ object: { kind: 'Deployment', namespace: 'istio-system', name: 'istiod' }, message: expect.stringContaining('2 proxies still connect to it: echo/echo-1, echo/client-1') });
    expect(out.findings[0]!.hint).toMatch(/rollout restart.*scale deployment istiod --replicas=0.*then helm uninstall istiod -n istio-system/);
  });

  it('another revision nobody uses: it can go', () => {
    const out = revisionFindings(undefined, [plane('istiod', 'default'), plane('istiod-canary', 'canary')], [proxy('echo-1', 'default')]);
    expect(out.findings).toEqual([expect.objectContaining({ object: expect.objectContaining({ name: 'istiod-canary' }), message: expect.stringContaining('no proxy uses it'), hint: expect.stringMatching(/^stop it first \(kubectl -n istio-system scale deployment istiod-canary --replicas=0, .*\), then helm uninstall istiod-canary -n istio-system$/) })]);
  });

  it('the spec names a revision while the default one runs: the default one is named in every cluster', async () => {
    const revised = { ...spec, istio: { ...spec.istio, revision: '1-31-0' } };
    const results = await runChecks(DOCTOR_CHECKS, { ctx: { spec: revised, snapshots: structuredClone(healthy), localRootPem: rootPem, cacertsRead: true }, clusters: spec.clusters.map((c) => ({ name: c.name, reachable: true, why: 'timeout' })), deadlineSeconds: 5 });
    const found = problems(results).filter((f) => f.check === 'control-plane-revisions' || f.check === 'istiod-ready').map(named).sort();
    expect(found).toEqual(['control-plane-revisions eu Deployment/istio-system/istiod', 'control-plane-revisions us Deployment/istio-system/istiod']);
  });
});
