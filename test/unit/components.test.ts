// Components as data and the one planner under apply and diff (issue 14, item 2). apply writes
// planCluster's objects and prunes pruneSet(); diff reports the same objects' drift and the same prune
// set as "extra", so the two cannot disagree.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LiveInput, PeerAccess } from '../../src/components/component.ts';
import { planCluster, pruneSet, readersNeeded } from '../../src/components/plan.ts';
import { COMPONENTS, pruneKinds } from '../../src/components/registry.ts';
import { renderMesh } from '../../src/components/render-mesh.ts';
import { DOCTOR_CHECKS } from '../../src/doctor/checks.ts';
import { objectRef, type KubeObject } from '../../src/k8s/object.ts';
import { owned } from '../../src/k8s/ownership.ts';
import { ensurePki, type PkiBundle } from '../../src/pki/store.ts';
import type { RenderAddons, RenderInput } from '../../src/render/render-mesh.ts';
import { istioAddonObjects, istioDashboards } from '../../src/sources/upstream-sources.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { VERIFY_CHECK_IDS } from '../../src/verify/verify-mesh.ts';

const root = join(import.meta.dirname, '../..');
const specOf = (file: string): MeshSpec => decodeMeshSpec(readFileSync(join(root, 'examples', file), 'utf8'), file).document.spec;
const ADDRESSES = new Map([['us', '198.18.0.100'], ['eu', '198.18.0.101']]);
const access = (cluster: string): PeerAccess => ({ server: `https://198.18.0.${cluster === 'us' ? 10 : 20}:6443`, caData: 'Q0E=', token: `${cluster}-token` });
const known = (...clusters: string[]) => new Map(clusters.map((c) => [c, access(c)]));
const secret = (meshID: string, namespace: string, name: string): KubeObject => owned(meshID, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name } });

let pki: PkiBundle;
let addons: RenderAddons;
beforeAll(async () => {
  addons = { prometheus: await istioAddonObjects('prometheus'), kiali: await istioAddonObjects('kiali'), dashboards: await istioDashboards() };
  pki = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'components-')), clusters: ['us', 'eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'components' })).bundle;
});
const input = (spec: MeshSpec, extra: Partial<RenderInput> = {}): RenderInput => ({ spec, pki, addons, gatewayAddresses: ADDRESSES, ...extra });
const clusterOf = (spec: MeshSpec, name: string) => spec.clusters.find((c) => c.name === name)!;
/** What diff reads live: only the readers whose objects it compares by content. */
const diffLive = (spec: MeshSpec): LiveInput => ({ readers: Object.fromEntries([...readersNeeded(spec, { diff: 'content' })].map(([id]) => [id, known('us', 'eu')])), syncImage: 'img:1' });
/** What apply reads live: every reader, every peer answering. */
const applyLive = (spec: MeshSpec): LiveInput => ({ readers: Object.fromEntries([...readersNeeded(spec)].map(([id]) => [id, known('us', 'eu')])), syncImage: 'img:1' });
/** Everything the plan desires in a cluster, as the cluster would hold it after an apply. */
const applied = (plan: ReturnType<typeof planCluster>) => [...plan.preInstall, ...plan.postInstall];

