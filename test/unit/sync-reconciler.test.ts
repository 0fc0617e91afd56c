// The sync controller's reconcile per key, against fake clusters (views of exports as a cache holds them,
// writers that keep objects in memory) and a fake clock: what each key writes, where, and when it is
// queued again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/k8s/object.ts';
import { objectRef } from '../../src/k8s/object.ts';
import type { ProbeAnswer } from '../../src/mcs/export-readiness.ts';
import { clustersetIp, type ClusterExport } from '../../src/mcs/imports.ts';
import { namespaceTerminating } from '../../src/controller/sync.ts';
import { clusterKey, keyOfObject, type LiveCondition, nameKey, SyncReconciler, type SyncView, type SyncWriter } from '../../src/controller/sync-reconciler.ts';
import type { Clock } from '../../src/controller/work-queue.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';

const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
const OURS = 'eastwest-sync';
const gateways: Record<string, string> = { us: '198.18.2.1', eu: '198.18.2.17' };

class FakeClock implements Clock {
  t = Date.parse('2026-11-27T10:00:00Z');
  now = () => this.t;
  after() {
    return () => undefined;
  }
}

/** One cluster: its exports (with status) and what is written there. */
class FakeCluster implements SyncView, SyncWriter {
  readonly cluster;
  exports = new Map<string, { e: ClusterExport; conditions: LiveCondition[] }>();
  objects = new Map<string, KubeObject>();
  namespaces = new Set<string>();
  live = true;
  listed = true;
  gateway: string | undefined;
  failNext = false;
  calls = { inventory: 0, write: 0, delete: 0, status: 0, writtenRefs: [] as string[], deletedRefs: [] as string[] };

  constructor(name: string) {
    this.cluster = spec.clusters.find((c) => c.name === name)!;
    this.gateway = gateways[name];
  }

  export(name: string, options: { ready?: number; port?: number; createdAt?: string; namespace?: string } = {}) {
    const namespace = options.namespace ?? 'shop';
    this.exports.set(nameKey(namespace, name), {
      e: {
        cluster: this.cluster.name,
        namespace,
        name,
        createdAt: options.createdAt ?? '2026-11-27T09:00:00.000Z',
        service: { ports: [{ name: 'http', port: options.port ?? 80, protocol: 'HTTP', targetPort: 8080 }], selector: { app: name } },
        readyEndpoints: options.ready ?? 1,
        accepted: true,
      },
      conditions: [],
    });
  }

  writable = () => this.live;
  synced = () => this.listed;
  exportOf = (namespace: string, name: string) => this.exports.get(nameKey(namespace, name))?.e;
  exportKeys = () => [...this.exports.keys()];
  exportConditions = (namespace: string, name: string) => this.exports.get(nameKey(namespace, name))?.conditions;
  gatewayAddress = () => this.gateway;

  maybeFailWith = 'timeout';

  private maybeFail() {
    if (this.failNext) {
      this.failNext = false;
      throw new Error(`${this.cluster.name}: ${this.maybeFailWith}`);
    }
  }

  async ensureNamespaces(names: readonly string[]) {
    this.maybeFail();
    for (const n of names) this.namespaces.add(n);
  }

  private isOurs = (o: KubeObject | undefined) => o?.metadata.labels?.['app.kubernetes.io/managed-by'] === OURS;

  async inventory(desired: readonly KubeObject[]) {
    this.maybeFail();
    this.calls.inventory++;
    const matching: KubeObject[] = [];
    const foreign: string[] = [];
    for (const o of desired) {
      const live = this.objects.get(objectRef(o));
      if (!live) continue;
      if (!this.isOurs(live)) foreign.push(objectRef(o));
      else if (JSON.stringify(live) === JSON.stringify(o)) matching.push(o);
    }
    const wanted = new Set(desired.map(objectRef));
    const stale = [...this.objects.values()].filter((o) => this.isOurs(o) && !wanted.has(objectRef(o)));
    return { matching, foreign, stale };
  }

  lastForeignKnown: ReadonlySet<string> | undefined;

