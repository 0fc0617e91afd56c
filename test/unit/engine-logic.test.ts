// The decision logic under apply, diff and prune, and the engine's input checks — pure functions,
// tested without a cluster.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { releaseUpToDate } from '../../src/apply/helm.ts';
import { EastwestError, InputError } from '../../src/core/errors.ts';
import { fanOut, mapLimit } from '../../src/core/fan-out.ts';
import { comparable, fieldDifferences } from '../../src/util/field-diff.ts';
import { selectClusters } from '../../src/engine/context.ts';
import { lastKnownAddress, pickGatewayAddress, serviceAddress } from '../../src/engine/gateway-addresses.ts';
import { ClusterError, clusterError } from '../../src/k8s/cluster-error.ts';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { classifyChange, maskedDifferences, maskValue, stageOf, subsetDifferences, undesired } from '../../src/k8s/resource-manager.ts';
import { labClusters, labPlan } from '../../src/lab/plan.ts';
import { integerFlag, labClustersFlag, parseClusterList, parseDuration, durationFlag } from '../../src/cli/flags.ts';
import type { HelmRelease } from '../../src/render/helm-releases.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { notText } from '../../src/spec/load-file.ts';

const root = join(import.meta.dirname, '../..');
const spec = decodeMeshSpec(readFileSync(join(root, 'examples/training-mesh.yaml'), 'utf8'), 'training-mesh.yaml').document.spec;
const obj = (kind: string, name: string, extra: Record<string, unknown> = {}, namespace = 'echo'): KubeObject => ({ apiVersion: kind === 'Secret' || kind === 'Namespace' ? 'v1' : 'networking.istio.io/v1', kind, metadata: { name, ...(kind === 'Namespace' ? {} : { namespace }) }, ...extra });

