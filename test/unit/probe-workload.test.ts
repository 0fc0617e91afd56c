// verify's own probes (pure render): a server and clients in namespace eastwest-verify, routed exactly as a
// spec service would be in each federation mode, every object under verify's label (which apply's prune
// selector never matches), and doctor finds nothing wrong with them in a healthy mesh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownedSelector } from '../../src/apply/prune.ts';
import { MANAGED_BY_LABEL, MESH_LABEL, VERIFY_MANAGED_BY } from '../../src/core/vocabulary.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { PROBE_NAMESPACE, probeMesh, probeObjects, probeSelector, probeService } from '../../src/verify/probe-workload.ts';
import { demoService } from '../../src/verify/verify-mesh.ts';

const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
const ADDRESSES = new Map([['us', '198.18.2.1'], ['eu', '198.18.2.17']]);
const cluster = (s: MeshSpec, name: string) => s.clusters.find((c) => c.name === name)!;
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const spec$ = <T>(o: KubeObject | undefined) => (o as unknown as { spec: T }).spec;
/** A selector `k=v,k2=v2` as a predicate on labels. */
const matches = (selector: string, labels: Record<string, string> = {}) => selector.split(',').every((term) => {
  const [k, v] = term.split('=');
  return v === undefined ? k! in labels : labels[k!] === v;
});