  async write(known: readonly KubeObject[], fresh: readonly KubeObject[], foreignKnown?: ReadonlySet<string>) {
    this.maybeFail();
    this.calls.write++;
    this.lastForeignKnown = foreignKnown;
    const foreign: string[] = [];
    // As an API server: nothing is made in a namespace that does not exist.
    const homeless = [...known, ...fresh].find((o) => o.metadata.namespace && !this.namespaces.has(o.metadata.namespace));
    if (homeless) throw new Error(`namespaces "${homeless.metadata.namespace}" not found`);
    for (const o of known) (this.objects.set(objectRef(o), o), this.calls.writtenRefs.push(objectRef(o)));
    for (const o of fresh) {
      const live = this.objects.get(objectRef(o));
      if (live && !this.isOurs(live)) {
        foreign.push(objectRef(o));
        continue;
      }
      this.objects.set(objectRef(o), o);
      this.calls.writtenRefs.push(objectRef(o));
    }
    return { foreign };
  }

  async deleteOwned(objects: readonly KubeObject[]) {
    this.maybeFail();
    this.calls.delete++;
    for (const o of objects) {
      if (this.isOurs(this.objects.get(objectRef(o)))) {
        this.objects.delete(objectRef(o));
        this.calls.deletedRefs.push(objectRef(o));
      }
    }
  }

  async patchExportStatus(namespace: string, name: string, conditions: LiveCondition[]) {
    this.maybeFail();
    this.calls.status++;
    const x = this.exports.get(nameKey(namespace, name));
    if (x) x.conditions = conditions;
  }

  kinds(key: string): string[] {
    return [...this.objects.values()].filter((o) => keyOfObject(o) === key).map((o) => `${o.kind}/${o.metadata.name}`).sort();
  }

  condition(key: string, type: string) {
    return this.exports.get(key)?.conditions.find((c) => c.type === type);
  }
}

let us: FakeCluster;
let eu: FakeCluster;
let clock: FakeClock;
let queued: { key: string; ms: number }[];
let failed: string[];
let said: string[];
let probeAnswer: ProbeAnswer;
let probes: number;
let r: SyncReconciler;

const make = (writes: FakeCluster[] = [us, eu], isClusterFailure?: (error: unknown) => boolean) => new SyncReconciler({
  ...(isClusterFailure ? { isClusterFailure } : {}),
  spec,
  views: [us, eu],
  writer: (c) => writes.find((x) => x.cluster.name === c),
  probe: async () => {
    probes++;
    return probeAnswer;
  },
  clock,
  requeue: (key, ms) => queued.push({ key, ms: ms ?? 0 }),
  clusterFailed: (c) => failed.push(c),
  say: (m) => said.push(m),
});

const HELLO = nameKey('shop', 'hello');

beforeEach(() => {
  us = new FakeCluster('us');
  eu = new FakeCluster('eu');
  clock = new FakeClock();
  queued = [];
  failed = [];
  said = [];
  probeAnswer = { answer: 'passes', identity: 'spiffe://corp.local/ns/shop/sa/hello' };
  probes = 0;
  r = make();
});

/** Runs what was queued to run now (not the delayed keys), as the workers would, until nothing is left. */
const settle = async () => {
  for (let round = 0; round < 10; round++) {
    const now = [...new Set(queued.filter((q) => q.ms === 0).map((q) => q.key))];
    queued = queued.filter((q) => q.ms !== 0);
    if (!now.length) return;
    for (const key of now) await r.reconcile(key);
  }
};

const fullPasses = async () => {
  await r.reconcile(clusterKey('us'));
  await r.reconcile(clusterKey('eu'));
  await settle();
  queued = [];
};

