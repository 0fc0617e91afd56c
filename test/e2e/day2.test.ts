// Day-2 operations under load (issue 17): fortio in every cluster sends requests along us→eu, eu→us and
// local streams while an operation runs, and every request that did not answer 200 is counted. The
// figure is the proof: 0 failed. The load's pods live in a namespace of their own, outside the ones an
// operation restarts. Self-contained: it applies what it needs and removes its load generators.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { scaleDeployment, waitDeploymentReady } from '../../src/k8s/deployments.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { envoyClusterEndpoints, readyPod } from '../../src/verify/mesh-probes.ts';
import { pollUntil, sleep } from '../../src/util/poll.ts';
import { root, runCli } from './cli-run.ts';
import { deployLoadGenerators, describeResults, labStreams, LOAD_NAMESPACE, type LoadGenerators, type StreamResult } from './load-generator.ts';

const spec = join(root, 'examples/lab.yaml');
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const us = loadKubeConfig('lab-us', LAB_KUBECONFIG);
const eu = loadKubeConfig('lab-eu', LAB_KUBECONFIG);
const QPS = 20;

let load: LoadGenerators;

/** After an operation: doctor finds nothing and diff no drift. */
async function expectDoctorAndDiffClean(): Promise<void> {
  const doctor = await runCli(['doctor', '-f', spec, '-o', 'json']);
  expect(doctor.code, doctor.stdout.slice(0, 2000)).toBe(0);
  const diff = await runCli(['diff', '-f', spec]);
  expect(diff.code, diff.stdout).toBe(0);
}

function expectNoFailures(results: StreamResult[], minimumPerStream: number): void {
  for (const r of results) {
    expect(r.sent, `${r.name}: requests sent`).toBeGreaterThanOrEqual(minimumPerStream);
    expect(r.failed, `${r.name}: ${describeResults([r])}`).toBe(0);
  }
}

