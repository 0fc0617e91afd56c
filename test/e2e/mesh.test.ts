// The mission in the lab (issue 4, and the policy half of issue 5): Helm-only Istio on both clusters,
// east-west gateways, cross-cluster routing in both federation modes, verify green; idempotent apply;
// an apply killed half-way converges when re-run; --dry-run changes nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMesh, type ApplyResult } from '../../src/apply/apply-mesh.ts';
import { deployedRelease } from '../../src/apply/helm.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { verifyMesh } from '../../src/verify/verify-mesh.ts';
import { doctorMesh } from '../../src/doctor/doctor-mesh.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { noGatewayLoop } from './gateway-probes.ts';

const root = join(import.meta.dirname, '../..');
const serviceEntrySpec = join(root, 'examples/lab.yaml');
const endpointDiscoverySpec = join(root, 'examples/lab-endpoint-discovery.yaml');
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
const apply = async (file: string, dryRun = false) => applyMesh({ file, kubeconfig: LAB_KUBECONFIG, helm: await helm(), dryRun, timeoutSeconds: 300 }, silentReporter);
const changed = (result: ApplyResult) => result.clusters.flatMap((c) => (c.ok ? c.value.changes.filter((x) => x.action !== 'unchanged').map((x) => `${c.cluster}:${x.action}:${x.ref}`) : [`${c.cluster}:error:${c.error}`]));
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);

