// Access levels as data: what each level grants (read: no Secrets, no exec; probe: read plus exec and
// scaling; write: everything), the rights the engine reviews, and `--print-rbac` as users run it.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { accessRights, accessRole, accessRules, CACERTS_GRANT, grantRole, rightText, rulesRights, VERIFY_PROBES_GRANT } from '../../src/engine/access.ts';
import { eastwest } from './run-cli.ts';

const granted = (level: 'read' | 'probe' | 'write') => new Set(accessRights(level).map(rightText));

describe('access levels', () => {
  it('read grants no Secret, no exec, no write of any kind; it reads Istio\'s and the MCS API\'s objects and may port-forward', () => {
    const read = [...granted('read')];
    expect(read.filter((r) => /secrets/.test(r))).toEqual([]);
    expect(read.filter((r) => /pods\/exec/.test(r))).toEqual([]);
    expect(read.filter((r) => /^(create|update|patch|delete|deletecollection|\*) /.test(r) && !r.includes('pods/portforward'))).toEqual([]);
    for (const right of ['list serviceentries.networking.istio.io', 'watch serviceexports.multicluster.x-k8s.io', 'get leases.coordination.k8s.io', 'list endpointslices.discovery.k8s.io', 'create pods/portforward', 'get configmaps']) expect(read).toContain(right);
  });
  it('probe is read plus exec in pods and scaling Deployments, nothing else', () => {
    const read = granted('read');
    const extra = [...granted('probe')].filter((r) => !read.has(r)).sort();
    expect(extra).toEqual(['create pods/exec', 'get deployments/scale.apps', 'get pods/exec', 'patch deployments/scale.apps', 'update deployments/scale.apps']);
  });
  it("verify's own probes are a role of their own: create only (never patch, never Secrets), delete only the namespace eastwest-verify", () => {
    const rights = rulesRights(VERIFY_PROBES_GRANT.rules).map(rightText).sort();
    expect(rights).toEqual([
      'create authorizationpolicies.security.istio.io in eastwest-verify', 'create deployments.apps in eastwest-verify', 'create destinationrules.networking.istio.io in eastwest-verify',
      'create namespaces', 'create serviceentries.networking.istio.io in eastwest-verify', 'create serviceaccounts in eastwest-verify', 'create services in eastwest-verify',
      'create workloadentries.networking.istio.io in eastwest-verify', 'delete namespaces named eastwest-verify',
    ].sort());
    // The printed ClusterRole carries no review-only field (kubectl would refuse an unknown one).
    expect(JSON.stringify(grantRole(VERIFY_PROBES_GRANT))).not.toContain('reviewNamespace');
    expect(JSON.stringify(grantRole(CACERTS_GRANT))).not.toContain('reviewNamespace');
    expect(rulesRights(CACERTS_GRANT.rules)).toEqual([{ group: '', resource: 'secrets', verb: 'get', name: 'cacerts', namespace: 'istio-system' }]);
  });
  it('write is everything (installing Istio needs cluster-admin), reviewed as one right', () => {
    expect(accessRights('write')).toEqual([{ group: '*', resource: '*', verb: '*' }]);
    expect((accessRole('write') as unknown as { rules: unknown[] }).rules).toContainEqual({ nonResourceURLs: ['*'], verbs: ['*'] });
  });
  it('a role\'s rules are the level\'s rules (what is reviewed is what is printed)', () => {
    for (const level of ['read', 'probe'] as const) expect((accessRole(level) as unknown as { rules: unknown[] }).rules).toEqual(accessRules(level));
  });
});

describe('--print-rbac', () => {
  it('needs no spec and contacts nothing: the read role as YAML that kubectl applies, with how to bind it', async () => {
    const run = await eastwest(['status', '--print-rbac']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# eastwest status needs the read access level/);
    expect(run.stdout).toContain('kubectl create clusterrolebinding eastwest-read-<user> --clusterrole eastwest-read --user <user>');
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS());
    expect(docs).toEqual([accessRole('read')]);
  });
  it('each command prints its own level; -o json prints the role as JSON', async () => {
    const levels = Object.fromEntries(await Promise.all([['apply'], ['diff'], ['verify'], ['traffic'], ['status'], ['sync', 'status']].map(async (cmd) => [cmd.join(' '), parseAllDocuments((await eastwest([...cmd, '--print-rbac'])).stdout)[0]!.toJS().metadata.labels['eastwest.dev/access-level']])));
    expect(levels).toEqual({ apply: 'write', diff: 'write', verify: 'probe', traffic: 'read', status: 'read', 'sync status': 'read' });
    const json = await eastwest(['verify', '--print-rbac', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(accessRole('probe'));
  });
  it('doctor --read-cacerts: the read role, then a role that may get the Secret named cacerts and nothing else', async () => {
    const run = await eastwest(['doctor', '--print-rbac', '--read-cacerts']);
    expect(run.code).toBe(0);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS());
    expect(docs).toEqual([accessRole('read'), grantRole(CACERTS_GRANT)]);
    expect(run.stdout).toContain('kubectl create clusterrolebinding eastwest-read-cacerts-<user> --clusterrole eastwest-read-cacerts --user <user>');
    expect(rulesRights(CACERTS_GRANT.rules).map(rightText)).toEqual(['get secrets named cacerts in istio-system']);
    const json = JSON.parse((await eastwest(['doctor', '--print-rbac', '--read-cacerts', '-o', 'json'])).stdout);
    expect(json.items.map((r: { metadata: { name: string } }) => r.metadata.name)).toEqual(['eastwest-read', 'eastwest-read-cacerts']);
    // Without the flag, doctor's role is the read level alone.
    expect(parseAllDocuments((await eastwest(['doctor', '--print-rbac'])).stdout).map((d) => d.toJS())).toEqual([accessRole('read')]);
  });
  it('verify --probes own: the probe role, then the role of its own probes', async () => {
    const docs = parseAllDocuments((await eastwest(['verify', '--print-rbac', '--probes', 'own'])).stdout).map((d) => d.toJS());
    expect(docs).toEqual([accessRole('probe'), grantRole(VERIFY_PROBES_GRANT)]);
    expect(parseAllDocuments((await eastwest(['verify', '--print-rbac'])).stdout).map((d) => d.toJS())).toEqual([accessRole('probe')]);
  });
  it('without it, -f is still required (exit 2)', async () => {
    const run = await eastwest(['status']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/required option '-f, --file/);
  });
});
