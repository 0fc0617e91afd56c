// The engine's cluster-facing parts against the lab's real kube-apiserver, without Istio (issue 14, item 6):
// the resource manager (content-hash shortcut, dry run, stages, masked Secrets), prune, request deadlines
// and the cluster watch. Every assertion reads the API server's state (or a ClusterError's classification),
// never which calls were made. Everything created lives in namespaces `eastwest-it-<random>`; fake API
// servers listen on loopback only; the lab's own API servers are never stopped or slowed.
import { CONTENT_HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL } from '../../src/core/vocabulary.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownedObjects, ownedSelector } from '../../src/apply/prune.ts';
import { ClusterWatch, type WatchChange } from '../../src/controller/cluster-watch.ts';
import { EastwestError, EXIT } from '../../src/core/errors.ts';
import { RecordingReporter } from '../../src/core/reporter.ts';
import { connect, openEngine } from '../../src/engine/context.ts';
import { ClusterError } from '../../src/k8s/cluster-error.ts';
import { KubeClient, loadKubeConfig } from '../../src/k8s/client.ts';
import type { KubeconfigSource } from '../../src/k8s/kubeconfig.ts';
import { objectRef, type KubeObject } from '../../src/k8s/object.ts';
import { applyChangeSet, planObjects, undesired, type PlannedObject } from '../../src/k8s/resource-manager.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { mcsCrds, MCS_CRD_NAMES } from '../../src/mcs/crds.ts';
import { owned } from '../../src/k8s/ownership.ts';
import type { ClusterSpec } from '../../src/spec/schema.ts';
import { pollUntil, sleep } from '../../src/util/poll.ts';

const CONTEXT = 'lab-us';
const PREFIX = 'eastwest-it-';
const TEST_LABEL = 'eastwest.dev/integration-test';
const TEST_LABEL_VALUE = 'engine';
/** A namespace of this tier older than this is left from a killed run (a run of this file takes well under it). */
const STALE_AFTER_MS = 10 * 60_000;

const suffix = () => randomBytes(4).toString('hex');
const RUN = suffix();
const NS = `${PREFIX}${RUN}`;
/** The namespace the stage test creates itself (through the resource manager). */
const STAGED_NS = `${PREFIX}${RUN}-staged`;
/** A mesh ID of this run only: no other object in the lab carries its ownership labels. */
const MESH = `it-${RUN}`;
const SELECTOR = ownedSelector(MESH);
/** The prune tests' own mesh (the resource manager's objects above are owned by MESH), and another mesh. */
const PRUNE_MESH = `it-prune-${RUN}`;
const OTHER_MESH = `it-other-${RUN}`;

const config = () => loadKubeConfig(CONTEXT, LAB_KUBECONFIG, 10);
const client = new KubeClient(config(), { cluster: 'us' });
/** Another field manager (a person with kubectl, another controller). */
const someoneElse = new KubeClient(config(), { cluster: 'us', fieldManager: 'eastwest-it-someone-else' });
/**
 * A client the API server refuses every write to, dry runs included: its field manager is longer than the
 * 128 bytes the server allows. Reads work. A plan with it succeeds only if it needed no server-side dry run.
 */
const noWrites = new KubeClient(config(), { cluster: 'us', fieldManager: 'x'.repeat(129) });

const rv = (o: KubeObject | undefined) => (o?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const byRef = <E extends { ref: string }>(entries: readonly E[], ref: string): E | undefined => entries.find((e) => e.ref === ref);

function configMap(name: string, data: Record<string, string>, namespace = NS, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(labels ? { labels } : {}) }, data };
}

function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [TEST_LABEL]: TEST_LABEL_VALUE } } };
}

const read = (o: KubeObject) => client.read(o);

async function deleteNamespacesAndWait(names: readonly string[], seconds: number): Promise<void> {
  await Promise.all(names.map((name) => client.delete(namespace(name))));
  await pollUntil(seconds, 500, async () => ((await Promise.all(names.map((name) => read(namespace(name))))).every((n) => n === undefined) ? true : undefined));
}

