import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CrdValidator } from '../../src/k8s/crd-validator.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { istioAddonObjects, istioCrdFile, istioDashboards } from '../../src/sources/upstream-sources.ts';
import { ensurePki, type PkiBundle } from '../../src/pki/store.ts';
import { renderedFiles, type OutputFile } from '../../src/render/output-files.ts';
import { type RenderAddons } from '../../src/render/render-mesh.ts';
import { renderMesh } from '../../src/components/render-mesh.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';

const root = join(import.meta.dirname, '../..');
const goldenDir = join(root, 'test/golden');
const specOf = (example: string): MeshSpec => decodeMeshSpec(readFileSync(join(root, 'examples', example), 'utf8'), example).document.spec;

let pki: PkiBundle;
/** Istio's addon manifests from the pinned module, as apply reads them (the lab's Prometheus). */
let addons: RenderAddons;
let rootKeyLine: string;
beforeAll(async () => {
  addons = { prometheus: await istioAddonObjects('prometheus'), kiali: await istioAddonObjects('kiali'), dashboards: await istioDashboards() };
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-render-pki-'));
  pki = (await ensurePki({ directory: dir, clusters: ['us', 'eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'training-mesh' })).bundle;
  rootKeyLine = readFileSync(join(dir, 'root-key.pem'), 'utf8').split('\n')[1]!;
});

const filesFor = (example: string, addresses?: Map<string, string>) => {
  const spec = specOf(example);
  return renderedFiles(spec.meshID, renderMesh({ addons, spec, pki, ...(addresses ? { gatewayAddresses: addresses } : {}) }));
};
const objectsIn = (files: Map<string, OutputFile>): KubeObject[] =>
  [...files.entries()].filter(([p]) => p.includes('/manifests/')).flatMap(([, f]) => parseAllDocuments(f.content).map((d) => d.toJS() as KubeObject));

/**
 * Objects made from upstream files (Istio's addons and dashboards) are not copied into the repository:
 * a golden holds their name, source and a hash of what eastwest rendered from them. Their shape is
 * tested against the real upstream files in observability.test.ts.
 */
function redactUpstream(content: string): string {
  return content
    .split(/^---\n/m)
    .map((doc) => {
      const source = /^ {4}eastwest\.dev\/upstream: (.+)$/m.exec(doc)?.[1];
      if (!source) return doc;
      const kind = /^kind: (.+)$/m.exec(doc)?.[1];
      const name = /^ {2}name: (.+)$/m.exec(doc)?.[1];
      return `# ${kind}/${name} rendered from ${source}: sha256 ${createHash('sha256').update(doc).digest('hex').slice(0, 16)}\n`;
    })
    .join('---\n');
}

/** Key material changes with every CA; goldens hold its place, not its bytes. */
function redactSecrets(content: string): string {
  return redactUpstream(content).replace(/^(\s+(?:ca-cert|ca-key|root-cert|cert-chain)\.pem: ).+$/gm, '$1<redacted>').replace(/(content-hash: )\w+(\n(?:.*\n){0,4}?.*name: cacerts)/g, '$1<redacted>$2');
}

describe.each([['training-mesh.yaml'], ['lab.yaml']])('render %s', (example) => {
  it('matches the golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
    const files = filesFor(example);
    const dir = join(goldenDir, example.replace(/\.yaml$/, ''));
    if (process.env.UPDATE_GOLDEN) {
      for (const [path, file] of files) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), redactSecrets(file.content));
      }
    }
    const listed = (d: string, prefix = ''): string[] =>
      readdirSync(join(d, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listed(d, join(prefix, e.name)) : [join(prefix, e.name)]));
    expect(listed(dir).sort()).toEqual([...files.keys()].sort());
    for (const [path, file] of files) expect(redactSecrets(file.content), path).toBe(readFileSync(join(dir, path), 'utf8'));
  });

  it('is deterministic: two renders are byte-identical', () => {
    const a = filesFor(example);
    const b = filesFor(example);
    expect([...a.entries()]).toEqual([...b.entries()]);
  });

  it('never puts the root key in any output; key files are 0600', () => {
    const files = filesFor(example);
    for (const [path, file] of files) {
      const decoded = file.content.replace(/[A-Za-z0-9+/=]{40,}/g, (b64) => Buffer.from(b64, 'base64').toString('utf8'));
      expect(decoded, path).not.toContain(rootKeyLine);
      if (decoded.includes('PRIVATE KEY')) expect(file.mode, path).toBe(0o600);
    }
  });

  it('every rendered Istio object passes the Istio CRD schemas', async () => {
    const validator = new CrdValidator(readFileSync(await istioCrdFile(), 'utf8'));
    const istioObjects = objectsIn(filesFor(example)).filter((o) => o.apiVersion.includes('istio.io'));
    expect(istioObjects.length).toBeGreaterThan(5);
    for (const object of istioObjects) expect(validator.validate(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
  });
});

describe('federation objects', () => {
  it('US gets a ServiceEntry + DestinationRule for echo.eu.mesh.local with the SNI the EU gateway routes on', () => {
    const objects = objectsIn(filesFor('training-mesh.yaml', new Map([['eu', '198.18.0.201']])));
    const us = objectsIn(new Map([...filesFor('training-mesh.yaml', new Map([['eu', '198.18.0.201']]))].filter(([p]) => p.startsWith('us/'))));
    const se = us.find((o) => o.kind === 'ServiceEntry' && o.metadata.name === 'echo-eu')! as any;
    expect(se.spec).toEqual({
      hosts: ['echo.eu.mesh.local'], location: 'MESH_INTERNAL', resolution: 'STATIC',
      ports: [{ name: 'http', number: 80, protocol: 'HTTP' }],
      endpoints: [{ address: '198.18.0.201', locality: 'eu', ports: { http: 15443 } }],
    });
    const dr = us.find((o) => o.kind === 'DestinationRule' && o.metadata.name === 'echo-eu')! as any;
    expect(dr.spec.trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL', sni: 'outbound_.80_._.echo.echo.svc.cluster.local', subjectAltNames: ['spiffe://corp.local/ns/echo/sa/echo'] });
    expect(objects.filter((o) => o.kind === 'ServiceEntry' && o.metadata.namespace === 'echo').map((o) => o.spec && (o.spec as any).hosts[0]).sort()).toEqual(['echo.eu.mesh.local', 'echo.us.mesh.local']);
  });

  it('an unknown gateway address is a marked placeholder that never resolves, and is reported', () => {
    const spec = specOf('training-mesh.yaml');
    const [eu, us] = renderMesh({ addons, spec, pki });
    // The spec's echo, and the other cluster's Prometheus (observability is on in this example).
    expect(us!.pending).toEqual([{ gatewayOf: 'eu', object: 'ServiceEntry/echo/echo-eu' }, { gatewayOf: 'eu', object: 'WorkloadEntry/echo/echo-via-eu' }, { gatewayOf: 'eu', object: 'ServiceEntry/observability/kube-prometheus-stack-prometheus-eu' }]);
    expect(eu!.pending).toEqual([{ gatewayOf: 'us', object: 'ServiceEntry/echo/echo-us' }, { gatewayOf: 'us', object: 'WorkloadEntry/echo/echo-via-us' }, { gatewayOf: 'us', object: 'ServiceEntry/observability/kube-prometheus-stack-prometheus-us' }]);
    expect(us!.postInstall.map((s) => s.object.kind)).not.toContain('WorkloadEntry');
    const se = us!.postInstall.find((s) => s.object.kind === 'ServiceEntry' && s.object.metadata.name === 'echo-eu')!.object as any;
    expect(se.spec.endpoints[0].address).toBe('pending-gateway-address.eu.invalid');
    expect(se.metadata.annotations['eastwest.dev/pending-gateway-address']).toBe('eu');
  });

  it('a fixed address in the spec is used as is', () => {
    const spec = specOf('training-mesh.yaml');
    spec.clusters[1]!.eastWestGateway.address = 'eu-gw.example.com';
    const us = renderMesh({ addons, spec, pki }).find((c) => c.cluster.name === 'us')!;
    const se = us.postInstall.find((s) => s.object.kind === 'ServiceEntry' && s.object.metadata.name === 'echo-eu')!.object as any;
    expect(se.spec).toMatchObject({ resolution: 'DNS', endpoints: [{ address: 'eu-gw.example.com' }] });
    // A WorkloadEntry selected by a Kubernetes Service needs an IP: it waits for apply to resolve one.
    expect(us.pending).toEqual([{ gatewayOf: 'eu', object: 'WorkloadEntry/echo/echo-via-eu', reason: expect.stringMatching(/has a host name \(eu-gw.example.com\); failover WorkloadEntries need an IP address/) }]);
  });

  it('service-entry mode: failover WorkloadEntries point at the other region\'s gateway with its locality and the service identity', () => {
    const us = renderMesh({ addons, spec: specOf('training-mesh.yaml'), pki, gatewayAddresses: new Map([['eu', '198.18.2.17'], ['us', '198.18.2.1']]) }).find((c) => c.cluster.name === 'us')!;
    expect(us.pending).toEqual([]);
    const we = us.postInstall.find((s) => s.object.kind === 'WorkloadEntry')!.object as any;
    expect(we.metadata.name).toBe('echo-via-eu');
    // In the remote network: hidden from every east-west gateway's network view (no gateway loops).
    expect(we.metadata.labels['eastwest.dev/gateway-of']).toBe('eu');
    expect(we.spec).toEqual({
      address: '198.18.2.17', locality: 'eu', network: 'eu-net', ports: { http: 15443 }, serviceAccount: 'echo',
      labels: { app: 'echo', 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/cluster': 'eu' },
    });
  });

  it('endpoint-discovery mode renders no ServiceEntries for the spec\'s services (only each other cluster\'s Prometheus, which stays cluster-local)', () => {
    const spec = specOf('training-mesh.yaml');
    spec.federation.mode = 'endpoint-discovery';
    for (const c of renderMesh({ addons, spec, pki })) {
      const entries = c.postInstall.filter((s) => s.object.kind === 'ServiceEntry').map((s) => (s.object.spec as any).hosts[0]);
      expect(entries).toEqual([`kube-prometheus-stack-prometheus.${c.cluster.name === 'us' ? 'eu' : 'us'}.mesh.local`]);
    }
  });

  it('services in several clusters get locality failover with outlier detection', () => {
    const us = renderMesh({ addons, spec: specOf('training-mesh.yaml'), pki }).find((c) => c.cluster.name === 'us')!;
    const dr = us.postInstall.find((s) => s.object.metadata.name === 'echo-locality')!.object as any;
    expect(dr.spec.host).toBe('echo.echo.svc.cluster.local');
    expect(dr.spec.trafficPolicy.loadBalancer.localityLbSetting).toEqual({ enabled: true, failover: [{ from: 'eu', to: 'us' }, { from: 'us', to: 'eu' }] });
    expect(dr.spec.trafficPolicy.outlierDetection.consecutive5xxErrors).toBeGreaterThan(0);
  });
});

describe('helm values', () => {
  it("istiod gets meshID, clusterName, network and meshConfig.trustDomain — never the guide's errata", () => {
    const [, us] = renderMesh({ addons, spec: specOf('training-mesh.yaml'), pki });
    const istiod = us!.releases.find((r) => r.release === 'istiod')!;
    expect(istiod.values).toMatchObject({ global: { meshID: 'training-mesh', multiCluster: { clusterName: 'us' }, network: 'us-net' }, meshConfig: { trustDomain: 'corp.local' } });
    const text = JSON.stringify(us!.releases);
    expect(text).not.toContain('PILOT_ENABLE_MULTINETWORK');
    expect(text).not.toContain('"trustDomain":"corp.local","network"'); // not under global
    expect((istiod.values.global as Record<string, unknown>).trustDomain).toBeUndefined();
    expect(JSON.stringify(istiod.values)).not.toContain('PILOT_ENABLE_ALPN_FILTER'); // stock Istio off the lab
    const gateway = us!.releases.find((r) => r.release === 'istio-eastwestgateway')!;
    expect(gateway.values).toMatchObject({ name: 'istio-eastwestgateway', networkGateway: 'us-net', labels: { istio: 'eastwestgateway' }, service: { type: 'LoadBalancer' } });
    expect(gateway.chart).toEqual({ name: 'gateway', repo: 'https://istio-release.storage.googleapis.com/charts', version: '1.31.0' });
  });
  it('the lab profile switches off the Istio-only Envoy extensions', () => {
    const [, us] = renderMesh({ addons, spec: specOf('lab.yaml'), pki });
    const istiod = us!.releases.find((r) => r.release === 'istiod')!;
    expect(istiod.values).toMatchObject({ env: { PILOT_ENABLE_METADATA_EXCHANGE: 'false', PILOT_ENABLE_ALPN_FILTER: 'false' }, telemetry: { enabled: false } });
    // Real clusters (profile standard) keep Istio's defaults.
    const [, standard] = renderMesh({ addons, spec: specOf('training-mesh.yaml'), pki });
    const real = standard!.releases.find((r) => r.release === 'istiod')!.values as { env?: Record<string, string>; telemetry?: { enabled?: boolean } };
    expect(real.env?.PILOT_ENABLE_METADATA_EXCHANGE).toBeUndefined();
    expect(real.env?.PILOT_ENABLE_ALPN_FILTER).toBeUndefined();
    expect(real.telemetry?.enabled).not.toBe(false);
  });
});

describe('policy pass-through', () => {
  it('raw security objects reach every cluster unchanged, with the same content hash, and are checked against the CRD schemas', async () => {
    const text = readFileSync(join(root, 'examples/training-mesh.yaml'), 'utf8').replace(
      '  observability:',
      '    objects:\n      - apiVersion: security.istio.io/v1\n        kind: AuthorizationPolicy\n        metadata: {name: deny-legacy, namespace: echo}\n        spec: {action: DENY, rules: [{from: [{source: {namespaces: [legacy]}}]}]}\n  observability:',
    );
    const spec = decodeMeshSpec(text, 'x.yaml').document.spec;
    const rendered = renderMesh({ addons, spec, pki });
    const found = rendered.map((c) => c.postInstall.find((s) => s.object.metadata.name === 'deny-legacy')!.object);
    expect(found).toHaveLength(2);
    expect(found[0]!.spec).toEqual({ action: 'DENY', rules: [{ from: [{ source: { namespaces: ['legacy'] } }] }] });
    expect(found[0]!.metadata.annotations!['eastwest.dev/content-hash']).toBe(found[1]!.metadata.annotations!['eastwest.dev/content-hash']);
    const validator = new CrdValidator(readFileSync(await istioCrdFile(), 'utf8'));
    expect(validator.validate(found[0]!)).toEqual([]);
    const broken = { ...found[0]!, spec: { action: 'DENY', rulez: [] } };
    expect(validator.validate(broken)!.map((v) => v.message).join()).toContain('additional properties');
  });
});
