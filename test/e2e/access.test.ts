// Access levels on the live lab mesh: users made from `--print-rbac` (service accounts bound to exactly
// the printed ClusterRoles, reached with their own tokens) run the commands of their level — read:
// status, traffic, sync status; probe: verify — and are told what they lack for the others, before
// anything is read or changed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';

const spec = join(root, 'examples/lab.yaml');
const CONTEXTS = ['lab-us', 'lab-eu'];
const NAMESPACE = 'eastwest-access-e2e';
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');

/** A kubeconfig with the lab's clusters and contexts whose users are `account`'s tokens. */
async function kubeconfigOf(account: string, dir: string): Promise<string> {
  const config = JSON.parse((await kubectl('lab-us', ['config', 'view', '--raw', '-o', 'json'])).stdout) as { contexts: { name: string; context: { user: string } }[]; users: unknown[] };
  const users = [];
  for (const context of config.contexts) {
    const token = (await kubectl(context.name, ['create', 'token', account, '-n', NAMESPACE, '--duration', '1h'])).stdout.trim();
    users.push({ name: `${account}-${context.name}`, user: { token } });
    context.context.user = `${account}-${context.name}`;
  }
  const file = join(dir, `${account}.kubeconfig`);
  writeFileSync(file, JSON.stringify({ ...config, users }), { mode: 0o600 });
  return file;
}