// ---- fake API servers on loopback --------------------------------------------------------------------

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Accepts connections and never answers (an API server frozen after the kernel accepted the connection). */
class SilentServer {
  readonly sockets = new Set<Socket>();
  readonly server: Server;
  /** When set, written once the request arrives, then nothing more (an answer that stalls mid-body). */
  private readonly partialAnswer: string | undefined;
  port = 0;
  constructor(partialAnswer?: string) {
    this.partialAnswer = partialAnswer;
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      if (this.partialAnswer) socket.once('data', () => socket.write(this.partialAnswer!));
    });
  }
  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP relay on loopback to the lab's real API server (its certificate names 127.0.0.1, so TLS is checked
 * end to end). `freeze()` holds every byte both ways (new connections too), as a stopped API server would;
 * `cut()` resets every connection and every new one; `heal()` delivers what was held and relays again.
 * Only this relay is affected: the lab's API server keeps serving everyone else.
 */
class LoopbackRelay {
  private mode: 'relay' | 'freeze' | 'cut' | 'swallow' = 'relay';
  /** Connections taken while swallowing: never answered, not even after heal() (a half-up API server). */
  private readonly swallowed = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  private readonly target: { host: string; port: number };
  readonly server: Server;
  port = 0;
  constructor(target: { host: string; port: number }) {
    this.target = target;
    this.server = createServer((socket) => this.accept(socket));
  }
  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }
  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'swallow') {
      this.swallowed.add(client);
      return;
    }
    const upstream = tcpConnect(this.target.port, this.target.host);
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.pairs.add(pair);
    client.on('data', (d: Buffer) => (this.mode === 'relay' ? upstream.write(d) : pair.toUpstream.push(d)));
    upstream.on('data', (d: Buffer) => (this.mode === 'relay' ? client.write(d) : pair.toClient.push(d)));
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  }
  freeze(): void {
    this.mode = 'freeze';
  }
  swallow(): void {
    this.mode = 'swallow';
  }
  cut(): void {
    this.mode = 'cut';
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }
  heal(): void {
    for (const p of this.pairs) {
      for (const d of p.toUpstream.splice(0)) p.upstream.write(d);
      for (const d of p.toClient.splice(0)) p.client.write(d);
    }
    this.mode = 'relay';
  }
  async close(): Promise<void> {
    for (const socket of this.swallowed) socket.destroy();
    this.swallowed.clear();
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

// ---- a copy of the lab kubeconfig, its lab-us context pointed elsewhere -------------------------------

let scratch: string;
let kubeconfigCopy: KubeconfigSource;
const fakes: { close(): Promise<void> }[] = [];
let frozen: SilentServer;
let relay: LoopbackRelay;

/** Writes the copy: for each name a context with lab-us's user and CA, and `server` as its address. */
function writeKubeconfigCopy(servers: Record<string, string>): KubeconfigSource {
  const lab = new KubeConfig();
  lab.loadFromFile(LAB_KUBECONFIG);
  const context = lab.getContextObject(CONTEXT)!;
  const cluster = lab.getCluster(context.cluster)!;
  const user = lab.getUser(context.user)!;
  const copy = new KubeConfig();
  copy.loadFromOptions({
    // client-node allows plain http only with skipTLSVerify (there is no TLS to verify then).
    clusters: Object.entries(servers).map(([name, server]) => (server.startsWith('http:') ? { name, server, skipTLSVerify: true } : { ...cluster, name, server })),
    users: [user],
    contexts: Object.keys(servers).map((name) => ({ name, cluster: name, user: user.name })),
    currentContext: Object.keys(servers)[0]!,
  });
  const file = join(scratch, 'kubeconfig');
  writeFileSync(file, copy.exportConfig(), { mode: 0o600 });
  return { files: [file], from: '--kubeconfig' };
}

function labServer(): { host: string; port: number } {
  const lab = new KubeConfig();
  lab.loadFromFile(LAB_KUBECONFIG);
  const url = new URL(lab.getCluster(lab.getContextObject(CONTEXT)!.cluster)!.server);
  return { host: url.hostname, port: Number(url.port || 443) };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

// ---- set-up and clean-up --------------------------------------------------------------------------

let createdCrds = false;

beforeAll(async () => {
  // Namespaces of this tier left by a killed run (never one of a run still going: those are young).
  const namespaces = await client.list('v1', 'Namespace', undefined, `${TEST_LABEL}=${TEST_LABEL_VALUE}`);
  const stale = namespaces.filter((n) => n.metadata.name.startsWith(PREFIX) && Date.now() - Date.parse(String((n.metadata as { creationTimestamp?: string }).creationTimestamp)) > STALE_AFTER_MS);
  await Promise.all(stale.map((n) => client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.metadata.name } })));

  await client.apply(namespace(NS));

  scratch = mkdtempSync(join(tmpdir(), 'eastwest-it-'));
  frozen = await new SilentServer().start();
  const frozenBody = await new SilentServer('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"kind":').start();
  relay = await new LoopbackRelay(labServer()).start();
  fakes.push(frozen, frozenBody, relay);
  kubeconfigCopy = writeKubeconfigCopy({
    'us-frozen': `https://127.0.0.1:${frozen.port}`,
    'us-frozen-http': `http://127.0.0.1:${frozen.port}`,
    'us-stalled-body': `http://127.0.0.1:${frozenBody.port}`,
    'us-refused': `https://127.0.0.1:${await closedPort()}`,
    'us-relay': `https://127.0.0.1:${relay.port}`,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close().catch(() => undefined)));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await deleteNamespacesAndWait([NS, STAGED_NS], 30);
  if (createdCrds) {
    await Promise.all(MCS_CRD_NAMES.map((name) => client.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } })));
  }
}, 120_000);

