// doctor on the live lab mesh: healthy after apply; then sixteen faults made as a user would make them
// (kubectl) — in the control plane, the network, routing, policy and the sync controller, four of them
// objects eastwest did not make — one at a time, each named by doctor with its cluster and object, and
// gone once put back; run as a user
// bound only to the read role (made from `doctor --print-rbac`); with lab-eu's API frozen, us is still
// diagnosed and the exit code is 3.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { ensurePki } from '../../src/pki/store.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG, readNodeStates } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';

const spec = join(root, 'examples/lab.yaml');
const NAMESPACE = 'eastwest-doctor-e2e';
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');

interface Finding { check: string; severity: string; cluster?: string; object?: { kind: string; namespace?: string; name: string }; message: string; hint?: string }
const named = (f: Finding) => `${f.check} ${f.cluster ?? '-'} ${f.object ? `${f.object.kind}/${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}` : '-'}`;

let reader = '';

/** Scaled to zero as a user would, and waited for until its pods are gone. */
async function scaleToZero(context: string, namespace: string, name: string, podSelector: string): Promise<void> {
  await kubectl(context, ['scale', '-n', namespace, `deploy/${name}`, '--replicas', '0']);
  await kubectl(context, ['wait', '-n', namespace, '--for=delete', 'pod', '-l', podSelector, '--timeout=60s'], { okCodes: [0, 1], timeoutMs: 70_000 });
}

/** Scaled back as a user would, and waited for. */
async function rollBack(context: string, namespace: string, name: string, replicas: number): Promise<void> {
  await kubectl(context, ['scale', '-n', namespace, `deploy/${name}`, '--replicas', String(replicas)]);
  await kubectl(context, ['rollout', 'status', '-n', namespace, `deploy/${name}`, '--timeout=180s'], { timeoutMs: 190_000 });
}
async function doctor(args: string[] = []): Promise<{ code: number | null; findings: Finding[]; seconds: number; checks: { id: string; cluster?: string; status: string }[] }> {
  const run = await runCli(['doctor', '-f', spec, '--kubeconfig', reader, '-o', 'json', ...args]);
  expect(run.stderr).not.toMatch(/forbidden/i);
  const out = JSON.parse(run.stdout) as { findings: Finding[]; checks: { id: string; cluster?: string; status: string }[] };
  return { code: run.code, findings: out.findings.filter((f) => f.severity !== 'info'), checks: out.checks, seconds: run.seconds };
}

const CACERTS_BINDING = 'eastwest-read-cacerts-doctor-e2e';