describe('access levels: read and probe users made from --print-rbac', () => {
  let reader = '';
  let prober = '';
  beforeAll(async () => {
    await applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    const readRole = await runCli(['status', '--print-rbac']);
    // The probe role, and the role of verify's own probes (bound only in the test that needs it).
    const probeRole = await runCli(['verify', '--print-rbac', '--probes', 'own']);
    expect(readRole.code).toBe(0);
    expect(probeRole.code).toBe(0);
    for (const context of CONTEXTS) {
      await kubectl(context, ['apply', '-f', '-'], { input: `${readRole.stdout}---\n${probeRole.stdout}` });
      await kubectl(context, ['create', 'namespace', NAMESPACE], { okCodes: [0, 1] });
      for (const [account, role] of [['reader', 'eastwest-read'], ['prober', 'eastwest-probe']] as const) {
        await kubectl(context, ['create', 'serviceaccount', account, '-n', NAMESPACE], { okCodes: [0, 1] });
        await kubectl(context, ['create', 'clusterrolebinding', `${role}-e2e`, '--clusterrole', role, '--serviceaccount', `${NAMESPACE}:${account}`], { okCodes: [0, 1] });
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-access-'));
    reader = await kubeconfigOf('reader', dir);
    prober = await kubeconfigOf('prober', dir);
  });

  afterAll(async () => {
    for (const context of CONTEXTS) {
      await kubectl(context, ['delete', 'clusterrolebinding', 'eastwest-read-e2e', 'eastwest-probe-e2e', '--ignore-not-found']);
      await kubectl(context, ['delete', 'clusterrolebinding', 'eastwest-verify-probes-e2e', '--ignore-not-found']);
      await kubectl(context, ['delete', 'clusterrole', 'eastwest-read', 'eastwest-probe', 'eastwest-verify-probes', '--ignore-not-found']);
      await kubectl(context, ['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
    }
  });

  it('every read-level command prints the same role; the reader may not read Secrets, and may port-forward', async () => {
    const printed = await Promise.all([['traffic', '--print-rbac'], ['sync', 'status', '--print-rbac'], ['status', '--print-rbac']].map((args) => runCli(args)));
    expect(new Set(printed.map((p) => p.stdout.slice(p.stdout.indexOf('apiVersion:')))).size).toBe(1);
    const asReader = ['--as', `system:serviceaccount:${NAMESPACE}:reader`];
    expect((await kubectl('lab-us', ['auth', 'can-i', 'get', 'secrets', '-n', 'istio-system', ...asReader], { okCodes: [0, 1] })).stdout.trim()).toBe('no');
    expect((await kubectl('lab-us', ['auth', 'can-i', 'create', 'pods', '--subresource', 'portforward', '-n', 'istio-system', ...asReader], { okCodes: [0, 1] })).stdout.trim()).toBe('yes');
    expect((await kubectl('lab-us', ['auth', 'can-i', 'create', 'pods', '--subresource', 'exec', '-n', 'echo', ...asReader], { okCodes: [0, 1] })).stdout.trim()).toBe('no');
  });

  it('read: status is healthy with the drift not counted (no Secrets), exit 0', async () => {
    const run = await runCli(['status', '-f', spec, '--kubeconfig', reader, '-o', 'json']);
    log(`status as the reader: exit ${run.code} in ${run.seconds} s`);
    expect(run.stderr).not.toMatch(/forbidden/i);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.clusters.map((c: { cluster: string; ok: boolean; value: { driftNotCounted?: boolean; rootMatches?: boolean } }) => [c.cluster, c.ok, c.value.driftNotCounted, c.value.rootMatches])).toEqual([['us', true, true, true], ['eu', true, true, true]]);
  });

  it('read: traffic and sync status answer for every cluster, exit 0', async () => {
    const traffic = await runCli(['traffic', '-f', spec, '--kubeconfig', reader, '-o', 'json']);
    expect(traffic.stderr).not.toMatch(/forbidden/i);
    expect(traffic.code).toBe(0);
    expect(JSON.parse(traffic.stdout).clusters.every((c: { ok: boolean }) => c.ok)).toBe(true);
    const sync = await runCli(['sync', 'status', '-f', spec, '--kubeconfig', reader, '-o', 'json']);
    expect(sync.code).toBe(0);
    expect(JSON.parse(sync.stdout).unreadable).toEqual([]);
  });

  it('read is not enough for verify or apply: exit 3 before anything runs, naming the missing rights and how to grant them', async () => {
    const verify = await runCli(['verify', '-f', spec, '--kubeconfig', reader]);
    expect(verify.code).toBe(3);
    const said = verify.stdout + verify.stderr;
    expect(said).toMatch(/lacks \d+ right\(s\) of the probe access level: .*pods\/exec/);
    expect(said).toContain('eastwest verify --print-rbac | kubectl apply -f -');
    const apply = await runCli(['apply', '--dry-run', '-f', spec, '--kubeconfig', reader]);
    expect(apply.code).toBe(3);
    expect(apply.stdout + apply.stderr).toMatch(/may not manage every resource/);
  });

  it('probe: verify passes as a user bound only to the probe role', async () => {
    const run = await runCli(['verify', '-f', spec, '--kubeconfig', prober, '-o', 'json']);
    log(`verify as the prober: exit ${run.code} in ${run.seconds} s`);
    expect(run.stderr).not.toMatch(/forbidden/i);
    expect(run.code).toBe(0);
  });

  it('probe, demo off: refused without the probes role (named, nothing made); with it, every ordered pair proved with its own probes, the demo left alone, no namespace behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-no-demo-'));
    const document = parse(readFileSync(spec, 'utf8')) as { spec: { demo: { enabled: boolean } } };
    document.spec.demo.enabled = false;
    const noDemo = join(dir, 'mesh.yaml');
    writeFileSync(noDemo, stringify(document));
    const echoBefore = (await kubectl('lab-us', ['-n', 'echo', 'get', 'deployment', 'echo', '-o', 'jsonpath={.metadata.generation}'])).stdout;
    // The probe level alone may not make them: told which role, and nothing is left behind.
    const refused = await runCli(['verify', '-f', noDemo, '--kubeconfig', prober, '--requests', '50', '-o', 'json']);
    expect(refused.code).toBe(1);
    const refusal = JSON.parse(refused.stdout) as { checks: { id: string; findings: { message: string; hint?: string }[] }[] };
    const setup = refusal.checks.find((c) => c.id === 'probe-workload')!;
    expect(setup.findings.map((f) => f.message).join(' ')).toMatch(/may not create .*eastwest-verify-probes/);
    expect(setup.findings[0]!.hint).toContain('eastwest verify --print-rbac --probes own | kubectl apply -f -');
    for (const context of CONTEXTS) expect((await kubectl(context, ['get', 'namespace', 'eastwest-verify', '--ignore-not-found', '-o', 'name'])).stdout.trim()).toBe('');
    for (const context of CONTEXTS) await kubectl(context, ['create', 'clusterrolebinding', 'eastwest-verify-probes-e2e', '--clusterrole', 'eastwest-verify-probes', '--serviceaccount', `${NAMESPACE}:prober`], { okCodes: [0, 1] });
    const run = await runCli(['verify', '-f', noDemo, '--kubeconfig', prober, '--requests', '50', '-o', 'json']);
    const result = JSON.parse(run.stdout || '{}') as { workload?: { mode: string; setup?: { cluster: string; seconds: number }[]; removal?: { cluster: string; seconds: number; gone: boolean }[] }; pairs?: { check: string; from: string; to: string; ok: boolean }[]; checks?: { id: string; ok: boolean; seconds: number; detail?: string }[] };
    log(`verify with its own probes as the prober: exit ${run.code} in ${run.seconds} s; setup ${JSON.stringify(result.workload?.setup?.map((x) => [x.cluster, x.seconds]))}, removal ${JSON.stringify(result.workload?.removal?.map((x) => [x.cluster, x.seconds]))}; ${(result.checks ?? []).map((c) => `${c.id} ${c.ok ? 'ok' : 'FAILED'} ${c.seconds} s`).join(', ')}`);
    expect(run.stderr).not.toMatch(/forbidden/i);
    expect(run.code, (result.checks ?? []).filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`).join('\n')).toBe(0);
    expect(result.workload?.mode).toBe('own');
    for (const [from, to] of [['us', 'eu'], ['eu', 'us']]) {
      for (const check of ['cross-cluster-via-gateway', 'failover']) expect(result.pairs?.find((p) => p.check === check && p.from === from && p.to === to)?.ok, `${check} ${from} → ${to}`).toBe(true);
    }
    expect(result.checks?.map((c) => c.id)).toEqual(expect.arrayContaining(['probe-workload', 'local-preference', 'strict-mtls', 'probe-cleanup']));
    for (const context of CONTEXTS) {
      const left = await kubectl(context, ['get', 'namespace', 'eastwest-verify', '--ignore-not-found', '-o', 'name']);
      expect(left.stdout.trim(), `${context}: namespace left behind`).toBe('');
    }
    // The demo was not what verify used: its echo was never scaled.
    expect((await kubectl('lab-us', ['-n', 'echo', 'get', 'deployment', 'echo', '-o', 'jsonpath={.metadata.generation}'])).stdout).toBe(echoBefore);
  });
});