// ---- 1. the resource manager --------------------------------------------------------------------------

describe('resource manager against a real API server', () => {
  const cm = owned(MESH, configMap('settings', { color: 'red', size: 'm' }));

  it('a first apply creates the object, with its ownership labels and content hash', async () => {
    const plan = await planObjects(client, [cm], SELECTOR);
    expect(plan.map((p) => [p.ref, p.action])).toEqual([[objectRef(cm), 'created']]);
    const entries = await applyChangeSet(client, plan, []);
    expect(entries).toEqual([{ ref: objectRef(cm), action: 'created' }]);

    const live = await read(cm);
    expect(live?.data).toEqual({ color: 'red', size: 'm' });
    expect(live?.metadata.labels).toMatchObject({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [MESH_LABEL]: MESH });
    expect(live?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toBe(cm.metadata.annotations?.[CONTENT_HASH_ANNOTATION]);
    expect(live?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a second plan of the same object is unchanged by its content hash alone: no dry run, no write', async () => {
    const before = await read(cm);
    // `noWrites` is refused every PATCH (dry runs too): its plan succeeds only if no dry run was needed.
    const plan = await planObjects(noWrites, [cm], SELECTOR);
    expect(plan.map((p) => [p.ref, p.action, p.liveManagedBy])).toEqual([[objectRef(cm), 'unchanged', MANAGED_BY_VALUE]]);
    expect(plan[0]!.fields).toBeUndefined();
    // Applying an unchanged plan writes nothing (the same client could not have).
    expect(await applyChangeSet(noWrites, plan, [])).toEqual([{ ref: objectRef(cm), action: 'unchanged' }]);
    expect(rv(await read(cm))).toBe(rv(before));

    // The same client fails as soon as a dry run is needed: a value changed behind eastwest's back (the
    // content hash still matches, the field does not) is not taken on trust.
    await someoneElse.patch(configMap('settings', { color: 'green' }));
    const refused = await planObjects(noWrites, [cm], SELECTOR).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ClusterError);
    expect(refused).toMatchObject({ kind: 'api', cluster: 'us', exitCode: EXIT.clusterError });
    expect((refused as Error).message).toMatch(/dry-run apply ConfigMap\/settings/);

    const drift = await planObjects(client, [cm], SELECTOR);
    expect(drift[0]).toMatchObject({ action: 'configured', fields: [{ path: 'data.color', want: 'red', live: 'green' }] });
    await applyChangeSet(client, drift, []);
    expect((await read(cm))?.data).toEqual({ color: 'red', size: 'm' });
  });

  it('a changed field is configured, naming its path; the plan alone (a dry run) changes nothing', async () => {
    const before = await read(cm);
    const changed = owned(MESH, configMap('settings', { color: 'blue', size: 'm' }));
    const fresh = owned(MESH, configMap(`new-${suffix()}`, { a: '1' }));
    const plan = await planObjects(client, [changed, fresh], SELECTOR);

    const configured = byRef(plan, objectRef(changed))!;
    expect(configured.action).toBe('configured');
    expect(configured.fields).toContainEqual({ path: 'data.color', want: 'blue', live: 'red' });
    expect(configured.fields!.map((f) => f.path)).not.toContain('data.size');
    expect(configured.fields!.map((f) => f.path)).toContain(`metadata.annotations.${CONTENT_HASH_ANNOTATION}`);
    expect(byRef(plan, objectRef(fresh))?.action).toBe('created');

    // Nothing happened on the server: same resourceVersion and value, and the new object does not exist.
    const after = await read(cm);
    expect(rv(after)).toBe(rv(before));
    expect(after?.data).toEqual({ color: 'red', size: 'm' });
    expect(await read(fresh)).toBeUndefined();

    const entries = await applyChangeSet(client, plan, []);
    expect(byRef(entries, objectRef(changed))).toMatchObject({ action: 'configured', fields: expect.arrayContaining([{ path: 'data.color', want: 'blue', live: 'red' }]) });
    expect(byRef(entries, objectRef(fresh))?.action).toBe('created');
    const applied = await read(cm);
    expect(applied?.data).toEqual({ color: 'blue', size: 'm' });
    expect(applied?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toBe(changed.metadata.annotations?.[CONTENT_HASH_ANNOTATION]);
    expect(rv(applied)).not.toBe(rv(before));
    expect((await planObjects(noWrites, [changed, fresh], SELECTOR)).map((p) => p.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('stages: a namespace and the objects in it, planned together, are applied namespace first', async () => {
    const inside = owned(MESH, configMap('inside', { k: 'v' }, STAGED_NS));
    const secret = owned(MESH, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'inside', namespace: STAGED_NS }, data: { k: b64('v') } });
    const ns = owned(MESH, namespace(STAGED_NS));
    expect(await read(ns)).toBeUndefined();
    // Listed objects first, the namespace last: the order of the change set comes from its stages.
    const plan = await planObjects(client, [inside, secret, ns], SELECTOR);
    expect(plan.map((p) => p.action)).toEqual(['created', 'created', 'created']);
    expect(await read(ns)).toBeUndefined();

    const entries = await applyChangeSet(client, plan, [], { waitSeconds: 30 });
    expect(entries.map((e) => [e.ref, e.action])).toEqual([
      [objectRef(ns), 'created'],
      [objectRef(inside), 'created'],
      [objectRef(secret), 'created'],
    ]);
    expect(((await read(ns)) as { status?: { phase?: string } } | undefined)?.status?.phase).toBe('Active');
    expect((await read(inside))?.data).toEqual({ k: 'v' });
    expect((await read(secret))?.data).toEqual({ k: b64('v') });
  });

  it('Secret values are masked in a plan and in the change set: sizes and hashes, never a value', async () => {
    const oldValue = `old-secret-${suffix()}`;
    const newValue = `new-secret-${suffix()}-longer`;
    const secret = (value: string) => owned(MESH, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'credentials', namespace: NS }, type: 'Opaque', data: { password: b64(value) } });
    await applyChangeSet(client, await planObjects(client, [secret(oldValue)], SELECTOR), []);

    const plan = await planObjects(client, [secret(newValue)], SELECTOR);
    const entry = plan[0]!;
    expect(entry.action).toBe('configured');
    const password = entry.fields!.find((f) => f.path === 'data.password')!;
    expect(password.want).toMatch(/^sha256:[0-9a-f]{12} \(\d+ bytes\)$/);
    expect(password.live).toMatch(/^sha256:[0-9a-f]{12} \(\d+ bytes\)$/);
    expect(password.want).not.toBe(password.live);

    const entries = await applyChangeSet(client, plan, []);
    expect(entries[0]?.action).toBe('configured');
    const shown = JSON.stringify([plan.map(({ object: _o, ...rest }) => rest), entries]);
    for (const value of [oldValue, newValue, b64(oldValue), b64(newValue)]) expect(shown).not.toContain(value);
    // The server has the new value.
    expect((await read(secret(newValue)))?.data).toEqual({ password: b64(newValue) });
  });
});

// ---- 2. prune --------------------------------------------------------------------------------------

describe('prune against a real API server', () => {
  it('lists and prunes only what carries eastwest\'s labels for this mesh; foreign objects are never touched', async () => {
    const keep = owned(PRUNE_MESH, configMap('prune-keep', { k: '1' }));
    const stale = owned(PRUNE_MESH, configMap('prune-stale', { k: '2' }));
    const staleSecret = owned(PRUNE_MESH, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prune-stale', namespace: NS }, data: { k: b64('2') } });
    const unlabelled = configMap('prune-unlabelled', { k: '3' });
    const otherMesh = owned(OTHER_MESH, configMap('prune-other-mesh', { k: '4' }));
    const notOurs = configMap('prune-not-managed', { k: '5' }, NS, { [MANAGED_BY_LABEL]: 'Helm', [MESH_LABEL]: PRUNE_MESH });
    await applyChangeSet(client, await planObjects(client, [keep, stale, staleSecret], ownedSelector(PRUNE_MESH)), []);
    for (const o of [unlabelled, otherMesh, notOurs]) await someoneElse.apply(o);
    const foreign = [unlabelled, otherMesh, notOurs];
    const foreignBefore = await Promise.all(foreign.map(read));

    const ownedNow = await ownedObjects(client, PRUNE_MESH);
    expect(ownedNow.map(objectRef).sort()).toEqual([objectRef(keep), objectRef(stale), objectRef(staleSecret)].sort());
    expect((await ownedObjects(client, OTHER_MESH)).map(objectRef)).toEqual([objectRef(otherMesh)]);

    // Desired: only `keep`. Pruning deletes the other owned ones.
    const prune = undesired(ownedNow, [keep]);
    expect(prune.map(objectRef).sort()).toEqual([objectRef(stale), objectRef(staleSecret)].sort());
    const entries = await applyChangeSet(client, await planObjects(client, [keep], ownedSelector(PRUNE_MESH)), prune);
    expect(entries.filter((e) => e.action === 'deleted').map((e) => e.ref).sort()).toEqual([objectRef(stale), objectRef(staleSecret)].sort());

    expect(await read(stale)).toBeUndefined();
    expect(await read(staleSecret)).toBeUndefined();
    expect((await read(keep))?.data).toEqual({ k: '1' });
    const foreignAfter = await Promise.all(foreign.map(read));
    foreignAfter.forEach((after, i) => {
      expect(after, objectRef(foreign[i]!)).toBeDefined();
      expect(rv(after)).toBe(rv(foreignBefore[i]));
      expect(after?.metadata.labels ?? {}).toEqual(foreignBefore[i]?.metadata.labels ?? {});
    });
    expect((await ownedObjects(client, PRUNE_MESH)).map(objectRef)).toEqual([objectRef(keep)]);
  });

  it('a desired object whose name a foreign object already has is planned as whose it is, and planning leaves it alone', async () => {
    const foreign = configMap(`taken-${suffix()}`, { owner: 'someone' });
    await someoneElse.apply(foreign);
    const before = await read(foreign);
    const plan: PlannedObject[] = await planObjects(client, [owned(PRUNE_MESH, configMap(foreign.metadata.name, { owner: 'eastwest' }))], ownedSelector(PRUNE_MESH));
    expect(plan[0]).toMatchObject({ action: 'configured', fields: expect.arrayContaining([{ path: 'data.owner', want: 'eastwest', live: 'someone' }]) });
    expect(plan[0]!.liveManagedBy).toBeUndefined();
    expect(rv(await read(foreign))).toBe(rv(before));
    expect(await ownedObjects(client, PRUNE_MESH).then((o) => o.map(objectRef))).not.toContain(objectRef(foreign));
  });
});

// ---- 3. request deadlines ----------------------------------------------------------------------------

describe('request deadlines', () => {
  const clientFor = (context: string, seconds = 1) => new KubeClient(loadKubeConfig(context, kubeconfigCopy, seconds), { cluster: context });

  async function failure(run: () => Promise<unknown>): Promise<{ error: ClusterError; ms: number }> {
    const started = performance.now();
    const error = await run().then(() => undefined, (e: unknown) => e);
    const ms = performance.now() - started;
    expect(error, 'the request should have failed').toBeInstanceOf(ClusterError);
    return { error: error as ClusterError, ms };
  }

  it('an API server that accepts the connection and never answers: a timeout (exit 3) within the 1 s deadline', async () => {
    const frozenClient = clientFor('us-frozen');
    const cm = configMap('anything', {});
    for (const run of [() => frozenClient.read(cm), () => planObjects(frozenClient, [owned(MESH, cm)], SELECTOR), () => frozenClient.apply(owned(MESH, cm))]) {
      const { error, ms } = await failure(run);
      expect(ms).toBeLessThan(3000);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(error).toMatchObject({ kind: 'timeout', cluster: 'us-frozen', exitCode: EXIT.clusterError, unreachable: true });
      expect(error.message).toMatch(/timeout after 1 s/);
    }
    // The engine's connect (version, then access review) carries the same deadline.
    const cluster: ClusterSpec = { name: 'us', context: 'us-frozen', network: 'net-us', region: 'us', eastWestGateway: {} };
    const { error, ms } = await failure(() => connect(cluster, kubeconfigCopy, 1, { access: 'write' }));
    expect(ms).toBeLessThan(3000);
    expect(error).toMatchObject({ kind: 'timeout', cluster: 'us', exitCode: EXIT.clusterError });
    expect(error.message).toMatch(/timeout after 1 s\) during version/);
  });

  it('lateAfterMs: the engine is handed over once the first cluster answered and the time passed; the frozen one settles later, as a timeout', async () => {
    const started = performance.now();
    const engine = await openEngine({ file: join(import.meta.dirname, '../../examples/lab.yaml'), kubeconfig: kubeconfigCopy.files[0], contexts: { us: 'us-relay', eu: 'us-frozen' }, requestTimeoutSeconds: 3, access: 'read', lateAfterMs: 500 });
    const handedOver = performance.now() - started;
    expect(handedOver).toBeLessThan(2500);
    expect(engine.connections.map((c) => [c.cluster, c.ok])).toEqual([['us', true]]);
    expect([...engine.connected.keys()]).toEqual(['us']);
    const all = await engine.allConnections;
    expect(performance.now() - started).toBeGreaterThanOrEqual(2900);
    expect(all.map((c) => [c.cluster, c.ok, c.ok ? undefined : c.unreachable])).toEqual([['us', true, undefined], ['eu', false, true]]);
    // Without it, the engine waits for every cluster's outcome.
    const waited = performance.now();
    const full = await openEngine({ file: join(import.meta.dirname, '../../examples/lab.yaml'), kubeconfig: kubeconfigCopy.files[0], contexts: { us: 'us-relay', eu: 'us-frozen' }, requestTimeoutSeconds: 1, access: 'read' });
    expect(performance.now() - waited).toBeGreaterThanOrEqual(900);
    expect(full.connections.map((c) => [c.cluster, c.ok])).toEqual([['us', true], ['eu', false]]);
  });

  it('a server that takes the request but never sends a response, or stalls mid-body: a timeout too', async () => {
    for (const context of ['us-frozen-http', 'us-stalled-body']) {
      const { error, ms } = await failure(() => clientFor(context).list('v1', 'ConfigMap', NS));
      expect(ms, context).toBeLessThan(3000);
      expect(error, context).toMatchObject({ kind: 'timeout', cluster: context, exitCode: EXIT.clusterError });
    }
  });

  it('a closed port: unreachable (ECONNREFUSED), at once', async () => {
    const { error, ms } = await failure(() => clientFor('us-refused', 5).read(configMap('anything', {})));
    expect(ms).toBeLessThan(2000);
    expect(error).toMatchObject({ kind: 'unreachable', cluster: 'us-refused', exitCode: EXIT.clusterError, unreachable: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(EastwestError.is(error)).toBe(true);
  });

  it('the relay to the real API server works (the fakes above are not failing for another reason)', async () => {
    expect((await clientFor('us-relay').read(namespace(NS)))?.metadata.name).toBe(NS);
  });
});

// ---- 4. the cluster watch ------------------------------------------------------------------------------

describe('cluster watch', () => {
  const watches: ClusterWatch[] = [];
  const exportObject = (name: string): KubeObject => ({ apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceExport', metadata: { name, namespace: NS } });

  beforeAll(async () => {
    // A bare lab has no MCS CRDs (`eastwest apply` installs them): install them for this test, and
    // remove them afterwards only if this run created them.
    const crds = await mcsCrds();
    const missing: KubeObject[] = [];
    for (const crd of crds) if (!(await read(crd))) missing.push(crd);
    if (missing.length) {
      createdCrds = true;
      for (const crd of missing) await client.apply(crd);
    }
    const established = await pollUntil(30, 250, async () => {
      for (const crd of crds) {
        const live = (await read(crd)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
        if (!live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return undefined;
      }
      // Served: a fresh client (its own discovery) can list ServiceExports in the namespace.
      const fresh = new KubeClient(config(), { cluster: 'us' });
      return fresh.objects.list('multicluster.x-k8s.io/v1alpha1', 'ServiceExport', NS).then(() => true, () => undefined);
    });
    expect(established, 'MCS CRDs established and served').toBe(true);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(watches.map((w) => w.stop()));
  });

  function watch(context: string, kubeconfig: KubeconfigSource, requestTimeoutSeconds: number) {
    const changes = { count: 0, seen: [] as WatchChange[] };
    const reporter = new RecordingReporter();
    const cluster: ClusterSpec = { name: `us-${context}`, context, network: 'net-us', region: 'us', eastWestGateway: {} };
    const w = new ClusterWatch(cluster, {
      kubeconfig, requestTimeoutSeconds, reporter, onChange: (change) => {
        changes.count++;
        changes.seen.push(change);
      },
    });
    watches.push(w);
    return { w, changes, reporter };
  }

  const until = <T>(seconds: number, check: () => T | undefined | false) => pollUntil(seconds, 100, async () => check() || undefined);
  const names = (w: ClusterWatch) => w.serviceExports().filter((e) => e.metadata?.namespace === NS).map((e) => e.metadata?.name);

  it('against lab-us: live after start; a ServiceExport and a Service created are seen and fire onChange within seconds', async () => {
    const { w, changes } = watch(CONTEXT, { files: [LAB_KUBECONFIG], from: '--kubeconfig' }, 5);
    await w.start();
    expect(w.state).toBe('live');
    expect(w.synced).toBe(true);
    expect(w.lastError).toBeUndefined();

    const seen = changes.count;
    const started = Date.now();
    await client.apply(exportObject('hello'));
    await client.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: NS }, spec: { ports: [{ name: 'http', port: 80 }] } });
    expect(await until(5, () => names(w).includes('hello') && w.service(NS, 'hello') !== undefined)).toBe(true);
    expect(changes.count).toBeGreaterThan(seen);
    // Each change names the exported name it concerns (the sync controller's work-queue key).
    expect(changes.seen).toContainEqual({ cluster: `us-${CONTEXT}`, type: 'name', namespace: NS, name: 'hello' });
    expect(changes.seen).toContainEqual({ cluster: `us-${CONTEXT}`, type: 'state' });
    expect(Date.now() - started).toBeLessThan(5000);

    const beforeDelete = changes.count;
    await client.delete(exportObject('hello'));
    expect(await until(5, () => !names(w).includes('hello'))).toBe(true);
    expect(changes.count).toBeGreaterThan(beforeDelete);
    await w.stop();
  });

  it('an API server that never answers from the start: stale with the reason, and stop() ends start()', async () => {
    const { w, reporter } = watch('us-frozen', kubeconfigCopy, 1);
    const started = w.start();
    expect(await until(4, () => w.state === 'stale')).toBe(true);
    expect(w.lastError).toMatch(/timeout after 1 s/);
    expect(reporter.messages).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^us-us-frozen: stale \(unreachable \(timeout after 1 s\)/) }));
    await w.stop();
    // start() returns once its current back-off pause ends (1–2 s here), without connecting.
    const ended = await Promise.race([started.then(() => true), sleep(35_000).then(() => false)]);
    expect(ended).toBe(true);
    expect(w.client).toBeUndefined();
  });

  it('through a relay that freezes: stale (timeout) with its last-known exports kept; when it answers again, live, with what changed meanwhile', async () => {
    await client.apply(exportObject('before-freeze'));
    const { w, reporter } = watch('us-relay', kubeconfigCopy, 1);
    await w.start();
    expect(w.state).toBe('live');
    expect(await until(5, () => names(w).includes('before-freeze'))).toBe(true);

    relay.freeze();
    try {
      // The heartbeat (every 2 s, 1 s deadline) finds it.
      expect(await until(6, () => w.state === 'stale')).toBe(true);
      expect(w.lastError).toMatch(/timeout after 1 s\) during heartbeat/);
      expect(reporter.messages.some((m) => m.level === 'warn' && /us-us-relay: stale \(.*timeout.*\); its last-known exports stay routed/.test(m.message))).toBe(true);
      // Changes meanwhile are not seen; what was known stays.
      await client.apply(exportObject('during-freeze'));
      await sleep(1000);
      expect(names(w)).toContain('before-freeze');
      expect(names(w)).not.toContain('during-freeze');
    } finally {
      relay.heal();
    }
    const healed = Date.now();
    expect(await until(10, () => w.state === 'live')).toBe(true);
    expect(Date.now() - healed).toBeLessThan(4000);
    expect(await until(5, () => names(w).includes('during-freeze'))).toBe(true);
    expect(names(w)).toContain('before-freeze');
    await w.stop();
  });

  it('through a relay whose connections are cut (reset): stale (unreachable), and after it heals, live with what changed meanwhile', async () => {
    const { w } = watch('us-relay', kubeconfigCopy, 1);
    await w.start();
    expect(w.state).toBe('live');

    relay.cut();
    try {
      // The watches end at once (reset): the informers restart with back-off.
      expect(await until(5, () => w.state === 'stale')).toBe(true);
      expect(w.lastError).toMatch(/unreachable \((ECONNRESET|EPIPE|ECONNREFUSED|UND_ERR_SOCKET)\)/);
      await client.delete(exportObject('before-freeze'));
      await client.apply(exportObject('during-cut'));
      // Long enough for the restarts' back-off to grow past the heartbeat period (1 + 2 + 4 s, then 8 s).
      await sleep(9000);
      expect(names(w)).toContain('before-freeze');
      expect(names(w)).not.toContain('during-cut');
    } finally {
      relay.heal();
    }
    // Back within a heartbeat (2 s) and a start, not after the back-off pause that was under way.
    const healed = Date.now();
    expect(await until(20, () => w.state === 'live')).toBe(true);
    expect(Date.now() - healed).toBeLessThan(4000);
    expect(await until(5, () => names(w).includes('during-cut') && !names(w).includes('before-freeze'))).toBe(true);
    await w.stop();
  });
  it('cut, then connections taken and never answered (a half-up API server), then healed: live again (a restart never waits without a deadline)', async () => {
    const { w } = watch('us-relay', kubeconfigCopy, 1);
    await w.start();
    expect(w.state).toBe('live');
    relay.cut();
    try {
      expect(await until(5, () => w.state === 'stale')).toBe(true);
      relay.swallow(); // what connects now is taken and never answered, even after the heal
      await sleep(5000);
      expect(w.state).toBe('stale');
    } finally {
      relay.heal();
    }
    expect(await until(20, () => w.state === 'live')).toBe(true);
    await w.stop();
  });
});
