// Issue 8 in the lab: a frozen API server (partition), a service down everywhere (no gateway loops),
// a hand-edited CA secret (masked diff, healed by apply); verify interrupted (Ctrl-C) while it has a service
// at zero puts it back. Self-contained: it applies what it needs.
import { spawn } from 'node:child_process';
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

  it('Ctrl-C while verify has echo at zero (its failover check): echo scaled back, no check after it, exit 130', async () => {
    const replicas = async (context: string) => (await kubectl(context, ['-n', 'echo', 'get', 'deployment', 'echo', '-o', 'jsonpath={.spec.replicas}'])).stdout.trim();
    const before = { 'lab-us': await replicas('lab-us'), 'lab-eu': await replicas('lab-eu') };
    const child = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'verify', '-f', spec, '--requests', '20', '-o', 'json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Wait until the failover check has scaled echo to zero in a cluster (polled as a user would watch it).
    const started = Date.now();
    let atZero = '';
    while (!atZero && Date.now() - started < 240_000) {
      for (const context of ['lab-us', 'lab-eu'] as const) if ((await replicas(context)) === '0') atZero = context;
      if (!atZero) await new Promise((r) => setTimeout(r, 200));
    }
    expect(atZero, `verify never scaled echo to zero: ${stderr.slice(-1000)}`).not.toBe('');
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    log(`verify interrupted with echo at zero in ${atZero}: exit ${code} ${Math.round((Date.now() - interruptedAt) / 100) / 10} s after Ctrl-C`);
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: putting back what verify changed/);
    const result = JSON.parse(stdout) as { interrupted?: boolean; ok: boolean; checks: { id: string; cluster?: string; status: string }[] };
    expect(result.interrupted).toBe(true);
    expect(result.ok).toBe(false);
    // Nothing started after the interrupted check (the failover from the cluster it had at zero).
    const cut = result.checks.findIndex((c) => c.id === 'failover' && c.cluster === atZero.replace('lab-', ''));
    expect(cut).toBeGreaterThanOrEqual(0);
    expect(result.checks.slice(cut + 1).map((c) => `${c.id} ${c.status}`)).toEqual(result.checks.slice(cut + 1).map((c) => `${c.id} skipped`));
    expect(result.checks.slice(cut + 1).some((c) => c.id === 'observability')).toBe(true);
    // Put back: the replicas it had before, in both clusters.
    expect({ 'lab-us': await replicas('lab-us'), 'lab-eu': await replicas('lab-eu') }).toEqual(before);
    for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['-n', 'echo', 'rollout', 'status', 'deployment/echo', '--timeout=120s'], { timeoutMs: 130_000 });
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
