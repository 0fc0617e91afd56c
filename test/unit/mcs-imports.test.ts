// The MCS API on a multi-network mesh, pure part: which exports serve a name (Valid, Conflict: the
// oldest export wins) and what each cluster gets for the clusterset host.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clustersetHost, clustersetIp, clustersetIps, importObjects, importScope, istioProtocol, parseExportTo, resolveExports, type ClusterExport } from '../../src/mcs/imports.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { exportFrom } from '../../src/controller/sync.ts';

const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
const us = spec.clusters.find((c) => c.name === 'us')!;
const eu = spec.clusters.find((c) => c.name === 'eu')!;
const http80 = [{ name: 'http', port: 80, protocol: 'HTTP' }];
const hello = (cluster: string, createdAt: string, ports = http80): ClusterExport => ({ cluster, namespace: 'shop', name: 'hello', createdAt, service: { ports, selector: { app: 'hello' } } });
const gateways = new Map([['us', '198.18.2.1'], ['eu', '198.18.2.17']]);

describe('resolving exports', () => {
  it('one export: valid, no conflict, served by its cluster', () => {
    const { imports, statuses } = resolveExports([hello('eu', '2026-11-25T10:00:00Z')]);
    expect(imports).toEqual([{ namespace: 'shop', name: 'hello', ports: http80, clusters: ['eu'], selectors: { eu: { app: 'hello' } }, targetPorts: { eu: {} } }]);
    expect(statuses[0]!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Valid=True', 'Conflict=False']);
  });
  it('no Service: Valid=False with the reason, nothing routed; other exports unaffected', () => {
    const { imports, statuses } = resolveExports([{ cluster: 'eu', namespace: 'shop', name: 'ghost', createdAt: '2026-11-25T10:00:00Z' }, hello('eu', '2026-11-25T10:00:00Z')]);
    expect(imports.map((i) => i.name)).toEqual(['hello']);
    const ghost = statuses.find((s) => s.name === 'ghost')!;
    expect(ghost.conditions).toEqual([{ type: 'Valid', status: 'False', reason: 'NoService', message: expect.stringContaining('no Service shop/ghost in cluster eu') }]);
  });
  it('ports that disagree: the oldest export wins, the newer one is in Conflict and not routed', () => {
    const { imports, statuses } = resolveExports([hello('us', '2026-11-25T11:00:00Z', [{ name: 'http', port: 8080, protocol: 'HTTP' }]), hello('eu', '2026-11-25T10:00:00Z')]);
    expect(imports[0]!.clusters).toEqual(['eu']);
    expect(statuses.find((s) => s.cluster === 'us')!.conditions[1]).toMatchObject({ type: 'Conflict', status: 'True', reason: 'PortConflict' });
    // The KEP: the condition on every export; the oldest one's ports are used and it is still routed.
    expect(statuses.find((s) => s.cluster === 'eu')!.conditions[1]).toMatchObject({ type: 'Conflict', status: 'True', message: expect.stringContaining('these (the oldest export\'s) are used') });
  });
  it('a Service without a selector is not Valid (its workloads cannot be selected)', () => {
    const { imports, statuses } = resolveExports([{ ...hello('eu', '2026-11-25T10:00:00Z'), service: { ports: http80, selector: {} } }]);
    expect(imports).toEqual([]);
    expect(statuses[0]!.conditions[0]).toMatchObject({ type: 'Valid', status: 'False', reason: 'NoSelector' });
  });
  it('each serving cluster selects its own pods; the numeric targetPort is kept', () => {
    const usHello = { ...hello('us', '2026-11-25T11:00:00Z'), service: { ports: [{ name: 'http', port: 80, protocol: 'HTTP', targetPort: 8080 }], selector: { app: 'hello-us' } } };
    const euHello = { ...hello('eu', '2026-11-25T10:00:00Z'), service: { ports: [{ name: 'http', port: 80, protocol: 'HTTP', targetPort: 8080 }], selector: { app: 'hello' } } };
    const { imports } = resolveExports([usHello, euHello]);
    const inUs = importObjects(spec, us, imports, gateways);
    const se = inUs.find((o) => o.kind === 'ServiceEntry') as any;
    expect(se.spec.workloadSelector.labels).toEqual({ app: 'hello-us' });
    expect(se.spec.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }]);
    expect((inUs.find((o) => o.kind === 'WorkloadEntry') as any).spec.labels.app).toBe('hello-us');
  });
  it('ports that agree in another order: both serve', () => {
    const two = [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'grpc', port: 90, protocol: 'GRPC' }];
    const { imports } = resolveExports([hello('us', '2026-11-25T11:00:00Z', two), hello('eu', '2026-11-25T10:00:00Z', [...two].reverse())]);
    expect(imports[0]!.clusters).toEqual(['eu', 'us']);
  });
  it("Istio protocols from Kubernetes port names and appProtocol", () => {
    expect(istioProtocol({ name: 'http' })).toBe('HTTP');
    expect(istioProtocol({ name: 'http-web' })).toBe('HTTP');
    expect(istioProtocol({ name: 'grpc-api' })).toBe('GRPC');
    expect(istioProtocol({ name: 'web', appProtocol: 'http2' })).toBe('HTTP2');
    expect(istioProtocol({ name: 'db' })).toBe('TCP');
    expect(istioProtocol({ name: 'dns', protocol: 'UDP' })).toBe('UDP');
  });
});