describe('sync reconcile: a name', () => {
  it('an export in eu: us gets the ServiceEntry, a WorkloadEntry to eu\'s gateway, the DestinationRule and the ServiceImport; eu its own ServiceEntry, no WorkloadEntry', async () => {
    eu.export('hello');
    await fullPasses();
    expect(us.kinds(HELLO)).toEqual(['DestinationRule/hello-clusterset', 'ServiceEntry/hello-clusterset', 'ServiceImport/hello', 'WorkloadEntry/hello-clusterset-eu']);
    expect(eu.kinds(HELLO)).toEqual(['DestinationRule/hello-clusterset', 'ServiceEntry/hello-clusterset', 'ServiceImport/hello']);
    const we = us.objects.get('WorkloadEntry/shop/hello-clusterset-eu') as KubeObject & { spec: { address: string; network: string } };
    expect(we.spec).toMatchObject({ address: gateways.eu, network: 'eu-net' });
    expect(us.namespaces.has('shop')).toBe(true);
  });

  it('a name key before a cluster\'s full pass leaves that cluster alone (the full pass writes it); the full pass queues every known name', async () => {
    eu.export('hello');
    await r.reconcile(HELLO);
    expect(us.objects.size).toBe(0);
    expect(eu.objects.size).toBe(0);
    await r.reconcile(clusterKey('us'));
    expect(us.objects.size).toBe(0); // the full pass only lists and compares
    expect(queued.map((q) => q.key)).toContain(HELLO);
    await settle();
    expect(us.kinds(HELLO)).toHaveLength(4);
  });

  it('a full pass remembers what is already as desired (no write) and queues the rest to the name keys', async () => {
    eu.export('hello');
    eu.export('other');
    await fullPasses();
    const written = us.calls.writtenRefs.length;
    r.forgetCluster('us');
    eu.export('other', { ready: 2 }); // changed meanwhile
    await r.reconcile(clusterKey('us'));
    await settle();
    expect(us.calls.writtenRefs.slice(written)).toEqual(['WorkloadEntry/shop/other-clusterset-eu']);
  });

  it('a full pass finds this controller\'s objects no longer desired and their name keys delete them', async () => {
    eu.export('hello');
    await fullPasses();
    r = make(); // a new controller (restart): nothing remembered
    eu.exports.delete(HELLO);
    await r.reconcile(clusterKey('us'));
    await r.reconcile(clusterKey('eu'));
    await settle();
    expect(us.kinds(HELLO)).toEqual([]);
  });

  it('the same name reconciled again writes nothing: only what changed is written', async () => {
    eu.export('hello');
    await fullPasses();
    await r.reconcile(HELLO);
    const before = { ...us.calls, writtenRefs: [...us.calls.writtenRefs] };
    await r.reconcile(HELLO);
    expect(us.calls.write).toBe(before.write);
    expect(us.calls.writtenRefs).toEqual(before.writtenRefs);
  });

  it('a change of one name writes only that name\'s changed objects', async () => {
    eu.export('hello');
    eu.export('other');
    await fullPasses();
    const before = us.calls.writtenRefs.length;
    eu.export('hello', { ready: 3 }); // the WorkloadEntry's weight in us
    await r.reconcile(HELLO);
    expect(us.calls.writtenRefs.slice(before)).toEqual(['WorkloadEntry/shop/hello-clusterset-eu']);
  });

  it('a new export after the full pass is written by its name key alone (no full pass)', async () => {
    await fullPasses();
    eu.export('hello');
    await r.reconcile(HELLO);
    expect(us.kinds(HELLO)).toHaveLength(4);
    expect(us.calls.inventory).toBe(1);
  });

  it('unexported: the name\'s objects are deleted in the clusters that import it; other names are left', async () => {
    eu.export('hello');
    eu.export('other');
    await fullPasses();
    us.exports.clear();
    eu.exports.delete(HELLO);
    await r.reconcile(HELLO);
    expect(us.kinds(HELLO)).toEqual([]);
    expect(us.kinds(nameKey('shop', 'other'))).toHaveLength(4);
  });

  it('nothing is pruned while a cluster has not been listed (its exports are unknown)', async () => {
    eu.export('hello');
    await fullPasses();
    eu.exports.delete(HELLO);
    eu.listed = false;
    await r.reconcile(HELLO);
    expect(us.kinds(HELLO)).toHaveLength(4);
  });

  it('the exporting cluster keeps its own ServiceEntry while requests drain, then it goes', async () => {
    eu.export('hello');
    await fullPasses();
    eu.exports.delete(HELLO);
    await r.reconcile(HELLO);
    expect(us.kinds(HELLO)).toEqual([]); // nobody routes to eu any more
    expect(eu.kinds(HELLO)).toContain('ServiceEntry/hello-clusterset');
    expect(queued).toContainEqual({ key: HELLO, ms: 5050 });
    clock.t += 5000;
    await r.reconcile(HELLO);
    expect(eu.kinds(HELLO)).toEqual([]);
  });

  it('an object of that name that is not eastwest\'s is left as it is, said, and never deleted', async () => {
    await fullPasses();
    const user: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'hello-clusterset', namespace: 'shop', labels: { owner: 'someone' } }, spec: { host: 'x' } };
    us.objects.set(objectRef(user), user);
    eu.export('hello');
    await r.reconcile(HELLO);
    expect(us.objects.get(objectRef(user))).toBe(user);
    expect(said.some((m) => /DestinationRule\/shop\/hello-clusterset exists and is not managed by eastwest sync/.test(m))).toBe(true);
    eu.exports.delete(HELLO);
    await r.reconcile(HELLO);
    expect(us.objects.get(objectRef(user))).toBe(user);
  });

  it('what the full pass found of another owner is handed to the writer of a new name (no request needed to skip it)', async () => {
    const user: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'hello-clusterset', namespace: 'shop' }, spec: { hosts: ['mine'] } };
    us.objects.set(objectRef(user), user);
    eu.export('other');
    eu.exports.get(nameKey('shop', 'other'))!.e.name = 'other';
    // The user's object has the name a future export of hello would need: not desired yet, so not foreign yet.
    await fullPasses();
    expect([...(us.lastForeignKnown ?? [])]).toEqual([]);
    eu.export('hello');
    await r.reconcile(clusterKey('us')); // now desired: the full pass finds it someone else's
    await settle();
    expect(us.objects.get(objectRef(user))).toBe(user);
    eu.export('hello', { ready: 2 });
    await r.reconcile(HELLO);
    expect([...(us.lastForeignKnown ?? [])]).toEqual(['ServiceEntry/shop/hello-clusterset']);
  });

  it('a cluster that fails is reported and left by later name keys until its full pass; the other cluster is written', async () => {
    await fullPasses();
    eu.export('hello');
    us.failNext = true;
    await r.reconcile(HELLO);
    expect(failed).toEqual(['us']);
    expect(eu.kinds(HELLO)).toHaveLength(3);
    eu.export('again');
    await r.reconcile(nameKey('shop', 'again'));
    expect(us.kinds(nameKey('shop', 'again'))).toEqual([]);
    await r.reconcile(clusterKey('us'));
    await settle();
    expect(us.kinds(HELLO)).toHaveLength(4);
    expect(us.kinds(nameKey('shop', 'again'))).toHaveLength(4);
  });

  it('one name\'s objects refused (not the cluster): that name throws (its own back-off), the cluster keeps its memory and its other names are written', async () => {
    r = make([us, eu], (error) => /timeout/.test(String(error)) && !/webhook/.test(String(error)));
    await fullPasses();
    eu.export('hello');
    us.failNext = true;
    us.maybeFailWith = 'admission webhook denied the request';
    await expect(r.reconcile(HELLO)).rejects.toThrow(/webhook/);
    expect(failed).toEqual([]);
    expect(r.age('us')).toBeDefined();
    eu.export('other');
    await r.reconcile(nameKey('shop', 'other'));
    expect(us.kinds(nameKey('shop', 'other'))).toHaveLength(4);
    await r.reconcile(HELLO); // tried again: written
    expect(us.kinds(HELLO)).toHaveLength(4);
  });

  it('a namespace deleted in an importing cluster is made again: the name\'s retry writes it, not only the next full pass', async () => {
    r = make([us, eu], (error) => /timeout/.test(String(error)));
    await fullPasses();
    eu.export('hello');
    await r.reconcile(HELLO);
    expect(us.kinds(HELLO)).toHaveLength(4);
    // Someone deletes namespace shop in us (its objects go with it), and the export changes.
    us.namespaces.delete('shop');
    for (const ref of [...us.objects.keys()]) if (us.objects.get(ref)!.metadata.namespace === 'shop') us.objects.delete(ref);
    eu.export('hello', { ready: 2 });
    await expect(r.reconcile(HELLO)).rejects.toThrow(/not found/);
    await r.reconcile(HELLO);
    expect(us.namespaces.has('shop')).toBe(true);
    expect(us.kinds(HELLO)).toHaveLength(4);
  });

  it('every import gets its clusterset IP; a name sorting first that takes the same address later takes it over, and the other is written again without one', async () => {
    await fullPasses();
    eu.export('svc-11747');
    await r.reconcile(nameKey('shop', 'svc-11747'));
    const seOf = (name: string) => us.objects.get(`ServiceEntry/shop/${name}-clusterset`) as any;
    expect(seOf('svc-11747').spec.addresses).toEqual([clustersetIp('shop/svc-11747')]);
    eu.export('svc-5508');
    queued = [];
    await r.reconcile(nameKey('shop', 'svc-5508'));
    expect(seOf('svc-5508').spec.addresses).toBeUndefined();
    // svc-11747 sorts first ("1" < "5"): it keeps the address, and nothing needs writing again.
    expect(seOf('svc-11747').spec.addresses).toEqual([clustersetIp('shop/svc-11747')]);
    // Another order: the one sorting first comes second and takes the address over.
    eu.exports.clear();
    for (const c of [us, eu]) c.objects.clear();
    r = make();
    await fullPasses();
    eu.export('svc-5508');
    await r.reconcile(nameKey('shop', 'svc-5508'));
    expect(seOf('svc-5508').spec.addresses).toEqual([clustersetIp('shop/svc-5508')]);
    eu.export('svc-11747');
    queued = [];
    await r.reconcile(nameKey('shop', 'svc-11747'));
    expect(seOf('svc-11747').spec.addresses).toEqual([clustersetIp('shop/svc-11747')]);
    expect(queued.map((q) => q.key)).toContain(nameKey('shop', 'svc-5508'));
    await r.reconcile(nameKey('shop', 'svc-5508'));
    expect(seOf('svc-5508').spec.addresses).toBeUndefined();
  });

  it('the name holding a shared address is unexported: once it has drained, the other name is reconciled again and takes the address', async () => {
    await fullPasses();
    eu.export('svc-11747');
    eu.export('svc-5508');
    await r.reconcile(nameKey('shop', 'svc-11747'));
    await r.reconcile(nameKey('shop', 'svc-5508'));
    eu.exports.delete(nameKey('shop', 'svc-11747'));
    queued = [];
    await r.reconcile(nameKey('shop', 'svc-11747'));
    const later = queued.filter((q) => q.key === nameKey('shop', 'svc-5508'));
    expect(later.length).toBeGreaterThan(0);
    expect(Math.max(...later.map((q) => q.ms))).toBeGreaterThan(0);
  });

  it('a namespace being deleted refuses one name (403 "is being terminated"), not the controller\'s rights', () => {
    const apiError = Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'serviceentries "hello-clusterset" is forbidden: unable to create new content in namespace shop because it is being terminated' }) });
    expect(namespaceTerminating(Object.assign(new Error('forbidden (403) during apply'), { cause: apiError }))).toBe(true);
    expect(namespaceTerminating(Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ reason: 'Forbidden', message: 'User "system:serviceaccount:eastwest-system:eastwest-sync" cannot create resource "serviceentries"' }) }))).toBe(false);
  });

  it('a cluster that does not answer is not written (its last-known exports stay routed elsewhere)', async () => {
    eu.export('hello');
    await fullPasses();
    const writes = us.calls.write;
    us.live = false;
    eu.export('hello', { ready: 2 });
    await r.reconcile(HELLO);
    expect(us.calls.write).toBe(writes);
  });

  it('a full pass that fails throws (the queue tries it again) and leaves name keys out of that cluster', async () => {
    eu.export('hello');
    us.failNext = true;
    await expect(r.reconcile(clusterKey('us'))).rejects.toThrow(/timeout/);
    queued = [];
    expect(r.fresh('us', 1e9)).toBe(false);
    await r.reconcile(HELLO);
    expect(us.objects.size).toBe(0);
  });

  it('a controller that writes only us never writes eu (each cluster\'s controller writes its own)', async () => {
    r = make([us]);
    eu.export('hello');
    await r.reconcile(clusterKey('us'));
    await r.reconcile(clusterKey('eu'));
    await settle();
    expect(us.kinds(HELLO)).toHaveLength(4);
    expect(eu.objects.size).toBe(0);
    expect(eu.calls.status).toBe(0);
  });
});