describe('the planner: apply and diff prune the same objects', () => {
  it('a removed peer\'s remote secret is extra in diff and pruned by apply; a peer of the spec keeps its own in both', () => {
    const spec = specOf('lab-endpoint-discovery.yaml');
    const us = clusterOf(spec, 'us');
    const gone = secret(spec.meshID, 'istio-system', 'istio-remote-secret-ap');
    const eu = secret(spec.meshID, 'istio-system', 'istio-remote-secret-eu');
    const applyPlan = planCluster(input(spec), us, applyLive(spec));
    const liveObjects = [...applied(applyPlan), gone];
    const diffPlan = planCluster(input(spec), us, diffLive(spec));
    expect(pruneSet(diffPlan, [...liveObjects, eu]).map(objectRef)).toEqual([objectRef(gone)]);
    expect(pruneSet(applyPlan, liveObjects).map(objectRef)).toEqual([objectRef(gone)]);
    // apply writes eu's remote secret from its token; diff checks it by presence only.
    expect(applyPlan.postInstall.map(objectRef)).toContain(objectRef(eu));
    expect(diffPlan.postInstall.map(objectRef)).not.toContain(objectRef(eu));
    expect(diffPlan.presence).toEqual(expect.arrayContaining([objectRef(eu)]));
  });
  it('a peer whose token cannot be read now keeps its secret (apply leaves it, diff does not call it extra)', () => {
    const spec = specOf('lab-endpoint-discovery.yaml');
    const plan = planCluster(input(spec), clusterOf(spec, 'us'), { readers: { istio: new Map(), kiali: new Map() } });
    const eu = secret(spec.meshID, 'istio-system', 'istio-remote-secret-eu');
    expect(pruneSet(plan, [eu])).toEqual([]);
    expect(plan.leftAsIs).toEqual(expect.arrayContaining(['Istio\'s remote secrets']));
  });
  it('in service-entry mode no remote secret is desired or kept: a left-over one is pruned', () => {
    const spec = specOf('lab.yaml');
    const plan = planCluster(input(spec), clusterOf(spec, 'us'), applyLive(spec));
    const eu = secret(spec.meshID, 'istio-system', 'istio-remote-secret-eu');
    expect(pruneSet(plan, [eu]).map(objectRef)).toEqual([objectRef(eu)]);
    expect(readersNeeded(spec).has('istio')).toBe(false);
  });
  it('Kiali\'s peer Secrets follow the same rule, and are written before the releases', () => {
    const spec = specOf('lab.yaml');
    const us = clusterOf(spec, 'us');
    const euRef = 'Secret/istio-system/kiali-remote-cluster-eu';
    const apply = planCluster(input(spec), us, applyLive(spec));
    expect(apply.preInstall.map(objectRef)).toContain(euRef);
    const unknown = planCluster(input(spec), us, { readers: {} });
    expect(pruneSet(unknown, [secret(spec.meshID, 'istio-system', 'kiali-remote-cluster-eu'), secret(spec.meshID, 'istio-system', 'kiali-remote-cluster-ap')]).map(objectRef))
      .toEqual(['Secret/istio-system/kiali-remote-cluster-ap']);
    expect(readersNeeded(spec, { phase: 'pre-install' }).has('kiali')).toBe(true);
    expect(readersNeeded(spec, { phase: 'post-install' }).has('kiali')).toBe(false);
  });
  it('the sync controller\'s access and Deployment: written and waited for when every peer\'s token and the image are known, kept otherwise', () => {
    const spec = specOf('lab.yaml');
    const us = clusterOf(spec, 'us');
    const full = planCluster(input(spec), us, applyLive(spec));
    expect(full.postInstall.map(objectRef)).toEqual(expect.arrayContaining(['Secret/eastwest-system/eastwest-sync-access', 'Deployment/eastwest-system/eastwest-sync']));
    expect(full.waits).toContainEqual({ kind: 'Deployment', namespace: 'eastwest-system', name: 'eastwest-sync' });
    for (const live of [{ readers: { sync: known('us') }, syncImage: 'img:1' }, { readers: { sync: known('us', 'eu') } }] as LiveInput[]) {
      const plan = planCluster(input(spec), us, live);
      expect(plan.postInstall.map(objectRef)).not.toContain('Deployment/eastwest-system/eastwest-sync');
      expect(plan.waits.map((w) => w.name)).not.toContain('eastwest-sync');
      expect(pruneSet(plan, applied(full))).toEqual([]);
    }
    // diff compares them by content: it reads the sync reader's tokens (never creates them).
    expect([...readersNeeded(spec, { diff: 'content' }).keys()]).toEqual(['sync']);
  });
  it('cacerts without CA material and routes to a gateway of unknown address are kept, not pruned', () => {
    const spec = specOf('lab.yaml');
    const us = clusterOf(spec, 'us');
    const withCa = planCluster(input(spec), us, applyLive(spec));
    const noCa = planCluster(input(spec, { pki: { ...pki, cacerts: new Map() }, gatewayAddresses: new Map() }), us, applyLive(spec));
    expect(noCa.cacertsMissing).toBe(true);
    expect(noCa.pending.length).toBeGreaterThan(0);
    const pendingRefs = noCa.pending.map((p) => p.object);
    expect(noCa.postInstall.map(objectRef).filter((r) => pendingRefs.includes(r))).toEqual([]);
    expect(pruneSet(noCa, applied(withCa)).map(objectRef)).toEqual([]);
  });
  it('an object no component desires any more is pruned (the prune set is not empty by construction)', () => {
    const spec = specOf('lab.yaml');
    const plan = planCluster(input(spec), clusterOf(spec, 'us'), applyLive(spec));
    const stale = owned(spec.meshID, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { namespace: 'echo', name: 'old-eu' } });
    expect(pruneSet(plan, [...applied(plan), stale]).map(objectRef)).toEqual([objectRef(stale)]);
  });
  it('a component that derives an object it does not declare is refused (the keep rule depends on its refs)', () => {
    const spec = specOf('lab.yaml');
    const rogue = { ...COMPONENTS[0]!, derived: [{ what: 'x', reader: 'istio' as const, phase: 'post-install' as const, diff: 'presence' as const, refs: () => [], objects: () => [{ stage: 'secrets' as const, object: secret(spec.meshID, 'istio-system', 'x') }] }] };
    expect(() => planCluster(input(spec), clusterOf(spec, 'us'), applyLive(spec), [rogue])).toThrow(/does not declare/);
  });
});