describe('field differences', () => {
  it('equal objects have none; leaves are named by path; lists are compared item by item', () => {
    expect(fieldDifferences({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toEqual([]);
    expect(fieldDifferences({ spec: { hosts: ['a', 'b'], port: 80 } }, { spec: { hosts: ['a', 'c'], port: 80 } })).toEqual([{ path: 'spec.hosts[1]', want: 'b', live: 'c' }]);
    expect(fieldDifferences({ a: [1, 2] }, { a: [1] })).toEqual([{ path: 'a', want: [1, 2], live: [1] }]);
    expect(fieldDifferences({ a: { x: 1 } }, { a: {} })).toEqual([{ path: 'a.x', want: 1, live: undefined }]);
  });
  it('bookkeeping is not compared', () => {
    const live = { apiVersion: 'v1', kind: 'X', metadata: { name: 'n', resourceVersion: '9', uid: 'u', generation: 3, managedFields: [{}], creationTimestamp: 't' }, status: { x: 1 }, spec: { a: 1 } };
    expect(comparable(live)).toEqual({ apiVersion: 'v1', kind: 'X', metadata: { name: 'n' }, spec: { a: 1 } });
  });
});

describe('change classification (resource manager)', () => {
  const desired = obj('ServiceEntry', 'echo-eu', { spec: { hosts: ['echo.eu.mesh.local'] } });
  it('absent live → created; same dry-run result → unchanged; otherwise configured with the fields', () => {
    expect(classifyChange(desired, undefined, undefined).action).toBe('created');
    expect(classifyChange(desired, desired, { ...desired, metadata: { ...desired.metadata, resourceVersion: '5' } as KubeObject['metadata'] }).action).toBe('unchanged');
    const changed = classifyChange(desired, desired, obj('ServiceEntry', 'echo-eu', { spec: { hosts: ['echo.us.mesh.local'] } }));
    expect(changed).toMatchObject({ action: 'configured', ref: 'ServiceEntry/echo/echo-eu', fields: [{ path: 'spec.hosts[0]', want: 'echo.eu.mesh.local', live: 'echo.us.mesh.local' }] });
  });
  it('a kind not served yet (no dry-run result) with a live object is configured, with a note', () => {
    expect(classifyChange(desired, undefined, desired)).toMatchObject({ action: 'configured', note: expect.stringMatching(/not served/) });
  });
  it('Secret values are masked (key names kept); other kinds are not', () => {
    const key = Buffer.from('-----BEGIN PRIVATE KEY-----\nsecret\n').toString('base64');
    const want = obj('Secret', 'cacerts', { data: { 'ca-key.pem': key, 'ca-cert.pem': 'Y2VydA==' } }, 'istio-system');
    const live = obj('Secret', 'cacerts', { data: { 'ca-key.pem': 'b3RoZXI=', 'ca-cert.pem': 'Y2VydA==' } }, 'istio-system');
    const { object: _object, ...change } = classifyChange(want, want, live); // the entry, as results carry it
    expect(change.fields!.map((f) => f.path)).toEqual(['data.ca-key.pem']);
    expect(JSON.stringify(change)).not.toContain(key);
    expect(JSON.stringify(change)).not.toContain('b3RoZXI=');
    expect(change.fields![0]!.want).toMatch(/^sha256:[0-9a-f]{12} \(\d+ bytes\)$/);
    const whole = maskedDifferences({ kind: 'Secret' }, [{ path: 'stringData', want: { eu: 'token-abc' }, live: undefined }]);
    expect(JSON.stringify(whole)).not.toContain('token-abc');
    expect(maskedDifferences({ kind: 'ConfigMap' }, [{ path: 'data.x', want: 'a', live: 'b' }])).toEqual([{ path: 'data.x', want: 'a', live: 'b' }]);
    expect(maskValue('a')).not.toBe(maskValue('b'));
    expect(maskValue(undefined)).toBeUndefined();
  });
  it('subset differences: only the fields eastwest sets count; extra live fields and defaults do not', () => {
    const want = { spec: { hosts: ['a'], ports: [{ number: 80 }] } };
    expect(subsetDifferences(want, { spec: { hosts: ['a'], ports: [{ number: 80 }], resolution: 'STATIC' }, status: {} })).toEqual([]);
    expect(subsetDifferences(want, { spec: { hosts: ['b'], ports: [{ number: 80 }] } })).toEqual([{ path: 'spec.hosts[0]', want: 'a', live: 'b' }]);
    expect(subsetDifferences(want, { spec: { hosts: ['a'] } })).toEqual([{ path: 'spec.ports', want: [{ number: 80 }], live: undefined }]);
    expect(subsetDifferences({ data: { k: 'v' } }, { data: 'x' })).toEqual([{ path: 'data', want: { k: 'v' }, live: 'x' }]);
  });
  it('undesired: owned objects not in the desired set (by kind, namespace, name)', () => {
    const owned = [obj('ServiceEntry', 'a'), obj('ServiceEntry', 'b'), obj('WorkloadEntry', 'a')];
    expect(undesired(owned, [obj('ServiceEntry', 'a')]).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ServiceEntry/b', 'WorkloadEntry/a']);
    expect(undesired(owned, owned)).toEqual([]);
    expect(undesired([obj('ServiceEntry', 'a', {}, 'other')], [obj('ServiceEntry', 'a')])).toHaveLength(1);
  });
  it('stages: namespaces, then secrets and accounts, then Istio configuration, then workloads', () => {
    expect(stageOf(obj('Namespace', 'echo'))).toBe('namespaces');
    expect(stageOf(obj('Secret', 'cacerts'))).toBe('secrets');
    expect(stageOf({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x' } })).toBe('secrets');
    expect(stageOf(obj('ServiceEntry', 'a'))).toBe('istio-config');
    expect(stageOf({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'd' } })).toBe('istio-config');
    expect(stageOf({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } })).toBe('workloads');
  });
});

describe('Helm release up to date', () => {
  const release = { release: 'istiod', namespace: 'istio-system', chart: { name: 'istiod', repo: 'r', version: '1' }, values: { b: 1, a: { x: true } } } as HelmRelease;
  it('same values in any key order and status deployed → up to date', () => {
    expect(releaseUpToDate({ status: 'deployed', values: { a: { x: true }, b: 1 }, chartVersion: '1' }, release)).toBe(true);
  });
  it('missing, failed, pending or different values → not', () => {
    expect(releaseUpToDate(undefined, release)).toBe(false);
    expect(releaseUpToDate({ status: 'failed', values: { a: { x: true }, b: 1 }, chartVersion: '1' }, release)).toBe(false);
    expect(releaseUpToDate({ status: 'pending-upgrade', values: { a: { x: true }, b: 1 }, chartVersion: '1' }, release)).toBe(false);
    expect(releaseUpToDate({ status: 'deployed', values: { a: { x: false }, b: 1 }, chartVersion: '1' }, release)).toBe(false);
  });
});

describe('gateway address picking (partition semantics)', () => {
  const us = spec.clusters.find((c) => c.name === 'us')!;
  const fixed = { ...us, eastWestGateway: { address: '203.0.113.7' } };
  it('the spec wins, then the live Service, then the last-known address, else unknown', () => {
    expect(pickGatewayAddress(fixed, '198.18.2.1', '198.18.2.9')).toEqual({ cluster: 'us', address: '203.0.113.7', source: 'spec' });
    expect(pickGatewayAddress(us, '198.18.2.1', '198.18.2.9')).toEqual({ cluster: 'us', address: '198.18.2.1', source: 'live' });
    expect(pickGatewayAddress(us, undefined, '198.18.2.9')).toEqual({ cluster: 'us', address: '198.18.2.9', source: 'last-known' });
    expect(pickGatewayAddress(us, undefined, undefined)).toEqual({ cluster: 'us', source: 'unknown' });
  });
  it('last-known: from ServiceEntry endpoints and WorkloadEntries labelled for that cluster; placeholders ignored; the majority wins', () => {
    const label = (c: string) => ({ 'eastwest.dev/gateway-of': c });
    const se = (c: string, address: string) => ({ ...obj('ServiceEntry', `echo-${c}`, { spec: { endpoints: [{ address }] } }), metadata: { name: `echo-${c}`, namespace: 'echo', labels: label(c) } });
    const we = (c: string, address: string, name = 'w') => ({ ...obj('WorkloadEntry', name, { spec: { address } }), metadata: { name, namespace: 'echo', labels: label(c) } });
    expect(lastKnownAddress('eu', [se('eu', '198.18.2.17'), we('us', '198.18.2.1')])).toBe('198.18.2.17');
    expect(lastKnownAddress('eu', [se('eu', 'pending-gateway-address.eu.invalid')])).toBeUndefined();
    expect(lastKnownAddress('eu', [se('eu', '10.0.0.1'), we('eu', '10.0.0.2', 'a'), we('eu', '10.0.0.2', 'b')])).toBe('10.0.0.2');
    expect(lastKnownAddress('eu', [])).toBeUndefined();
  });
  it('a Service address: LoadBalancer IP, else hostname, else externalIPs', () => {
    expect(serviceAddress({ status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } })).toBe('1.2.3.4');
    expect(serviceAddress({ status: { loadBalancer: { ingress: [{ hostname: 'gw.example.com' }] } } })).toBe('gw.example.com');
    expect(serviceAddress({ spec: { externalIPs: ['5.6.7.8'] } })).toBe('5.6.7.8');
    expect(serviceAddress(undefined)).toBeUndefined();
  });
});

describe('cluster selection and failure classification', () => {
  it('--clusters must name clusters of the spec (exit 2 with a suggestion)', () => {
    expect(selectClusters(spec, ['eu']).map((c) => c.name)).toEqual(['eu']);
    expect(selectClusters(spec, undefined).map((c) => c.name)).toEqual(spec.clusters.map((c) => c.name));
    try {
      selectClusters(spec, ['uss']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).exitCode).toBe(2);
      expect((error as InputError).problems[0]!.hint).toMatch(/did you mean "us"/);
    }
  });
  it('a deadline is a timeout, a refused connection is unreachable, 401/403 and others are API failures — all exit 3 with a hint', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError', type: 'aborted' });
    const timeout = clusterError('eu', abort, 10, 'list ServiceEntry') as ClusterError;
    expect(timeout).toMatchObject({ kind: 'timeout', exitCode: 3, unreachable: true, message: 'unreachable (timeout after 10 s) during list ServiceEntry' });
    const refused = clusterError('eu', Object.assign(new Error('request failed'), { cause: { code: 'ECONNREFUSED' } }), 10) as ClusterError;
    expect(refused).toMatchObject({ kind: 'unreachable', unreachable: true });
    expect((clusterError('eu', { code: 403, body: '{"message":"forbidden: no"}' }, 10) as ClusterError).kind).toBe('forbidden');
    expect((clusterError('eu', { code: 401 }, 10) as ClusterError).kind).toBe('unauthorized');
    const api = clusterError('eu', { code: 422, body: '{"message":"ServiceEntry is invalid"}', message: 'HTTP-Code: 422 …' }, 10) as ClusterError;
    expect(api).toMatchObject({ kind: 'api', unreachable: false, message: 'request failed (HTTP 422): ServiceEntry is invalid' });
    expect(api.hint).toBeTruthy();
    const ours = new EastwestError('x', 'mine');
    expect(clusterError('eu', ours, 10)).toBe(ours);
  });
  it('fanOut: one failing cluster is data, the others still have results', async () => {
    const out = await fanOut([{ name: 'us' }, { name: 'eu' }], 'diff', async (c) => {
      if (c.name === 'eu') throw Object.assign(new Error('x'), { name: 'AbortError' });
      return 42;
    }, (cluster, error) => clusterError(cluster, error, 5));
    expect(out).toEqual([{ cluster: 'us', ok: true, value: 42 }, { cluster: 'eu', ok: false, step: 'diff', error: 'unreachable (timeout after 5 s) during request', hint: expect.any(String), unreachable: true }]);
  });
  it('mapLimit keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});

describe('kubeconfig', () => {
  it('a broken kubeconfig is reported without quoting it (it may hold tokens and keys)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-kc-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken-value\n   bad: [indent\n');
    try {
      loadKubeConfig('x', file);
      expect.unreachable();
    } catch (error) {
      expect(EastwestError.is(error) && error.exitCode).toBe(2);
      expect((error as Error).message).not.toContain('s3cr3t');
      expect((error as Error).message).toMatch(/not valid YAML/);
    }
  });
  it('a missing context names the known ones, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-kc-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://198.18.0.10:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: lab-us, context: {cluster: c, user: u}}]\n');
    expect(() => loadKubeConfig('lab-eu', file)).toThrow(/context "lab-eu" is in no kubeconfig file read: .*kubeconfig \(--kubeconfig\) \(contexts there: lab-us\)/);
    expect(loadKubeConfig('lab-us', file, 3).requestTimeoutMs).toBe(3000);
  });
});

describe('lab plan', () => {
  it('addresses are all in 198.18.0.0/15 and distinct per cluster', () => {
    const plan = labPlan(labClusters(['us', 'eu', 'ap']));
    expect(plan.nodes.map((n) => n.nodeIp)).toEqual(['198.18.0.10', '198.18.0.11', '198.18.0.12']);
    expect(plan.nodes.map((n) => n.podCidr)).toEqual(['198.18.64.0/20', '198.18.80.0/20', '198.18.96.0/20']);
    expect(plan.nodes.map((n) => n.serviceCidr)).toEqual(['198.19.0.0/20', '198.19.16.0/20', '198.19.32.0/20']);
    expect(plan.nodes.map((n) => n.loadBalancerCidr)).toEqual(['198.18.2.0/28', '198.18.2.16/28', '198.18.2.32/28']);
    expect(plan.nodes[1]).toMatchObject({ region: 'eu', zone: 'eu-a', context: 'lab-eu', netns: 'eastwest-eu', hostVeth: 'ew-eu' });
    const eight = labPlan(labClusters(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']));
    for (const n of eight.nodes) for (const cidr of [n.podCidr, n.serviceCidr, n.loadBalancerCidr]) expect(cidr).toMatch(/^198\.1[89]\./);
    expect(new Set(eight.nodes.map((n) => n.podCidr)).size).toBe(8);
  });
  it('0, 9, duplicate or interface-colliding clusters are bad input (exit 2)', () => {
    for (const names of [[], ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'], ['us', 'us'], ['abcdefghijkl1', 'abcdefghijkl2']]) {
      try {
        labPlan(labClusters(names));
        expect.unreachable(names.join(','));
      } catch (error) {
        expect(EastwestError.is(error) && error.exitCode).toBe(2);
      }
    }
  });
});

describe('flag parsers', () => {
  it('durations: bare seconds and units', () => {
    expect(parseDuration('30')).toBe(30);
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('1.5m')).toBe(90);
    for (const bad of ['', 'abc', '-1', '1d', '1 s', 'NaN', '1e3']) expect(parseDuration(bad)).toBeUndefined();
    expect(() => durationFlag('--timeout', 1, 10)('20')).toThrow(InvalidArgumentError);
  });
  it('whole numbers in range', () => {
    expect(integerFlag('--requests', 1, 100)('42')).toBe(42);
    for (const bad of ['0', '101', 'abc', '1.5', '-3', '', '0x10']) expect(() => integerFlag('--requests', 1, 100)(bad)).toThrow(InvalidArgumentError);
  });
  it('cluster lists: no duplicates, no empty entries, at most 8 for the lab, valid names', () => {
    expect(parseClusterList('--clusters', 'us, eu')).toEqual(['us', 'eu']);
    expect(() => parseClusterList('--clusters', 'us,us')).toThrow(/twice/);
    expect(() => parseClusterList('--clusters', 'us,')).toThrow(/empty/);
    expect(() => labClustersFlag('a,b,c,d,e,f,g,h,i')).toThrow(/at most 8/);
    expect(() => labClustersFlag('Us')).toThrow(/not a valid cluster name/);
    expect(labClustersFlag('us,eu,ap')).toEqual(['us', 'eu', 'ap']);
  });
  it('spec files must be UTF-8 text without NUL bytes', () => {
    expect(notText(Buffer.from('meshID: x\n'))).toBeUndefined();
    expect(notText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00]))).toMatch(/NUL/);
    expect(notText(Buffer.from([0xff, 0xfe, 0x41]))).toMatch(/UTF-8/);
  });
});

describe('lab build progress', () => {
  it('numbers a part\'s messages [i/N] by the part named in their data, and leaves others alone', async () => {
    const { LAB_PARTS, numberedParts } = await import('../../src/lab/build/build-all.ts');
    const seen: string[] = [];
    const reporter = numberedParts({ report: (m) => seen.push(m.message) });
    reporter.report({ level: 'info', code: 'lab-build', message: 'building kubernetes …', data: { part: 'kubernetes' } });
    reporter.report({ level: 'info', code: 'lab-building', message: 'still building istio (1m00s)', data: { part: 'istio' } });
    reporter.report({ level: 'info', code: 'other', message: 'installing Debian packages' });
    expect(seen).toEqual([`[3/${LAB_PARTS.length}] building kubernetes …`, `[4/${LAB_PARTS.length}] still building istio (1m00s)`, 'installing Debian packages']);
  });
});
