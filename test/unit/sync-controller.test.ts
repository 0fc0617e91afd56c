// The in-cluster sync controller, pure parts: what apply renders for it (least-privilege roles, the access
// kubeconfig, the Deployment), the Lease decisions of its leader election, and its image's contents.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { syncLiveObjects } from '../../src/components/sync-controller.ts';
import { leaseAction } from '../../src/controller/leader-election.ts';
import { eastwestImageTag, productionPackageDirs, projectFiles, projectRoot } from '../../src/lab/images/eastwest-image.ts';
import { controllerSpecYaml, syncAccessSecret, syncControllerDeployment, syncControllerRbac, syncReaderObjects } from '../../src/render/sync-controller.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';

const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
const us = spec.clusters.find((c) => c.name === 'us')!;
const peers = new Map([['eu', { server: 'https://198.18.0.20:6443', caData: 'Q0E=', token: 'eu-reader-token' }]]);
const live = (syncImage: string, known: ReadonlyMap<string, { server: string; caData: string; token: string }>) => ({ readers: { sync: known }, syncImage });
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const rulesOf = (objects: { kind: string; metadata: { name: string; namespace?: string } }[], kind: string, namespace?: string) =>
  (objects.find((o) => o.kind === kind && o.metadata.namespace === namespace) as unknown as { rules: Rule[] }).rules;

describe('in-cluster sync controller: roles', () => {
  it('the reader (used by the other clusters) may only get, list and watch ServiceExports, Services and EndpointSlices', () => {
    const rules = rulesOf(syncReaderObjects(), 'ClusterRole');
    expect(rules).toEqual([
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
  });
  it('the controller writes only the kinds imports are made of; no secrets, no wildcards, no CRDs', () => {
    const objects = syncControllerRbac();
    const all = objects.flatMap((o) => ((o as unknown as { rules?: Rule[] }).rules ?? []));
    expect(all.flatMap((r) => [...r.apiGroups, ...r.resources, ...r.verbs])).not.toContain('*');
    expect(all.flatMap((r) => r.resources)).not.toContain('secrets');
    expect(all.flatMap((r) => r.apiGroups)).not.toContain('apiextensions.k8s.io');
    expect(rulesOf(objects, 'ClusterRole').find((r) => r.resources.includes('serviceexports/status'))!.verbs).toEqual(['get', 'patch', 'update']);
    expect(rulesOf(objects, 'ClusterRole').find((r) => r.resources.includes('namespaces'))!.verbs).not.toContain('delete');
  });
  it('its Lease and status ConfigMap only by name (create cannot be limited by name)', () => {
    const objects = syncControllerRbac();
    expect(rulesOf(objects, 'Role', 'eastwest-system')).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['eastwest-sync'], verbs: ['get', 'update'] },
    ]);
    expect(rulesOf(objects, 'Role', 'istio-system').find((r) => r.resourceNames)!.resourceNames).toEqual(['eastwest-sync-status']);
  });
});

describe('in-cluster sync controller: access and Deployment', () => {
  it('its own cluster through the in-cluster account, each peer through its reader token; contexts named as in the spec', () => {
    const secret = syncAccessSecret(spec, us, peers) as unknown as { stringData: { kubeconfig: string } };
    const kubeconfig = parse(secret.stringData.kubeconfig);
    expect(kubeconfig['current-context']).toBe('lab-us');
    expect(kubeconfig.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['lab-eu', 'lab-us']);
    const user = (name: string) => kubeconfig.users.find((u: { name: string }) => u.name === name).user;
    expect(user('us')).toEqual({ 'auth-provider': { name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } } });
    expect(user('eu')).toEqual({ token: 'eu-reader-token' });
    expect(kubeconfig.clusters.find((c: { name: string }) => c.name === 'eu').cluster.server).toBe('https://198.18.0.20:6443');
  });
  it('no access and no Deployment while a peer\'s token is unknown (apply leaves them as they are)', () => {
    expect(syncLiveObjects(spec, us, live('x', new Map()))).toEqual([]);
    expect(syncLiveObjects(spec, us, live('x', peers)).map((o) => o.kind)).toEqual(['Secret', 'Deployment']);
  });
  it('the Deployment: replicas from the spec, writes only its cluster, leader election, non-root, read-only root, no sidecar', () => {
    const deployment = syncControllerDeployment(spec, us, { image: 'img:1', specYaml: 'x', accessHash: 'h' }) as any;
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container.args).toEqual(expect.arrayContaining(['--clusters', 'us', '--leader-election']));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(deployment.spec.template.metadata.annotations['sidecar.istio.io/inject']).toBe('false');
  });
  it('a new reader token (or spec) rolls the pods: the template changes', () => {
    const hashOf = (token: string) => (syncLiveObjects(spec, us, live('x', new Map([['eu', { ...peers.get('eu')!, token }]]))).find((o) => o.kind === 'Deployment') as any).spec.template.metadata.annotations['eastwest.dev/config-hash'];
    expect(hashOf('a')).not.toBe(hashOf('b'));
    // Another API server address for a peer rolls them too; the image alone is the container's, not the hash's.
    const withServer = (server: string, image = 'x') => (syncLiveObjects(spec, us, live(image, new Map([['eu', { ...peers.get('eu')!, server }]]))).find((o) => o.kind === 'Deployment') as any).spec.template.metadata.annotations['eastwest.dev/config-hash'];
    expect(withServer('https://198.18.0.20:6443')).not.toBe(withServer('https://198.18.0.21:6443'));
    expect(withServer('https://198.18.0.20:6443', 'y')).toBe(withServer('https://198.18.0.20:6443', 'x'));
  });
  it('the spec it reads decodes to the same spec (defaults filled in)', () => {
    const again = decodeMeshSpec(controllerSpecYaml(spec, 'lab'), 'mesh.yaml').document.spec;
    expect(again).toEqual(spec);
  });
  it('the token never shows in the Deployment (only a hash of it)', () => {
    const objects = syncLiveObjects(spec, us, live('x', peers));
    expect(JSON.stringify(objects.find((o) => o.kind === 'Deployment'))).not.toContain('eu-reader-token');
  });
});

