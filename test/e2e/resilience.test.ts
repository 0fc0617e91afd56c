// Issue 8 in the lab: a frozen API server (partition), a service down everywhere (no gateway loops),
// a hand-edited CA secret (masked diff, healed by apply). Self-contained: it applies what it needs.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG, readNodeStates } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';
import { curlFromUs, gatewaysReady, noGatewayLoop } from './gateway-probes.ts';

const spec = join(root, 'examples/lab.yaml');
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const curl = (url: string) => curlFromUs(url);

async function apiServerPid(cluster: string): Promise<number> {
  const pid = readNodeStates().find((n) => n.cluster === cluster)?.pids['kube-apiserver'];
  if (!pid) throw new Error(`no kube-apiserver pid for ${cluster}`);
  return pid;
}

describe('resilience', () => {
  beforeAll(async () => {
    const result = await applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    expect(result.ok).toBe(true);
  });

  it('lab-eu API frozen: diff and verify end within 30 s, exit 3, eu unreachable, us in sync; apply --clusters us changes nothing; US still reaches eu; after thaw diff is clean', async () => {
    const pid = await apiServerPid('eu');
    process.kill(pid, 'SIGSTOP');
    try {
      const diff = await runCli(['diff', '-f', spec, '-o', 'json']);
      log(`diff with eu frozen: exit ${diff.code} in ${diff.seconds} s`);
      expect(diff.seconds).toBeLessThan(30);
      expect(diff.code).toBe(3);
      const d = JSON.parse(diff.stdout);
      expect(d.unreachable).toEqual(['eu']);
      const eu = d.clusters.find((c: { cluster: string }) => c.cluster === 'eu');
      expect(eu).toMatchObject({ ok: false, unreachable: true });
      expect(eu.error).toMatch(/unreachable \(timeout after \d+ s\)/);
      expect(d.clusters.find((c: { cluster: string }) => c.cluster === 'us')).toMatchObject({ ok: true, value: { drift: [] } });
      expect(d.gateways.find((g: { cluster: string }) => g.cluster === 'eu')).toMatchObject({ source: 'last-known', address: expect.stringMatching(/^198\.18\.2\./) });
      const text = await runCli(['diff', '-f', spec]);
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(/^us {2}in sync$/m);
      expect(text.stdout).toMatch(/^eu {2}unreachable {2}unreachable \(timeout/m);

      const verify = await runCli(['verify', '-f', spec, '--requests', '20', '-o', 'json']);
      log(`verify with eu frozen: exit ${verify.code} in ${verify.seconds} s (${(JSON.parse(verify.stdout || '{}').checks ?? []).map((c: { id: string; seconds: number }) => `${c.id} ${c.seconds} s`).join(', ')})`);
      expect(verify.seconds).toBeLessThan(30);
      expect(verify.code).toBe(3);
      const v = JSON.parse(verify.stdout);
      expect(v.clusters.find((c: { cluster: string }) => c.cluster === 'eu')).toMatchObject({ ok: false, unreachable: true });
      expect(v.checks.find((c: { id: string; cluster?: string }) => c.id === 'cross-cluster-via-gateway' && c.cluster === 'us')).toMatchObject({ ok: true, figures: { 'eu.answered': '5/5' } });
      // From eu nothing could be proved: its checks say unreachable, none is passed.
      expect(v.checks.filter((c: { cluster?: string }) => c.cluster === 'eu').map((c: { status: string }) => c.status)).toEqual(expect.arrayContaining(['unreachable']));
      expect(v.pairs).toContainEqual(expect.objectContaining({ check: 'cross-cluster-via-gateway', from: 'us', to: 'eu', ok: true }));

      const apply = await runCli(['apply', '-f', spec, '--clusters', 'us', '-o', 'json']);
      log(`apply --clusters us with eu frozen: exit ${apply.code} in ${apply.seconds} s`);
      expect(apply.code).toBe(0);
      const a = JSON.parse(apply.stdout);
      const us = a.clusters.find((c: { cluster: string }) => c.cluster === 'us');
      expect(us.value.changes.filter((c: { action: string }) => c.action !== 'unchanged')).toEqual([]);
      expect(us.value.changes.find((c: { ref: string }) => c.ref === 'ServiceEntry/echo/echo-eu')).toMatchObject({ action: 'unchanged' });
      expect(a.clusters.map((c: { cluster: string }) => c.cluster)).toEqual(['us']);

      expect((await curl('http://echo.eu.mesh.local/')).stdout).toMatch(/^region=eu [\s\S]* 200$/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let after = await runCli(['diff', '-f', spec]);
    for (let i = 0; i < 10 && after.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2000)); // the thawed API server finishes what it was doing
      after = await runCli(['diff', '-f', spec]);
    }
    expect(after.stdout).toMatch(/^no drift$/m);
    expect(after.code).toBe(0);
    await gatewaysReady();
  });

  it('echo at zero replicas in every cluster: a request from US ends within 5 s with 503 and no gateway sends to another (service-entry mode)', async () => {
    await noGatewayLoop(['http://echo.eu.mesh.local/', 'http://echo.echo.svc.cluster.local/']);
    const verify = await runCli(['verify', '-f', spec, '--requests', '50']);
    expect(verify.code).toBe(0);
  });

  it('cacerts hand-edited in lab-eu: diff names the changed keys only (no key material in any output); apply heals it', async () => {
    const original = JSON.parse((await kubectl('lab-eu', ['get', 'secret', '-n', 'istio-system', 'cacerts', '-o', 'json'])).stdout).data as Record<string, string>;
    const tampered = Buffer.from('-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n').toString('base64');
    await kubectl('lab-eu', ['patch', 'secret', '-n', 'istio-system', 'cacerts', '--type', 'merge', '-p', JSON.stringify({ data: { 'ca-key.pem': tampered } })]);
    try {
      const text = await runCli(['diff', '-f', spec]);
      const json = await runCli(['diff', '-f', spec, '-o', 'json']);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^eu {2}changed {2}Secret\/istio-system\/cacerts$/m);
      expect(text.stdout).toMatch(/data\.ca-key\.pem: want "sha256:[0-9a-f]{12} \(\d+ bytes\)", live "sha256:[0-9a-f]{12} \(\d+ bytes\)"/);
      const d = JSON.parse(json.stdout);
      const drift = d.clusters.find((c: { cluster: string }) => c.cluster === 'eu').value.drift;
      expect(drift.map((x: { ref: string }) => x.ref)).toEqual(['Secret/istio-system/cacerts']);
      expect(drift[0].fields.map((f: { path: string }) => f.path)).toEqual(['data.ca-key.pem']);
      for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
        expect(output).not.toMatch(/BEGIN|PRIVATE KEY/);
        for (const value of [...Object.values(original), tampered]) expect(output).not.toContain(value.slice(0, 40));
      }
      const heal = await runCli(['apply', '-f', spec]);
      expect(heal.code).toBe(0);
      expect(heal.stdout).toMatch(/configured\s+Secret\/istio-system\/cacerts/);
      expect(heal.stdout + heal.stderr).not.toMatch(/BEGIN|PRIVATE KEY/);
      const healed = JSON.parse((await kubectl('lab-eu', ['get', 'secret', '-n', 'istio-system', 'cacerts', '-o', 'json'])).stdout).data;
      expect(healed['ca-key.pem']).toBe(original['ca-key.pem']);
    } finally {
      await kubectl('lab-eu', ['patch', 'secret', '-n', 'istio-system', 'cacerts', '--type', 'merge', '-p', JSON.stringify({ data: { 'ca-key.pem': original['ca-key.pem'] } })]);
    }
    expect((await runCli(['diff', '-f', spec])).code).toBe(0);
  });
});
