// Issue 10 in the lab: the sync controller — in-cluster, as examples/lab.yaml runs it (two replicas per
// cluster, one acting) — routes a Service exported with an MCS ServiceExport from every other cluster as
// <svc>.<ns>.svc.clusterset.local within seconds, stops routing it within seconds of the unexport, prefers
// the local export and fails over, scopes it to the namespaces it is exported to, survives a frozen API
// server and the loss of its acting replica; a bad export gets a condition. The foreground controller
// (`eastwest sync`) is SIGKILLed mid-reconcile and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG, readNodeStates } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { kubectl, kubectlBinary } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';
import { curlFromUs } from './gateway-probes.ts';
import { exportOf, helloManifest } from './mcs-workload.ts';
import { secondsUntilAnswer } from './route-timer.ts';

const spec = join(root, 'examples/lab.yaml');
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const URL = 'http://hello.shop.svc.clusterset.local/';
let sync: ChildProcess | undefined;
let syncLog = '';

const K = (context: string) => ({ lease: async () => (await kubectl(context, ['get', 'lease', '-n', 'eastwest-system', 'eastwest-sync', '-o', 'jsonpath={.spec.holderIdentity}'], { okCodes: [0, 1] })).stdout.trim() });
const runningPods = async (context: string) => (await kubectl(context, ['get', 'pods', '-n', 'eastwest-system', '-l', 'app.kubernetes.io/name=eastwest-sync', '--field-selector', 'status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.trim().split(/\s+/).filter(Boolean);
/** Seconds until a running replica of the in-cluster controller holds the lease in `context`. */
const leaderIn = async (context: string, limit = 120) => secondsUntil(limit, async () => {
  const holder = await K(context).lease();
  return holder !== '' && (await runningPods(context)).includes(holder);
});
const scaleInCluster = async (replicas: number) => {
  for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['scale', '-n', 'eastwest-system', 'deploy/eastwest-sync', `--replicas=${replicas}`]);
  if (replicas === 0) {
    for (const context of ['lab-us', 'lab-eu']) expect(await secondsUntil(60, async () => (await kubectl(context, ['get', 'pods', '-n', 'eastwest-system', '-o', 'name'])).stdout.trim() === '')).toBeDefined();
  }
};

/** Starts `eastwest sync` (foreground) and waits until it watches both clusters. */
async function startSync(): Promise<void> {
  const before = syncLog.length;
  sync = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'sync', '-f', spec, '--kubeconfig', LAB_KUBECONFIG, '--request-timeout', '3s'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  sync.stderr!.setEncoding('utf8').on('data', (d: string) => (syncLog += d));
  const ready = await secondsUntil(120, async () => /us: watching/.test(syncLog.slice(before)) && /eu: watching/.test(syncLog.slice(before)));
  expect(ready, syncLog).toBeDefined();
}


/** Seconds until `check` holds (polled every 100 ms), or undefined after `limit` seconds. */
async function secondsUntil(limit: number, check: () => Promise<boolean>): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < limit * 1000) {
    if (await check().catch(() => false)) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
/**
 * Resolves with the first object name matching `pattern` that appears among eastwest-sync's ServiceEntries
 * in shop (a kubectl watch, so within milliseconds), or undefined after 30 s.
 */
async function watchFirstOwned(context: string, pattern: RegExp): Promise<string | undefined> {
  const child = spawn(await kubectlBinary(), ['--kubeconfig', LAB_KUBECONFIG, '--context', context, 'get', 'serviceentries', '-n', 'shop', '-l', 'app.kubernetes.io/managed-by=eastwest-sync', '--watch', '-o', 'name'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 30_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const hit = chunk.split('\n').find((line) => pattern.test(line));
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        }
      });
      child.once('exit', () => resolve(undefined));
    });
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}