describe('leader election: what a replica may do with the Lease', () => {
  const now = 1_000_000;
  it('no lease: create it', () => expect(leaseAction(undefined, 'a', now, 15)).toBe('create'));
  it('its own lease: renew', () => expect(leaseAction({ holder: 'a', observedAt: now - 1000, durationSeconds: 15 }, 'a', now, 15)).toBe('renew'));
  it('another holder renewing in time: wait', () => expect(leaseAction({ holder: 'b', observedAt: now - 14_000, durationSeconds: 15 }, 'a', now, 15)).toBe('wait'));
  it('another holder past its duration: take it', () => expect(leaseAction({ holder: 'b', observedAt: now - 15_001, durationSeconds: 15 }, 'a', now, 15)).toBe('take'));
  it('a released lease (no holder): take it', () => expect(leaseAction({ observedAt: now }, 'a', now, 15)).toBe('take'));
  it('the lease\'s own duration counts, not the default', () => expect(leaseAction({ holder: 'b', observedAt: now - 20_000, durationSeconds: 60 }, 'a', now, 15)).toBe('wait'));
  it('never observed: take it', () => expect(leaseAction({ holder: 'b' }, 'a', now, 15)).toBe('take'));
});

describe('eastwest\'s lab image', () => {
  it('holds the code and bin, never tests or the lab\'s build cache', () => {
    const files = projectFiles();
    expect(files).toContain(join('src', 'cli', 'main.ts'));
    expect(files).toContain(join('bin', 'eastwest.js'));
    expect(files.some((f) => f.startsWith(`test${sep}`) || f.startsWith(`node_modules${sep}`))).toBe(false);
  });
  it('its tag is a content hash: stable, and another Node is another image', () => {
    expect(eastwestImageTag()).toMatch(/^[0-9a-f]{12}$/);
    expect(eastwestImageTag(projectRoot(), 'v0.0.0')).not.toBe(eastwestImageTag());
    // A changed file of the project is another image; a file the image does not hold (a test) is not.
    const copy = mkdtempSync(join(tmpdir(), 'eastwest-tag-'));
    for (const f of ['src/cli/main.ts', 'bin/eastwest.js', 'package.json', 'package-lock.json', 'lab/versions.json']) {
      mkdirSync(join(copy, dirname(f)), { recursive: true });
      writeFileSync(join(copy, f), readFileSync(join(projectRoot(), f)));
    }
    const before = eastwestImageTag(copy);
    writeFileSync(join(copy, 'test.txt'), 'not in the image');
    expect(eastwestImageTag(copy)).toBe(before);
    writeFileSync(join(copy, 'src/cli/main.ts'), `${readFileSync(join(copy, 'src/cli/main.ts'), 'utf8')}\n// changed\n`);
    expect(eastwestImageTag(copy)).not.toBe(before);
  });
  it('production packages: nested ones come with their parent, the root is left out', () => {
    const root = '/p';
    const out = ['/p', '/p/node_modules/yaml', '/p/node_modules/@kubernetes/client-node', '/p/node_modules/@kubernetes/client-node/node_modules/ws', '/p/node_modules/zod', ''].join('\n');
    expect(productionPackageDirs(out, root)).toEqual([join('node_modules', '@kubernetes', 'client-node'), join('node_modules', 'yaml'), join('node_modules', 'zod')]);
  });
});