describe('objects per cluster', () => {
  const { imports } = resolveExports([hello('eu', '2026-11-25T10:00:00Z')]);
  it('an importing cluster gets the namespace, a ServiceEntry for the clusterset host, a WorkloadEntry per remote gateway in its network, locality failover, a ServiceImport', () => {
    const objects = importObjects(spec, us, imports, gateways);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/shop', 'ServiceEntry/hello-clusterset', 'WorkloadEntry/hello-clusterset-eu', 'DestinationRule/hello-clusterset', 'ServiceImport/hello']);
    const se = objects[1] as any;
    expect(se.spec).toMatchObject({ hosts: ['hello.shop.svc.clusterset.local'], resolution: 'STATIC', workloadSelector: { labels: { app: 'hello' } } });
    const we = objects[2] as any;
    expect(we.spec).toMatchObject({ address: '198.18.2.17', network: 'eu-net', locality: expect.stringMatching(/^eu/), ports: { http: 15443 }, labels: { app: 'hello', 'security.istio.io/tlsMode': 'istio' } });
    // One source: nothing to fail over to, so no outlier detection (ejecting the only gateway would leave "no healthy upstream").
    expect((objects[3] as any).spec.trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' }, loadBalancer: { simple: 'ROUND_ROBIN' } });
    expect(objects.every((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'eastwest-sync')).toBe(true);
  });
  it('the exporting cluster gets the clusterset host for its own pods (what its gateway routes on), and no WorkloadEntry to itself', () => {
    const objects = importObjects(spec, eu, imports, gateways);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/shop', 'ServiceEntry/hello-clusterset', 'DestinationRule/hello-clusterset', 'ServiceImport/hello']);
  });
  it('a remote gateway without a known address is left out; with no route at all, nothing is rendered', () => {
    expect(importObjects(spec, us, imports, new Map([['us', '198.18.2.1']]))).toEqual([]);
  });
  it('clusterset host names', () => {
    expect(clustersetHost({ name: 'hello', namespace: 'shop' })).toBe('hello.shop.svc.clusterset.local');
  });
});

describe('scoping: which namespaces receive an imported service', () => {
  const scopeOf = (objects: readonly { kind: string; spec?: unknown }[], kind: string) => (objects.find((o) => o.kind === kind) as { spec: { exportTo: string[] } }).spec.exportTo;
  it('by default every namespace, as in Kubernetes and the MCS API (ServiceEntry and DestinationRule alike)', () => {
    const { imports } = resolveExports([hello('eu', '2026-11-25T10:00:00Z')]);
    expect(spec.sync.exportTo).toEqual(['*']);
    expect('exportTo' in imports[0]!).toBe(false);
    const inUs = importObjects(spec, us, imports, gateways);
    expect(scopeOf(inUs, 'ServiceEntry')).toEqual(['*']);
    expect(scopeOf(inUs, 'DestinationRule')).toEqual(['*']);
  });
  it('the annotation replaces the spec\'s scope for that name; "." is its own namespace; the gateway\'s is always in', () => {
    const own = { ...hello('eu', '2026-11-25T10:00:00Z'), exportTo: parseExportTo('.') };
    expect(scopeOf(importObjects(spec, us, resolveExports([own]).imports, gateways), 'ServiceEntry')).toEqual(['.', 'istio-system']);
    const named = { ...hello('eu', '2026-11-25T10:00:00Z'), exportTo: parseExportTo('echo, web, shop') };
    const { imports } = resolveExports([named]);
    expect(imports[0]!.exportTo).toEqual(['echo', 'shop', 'web']);
    expect(scopeOf(importObjects(spec, us, imports, gateways), 'DestinationRule')).toEqual(['.', 'echo', 'istio-system', 'web']);
  });
  it('a spec that scopes every import (sync.exportTo) applies to exports without the annotation; an annotation still replaces it', () => {
    const scoped = { ...spec, sync: { ...spec.sync, exportTo: ['frontend'] } };
    expect(importScope(scoped, { namespace: 'shop' })).toEqual(['.', 'frontend', 'istio-system']);
    expect(importScope(scoped, { namespace: 'shop', exportTo: ['echo'] })).toEqual(['.', 'echo', 'istio-system']);
    expect(importScope(scoped, { namespace: 'shop', exportTo: ['*'] })).toEqual(['*']);
    expect(importScope({ ...spec, sync: { ...spec.sync, exportTo: ['.'] } }, { namespace: 'shop' })).toEqual(['.', 'istio-system']);
    expect(importScope({ ...spec, sync: { ...spec.sync, exportTo: [] } }, { namespace: 'shop' })).toEqual(['.', 'istio-system']);
  });
  it('exports that disagree on scope: the oldest export\'s is used, every one says Conflict (ExportToConflict), all keep serving', () => {
    const a = { ...hello('eu', '2026-11-25T10:00:00Z'), exportTo: parseExportTo('echo') };
    const b = hello('us', '2026-11-25T11:00:00Z');
    const { imports, statuses } = resolveExports([b, a]);
    expect(imports[0]!.clusters).toEqual(['eu', 'us']);
    expect(imports[0]!.exportTo).toEqual(['echo']);
    for (const cluster of ['eu', 'us']) {
      const conflict = statuses.find((x) => x.cluster === cluster)!.conditions.find((c) => c.type === 'Conflict')!;
      expect(conflict).toMatchObject({ status: 'True', reason: 'ExportToConflict' });
    }
    expect(statuses.find((x) => x.cluster === 'us')!.conditions.find((c) => c.type === 'Conflict')!.message).toMatch(/differs from the oldest export's \(cluster eu: echo\)/);
    // The same scope in other words (order, spaces, duplicates) is no conflict.
    const same = resolveExports([{ ...a, exportTo: parseExportTo('echo') }, { ...b, exportTo: parseExportTo(' echo,echo ') }]);
    expect(same.statuses.flatMap((x) => x.conditions.filter((c) => c.type === 'Conflict').map((c) => c.status))).toEqual(['False', 'False']);
    // Scopes that Istio applies alike are no conflict: "*,web" and "*"; "." and the namespace's own name; istio-system named or not.
    const alike = (x: string, y: string | undefined) => resolveExports([{ ...a, exportTo: parseExportTo(x) }, { ...b, ...(y === undefined ? {} : { exportTo: parseExportTo(y) }) }], ['*']).statuses.flatMap((st) => st.conditions.filter((c) => c.type === 'Conflict').map((c) => c.status));
    expect(alike('*,web', undefined)).toEqual(['False', 'False']);
    expect(alike('.', 'shop')).toEqual(['False', 'False']);
    expect(alike('echo', 'echo,istio-system')).toEqual(['False', 'False']);
    expect(alike('', '.')).toEqual(['False', 'False']);
    // An annotation that says what the spec's scope says is no conflict either.
    const spelled = resolveExports([{ ...a, exportTo: parseExportTo('*') }, b], ['*']);
    expect(spelled.statuses.flatMap((x) => x.conditions.filter((c) => c.type === 'Conflict').map((c) => c.status))).toEqual(['False', 'False']);
    expect(resolveExports([{ ...a, exportTo: parseExportTo('*') }, b], ['echo']).statuses[0]!.conditions.find((c) => c.type === 'Conflict')!.reason).toBe('ExportToConflict');
  });
  it('a port conflict outranks a scope conflict (the newer export with other ports is not served)', () => {
    const a = { ...hello('eu', '2026-11-25T10:00:00Z'), exportTo: parseExportTo('echo') };
    const b = hello('us', '2026-11-25T11:00:00Z', [{ name: 'http', port: 8080, protocol: 'HTTP' }]);
    const { imports, statuses } = resolveExports([a, b]);
    expect(imports[0]!.clusters).toEqual(['eu']);
    expect(statuses.find((x) => x.cluster === 'us')!.conditions.find((c) => c.type === 'Conflict')!.reason).toBe('PortConflict');
  });
  it('annotation parsing: absent, spaces, duplicates, "." and "*"', () => {
    expect(parseExportTo(undefined)).toBeUndefined();
    expect(parseExportTo(' b , a,b ')).toEqual(['a', 'b']);
    expect(parseExportTo('*')).toEqual(['*']);
    expect(parseExportTo('.')).toEqual(['.']);
    // Empty: its own namespace only (what an empty annotation meant before "." existed).
    expect(parseExportTo('')).toEqual(['.']);
    expect(parseExportTo(' ')).toEqual(['.']);
  });
  it('a bad annotation: Valid=False (InvalidExportTo) naming the bad entry, nothing routed; others unaffected', () => {
    for (const value of ['Shop', 'a,,b', 'a b', '-x', '..', 'x'.repeat(64)]) {
      const bad = { ...hello('eu', '2026-11-25T10:00:00Z'), exportTo: parseExportTo(value) };
      const other = { ...hello('eu', '2026-11-25T10:00:00Z'), name: 'other' };
      const { imports, statuses } = resolveExports([bad, other]);
      expect(imports.map((i) => i.name), value).toEqual(['other']);
      const condition = statuses.find((s) => s.name === 'hello')!.conditions[0]!;
      expect(condition).toMatchObject({ type: 'Valid', status: 'False', reason: 'InvalidExportTo' });
      expect(condition.message).toContain('eastwest.dev/export-to');
    }
  });
  it('a bad annotation on one of two exports: the other still serves', () => {
    const bad = { ...hello('us', '2026-11-25T09:00:00Z'), exportTo: parseExportTo('NOPE') };
    const { imports } = resolveExports([bad, hello('eu', '2026-11-25T10:00:00Z')]);
    expect(imports[0]!.clusters).toEqual(['eu']);
  });
});

describe('readiness: what the EndpointSlices say', () => {
  const withReady = (cluster: string, createdAt: string, readyEndpoints: number): ClusterExport => ({ ...hello(cluster, createdAt), readyEndpoints });
  const entries = (objects: readonly { kind: string; metadata: { name: string } }[]) => objects.filter((o) => o.kind === 'WorkloadEntry') as unknown as { metadata: { name: string }; spec: { weight?: number } }[];
  it('a remote cluster with no ready endpoint gets no WorkloadEntry; the name still resolves (ServiceEntry, ServiceImport)', () => {
    const { imports } = resolveExports([withReady('eu', '2026-11-25T10:00:00Z', 0)]);
    const inUs = importObjects(spec, us, imports, gateways);
    expect(entries(inUs)).toEqual([]);
    expect(inUs.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceEntry', 'DestinationRule', 'ServiceImport']));
  });
  it('remote WorkloadEntries are weighted by their ready endpoints', () => {
    const { imports } = resolveExports([withReady('eu', '2026-11-25T10:00:00Z', 3), withReady('us', '2026-11-25T11:00:00Z', 1)]);
    expect(imports[0]!.readyEndpoints).toEqual({ eu: 3, us: 1 });
    expect(entries(importObjects(spec, us, imports, gateways)).map((e) => e.spec.weight)).toEqual([3]);
    expect(entries(importObjects(spec, eu, imports, gateways)).map((e) => e.spec.weight)).toEqual([1]);
  });
  it('readiness not known (no EndpointSlice seen): routed, without a weight', () => {
    const { imports } = resolveExports([hello('eu', '2026-11-25T10:00:00Z')]);
    const [entry] = entries(importObjects(spec, us, imports, gateways));
    expect(entry!.spec.weight).toBeUndefined();
  });
  it('a cluster back from zero is routed again', () => {
    const none = resolveExports([withReady('eu', '2026-11-25T10:00:00Z', 0)]).imports;
    const back = resolveExports([withReady('eu', '2026-11-25T10:00:00Z', 2)]).imports;
    expect(entries(importObjects(spec, us, none, gateways))).toHaveLength(0);
    expect(entries(importObjects(spec, us, back, gateways))).toHaveLength(1);
  });
});

describe('what the controller reads from a cluster (exportFrom)', () => {
  /** The one export a cluster's caches hold, as the controller reads it. */
  const read = (w: { serviceExports: () => object[] }) => [exportFrom(w as never, w.serviceExports()[0] as never)];
  const watch = (service: object | undefined, endpoints: { ready: number | undefined; ports: Record<string, number> }, annotations: Record<string, string> = {}) => ({
    cluster: eu,
    serviceExports: () => [{ metadata: { namespace: 'shop', name: 'hello', creationTimestamp: '2026-11-25T10:00:00Z', annotations } }],
    service: () => service,
    endpoints: () => endpoints,
  });
  const svc = (targetPort: number | string) => ({ spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort }] } });
  it('a named targetPort is resolved from the EndpointSlices (the pods\' port behind that Service port)', () => {
    const [e] = read(watch(svc('web'), { ready: 1, ports: { http: 8080 } }));
    expect(e!.service!.ports).toEqual([{ name: 'http', port: 80, protocol: 'HTTP', targetPort: 8080 }]);
    expect(e!.readyEndpoints).toBe(1);
  });
  it('a named targetPort with no endpoint yet: left out (Istio matches the port by name)', () => {
    const [e] = read(watch(svc('web'), { ready: 0, ports: {} }));
    expect(e!.service!.ports[0]!.targetPort).toBeUndefined();
    expect(e!.readyEndpoints).toBe(0);
  });
  it('a numeric targetPort is kept as the Service says; readiness unknown stays unknown', () => {
    const [e] = read(watch(svc(9090), { ready: undefined, ports: { http: 1234 } }));
    expect(e!.service!.ports[0]!.targetPort).toBe(9090);
    expect('readyEndpoints' in e!).toBe(false);
  });
  it('no Service: the export is carried without one (Valid=False later); its annotation is parsed', () => {
    const [e] = read(watch(undefined, { ready: undefined, ports: {} }, { 'eastwest.dev/export-to': 'echo' }));
    expect(e!.service).toBeUndefined();
    expect(e!.exportTo).toEqual(['echo']);
  });
});

describe('target ports per cluster', () => {
  it('each serving cluster\'s ServiceEntry uses its own pods\' port; a cluster that does not serve sets none', () => {
    const port = (targetPort: number) => [{ name: 'http', port: 80, protocol: 'HTTP', targetPort }];
    const { imports } = resolveExports([hello('eu', '2026-11-25T10:00:00Z', port(8080)), hello('us', '2026-11-25T11:00:00Z', port(9090))]);
    const seIn = (cluster: typeof us, list = imports) => (importObjects(spec, cluster, list, gateways).find((o) => o.kind === 'ServiceEntry') as any).spec.ports[0];
    expect(seIn(us).targetPort).toBe(9090);
    expect(seIn(eu).targetPort).toBe(8080);
    const euOnly = resolveExports([hello('eu', '2026-11-25T10:00:00Z', port(8080))]).imports;
    expect(seIn(us, euOnly).targetPort).toBeUndefined();
  });
});

describe('routing to a cluster only once its gateway routes the name (its export Ready)', () => {
  const wes = (objects: readonly { kind: string }[]) => objects.filter((o) => o.kind === 'WorkloadEntry');
  const dr = (objects: readonly { kind: string }[]) => objects.find((o) => o.kind === 'DestinationRule') as any;
  it('not Ready yet and no other source: routed at once (a request fails either way until it learns), with no outlier detection to eject it', () => {
    const { imports } = resolveExports([{ ...hello('eu', '2026-11-25T10:00:00Z'), accepted: false }]);
    expect(imports[0]!.pending).toEqual(['eu']);
    const inUs = importObjects(spec, us, imports, gateways);
    expect(wes(inUs)).toHaveLength(1);
    expect(dr(inUs).spec.trafficPolicy.outlierDetection).toBeUndefined();
  });
  it('not Ready yet while served here too: no WorkloadEntry to its gateway (nothing is sent to a gateway that would reset it)', () => {
    const { imports } = resolveExports([{ ...hello('us', '2026-11-25T09:00:00Z'), accepted: true, readyEndpoints: 2 }, { ...hello('eu', '2026-11-25T10:00:00Z'), accepted: false, readyEndpoints: 1 }]);
    const inUs = importObjects(spec, us, imports, gateways);
    expect(wes(inUs)).toEqual([]);
    expect(dr(inUs).spec.trafficPolicy.outlierDetection).toBeUndefined();
  });
  it('Ready: routed beside the local pods, with locality failover and outlier detection (two sources)', () => {
    const { imports } = resolveExports([{ ...hello('us', '2026-11-25T09:00:00Z'), accepted: true, readyEndpoints: 2 }, { ...hello('eu', '2026-11-25T10:00:00Z'), accepted: true, readyEndpoints: 1 }]);
    expect(imports[0]!.pending).toBeUndefined();
    const inUs = importObjects(spec, us, imports, gateways);
    expect(wes(inUs)).toHaveLength(1);
    expect(dr(inUs).spec.trafficPolicy.outlierDetection).toMatchObject({ consecutive5xxErrors: 3, interval: '1s', baseEjectionTime: '2s' });
    expect(dr(inUs).spec.trafficPolicy.loadBalancer.localityLbSetting).toMatchObject({ enabled: true, failover: [{ from: 'eu', to: 'us' }, { from: 'us', to: 'eu' }] });
  });
  it('served here with no ready pod: the local pods are no source, so a remote one not Ready yet is routed', () => {
    const { imports } = resolveExports([{ ...hello('us', '2026-11-25T09:00:00Z'), accepted: true, readyEndpoints: 0 }, { ...hello('eu', '2026-11-25T10:00:00Z'), accepted: false, readyEndpoints: 1 }]);
    const inUs = importObjects(spec, us, imports, gateways);
    expect(wes(inUs)).toHaveLength(1);
    // Its only real source: no outlier detection that could eject it.
    expect(dr(inUs).spec.trafficPolicy.outlierDetection).toBeUndefined();
  });
  it('the exporting cluster itself serves its pods before its status is written', () => {
    const { imports } = resolveExports([{ ...hello('eu', '2026-11-25T10:00:00Z'), accepted: false }]);
    const inEu = importObjects(spec, eu, imports, gateways);
    expect((inEu.find((o) => o.kind === 'ServiceEntry') as any).spec.workloadSelector.labels).toEqual({ app: 'hello' });
  });
});

describe('clusterset IPs', () => {
  it('a stable class E address per name, outside Istio\'s auto-allocation range (240.240.0.0/16)', () => {
    const ip = clustersetIp('shop/hello');
    expect(clustersetIp('shop/hello')).toBe(ip);
    expect(clustersetIp('shop/other')).not.toBe(ip);
    for (let i = 0; i < 2000; i++) {
      const [a, b, c, d] = clustersetIp(`ns-${i}/svc-${i}`).split('.').map(Number) as [number, number, number, number];
      expect(a).toBeGreaterThanOrEqual(241);
      expect(a).toBeLessThanOrEqual(254);
      for (const octet of [b, c, d]) expect(octet >= 0 && octet <= 255).toBe(true);
    }
  });
  it('two names of one address: the one sorting first keeps it, the other gets none (Istio allocates), whatever the order they come in', () => {
    // These two hash to the same address.
    expect(clustersetIp('shop/svc-11747')).toBe(clustersetIp('shop/svc-5508'));
    for (const keys of [['shop/svc-5508', 'shop/svc-11747', 'shop/hello'], ['shop/hello', 'shop/svc-11747', 'shop/svc-5508']]) {
      const ips = clustersetIps(keys);
      expect(ips.get('shop/svc-11747')).toBe(clustersetIp('shop/svc-11747'));
      expect(ips.has('shop/svc-5508')).toBe(false);
      expect(ips.get('shop/hello')).toBe(clustersetIp('shop/hello'));
    }
  });
  it('the ServiceEntry carries the address (DNS answers as soon as istiod pushes it) and the ServiceImport lists it', () => {
    const { imports } = resolveExports([hello('eu', '2026-11-25T10:00:00Z')]);
    const ip = clustersetIp('shop/hello');
    const objects = importObjects(spec, us, imports, gateways, new Map([['shop/hello', ip]]));
    expect((objects.find((o) => o.kind === 'ServiceEntry') as any).spec.addresses).toEqual([ip]);
    expect((objects.find((o) => o.kind === 'ServiceImport') as any).spec.ips).toEqual([ip]);
    const without = importObjects(spec, us, imports, gateways);
    expect((without.find((o) => o.kind === 'ServiceEntry') as any).spec.addresses).toBeUndefined();
    expect((without.find((o) => o.kind === 'ServiceImport') as any).spec.ips).toBeUndefined();
  });
});