describe('what is created where absent', () => {
  it('the MCS CRDs when they could be read; when not, only an in-cluster sync controller makes that fatal', () => {
    const lab = specOf('lab.yaml');
    const crd: KubeObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'serviceexports.multicluster.x-k8s.io' } };
    const withCrds = planCluster(input(lab, { addons: { ...addons, mcsCrds: [crd] } }), clusterOf(lab, 'us'), applyLive(lab));
    expect(withCrds.ensured.map((e) => e.ref)).toEqual(['CustomResourceDefinition/serviceexports.multicluster.x-k8s.io']);
    expect(withCrds.ensured[0]!.make!().metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'eastwest' });
    const failed = new Error('no Go');
    const fatal = planCluster(input(lab, { addons: { ...addons, mcsCrds: failed } }), clusterOf(lab, 'us'), applyLive(lab));
    expect(fatal.ensured.every((e) => e.unavailable?.fatal === true && e.make === undefined)).toBe(true);
    const ed = specOf('lab-endpoint-discovery.yaml');
    const soft = planCluster(input(ed, { addons: { ...addons, mcsCrds: failed } }), clusterOf(ed, 'us'), applyLive(ed));
    expect(soft.ensured.every((e) => e.unavailable?.fatal === false)).toBe(true);
  });
  it('Grafana\'s admin password on real clusters: made once with a fresh password, and never pruned', () => {
    const spec = specOf('training-mesh.yaml');
    const us = spec.clusters[0]!;
    const plan = planCluster(input(spec, { gatewayAddresses: new Map(spec.clusters.map((c, i) => [c.name, `198.18.1.${i + 1}`])) }), us, applyLive(spec));
    const grafana = plan.ensured.find((e) => e.ref.endsWith('/eastwest-grafana-admin'))!;
    const [a, b] = [grafana.make!(), grafana.make!()] as unknown as { stringData: Record<string, string> }[];
    expect(a!.stringData['admin-password']).not.toBe(b!.stringData['admin-password']);
    expect(pruneSet(plan, [grafana.make!()])).toEqual([]);
  });
});

