// The CA as team state (issue 18): which root the mesh keeps and where each cluster's intermediate
// comes from, for every combination of local CA directory and live cacerts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, istioCacerts, type CaMaterial, type IstioCacerts } from '../../src/pki/ca.ts';
import { fingerprint, keyMatches, planCa, rootFingerprint, type LiveCacerts, type LocalCa } from '../../src/pki/trust-plan.ts';
import { decodeCacerts } from '../../src/engine/mesh-ca.ts';

const DIR = '/team/.eastwest/pki';
let rootA: CaMaterial;
let rootB: CaMaterial;
const inter: Record<string, CaMaterial> = {};

const issue = (root: CaMaterial, cluster: string, now?: Date) =>
  createIntermediateCa(root, 'ECDSA-P256', { keyAlgorithm: 'ECDSA-P256', validityDays: 365, organization: 'training-mesh', cluster, ...(now ? { now } : {}) });

beforeAll(async () => {
  rootA = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'training-mesh' });
  rootB = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'training-mesh' });
  const earlier = new Date(Date.now() - 86_400_000);
  inter.usOld = await issue(rootA, 'us', earlier);
  inter.euOld = await issue(rootA, 'eu', earlier);
  inter.usNew = await issue(rootA, 'us');
  inter.usOfB = await issue(rootB, 'us');
  inter.euOfB = await issue(rootB, 'eu');
});

const local = (root: CaMaterial | undefined, intermediates: Record<string, CaMaterial> = {}, withKey = true): LocalCa => ({
  directory: DIR,
  ...(root ? { rootCertPem: root.certPem, ...(withKey ? { rootKeyPem: root.keyPem } : {}) } : {}),
  intermediates: new Map(Object.entries(intermediates)),
});
const live = (entries: Record<string, LiveCacerts>) => new Map(Object.entries(entries));
const cacerts = (i: CaMaterial, root: CaMaterial): IstioCacerts => istioCacerts(i, root.certPem);
const sources = (plan: ReturnType<typeof planCa>) => Object.fromEntries(plan.clusters.map((c) => [c.cluster, c.source]));
const both = ['us', 'eu'];

describe('planCa: a mesh with no root yet', () => {
  it('no local CA, no live root: a root is created and every intermediate issued (the first apply)', () => {
    const plan = planCa({ selected: both, local: undefined, live: live({ us: undefined, eu: undefined }) });
    expect(plan.problems).toEqual([]);
    expect(plan.root.source).toBe('create');
    expect(sources(plan)).toEqual({ eu: 'issue', us: 'issue' });
  });

  it('a local CA (made by ca init), no live root: its root and intermediates are used, missing intermediates issued', () => {
    const plan = planCa({ selected: both, local: local(rootA, { us: inter.usNew! }), live: live({ us: undefined, eu: undefined }) });
    expect(plan.problems).toEqual([]);
    expect(plan.root).toMatchObject({ source: 'local', fingerprint: fingerprint(rootA.certPem) });
    expect(sources(plan)).toEqual({ eu: 'issue', us: 'local' });
  });

  it('a local root without its key cannot issue: a problem naming the cluster and the missing root key', () => {
    const plan = planCa({ selected: both, local: local(rootA, { us: inter.usNew! }, false), live: live({ us: undefined, eu: undefined }) });
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]!.message).toMatch(/eu needs a new intermediate.*root key.*not in \/team\/\.eastwest\/pki/);
    expect(plan.problems[0]!.hint).toMatch(/root-key\.pem/);
    // One cluster's problem says whose it is (diff shows it as that cluster's drift instead of refusing).
    expect(plan.problems[0]!.cluster).toBe('eu');
  });
});