/** Answered by a pod in eu (what the in-pod timer of route-timer.ts sees). */
const byEu = (answer: string) => /^region=eu /.test(answer);
const answeredBy = async (url = URL) => /^region=(\S+)/.exec((await curlFromUs(url)).stdout)?.[1];
const secondService = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}\n`;
const ownedInUs = async () => (await kubectl('lab-us', ['get', 'serviceentries,workloadentries,destinationrules,serviceimports', '-A', '-l', 'app.kubernetes.io/managed-by=eastwest-sync', '-o', 'name'])).stdout.trim().split('\n').filter(Boolean).sort();

describe('sync: MCS ServiceExport → routed from every cluster', () => {
  beforeAll(async () => {
    const applied = await applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    expect(applied.ok).toBe(true);
    for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=true'], { timeoutMs: 180_000 });
    for (const context of ['lab-us', 'lab-eu']) expect(await leaderIn(context), `no acting sync controller in ${context}`).toBeDefined();
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: helloManifest('eu', 'eu') });
    await kubectl('lab-eu', ['rollout', 'status', '-n', 'shop', 'deploy/hello', '--timeout=180s'], { timeoutMs: 200_000 });
  });

  afterAll(async () => {
    if (sync && sync.exitCode === null) {
      sync.kill('SIGTERM');
      await new Promise((r) => sync?.once('exit', r));
    }
    // A failed run must not leave the in-cluster controllers scaled to zero.
    for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['scale', '-n', 'eastwest-system', 'deploy/eastwest-sync', '--replicas=2']);
    for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=false']);
    log(`sync log:\n${syncLog.split('\n').slice(-15).join('\n')}`);
  });

  it('a ServiceExport in lab-eu: the US client gets region=eu from hello.shop.svc.clusterset.local within 3 s; the export says Valid and Ready (its gateway routes it)', async () => {
    expect(await answeredBy()).toBeUndefined();
    const { seconds } = await secondsUntilAnswer(URL, () => kubectl('lab-eu', ['apply', '-f', '-'], { input: exportOf('hello') }), byEu, 30);
    log(`export → routable from us: ${seconds} s`);
    expect(seconds).toBeDefined();
    expect(seconds!).toBeLessThan(3);
    const status = JSON.parse((await kubectl('lab-eu', ['get', 'serviceexport', '-n', 'shop', 'hello', '-o', 'json'])).stdout).status;
    expect(status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(['Valid=True', 'Conflict=False', 'Ready=True']);
    // Asked of eu's gateway as a peer's sidecar asks: the workload behind it answered with its identity.
    expect(status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ reason: 'GatewayServes', message: expect.stringContaining('spiffe://corp.local/ns/shop/sa/') });
    const imported = JSON.parse((await kubectl('lab-us', ['get', 'serviceimport', '-n', 'shop', 'hello', '-o', 'json'])).stdout);
    expect(imported.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP' }]);
  });

  it('exported from us too: answered locally; with the local one at zero replicas, eu answers', async () => {
    await kubectl('lab-us', ['apply', '-f', '-'], { input: `${helloManifest('us', 'us')}---\n${exportOf('hello')}` });
    await kubectl('lab-us', ['rollout', 'status', '-n', 'shop', 'deploy/hello', '--timeout=180s'], { timeoutMs: 200_000 });
    expect(await secondsUntil(30, async () => (await answeredBy()) === 'us')).toBeDefined();
    const answers = await Promise.all(Array.from({ length: 10 }, () => answeredBy()));
    expect(answers.every((a) => a === 'us')).toBe(true);
    await kubectl('lab-us', ['scale', '-n', 'shop', 'deploy/hello', '--replicas=0']);
    const failover = await secondsUntil(30, async () => (await answeredBy()) === 'eu');
    log(`local export scaled to zero → answered by eu after ${failover} s`);
    expect(failover).toBeDefined();
    await kubectl('lab-us', ['delete', '-n', 'shop', 'serviceexport', 'hello']);
  });

  it('a ServiceExport of a Service that does not exist says why (Valid=False, NoService) and routes nothing; the others are unaffected', async () => {
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: exportOf('ghost') });
    const seconds = await secondsUntil(15, async () => {
      const status = JSON.parse((await kubectl('lab-eu', ['get', 'serviceexport', '-n', 'shop', 'ghost', '-o', 'json'])).stdout).status;
      return status?.conditions?.some((c: { type: string; status: string; reason: string }) => c.type === 'Valid' && c.status === 'False' && c.reason === 'NoService') === true;
    });
    expect(seconds).toBeDefined();
    expect((await kubectl('lab-us', ['get', 'serviceentry', '-n', 'shop', 'ghost-clusterset'], { okCodes: [1] })).code).toBe(1);
    expect(await answeredBy()).toBe('eu');
    await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'ghost']);
  });

  it('scoped: an export annotated "." reaches only its own namespace (the echo client gets no answer); annotated echo, it does', async () => {
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: `${secondService('private')}---\n${exportOf('private', '.')}` });
    const routed = await secondsUntil(15, async () => (await kubectl('lab-us', ['get', 'serviceentry', '-n', 'shop', 'private-clusterset', '-o', 'jsonpath={.spec.exportTo}'], { okCodes: [0, 1] })).stdout === '[".","istio-system"]');
    expect(routed).toBeDefined();
    // istiod has pushed it: the US east-west gateway (in its scope) knows the name, so the echo client's
    // proxy, pushed with the same version, would have it too if it were in scope.
    const pushed = await secondsUntil(15, async () => (await kubectl('lab-us', ['exec', '-n', 'istio-system', 'deploy/istio-eastwestgateway', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'clusters'])).stdout.includes('private.shop.svc.clusterset.local'));
    expect(pushed).toBeDefined();
    expect(await answeredBy('http://private.shop.svc.clusterset.local/')).toBeUndefined();
    expect(await answeredBy()).toBe('eu');
    await kubectl('lab-eu', ['annotate', '--overwrite', '-n', 'shop', 'serviceexport', 'private', 'eastwest.dev/export-to=echo']);
    const opened = await secondsUntil(15, async () => (await answeredBy('http://private.shop.svc.clusterset.local/')) === 'eu');
    log(`export-to annotation set to echo → answered from us after ${opened} s`);
    expect(opened).toBeDefined();
    await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'private']);
  });

  it('the acting replica deleted: the other replica takes the lease and routes a new export; sync status has both controllers\' reports', async () => {
    const before = await K('lab-us').lease();
    const deleted = Date.now();
    await kubectl('lab-us', ['delete', 'pod', '-n', 'eastwest-system', before, '--wait=false']);
    const tookOver = await secondsUntil(60, async () => {
      const holder = await K('lab-us').lease();
      return holder !== '' && holder !== before;
    });
    log(`acting replica deleted → the other holds the lease after ${tookOver} s`);
    expect(tookOver).toBeDefined();
    try {
      let created = 0;
      const { seconds: routed, attempts } = await secondsUntilAnswer('http://after-takeover.shop.svc.clusterset.local/', async () => {
        await kubectl('lab-eu', ['apply', '-f', '-'], { input: `${secondService('after-takeover')}---\n${exportOf('after-takeover')}` });
        created = Date.now();
      }, byEu, 30);
      log(`export after the takeover (${Math.round((created - deleted) / 100) / 10} s after the delete) → routable from us: ${routed} s`);
      if (routed === undefined || routed >= 2) {
        // What the client got meanwhile (a name not resolved, 503 without endpoints, a reset by the gateway …).
        log(`attempts: ${attempts.filter((a) => a.at >= created - 200).map((a) => `${((a.at - created) / 1000).toFixed(2)} ${a.answer.slice(-60) || 'failed'}`).join(' | ')}`);
        for (const pod of [...await runningPods('lab-eu')]) log(`eu ${pod}:\n${(await kubectl('lab-eu', ['logs', '-n', 'eastwest-system', pod, '--timestamps', '--since=60s'])).stdout}`);
        for (const pod of await runningPods('lab-us')) log(`${pod}:\n${(await kubectl('lab-us', ['logs', '-n', 'eastwest-system', pod, '--timestamps'])).stdout}`);
      }
      expect(routed).toBeDefined();
      expect(routed!).toBeLessThan(3);
      const status = JSON.parse((await runCli(['sync', 'status', '-f', spec, '-o', 'json'])).stdout);
      expect(status.reports.map((r: { readFrom: string; writes: string[] }) => `${r.readFrom}:${r.writes.join(',')}`).sort()).toEqual(['eu:eu', 'us:us']);
    } finally {
      await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'after-takeover', '--ignore-not-found']);
    }
  });

  it('lab-eu API frozen 30 s: US keeps reaching hello, sync status says eu is stale; an export made a second after the thaw is routed within 3 s', async () => {
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: secondService('hello2') });
    const pid = readNodeStates().find((n) => n.cluster === 'eu')!.pids['kube-apiserver']!;
    process.kill(pid, 'SIGSTOP');
    let thawed = false;
    try {
      const started = Date.now();
      let answered = 0;
      let asked = 0;
      let staleSeen = false;
      while (Date.now() - started < 30_000) {
        asked++;
        if ((await answeredBy()) === 'eu') answered++;
        if (!staleSeen && Date.now() - started > 10_000) {
          const status = await runCli(['sync', 'status', '-f', spec, '--request-timeout', '2s', '-o', 'json']);
          staleSeen = JSON.parse(status.stdout).report?.clusters?.some((c: { cluster: string; state: string }) => c.cluster === 'eu' && c.state === 'stale') === true;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      log(`eu frozen 30 s: ${answered}/${asked} requests from us answered by eu; sync status said eu stale: ${staleSeen}`);
      expect(answered).toBe(asked);
      expect(staleSeen).toBe(true);
      process.kill(pid, 'SIGCONT');
      thawed = true;
      await new Promise((r) => setTimeout(r, 1000));
      const { seconds } = await secondsUntilAnswer('http://hello2.shop.svc.clusterset.local/', () => kubectl('lab-eu', ['apply', '-f', '-'], { input: exportOf('hello2') }), byEu, 30);
      log(`export made 1 s after the thaw → routable from us: ${seconds} s`);
      if (seconds === undefined || seconds >= 2) {
        for (const pod of await runningPods('lab-us')) log(`${pod}:\n${(await kubectl('lab-us', ['logs', '-n', 'eastwest-system', pod, '--timestamps', '--since=90s'])).stdout}`);
      }
      expect(seconds).toBeDefined();
      expect(seconds!).toBeLessThan(3);
    } finally {
      if (!thawed) process.kill(pid, 'SIGCONT');
    }
  });

  it('the foreground controller SIGKILLed mid-reconcile and restarted: no orphaned or duplicated objects, apply\'s diff clean', async () => {
    // The in-cluster controllers step aside (scaled to zero) while `eastwest sync` runs from here.
    await scaleInCluster(0);
    await startSync();
    for (const name of ['k1', 'k2', 'k3']) await kubectl('lab-eu', ['apply', '-f', '-'], { input: secondService(name) });
    // Killed the moment its first write for k1–k3 lands in us (a watch, not a guess at the timing): the
    // reconcile that makes them is under way or has just ended, with their statuses still to write.
    const firstWrite = watchFirstOwned('lab-us', /\/k[123]-clusterset/);
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: ['k1', 'k2', 'k3'].map((n) => exportOf(n)).join('---\n') });
    expect(await firstWrite, 'the controller wrote an import of k1–k3').toBeDefined();
    sync!.kill('SIGKILL');
    await new Promise((r) => sync!.once('exit', r));
    log(`killed with ${(await ownedInUs()).filter((n) => /\/k[123](-clusterset)?(-eu)?$/.test(n)).length} of 12 objects of k1–k3 in us`);
    // While it is down: one export goes away, another comes.
    await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'k2']);
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: `${secondService('k4')}---\n${exportOf('k4')}` });
    await startSync();
    const expected = ['hello', 'hello2', 'k1', 'k3', 'k4'].flatMap((n) => [`destinationrule.networking.istio.io/${n}-clusterset`, `serviceentry.networking.istio.io/${n}-clusterset`, `serviceimport.multicluster.x-k8s.io/${n}`, `workloadentry.networking.istio.io/${n}-clusterset-eu`]).sort();
    const converged = await secondsUntil(30, async () => JSON.stringify(await ownedInUs()) === JSON.stringify(expected));
    log(`restarted controller converged in ${converged} s`);
    expect(await ownedInUs()).toEqual(expected);
    expect((await answeredBy('http://k4.shop.svc.clusterset.local/'))).toBe('eu');
    expect((await answeredBy('http://k2.shop.svc.clusterset.local/'))).toBeUndefined();
    sync!.kill('SIGTERM');
    await new Promise((r) => sync!.once('exit', r));
    await scaleInCluster(2);
    for (const context of ['lab-us', 'lab-eu']) expect(await leaderIn(context)).toBeDefined();
    const diff = await runCli(['diff', '-f', spec]);
    expect(diff.code, diff.stdout).toBe(0);
    for (const name of ['hello2', 'k1', 'k3', 'k4']) await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', name]);
  });

  it('deleting the ServiceExport stops the routing within 3 s', async () => {
    const { seconds } = await secondsUntilAnswer(URL, () => kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'hello']), (answer) => !/^region=/.test(answer), 30);
    log(`unexport → no longer routed from us: ${seconds} s`);
    expect(seconds).toBeDefined();
    expect(seconds!).toBeLessThan(3);
    const left = await kubectl('lab-us', ['get', 'serviceentries,workloadentries,destinationrules', '-n', 'shop', '-l', 'app.kubernetes.io/managed-by=eastwest-sync', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  });
});