describe("verify's own probes", () => {
  const us = probeObjects(spec, cluster(spec, 'us'), ['us', 'eu'], ADDRESSES);

  it('a namespace with sidecar injection, the probe server and the clients (one without a sidecar)', () => {
    expect(us.objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: PROBE_NAMESPACE, labels: { 'istio-injection': 'enabled' } } });
    const deployments = us.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort();
    expect(deployments).toEqual(['client', 'client-plaintext', 'probe']);
    const plaintext = find(us.objects, 'Deployment', 'client-plaintext') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(plaintext.spec.template.metadata.annotations['sidecar.istio.io/inject']).toBe('false');
    expect(find(us.objects, 'Service', 'probe')).toMatchObject({ spec: { selector: { app: 'probe' }, ports: [{ port: 80 }] } });
    expect(us.pending).toEqual([]);
  });

  it("every object is verify's (of this mesh), in its namespace; apply's prune selector matches none, verify's every one", () => {
    for (const o of us.objects) {
      expect(o.metadata.labels?.[MANAGED_BY_LABEL], `${o.kind}/${o.metadata.name}`).toBe(VERIFY_MANAGED_BY);
      expect(o.metadata.labels?.[MESH_LABEL]).toBe(spec.meshID);
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(PROBE_NAMESPACE);
      expect(matches(ownedSelector(spec.meshID), o.metadata.labels)).toBe(false);
      expect(matches(probeSelector(spec), o.metadata.labels)).toBe(true);
    }
  });

  it('service-entry mode: the remote name through the other gateway on 15443, ISTIO_MUTUAL with the probe\'s SNI and identity', () => {
    const se = find(us.objects, 'ServiceEntry', 'probe-eu');
    expect(spec$<{ hosts: string[]; endpoints: { address: string; ports: Record<string, number> }[] }>(se)).toMatchObject({ hosts: ['probe.eu.mesh.local'], endpoints: [{ address: '198.18.2.17', ports: { http: 15443 } }] });
    const dr = find(us.objects, 'DestinationRule', 'probe-eu');
    expect(spec$<{ trafficPolicy: { tls: unknown } }>(dr).trafficPolicy.tls).toEqual({
      mode: 'ISTIO_MUTUAL',
      sni: 'outbound_.80_._.probe.eastwest-verify.svc.cluster.local',
      subjectAltNames: ['spiffe://corp.local/ns/eastwest-verify/sa/probe'],
    });
    expect(spec$<{ address: string; network: string }>(find(us.objects, 'WorkloadEntry', 'probe-via-eu'))).toMatchObject({ address: '198.18.2.17', network: 'eu-net' });
    expect(find(us.objects, 'ServiceEntry', 'probe-us')).toBeUndefined();
  });

  it('locality failover with outlier detection, and only the probe client allowed in', () => {
    const locality = spec$<{ host: string; trafficPolicy: { outlierDetection?: unknown; loadBalancer: { localityLbSetting: { enabled: boolean } } } }>(find(us.objects, 'DestinationRule', 'probe-locality'));
    expect(locality.host).toBe('probe.eastwest-verify.svc.cluster.local');
    expect(locality.trafficPolicy.outlierDetection).toBeDefined();
    expect(locality.trafficPolicy.loadBalancer.localityLbSetting.enabled).toBe(true);
    const allow = spec$<{ action: string; selector: unknown; rules: { from: { source: { principals: string[] } }[] }[] }>(find(us.objects, 'AuthorizationPolicy', 'probe-allow'));
    expect(allow.action).toBe('ALLOW');
    expect(allow.selector).toEqual({ matchLabels: { app: 'probe' } });
    expect(allow.rules.flatMap((r) => r.from.flatMap((f) => f.source.principals))).toEqual(['corp.local/ns/eastwest-verify/sa/client']);
  });

  it("the spec's own services, authorization rules and raw policy objects are not the probe's", () => {
    const mesh = probeMesh({ ...spec, policy: { ...spec.policy, objects: [{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'x', namespace: 'echo' }, spec: {} }] } }, ['us', 'eu']);
    expect(mesh.services.map((s) => `${s.namespace}/${s.name}`)).toEqual([`${PROBE_NAMESPACE}/probe`]);
    expect(mesh.policy.objects).toEqual([]);
    expect(mesh.policy.authorization.map((r) => r.service)).toEqual(['probe']);
    expect(us.objects.some((o) => o.metadata.namespace === 'echo')).toBe(false);
  });

  it('endpoint-discovery mode: no ServiceEntry or WorkloadEntry (istiod finds the other clusters\' probes), the same locality rule and policy', () => {
    const discovery: MeshSpec = { ...spec, federation: { ...spec.federation, mode: 'endpoint-discovery' } };
    const { objects } = probeObjects(discovery, cluster(discovery, 'us'), ['us', 'eu'], ADDRESSES);
    expect(objects.filter((o) => o.kind === 'ServiceEntry' || o.kind === 'WorkloadEntry')).toEqual([]);
    expect(find(objects, 'DestinationRule', 'probe-locality')).toBeDefined();
    expect(find(objects, 'AuthorizationPolicy', 'probe-allow')).toBeDefined();
  });

  it('only between the verified clusters: verifying us alone makes no route to eu and no failover', () => {
    const alone = probeObjects(spec, cluster(spec, 'us'), ['us'], ADDRESSES).objects;
    expect(alone.filter((o) => ['ServiceEntry', 'WorkloadEntry'].includes(o.kind))).toEqual([]);
    expect(find(alone, 'DestinationRule', 'probe-locality')).toBeUndefined();
    expect(find(alone, 'Deployment', 'probe')).toBeDefined();
    expect(probeService(['us']).clusters).toEqual(['us']);
  });

  it('a gateway whose address is not known: its routes pending, named by cluster', () => {
    const { objects, pending } = probeObjects(spec, cluster(spec, 'us'), ['us', 'eu'], new Map([['us', '198.18.2.1']]));
    expect(pending.map((p) => p.gatewayOf)).toEqual(['eu', 'eu']);
    expect(spec$<{ endpoints: { address: string }[] }>(find(objects, 'ServiceEntry', 'probe-eu')).endpoints[0]!.address).toMatch(/\.invalid$/);
  });

  it('a cluster that is not verified serves no probe', () => {
    const { objects } = probeObjects(spec, cluster(spec, 'eu'), ['us'], ADDRESSES);
    expect(find(objects, 'Deployment', 'probe')).toBeUndefined();
    expect(find(objects, 'Deployment', 'client')).toBeDefined();
  });

  it('verify uses the demo only where the spec has it on with echo exported; else its own probes', () => {
    expect(demoService(spec)?.name).toBe('echo');
    expect(demoService({ ...spec, demo: { ...spec.demo, enabled: false } })).toBeUndefined();
    expect(demoService({ ...spec, services: spec.services.filter((s) => s.name !== 'echo') })).toBeUndefined();
  });
});