describe('planCa: a running mesh and a clone without the CA (a teammate, a CI runner)', () => {
  it('every cluster keeps its live cacerts; nothing is issued or needed', () => {
    const plan = planCa({ selected: both, local: undefined, live: live({ us: cacerts(inter.usOld!, rootA), eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.problems).toEqual([]);
    expect(plan.root).toMatchObject({ source: 'live', fingerprint: fingerprint(rootA.certPem) });
    expect(sources(plan)).toEqual({ eu: 'live', us: 'live' });
    const us = plan.clusters.find((c) => c.cluster === 'us')!;
    expect(us.source === 'live' && us.cacerts['ca-cert.pem']).toBe(cacerts(inter.usOld!, rootA)['ca-cert.pem']);
  });

  it('a new cluster without cacerts needs the root key, which the clone lacks: a problem, not a new root', () => {
    const plan = planCa({ selected: ['us', 'ap'], local: undefined, live: live({ us: cacerts(inter.usOld!, rootA), ap: undefined }) });
    expect(plan.root.source).toBe('live');
    expect(plan.problems.map((p) => p.path)).toEqual(['CA intermediate of ap']);
    expect(plan.problems[0]!.message).toMatch(/ap needs a new intermediate \(it has no cacerts yet\)/);
  });

  it('incomplete live cacerts (a key missing) count as none', () => {
    const { 'ca-key.pem': _k, ...partial } = cacerts(inter.usOld!, rootA);
    const plan = planCa({ selected: ['us'], local: local(rootA), live: live({ us: partial, eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.problems).toEqual([]);
    expect(sources(plan)).toEqual({ us: 'issue' });
  });

  it('peers are compared but not planned; an unreachable peer (absent) is not compared', () => {
    const plan = planCa({ selected: ['us'], local: undefined, live: live({ us: cacerts(inter.usOld!, rootA) }) });
    expect(plan.problems).toEqual([]);
    expect(sources(plan)).toEqual({ us: 'live' });
  });
});

describe('planCa: a local root that is not the mesh\'s', () => {
  it('is refused with both fingerprints and the fix (the silent root swap of issue 18)', () => {
    const plan = planCa({ selected: both, local: local(rootB, { us: inter.usOfB!, eu: inter.euOfB! }), live: live({ us: cacerts(inter.usOld!, rootA), eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.problems).toHaveLength(1);
    const [problem] = plan.problems;
    expect(problem!.message).toContain(fingerprint(rootB.certPem));
    expect(problem!.message).toContain(fingerprint(rootA.certPem));
    expect(problem!.message).toContain('eu, us: ');
    expect(problem!.hint).toMatch(/team's CA directory/);
  });

  it('is refused even when only a peer (not selected) trusts the mesh root', () => {
    const plan = planCa({ selected: ['us'], local: local(rootB), live: live({ us: undefined, eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.problems.map((p) => p.path)).toEqual(['CA root']);
  });

  it('clusters that disagree with no local CA to decide: refused, each root named', () => {
    const plan = planCa({ selected: both, local: undefined, live: live({ us: cacerts(inter.usOld!, rootA), eu: cacerts(inter.euOfB!, rootB) }) });
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]!.message).toContain(`eu: ${fingerprint(rootB.certPem)}`);
    expect(plan.problems[0]!.message).toContain(`us: ${fingerprint(rootA.certPem)}`);
    expect(plan.problems[0]!.cluster, 'a root that is not the mesh\'s is no one cluster\'s problem').toBeUndefined();
  });
});

describe('planCa: intermediates of the same root', () => {
  it('the same intermediate locally and live: live, no warning', () => {
    const plan = planCa({ selected: both, local: local(rootA, { us: inter.usOld!, eu: inter.euOld! }), live: live({ us: cacerts(inter.usOld!, rootA), eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan).toMatchObject({ problems: [], warnings: [] });
    expect(sources(plan)).toEqual({ eu: 'live', us: 'live' });
  });

  it('a newer local intermediate (ca init --rotate intermediates) replaces the older live one', () => {
    const plan = planCa({ selected: ['us'], local: local(rootA, { us: inter.usNew! }), live: live({ us: cacerts(inter.usOld!, rootA) }) });
    expect(plan.clusters).toEqual([{ cluster: 'us', source: 'local', intermediate: inter.usNew, replaces: 'older-live' }]);
  });

  it('an older local intermediate (a stale copy of the CA directory) never rolls a cluster back', () => {
    const plan = planCa({ selected: ['us'], local: local(rootA, { us: inter.usOld! }), live: live({ us: cacerts(inter.usNew!, rootA) }) });
    expect(sources(plan)).toEqual({ us: 'live' });
    expect(plan.warnings.join()).toMatch(/older than the one the cluster holds/);
  });

  it('a local intermediate of another root is not used (warned), the live one is kept', () => {
    const plan = planCa({ selected: ['us'], local: { directory: DIR, intermediates: new Map([['us', inter.usOfB!]]) }, live: live({ us: cacerts(inter.usOld!, rootA) }) });
    expect(plan.problems).toEqual([]);
    expect(sources(plan)).toEqual({ us: 'live' });
    expect(plan.warnings.join()).toMatch(/us: the local intermediate .* not signed by the mesh's root/);
  });

  it('an expired live intermediate is replaced by issuing one from the local root', async () => {
    const expired = await createIntermediateCa(rootA, 'ECDSA-P256', { keyAlgorithm: 'ECDSA-P256', validityDays: 1, organization: 'm', cluster: 'us', now: new Date(Date.now() - 3 * 86_400_000) });
    const plan = planCa({ selected: ['us'], local: local(rootA), live: live({ us: cacerts(expired, rootA) }) });
    expect(plan.clusters[0]).toMatchObject({ cluster: 'us', source: 'issue' });
  });
});

describe('planCa: a key that is not its certificate\'s', () => {
  it('hand-edited live cacerts (another key) are broken: replaced by the local intermediate', () => {
    const tampered = { ...cacerts(inter.usOld!, rootA), 'ca-key.pem': inter.euOld!.keyPem };
    const plan = planCa({ selected: ['us'], local: local(rootA, { us: inter.usOld! }), live: live({ us: tampered }) });
    expect(plan.clusters).toEqual([{ cluster: 'us', source: 'local', intermediate: inter.usOld, replaces: 'invalid-live' }]);
  });
  it('without a local CA they need a new intermediate (the root key), never kept as they are', () => {
    const tampered = { ...cacerts(inter.usOld!, rootA), 'ca-key.pem': '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n' };
    const plan = planCa({ selected: ['us'], local: undefined, live: live({ us: tampered, eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.problems.map((p) => p.path)).toEqual(['CA intermediate of us']);
  });
  it('keyMatches: the pair, another key, garbage', () => {
    expect(keyMatches(inter.usOld!.certPem, inter.usOld!.keyPem)).toBe(true);
    expect(keyMatches(inter.usOld!.certPem, inter.euOld!.keyPem)).toBe(false);
    expect(keyMatches(inter.usOld!.certPem, 'garbage')).toBe(false);
  });
});

describe('planCa: clusters that could not be read', () => {
  it('no root is made up while a cluster that may hold the mesh\'s did not answer (no local CA)', () => {
    const plan = planCa({ selected: ['ap'], local: undefined, live: live({ ap: undefined }), unread: ['us', 'eu'] });
    expect(plan.undecided).toMatch(/eu, us could not be read/);
    expect(plan.clusters).toEqual([]);
  });

  it('a local root no answering cluster holds is not taken for the mesh\'s while others are unread', () => {
    const plan = planCa({ selected: ['ap'], local: local(rootB), live: live({ ap: undefined }), unread: ['us'] });
    expect(plan.undecided).toMatch(/cannot be told whether the local root is the mesh's/);
  });

  it('a local root an answering cluster holds is enough, whoever else is unread (a regional outage)', () => {
    const plan = planCa({ selected: ['us'], local: local(rootA), live: live({ us: cacerts(inter.usOld!, rootA) }), unread: ['eu'] });
    expect(plan.undecided).toBeUndefined();
    expect(sources(plan)).toEqual({ us: 'live' });
  });
});

describe('planCa: what is not a certificate', () => {
  it('a live root-cert.pem that is not a certificate is no root (warned); the cluster needs a new intermediate', () => {
    const broken = { ...cacerts(inter.usOld!, rootA), 'root-cert.pem': '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' };
    const plan = planCa({ selected: ['us'], local: local(rootA), live: live({ us: broken, eu: cacerts(inter.euOld!, rootA) }) });
    expect(plan.warnings.join()).toMatch(/us: its cacerts' root-cert\.pem is not a certificate/);
    expect(sources(plan)).toEqual({ us: 'issue' });
  });
  it('a local root-cert.pem that is not a certificate is a problem naming the file', () => {
    const plan = planCa({ selected: ['us'], local: { directory: DIR, rootCertPem: 'garbage', intermediates: new Map() }, live: live({ us: cacerts(inter.usOld!, rootA) }) });
    expect(plan.problems[0]!.message).toBe(`${DIR}/root-cert.pem is not a certificate`);
  });
});

describe('planCa: a rotation under way (a cluster trusts several roots)', () => {
  const bundle = (i: CaMaterial, signer: CaMaterial, roots: CaMaterial[]): IstioCacerts => ({ ...istioCacerts(i, signer.certPem), 'root-cert.pem': roots.map((r) => r.certPem).join('') });
  it('a local root inside every bundle is the mesh\'s; every cacerts is left to the rotation', () => {
    const plan = planCa({ selected: both, local: local(rootB, { us: inter.usOfB! }), live: live({ us: bundle(inter.usOld!, rootA, [rootA, rootB]), eu: bundle(inter.euOld!, rootA, [rootA, rootB]) }) });
    expect(plan.problems).toEqual([]);
    expect(plan.rotation).toMatch(/trusts 2 roots/);
    expect(sources(plan)).toEqual({ eu: 'live', us: 'live' });
  });
  it('a cluster without valid cacerts during a rotation is refused, not issued', () => {
    const plan = planCa({ selected: both, local: local(rootA), live: live({ us: bundle(inter.usOld!, rootA, [rootA, rootB]), eu: undefined }) });
    expect(plan.problems.map((p) => p.path)).toEqual(['CA intermediate of eu']);
    expect(plan.problems[0]!.message).toMatch(/rotation is under way/);
  });
});

describe('fingerprint and live cacerts', () => {
  it('is the SHA-256 fingerprint openssl shows', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eastwest-fp-')), 'root.pem');
    writeFileSync(file, rootA.certPem);
    const openssl = execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    expect(fingerprint(rootA.certPem)).toBe(`SHA256:${openssl.split('=')[1]!.trim()}`);
  });

  it('decodes a Secret\'s base64 data; no Secret is no cacerts', () => {
    const data = Object.fromEntries(Object.entries(cacerts(inter.usOld!, rootA)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    expect(decodeCacerts({ data })).toEqual(cacerts(inter.usOld!, rootA));
    expect(decodeCacerts(undefined)).toBeUndefined();
    expect(decodeCacerts({})).toEqual({});
  });
});

describe('rootFingerprint', () => {
  it('the first certificate of a bundle; undefined for what is not a certificate (status never crashes on it)', () => {
    expect(rootFingerprint(rootA.certPem + rootB.certPem)).toBe(fingerprint(rootA.certPem));
    expect(rootFingerprint('garbage')).toBeUndefined();
    expect(rootFingerprint('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')).toBeUndefined();
  });
});