describe('doctor on the live mesh, as a read-only user', () => {
  beforeAll(async () => {
    await applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    // The read role, and the role --read-cacerts needs beside it (bound only for the fault that uses it).
    const role = await runCli(['doctor', '--print-rbac', '--read-cacerts']);
    const config = JSON.parse((await kubectl('lab-us', ['config', 'view', '--raw', '-o', 'json'])).stdout) as { contexts: { name: string; context: { user: string } }[] };
    const users = [];
    for (const context of config.contexts) {
      await kubectl(context.name, ['apply', '-f', '-'], { input: role.stdout });
      await kubectl(context.name, ['create', 'namespace', NAMESPACE], { okCodes: [0, 1] });
      await kubectl(context.name, ['create', 'serviceaccount', 'doctor', '-n', NAMESPACE], { okCodes: [0, 1] });
      await kubectl(context.name, ['create', 'clusterrolebinding', 'eastwest-read-doctor-e2e', '--clusterrole', 'eastwest-read', '--serviceaccount', `${NAMESPACE}:doctor`], { okCodes: [0, 1] });
      const token = (await kubectl(context.name, ['create', 'token', 'doctor', '-n', NAMESPACE, '--duration', '1h'])).stdout.trim();
      users.push({ name: `doctor-${context.name}`, user: { token } });
      context.context.user = `doctor-${context.name}`;
    }
    reader = join(mkdtempSync(join(tmpdir(), 'eastwest-doctor-')), 'kubeconfig');
    writeFileSync(reader, JSON.stringify({ ...config, users }), { mode: 0o600 });
  });

  afterAll(async () => {
    for (const context of ['lab-us', 'lab-eu']) {
      await kubectl(context, ['delete', 'clusterrolebinding', 'eastwest-read-doctor-e2e', CACERTS_BINDING, '--ignore-not-found']);
      await kubectl(context, ['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
    }
  });

  it('the applied mesh: nothing found, exit 0', async () => {
    const result = await doctor(['--wait', '60s']);
    log(`doctor on the healthy mesh: exit ${result.code} in ${result.seconds} s, ${result.checks.length} check runs`);
    expect(result.findings.map(named)).toEqual([]);
    expect(result.code).toBe(0);
  });

  /** eu's cacerts as it was before the trust fault, to put back as it was. */
  let savedCacerts = '';
  const faults: { what: string; make: () => Promise<unknown>; undo: () => Promise<unknown>; expected: string | RegExp; args?: string[]; cleanup?: () => Promise<unknown> }[] = [
    {
      what: 'eu\'s cacerts replaced by another root\'s by hand (istiod keeps its CA until it restarts): seen with --read-cacerts',
      make: async () => {
        for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['create', 'clusterrolebinding', CACERTS_BINDING, '--clusterrole', 'eastwest-read-cacerts', '--serviceaccount', `${NAMESPACE}:doctor`], { okCodes: [0, 1] });
        savedCacerts = (await kubectl('lab-eu', ['get', 'secret', 'cacerts', '-n', 'istio-system', '-o', 'json'])).stdout;
        const other = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'eastwest-other-root-')), clusters: ['eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 365, organization: 'someone else' })).bundle.cacerts.get('eu')!;
        const data = Object.fromEntries(Object.entries(other).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
        await kubectl('lab-eu', ['replace', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system', labels: JSON.parse(savedCacerts).metadata.labels }, type: 'Opaque', data }) });
      },
      undo: async () => {
        const { metadata, ...rest } = JSON.parse(savedCacerts) as { metadata: Record<string, unknown> };
        const { resourceVersion: _r, uid: _u, creationTimestamp: _c, managedFields: _m, ...keep } = metadata;
        await kubectl('lab-eu', ['replace', '-f', '-'], { input: JSON.stringify({ ...rest, metadata: keep }) });
      },
      cleanup: async () => {
        for (const context of ['lab-us', 'lab-eu']) await kubectl(context, ['delete', 'clusterrolebinding', CACERTS_BINDING, '--ignore-not-found']);
      },
      args: ['--read-cacerts'],
      expected: 'cacerts eu Secret/istio-system/cacerts',
    },
    {
      what: 'the network label removed from istio-system in eu',
      make: () => kubectl('lab-eu', ['label', 'namespace', 'istio-system', 'topology.istio.io/network-']),
      undo: () => kubectl('lab-eu', ['label', 'namespace', 'istio-system', 'topology.istio.io/network=eu-net', '--overwrite']),
      expected: 'mesh-identity eu Namespace/istio-system',
    },
    {
      what: 'the east-west gateway of eu scaled to zero',
      make: () => scaleToZero('lab-eu', 'istio-system', 'istio-eastwestgateway', 'istio=eastwestgateway'),
      undo: () => rollBack('lab-eu', 'istio-system', 'istio-eastwestgateway', 1),
      expected: 'gateway-ready eu Deployment/istio-system/istio-eastwestgateway',
    },
    {
      what: 'a foreign DestinationRule for echo in us, plaintext',
      make: () => kubectl('lab-us', ['apply', '-f', '-'], { input: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: team-echo, namespace: echo}\nspec: {host: echo.echo.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n' }),
      undo: () => kubectl('lab-us', ['delete', 'destinationrule', '-n', 'echo', 'team-echo', '--ignore-not-found']),
      expected: 'foreign-overrides us DestinationRule/echo/team-echo',
    },
    {
      what: 'mesh-wide mTLS made PERMISSIVE in eu',
      make: () => kubectl('lab-eu', ['patch', 'peerauthentication', '-n', 'istio-system', 'default', '--type', 'merge', '-p', '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}']),
      undo: () => kubectl('lab-eu', ['patch', 'peerauthentication', '-n', 'istio-system', 'default', '--type', 'merge', '-p', '{"spec":{"mtls":{"mode":"STRICT"}}}']),
      expected: 'strict-mtls eu PeerAuthentication/istio-system/default',
    },
    {
      what: 'the 15443 Gateway deleted in us',
      make: () => kubectl('lab-us', ['delete', 'gateway', '-n', 'istio-system', 'cross-network-gateway']),
      // Put back as a user would: eastwest apply.
      undo: async () => applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter),
      expected: 'cross-network-gateway us Gateway/istio-system/cross-network-gateway',
    },
    {
      what: 'istiod of eu scaled to zero',
      make: () => scaleToZero('lab-eu', 'istio-system', 'istiod', 'app=istiod'),
      undo: () => rollBack('lab-eu', 'istio-system', 'istiod', 1),
      expected: 'istiod-ready eu Deployment/istio-system/istiod',
    },
    {
      what: 'a hand-made deny-all AuthorizationPolicy in echo in us',
      make: () => kubectl('lab-us', ['apply', '-f', '-'], { input: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all, namespace: echo}\nspec: {action: DENY, rules: [{}]}\n' }),
      undo: () => kubectl('lab-us', ['delete', 'authorizationpolicy', '-n', 'echo', 'deny-all', '--ignore-not-found']),
      expected: 'authorization-policies us AuthorizationPolicy/echo/deny-all',
    },
    {
      what: 'a hand-made Sidecar in echo in us that sees only istio-system',
      make: () => kubectl('lab-us', ['apply', '-f', '-'], { input: 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: echo}\nspec: {egress: [{hosts: ["istio-system/*"]}]}\n' }),
      undo: () => kubectl('lab-us', ['delete', 'sidecar', '-n', 'echo', 'default', '--ignore-not-found']),
      expected: 'sidecar-scope us Sidecar/echo/default',
    },
    {
      what: 'a hand-made PERMISSIVE PeerAuthentication in echo in eu',
      make: () => kubectl('lab-eu', ['apply', '-f', '-'], { input: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: legacy, namespace: echo}\nspec: {mtls: {mode: PERMISSIVE}}\n' }),
      undo: () => kubectl('lab-eu', ['delete', 'peerauthentication', '-n', 'echo', 'legacy', '--ignore-not-found']),
      expected: 'strict-mtls eu PeerAuthentication/echo/legacy',
    },
    {
      what: 'echo in eu scaled to zero',
      make: () => scaleToZero('lab-eu', 'echo', 'echo', 'app=echo'),
      undo: () => rollBack('lab-eu', 'echo', 'echo', 1),
      expected: 'service-endpoints eu Service/echo/echo',
    },
    {
      what: 'an EnvoyFilter in us that the client\'s proxy rejects (a negative connect timeout): its config is refused, the proxy runs on the previous one',
      make: () => kubectl('lab-us', ['apply', '-f', '-'], { input: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: bad-timeout, namespace: echo}\nspec:\n  workloadSelector: {labels: {app: client}}\n  configPatches:\n  - applyTo: CLUSTER\n    match: {context: SIDECAR_OUTBOUND}\n    patch: {operation: MERGE, value: {connect_timeout: -1s}}\n' }),
      undo: () => kubectl('lab-us', ['delete', 'envoyfilter', '-n', 'echo', 'bad-timeout', '--ignore-not-found']),
      expected: /^proxy-xds-sync us Pod\/echo\/client-[a-z0-9]+-[a-z0-9]+$/,
    },
    {
      what: 'the US client\'s pods told not to capture DNS (their own proxy config): echo.eu.mesh.local no longer resolves there',
      make: async () => {
        await kubectl('lab-us', ['-n', 'echo', 'patch', 'deployment', 'client', '--type', 'merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { 'proxy.istio.io/config': 'proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: "false"\n' } } } } })]);
        await kubectl('lab-us', ['-n', 'echo', 'rollout', 'status', 'deployment/client', '--timeout=120s'], { timeoutMs: 130_000 });
      },
      undo: async () => {
        await kubectl('lab-us', ['-n', 'echo', 'patch', 'deployment', 'client', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/metadata/annotations/proxy.istio.io~1config"}]']);
        await kubectl('lab-us', ['-n', 'echo', 'rollout', 'status', 'deployment/client', '--timeout=120s'], { timeoutMs: 130_000 });
      },
      expected: /^remote-name-dns us Pod\/echo\/client-[a-z0-9]+-[a-z0-9]+$/,
    },
    {
      what: 'the route to echo.eu.mesh.local in us pointed by hand at a name that does not resolve: the client\'s proxy holds no endpoint for it',
      make: () => kubectl('lab-us', ['-n', 'echo', 'patch', 'serviceentry', 'echo-eu', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/endpoints/0/address","value":"gone.invalid"},{"op":"replace","path":"/spec/resolution","value":"DNS"}]']),
      // Put back as a user would: eastwest apply.
      undo: async () => applyMesh({ file: spec, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter),
      expected: /^remote-endpoints us Pod\/echo\/client-[a-z0-9]+-[a-z0-9]+$/,
    },
    {
      what: 'eu\'s Prometheus scaled to zero',
      make: () => scaleToZero('lab-eu', 'istio-system', 'prometheus', 'app.kubernetes.io/name=prometheus,app.kubernetes.io/component=server'),
      undo: () => rollBack('lab-eu', 'istio-system', 'prometheus', 1),
      expected: 'prometheus-targets eu Service/istio-system/prometheus',
    },
    {
      what: 'the sync controller of eu scaled to zero',
      make: () => scaleToZero('lab-eu', 'eastwest-system', 'eastwest-sync', 'app.kubernetes.io/name=eastwest-sync'),
      undo: () => rollBack('lab-eu', 'eastwest-system', 'eastwest-sync', 2),
      expected: 'sync-controller eu Deployment/eastwest-system/eastwest-sync',
    },
  ];
  for (const fault of faults) {
    it(`${fault.what}: named (exit 1), and gone once put back`, async () => {
      await fault.make();
      try {
        const result = await doctor(fault.args ?? []);
        log(`${fault.what}: ${result.findings.map(named).join('; ')} (exit ${result.code}, ${result.seconds} s)`);
        const matches = (f: Finding) => (typeof fault.expected === 'string' ? named(f) === fault.expected : fault.expected.test(named(f)));
        expect(result.findings.some(matches), `${fault.expected} in ${result.findings.map(named).join('; ')}`).toBe(true);
        expect(result.findings.find(matches)?.hint).toBeTruthy();
        expect(result.code).toBe(1);
      } finally {
        await fault.undo();
      }
      try {
        const after = await doctor(['--wait', '90s', ...(fault.args ?? [])]);
        expect(after.findings.map(named)).toEqual([]);
      } finally {
        await fault.cleanup?.();
      }
    });
  }

  it('lab-eu\'s API frozen: exit 3 within the deadline, eu not diagnosed, us still diagnosed', async () => {
    const pid = readNodeStates().find((n) => n.cluster === 'eu')!.pids['kube-apiserver']!;
    process.kill(pid, 'SIGSTOP');
    let result;
    try {
      result = await doctor(['--request-timeout', '3s']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    log(`doctor with eu frozen: exit ${result.code} in ${result.seconds} s`);
    expect(result.code).toBe(3);
    expect(result.seconds).toBeLessThan(20);
    expect(result.checks.filter((c) => c.cluster === 'eu').every((c) => c.status === 'unreachable')).toBe(true);
    const usNotPassed = result.checks.filter((c) => c.cluster === 'us' && c.status !== 'passed').map((c) => `${c.id} ${c.status}`);
    expect(usNotPassed, result.findings.filter((f) => f.cluster === 'us').map((f) => `${f.check}: ${f.message}`).join('; ')).toEqual([]);
  });
});