async function verifyGreen(file: string) {
  const result = await verifyMesh({ file, kubeconfig: LAB_KUBECONFIG, requests: 200 }, silentReporter);
  for (const check of result.checks) log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.id} ${JSON.stringify(check.figures)} ${check.detail ?? ''}`);
  return result;
}

describe('eastwest apply + verify in the lab', () => {
  it('apply --dry-run on a fresh lab changes nothing and says what would change', async () => {
    const target = { binary: await helm(), kubeconfig: { files: [LAB_KUBECONFIG], from: '--kubeconfig' }, context: 'lab-us' };
    const before = await deployedRelease(target, 'istiod', 'istio-system');
    const namespaceBefore = (await kubectl('lab-us', ['get', 'ns', 'istio-system', '-o', 'jsonpath={.metadata.resourceVersion}'], { okCodes: [0, 1] })).stdout;
    const result = await apply(serviceEntrySpec, true);
    expect(result.ok).toBe(true);
    expect(result.dryRun).toBe(true);
    // Whatever the lab holds (a fresh one, or one an earlier file applied to): the plan says what apply
    // would do with istiod, and the dry run changed nothing.
    const istiodPlan = result.clusters.find((c) => c.cluster === 'us')!;
    const planned = istiodPlan.ok ? istiodPlan.value.changes.find((c) => c.ref === 'HelmRelease/istio-system/istiod')?.action : 'failed';
    if (before === undefined) expect(planned).toBe('created');
    else expect(['unchanged', 'configured']).toContain(planned);
    expect(await deployedRelease(target, 'istiod', 'istio-system')).toEqual(before);
    expect((await kubectl('lab-us', ['get', 'ns', 'istio-system', '-o', 'jsonpath={.metadata.resourceVersion}'], { okCodes: [0, 1] })).stdout).toBe(namespaceBefore);
  });

  it('an apply killed half-way, run again, converges and verifies green (service-entry mode)', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'apply', '-f', serviceEntrySpec, '--kubeconfig', LAB_KUBECONFIG], { stdio: 'ignore' });
    // Kill it while Helm is installing istiod (or after 40 s, whichever comes first).
    const target = { binary: await helm(), kubeconfig: { files: [LAB_KUBECONFIG], from: '--kubeconfig' }, context: 'lab-us' };
    while (Date.now() - started < 40_000 && child.exitCode === null) {
      const istiod = await deployedRelease(target, 'istiod', 'istio-system').catch(() => undefined);
      if (istiod) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // It was really interrupted: still running when killed.
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    log(`killed apply after ${Math.round((Date.now() - started) / 1000)} s`);
    const result = await apply(serviceEntrySpec);
    expect(changed(result).filter((c) => c.includes(':error:'))).toEqual([]);
    expect(result.ok).toBe(true);
    log(`apply converged in ${result.seconds} s; gateways ${result.clusters.map((c) => (c.ok ? `${c.cluster}=${c.value.gatewayAddress}` : c.cluster)).join(' ')}`);
    const verified = await verifyGreen(serviceEntrySpec);
    log(`apply start → verify green: ${Math.round((Date.now() - started) / 1000)} s`);
    // Checks between clusters run from each cluster: every ordered pair is proved.
    expect(verified.checks.map((c) => [c.id, c.cluster ?? '-', c.ok])).toEqual([
      ['cross-cluster-via-gateway', 'us', true], ['cross-cluster-via-gateway', 'eu', true], ['local-preference', 'us', true], ['local-preference', 'eu', true],
      ['sync-controller', '-', true], ['strict-mtls', '-', true], ['failover', 'us', true], ['failover', 'eu', true], ['observability', '-', true],
    ]);
    const cross = verified.checks.find((c) => c.id === 'cross-cluster-via-gateway' && c.cluster === 'us')!;
    expect(cross.figures['eu.answered']).toBe('5/5');
    expect(cross.figures['eu.gatewayEndpoints']).toMatch(/^198\.18\.2\.\d+:15443$/);
    expect(verified.checks.find((c) => c.id === 'cross-cluster-via-gateway' && c.cluster === 'eu')!.figures['us.answered']).toBe('5/5');
    expect(verified.pairs.map((p) => `${p.check} ${p.from}→${p.to} ${p.ok}`).sort()).toEqual([
      'cross-cluster-via-gateway eu→us true', 'cross-cluster-via-gateway us→eu true', 'failover eu→us true', 'failover us→eu true',
    ]);
    expect(verified.pairs.find((p) => p.check === 'cross-cluster-via-gateway' && p.from === 'eu')!.figures).toMatchObject({ answered: '5/5' });
    expect(verified.ok).toBe(true);
  });

  it('a second apply reports no changes', async () => {
    const result = await apply(serviceEntrySpec);
    expect(result.ok).toBe(true);
    expect(changed(result)).toEqual([]);
  });

  it('identity survives the hop: the US client (sa client) gets 200 from EU echo, a US pod with another service account gets 403', async () => {
    const call = (app: string) => kubectl('lab-us', ['exec', '-n', 'echo', `deploy/${app}`, '-c', 'client', '--', 'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://echo.eu.mesh.local/'], { okCodes: [0, 6, 22, 56] });
    expect((await call('client')).stdout).toBe('200');
    expect((await call('client-other')).stdout).toBe('403');
  });

  it('endpoint-discovery mode: remote secrets without istioctl, echo.echo.svc.cluster.local spans clusters, verify green', async () => {
    const result = await apply(endpointDiscoverySpec);
    expect(result.ok).toBe(true);
    expect(changed(result)).toEqual(expect.arrayContaining(['us:created:Secret/istio-system/istio-remote-secret-eu', 'us:deleted:ServiceEntry/echo/echo-eu']));
    const secret = JSON.parse((await kubectl('lab-us', ['get', 'secret', '-n', 'istio-system', 'istio-remote-secret-eu', '-o', 'json'])).stdout);
    expect(secret.metadata.labels['istio/multiCluster']).toBe('true');
    expect(Buffer.from(secret.data.eu, 'base64').toString()).toContain('server: https://198.18.0.11:6443');
    let verified = await verifyGreen(endpointDiscoverySpec);
    for (let i = 0; i < 10 && !verified.ok; i++) {
      await new Promise((r) => setTimeout(r, 3000)); // istiod picks up the remote cluster asynchronously
      verified = await verifyGreen(endpointDiscoverySpec);
    }
    expect(verified.checks.map((c) => [c.id, c.cluster ?? '-', c.ok])).toEqual([
      ['endpoint-discovery', 'us', true], ['endpoint-discovery', 'eu', true], ['local-preference', 'us', true], ['local-preference', 'eu', true],
      ['strict-mtls', '-', true], ['failover', 'us', true], ['failover', 'eu', true], ['observability', '-', true],
    ]);
    expect(verified.pairs.filter((p) => p.check === 'endpoint-discovery').map((p) => `${p.from}→${p.to} ${p.ok}`).sort()).toEqual(['eu→us true', 'us→eu true']);
    // doctor in this mode, the sync controller off (this spec does not run it): no false alarm.
    const doctor = await doctorMesh({ file: endpointDiscoverySpec, kubeconfig: LAB_KUBECONFIG, waitSeconds: 60 }, silentReporter);
    const alarms = doctor.results.flatMap((r) => r.findings).filter((f) => f.severity !== 'info').map((f) => `${f.check} ${f.cluster}: ${f.message}`);
    log(`doctor in endpoint-discovery mode: exit ${doctor.exitCode} in ${doctor.seconds} s ${alarms.join('; ')}`);
    expect(alarms).toEqual([]);
    expect(doctor.exitCode).toBe(0);
    // With echo down in every cluster, no gateway sends to another in this mode either.
    await noGatewayLoop(['http://echo.echo.svc.cluster.local/']);
    // verify's own probes in this mode: one namespace of the same name in each cluster, found by endpoint discovery.
    const own = await verifyMesh({ file: endpointDiscoverySpec, kubeconfig: LAB_KUBECONFIG, requests: 50, probes: 'own' }, silentReporter);
    for (const check of own.checks) log(`own probes: ${check.ok ? 'ok  ' : 'FAIL'} ${check.id} ${JSON.stringify(check.figures)} ${check.detail ?? ''}`);
    expect(own.workload?.mode).toBe('own');
    expect(own.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
    expect(own.pairs.filter((p) => p.ok).map((p) => `${p.check} ${p.from}→${p.to}`).sort()).toEqual(['endpoint-discovery eu→us', 'endpoint-discovery us→eu', 'failover eu→us', 'failover us→eu']);
    expect(own.workload?.removal?.every((r) => r.gone)).toBe(true);
    // Back to the guide's mode: the remote secrets are pruned.
    const back = await apply(serviceEntrySpec);
    expect(changed(back)).toEqual(expect.arrayContaining(['us:deleted:Secret/istio-system/istio-remote-secret-eu']));
  });
});