describe('components as data', () => {
  const specs = ['lab.yaml', 'lab-endpoint-discovery.yaml', 'training-mesh.yaml'].map(specOf);
  it('every kind a component renders or derives (namespaces aside) is one it may prune: removing it from the spec removes it from the clusters', () => {
    const kinds = new Set(pruneKinds().map((k) => `${k.apiVersion}/${k.kind}`));
    for (const spec of specs) {
      for (const cluster of spec.clusters) {
        const plan = planCluster(input(spec, { gatewayAddresses: new Map(spec.clusters.map((c, i) => [c.name, `198.18.1.${i + 1}`])) }), cluster, applyLive(spec));
        const unprunable = applied(plan).filter((o) => o.kind !== 'Namespace' && !kinds.has(`${o.apiVersion}/${o.kind}`)).map(objectRef);
        expect(unprunable).toEqual([]);
      }
    }
  });
  it('the prune kinds are the union of the components\' (no namespace, no CRD)', () => {
    expect(pruneKinds().map((k) => k.kind)).not.toContain('Namespace');
    expect(pruneKinds().map((k) => k.kind)).not.toContain('CustomResourceDefinition');
    // The 15 kinds apply pruned before components existed (src/apply/prune.ts at b84aecb), no more, no fewer.
    expect(pruneKinds().map((k) => `${k.apiVersion}/${k.kind}`).sort()).toEqual([
      'apps/v1/Deployment', 'networking.istio.io/v1/DestinationRule', 'networking.istio.io/v1/Gateway', 'networking.istio.io/v1/ServiceEntry', 'networking.istio.io/v1/WorkloadEntry',
      'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
      'security.istio.io/v1/AuthorizationPolicy', 'security.istio.io/v1/PeerAuthentication',
      'v1/ConfigMap', 'v1/Secret', 'v1/Service', 'v1/ServiceAccount',
    ]);
  });
  it('each object is rendered by one component only once (the demo\'s namespace is also a service namespace)', () => {
    for (const r of renderMesh(input(specs[0]!))) {
      const refs = [...r.preInstall, ...r.postInstall].map((s) => objectRef(s.object));
      expect(refs.length).toBe(new Set(refs).size);
    }
  });
  it('releases install in component order: Istio, then the gateway, then observability', () => {
    const spec = specOf('training-mesh.yaml');
    expect(planCluster(input(spec), spec.clusters[0]!, applyLive(spec)).releases.map((r) => r.release)).toEqual(['istio-base', 'istiod', 'istio-eastwestgateway', 'kube-prometheus-stack', 'kiali']);
  });
  it('a disabled component renders nothing and waits for nothing (no demo, no sync controller)', () => {
    const spec = { ...specOf('lab.yaml'), demo: { ...specOf('lab.yaml').demo, enabled: false }, sync: { ...specOf('lab.yaml').sync, inCluster: false } };
    const plan = planCluster(input(spec), clusterOf(spec, 'us'), applyLive(spec));
    expect(applied(plan).filter((o) => o.metadata.namespace === 'eastwest-system' || (o.kind === 'Deployment' && o.metadata.namespace === 'echo'))).toEqual([]);
    expect(plan.waits.map((w) => w.name)).toEqual(['prometheus', 'kiali']);
    expect(readersNeeded(spec).has('sync')).toBe(false);
  });
  it('every check a component names exists (doctor or verify), and every doctor check belongs to a component', () => {
    const known = new Set([...DOCTOR_CHECKS.map((c) => c.id), ...VERIFY_CHECK_IDS]);
    const claimed = new Set(COMPONENTS.flatMap((c) => c.checks));
    expect([...claimed].filter((id) => !known.has(id))).toEqual([]);
    expect(DOCTOR_CHECKS.map((c) => c.id).filter((id) => !claimed.has(id))).toEqual([]);
  });
});