describe('sync reconcile: status', () => {
  it('the exporting cluster\'s export gets Valid=True and Ready=True GatewayServes (its gateway asked), with the identity that answered', async () => {
    eu.export('hello');
    await fullPasses();
    await r.reconcile(HELLO);
    expect(eu.condition(HELLO, 'Valid')).toMatchObject({ status: 'True' });
    expect(eu.condition(HELLO, 'Ready')).toMatchObject({ status: 'True', reason: 'GatewayServes', message: expect.stringContaining('spiffe://corp.local/ns/shop/sa/hello') });
    expect(eu.condition(HELLO, 'Ready')!.lastTransitionTime).toBe('2026-11-27T10:00:00.000Z');
  });

  it('an unchanged status is not patched again, and a settled Ready is not probed again', async () => {
    eu.export('hello');
    await fullPasses();
    await r.reconcile(HELLO);
    const [patches, asked] = [eu.calls.status, probes];
    await r.reconcile(HELLO);
    expect(eu.calls.status).toBe(patches);
    expect(probes).toBe(asked);
  });

  it('a gateway still learning the name: Ready=False GatewayLearning, asked again every 100 ms for 30 passes, then every second', async () => {
    probeAnswer = { answer: 'refuses', detail: 'closed without a TLS answer' };
    eu.export('hello');
    await fullPasses();
    // The full passes' own run of the name was the first probe.
    for (let i = 0; i < 30; i++) {
      await r.reconcile(HELLO);
      clock.t += 100;
    }
    expect(eu.condition(HELLO, 'Ready')).toMatchObject({ status: 'False', reason: 'GatewayLearning' });
    const retries = queued.filter((q) => q.key === HELLO).map((q) => q.ms);
    expect(retries).toHaveLength(30);
    expect(retries.slice(0, 29).every((ms) => ms === 100)).toBe(true);
    expect(retries[29]).toBe(1000);
    probeAnswer = { answer: 'passes', identity: 'spiffe://corp.local/ns/shop/sa/hello' };
    await r.reconcile(HELLO);
    expect(eu.condition(HELLO, 'Ready')).toMatchObject({ status: 'True', reason: 'GatewayServes' });
  });

  it('no ready endpoint: Ready=False NoReadyEndpoints, no probe, no retry', async () => {
    eu.export('hello', { ready: 0 });
    await fullPasses();
    await r.reconcile(HELLO);
    expect(eu.condition(HELLO, 'Ready')).toMatchObject({ status: 'False', reason: 'NoReadyEndpoints' });
    expect(probes).toBe(0);
    expect(queued.filter((q) => q.key === HELLO)).toEqual([]);
  });

  it('the same name exported with other ports by a later cluster: that one gets Conflict and Ready=False NotServed; the oldest is served', async () => {
    eu.export('hello', { createdAt: '2026-11-27T08:00:00.000Z' });
    us.export('hello', { port: 81, createdAt: '2026-11-27T09:00:00.000Z' });
    await fullPasses();
    await r.reconcile(HELLO);
    expect(us.condition(HELLO, 'Conflict')).toMatchObject({ status: 'True' });
    expect(us.condition(HELLO, 'Ready')).toMatchObject({ status: 'False', reason: 'NotServed' });
    expect(eu.condition(HELLO, 'Ready')).toMatchObject({ status: 'True' });
    // us does not serve it: it routes to eu.
    expect(us.kinds(HELLO)).toContain('WorkloadEntry/hello-clusterset-eu');
  });
});

describe('sync reconcile: keys', () => {
  it('knownKeys: every name exported anywhere and every name written (to prune), sorted', async () => {
    eu.export('b');
    us.export('a');
    await fullPasses();
    eu.exports.clear();
    expect(r.knownKeys()).toEqual(['shop/a', 'shop/b']);
  });

  it('a full pass is fresh until its age passes the limit', async () => {
    await fullPasses();
    expect(r.fresh('us', 1000)).toBe(true);
    clock.t += 1001;
    expect(r.fresh('us', 1000)).toBe(false);
    r.forgetCluster('us');
    expect(r.fresh('us', 1e9)).toBe(false);
  });
});