describe('day-2 under load: 0 failed requests', () => {
  beforeAll(async () => {
    const helm = join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
    const applied = await applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm, timeoutSeconds: 300 }, silentReporter);
    expect(applied.ok).toBe(true);
    load = await deployLoadGenerators(new Map([['us', us], ['eu', eu]]), { trustDomain: 'corp.local', servedNamespace: 'echo' });
    await load.waitServing(labStreams());
  }, 420_000);

  afterAll(async () => {
    await load?.remove();
  }, 180_000);

  // us→eu and eu's own stream keep flowing while us's echo is gone; us's local stream fails over to eu and
  // comes back. (eu→us names us's instance itself: with none left it has nothing to answer, by design.)
  const failoverStreams = () => labStreams().filter((s) => s.name !== 'eu→us').concat({ name: 'eu local', from: 'eu', url: 'http://echo.echo.svc.cluster.local/' });

  for (const round of [1, 2]) {
    it(`round ${round}: us's echo scaled to zero and back while traffic flows (failover and return)`, async () => {
      const client = await readyPod(us, LOAD_NAMESPACE, 'app=fortio');
      const running = await load.start(failoverStreams(), QPS);
      await sleep(5000);
      const before = await scaleDeployment(us, 'echo', 'echo', 0);
      // Failed over: the us load pod's proxy has no us endpoint left for echo.
      const away = await pollUntil(60, 500, async () => ((await envoyClusterEndpoints(us, LOAD_NAMESPACE, client, 'outbound|80||echo.echo.svc.cluster.local')).every((e) => e.region !== 'us') ? true : undefined));
      await sleep(5000);
      await scaleDeployment(us, 'echo', 'echo', before);
      await waitDeploymentReady(us, 'echo', 'echo', 180);
      // Returned: a us endpoint is back in the proxy's view.
      const back = await pollUntil(60, 500, async () => ((await envoyClusterEndpoints(us, LOAD_NAMESPACE, client, 'outbound|80||echo.echo.svc.cluster.local')).some((e) => e.region === 'us') ? true : undefined));
      await sleep(5000);
      const results = await running.stop();
      log(`failover round ${round}: ${describeResults(results)}`);
      expect(away).toBe(true);
      expect(back).toBe(true);
      expectNoFailures(results, 200);
    }, 300_000);
  }

  it('ca rotate --intermediates --restart: new intermediates in both clusters, workloads moved now; doctor and diff clean after', async () => {
    const running = await load.start(labStreams(), QPS);
    await sleep(3000);
    const rotation = await runCli(['ca', 'rotate', '-f', spec, '--intermediates', '--restart', '-o', 'json'], 900_000);
    await sleep(5000);
    const results = await running.stop();
    log(`rotation: exit ${rotation.code} in ${rotation.seconds} s; ${describeResults(results)}`);
    expect(rotation.code, rotation.stderr).toBe(0);
    const r = JSON.parse(rotation.stdout);
    for (const cluster of ['us', 'eu']) {
      const c = r.clusters.find((x: { cluster: string }) => x.cluster === cluster);
      expect(c.ok).toBe(true);
      expect(c.value.new.fingerprint).not.toBe(c.value.old.fingerprint);
      // Every restarted workload's proxies now hold the new chain; the echo namespace has no proxy left on the old one.
      expect(c.value.restarted.map((x: { deployment: string }) => x.deployment)).toEqual(expect.arrayContaining(['client', 'echo']));
      const echoProxies = c.value.proxies.filter((p: { namespace: string }) => p.namespace === 'echo');
      expect(echoProxies.length).toBeGreaterThan(0);
      expect(echoProxies.filter((p: { chain?: { holds: string } }) => p.chain?.holds !== 'new')).toEqual([]);
      // The load generators were not restarted: they still hold the old chain, and say when they renew.
      const loadProxies = c.value.proxies.filter((p: { namespace: string }) => p.namespace === 'eastwest-load');
      expect(loadProxies.every((p: { chain?: { holds: string; renewsAt: string } }) => p.chain?.holds === 'old' && Date.parse(p.chain.renewsAt) > Date.now())).toBe(true);
    }
    expectNoFailures(results, 300);
    await expectDoctorAndDiffClean();
  }, 1_000_000);

  it('ca rotate --root: killed while waiting for phase 1 (written everywhere) and resumed, which waits for phase 1 first; 0 failed requests; --status per cluster; doctor and diff clean after, the CA directory holding the new root', async () => {
    const rootBefore = readFileSync(join(root, 'examples/.eastwest/pki/root-cert.pem'), 'utf8');
    const running = await load.start(labStreams(), QPS);
    await sleep(3000);
    // First run: killed (SIGKILL, no chance to tidy up) once phase 1 is written to every cluster, while it waits.
    const child = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'ca', 'rotate', '-f', spec, '--root'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const killed = await new Promise<boolean>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if ((stderr.match(/phase 1: \w+'s cacerts written/g) ?? []).length === 2 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve(true);
        }
      });
      child.on('close', () => resolve(false));
    });
    await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.on('close', r) : r(undefined)));
    log(`root rotation, first run: ${killed ? 'killed waiting for phase 1' : 'ended by itself'}`);
    expect(killed, stderr).toBe(true);
    const status = await runCli(['ca', 'rotate', '-f', spec, '--root', '--status', '-o', 'json']);
    expect(status.code, status.stderr).toBe(0);
    const phases = JSON.parse(status.stdout).clusters.map((c: { phase: number }) => c.phase);
    log(`status after the kill: ${JSON.stringify(JSON.parse(status.stdout).clusters)}`);
    expect(phases).toEqual([1, 1]);
    // While it is under way, apply leaves cacerts alone and says so.
    const apply = await runCli(['apply', '-f', spec, '-o', 'json']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/rotation/);
    expect(JSON.parse(apply.stdout).clusters.flatMap((c: { value?: { changes: { ref: string; action: string }[] } }) => c.value?.changes ?? []).filter((x: { ref: string; action: string }) => x.ref === 'Secret/istio-system/cacerts' && x.action !== 'unchanged')).toEqual([]);
    // Resumed: the same command finishes it.
    const resumed = await runCli(['ca', 'rotate', '-f', spec, '--root', '-o', 'json'], 900_000);
    await sleep(5000);
    const results = await running.stop();
    log(`root rotation resumed: exit ${resumed.code} in ${resumed.seconds} s (${(JSON.parse(resumed.stdout || '{}').phases ?? []).map((p: { phase: number; seconds: number }) => `phase ${p.phase} ${p.seconds} s`).join(', ')}); ${describeResults(results)}`);
    expect(resumed.code, resumed.stderr).toBe(0);
    const r = JSON.parse(resumed.stdout);
    expect(r.done).toBe(true);
    // Phase 1 was written everywhere but never seen reached: the resumed run waits for it before phase 2.
    expect(r.phases.map((p: { phase: number }) => p.phase)).toEqual([1, 2, 3]);
    expect(resumed.stderr).toMatch(/phase 1: written everywhere by an earlier run; waiting until it is reached/);
    expect(r.clusters.map((c: { phase: number }) => c.phase)).toEqual([3, 3]);
    expect(readFileSync(join(root, 'examples/.eastwest/pki/root-cert.pem'), 'utf8')).not.toBe(rootBefore);
    expectNoFailures(results, 1000);
    const after = await runCli(['ca', 'rotate', '-f', spec, '--root', '--status', '-o', 'json']);
    expect(JSON.parse(after.stdout).clusters.map((c: { phase: number }) => c.phase)).toEqual([0, 0]);
    await expectDoctorAndDiffClean();
  }, 1_500_000);

  it('ca rotate without --intermediates, or with a CA directory that has no root key: exit 2, cacerts untouched', async () => {
    const cacerts = async () => (await us.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'cacerts', namespace: 'istio-system' })).metadata?.resourceVersion;
    const before = await cacerts();
    const bare = await runCli(['ca', 'rotate', '-f', spec]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--intermediates/);
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-rotate-'));
    const elsewhere = join(dir, 'mesh.yaml');
    writeFileSync(elsewhere, readFileSync(spec, 'utf8').replace(/^ {2}clusters:/m, `  pki:\n    directory: ${join(dir, 'no-ca')}\n  clusters:`));
    const keyless = await runCli(['ca', 'rotate', '-f', elsewhere, '--intermediates']);
    expect(keyless.code, keyless.stderr).toBe(2);
    expect(keyless.stderr).toMatch(/no root key/);
    expect(keyless.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await cacerts()).toBe(before);
  });
});
