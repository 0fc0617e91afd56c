// kubeconfig like kubectl (issue 18): the KUBECONFIG list merged (first definition wins), the files read
// named in errors, a context in no file is exit 2 before anything is contacted, --context overrides.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EastwestError, InputError } from '../../src/core/errors.ts';
import { withContexts } from '../../src/engine/context.ts';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { checkContexts, describeSource, kubeconfigSource, loadMerged } from '../../src/k8s/kubeconfig.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { readFileSync } from 'node:fs';

const dir = () => mkdtempSync(join(tmpdir(), 'eastwest-kc-'));
/** One kubeconfig file as users have them: one cluster, user and context per file. */
function file(d: string, name: string, context: string, server: string, current = true): string {
  const path = join(d, `${name}.yaml`);
  writeFileSync(path, [
    'apiVersion: v1', 'kind: Config',
    `clusters: [{name: ${context}, cluster: {server: "${server}"}}]`,
    `users: [{name: ${context}-admin, user: {token: tok-${name}}}]`,
    `contexts: [{name: ${context}, context: {cluster: ${context}, user: ${context}-admin}}]`,
    ...(current ? [`current-context: ${context}`] : []), '',
  ].join('\n'));
  return path;
}

describe('kubeconfigSource: which files, as kubectl chooses them', () => {
  it('--kubeconfig alone; else every existing file of KUBECONFIG in order; else ~/.kube/config', () => {
    const d = dir();
    const us = file(d, 'us', 'prod-us', 'https://198.18.0.10:6443');
    const eu = file(d, 'eu', 'prod-eu', 'https://198.18.0.11:6443');
    expect(kubeconfigSource({ flag: us, env: { KUBECONFIG: eu } })).toEqual({ files: [us], from: '--kubeconfig' });
    expect(kubeconfigSource({ env: { KUBECONFIG: `${us}:${join(d, 'gone.yaml')}:${eu}:${us}` } })).toEqual({ files: [us, eu], from: '$KUBECONFIG' });
    const home = dir();
    expect(kubeconfigSource({ env: { HOME: home } })).toEqual({ files: [], from: '~/.kube/config' });
  });

  it('the fallback (the lab\'s kubeconfig) is added last only when it has contexts the others lack', () => {
    const d = dir();
    const us = file(d, 'us', 'lab-us', 'https://198.18.0.10:6443');
    const lab = file(d, 'lab', 'lab-eu', 'https://198.18.0.11:6443');
    expect(kubeconfigSource({ env: { KUBECONFIG: us }, contexts: ['lab-us', 'lab-eu'], fallback: lab }).files).toEqual([us, lab]);
    expect(kubeconfigSource({ env: { KUBECONFIG: us }, contexts: ['lab-us'], fallback: lab }).files).toEqual([us]);
    expect(kubeconfigSource({ flag: us, contexts: ['lab-us', 'lab-eu'], fallback: lab }).files).toEqual([us]);
  });
});

describe('loadMerged: one context per file works', () => {
  it('merges every file; each context reaches its own server', () => {
    const d = dir();
    const source = { files: [file(d, 'us', 'prod-us', 'https://198.18.0.10:6443'), file(d, 'eu', 'prod-eu', 'https://198.18.0.11:6443')], from: '$KUBECONFIG' };
    expect(loadKubeConfig('prod-us', source).getCurrentCluster()!.server).toBe('https://198.18.0.10:6443');
    expect(loadKubeConfig('prod-eu', source).getCurrentCluster()!.server).toBe('https://198.18.0.11:6443');
  });

  it('the first file that defines a name wins, as with kubectl (client-node alone throws on duplicates)', () => {
    const d = dir();
    const first = file(d, 'a', 'prod-us', 'https://198.18.0.10:6443');
    const second = file(d, 'b', 'prod-us', 'https://198.18.9.9:6443');
    const kc = loadMerged({ files: [first, second], from: '$KUBECONFIG' });
    expect(kc.getContexts()).toHaveLength(1);
    expect(kc.getClusters()[0]!.server).toBe('https://198.18.0.10:6443');
    expect(kc.getCurrentContext()).toBe('prod-us');
  });

  it('a missing context names the files read and the contexts there, exit 2; no "loaded-context" from a library default', () => {
    const d = dir();
    const us = file(d, 'us', 'prod-us', 'https://198.18.0.10:6443');
    try {
      loadKubeConfig('prod-eu', { files: [us], from: '$KUBECONFIG' });
      expect.unreachable();
    } catch (error) {
      expect(EastwestError.is(error) && error.exitCode).toBe(2);
      expect((error as Error).message).toContain(`${us} ($KUBECONFIG)`);
      expect((error as Error).message).toContain('contexts there: prod-us');
    }
    expect(() => loadKubeConfig('prod-eu', { files: [], from: '~/.kube/config' })).toThrow(/no kubeconfig file \(~\/\.kube\/config names none that exists\)/);
    expect(() => loadKubeConfig('prod-eu', { files: [], from: '~/.kube/config' })).not.toThrow(/loaded-context/);
  });
});

describe('checkContexts: before anything is contacted', () => {
  it('every cluster whose context no file defines is one problem, exit 2, with the files read', () => {
    const d = dir();
    const source = { files: [file(d, 'us', 'prod-us-east-1', 'https://198.18.0.10:6443')], from: '$KUBECONFIG' };
    expect(() => checkContexts([{ name: 'us', context: 'prod-us-east-1' }], source)).not.toThrow();
    try {
      checkContexts([{ name: 'us', context: 'prod-us-east-1' }, { name: 'eu', context: 'prod-eu-west-1' }, { name: 'ap', context: 'prod-us-east-2' }], source);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const e = error as InputError;
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(describeSource(source));
      expect(e.problems.map((p) => p.path)).toEqual(['clusters.eu.context', 'clusters.ap.context']);
      expect(e.problems[0]!.hint).toMatch(/--context eu=<context>/);
      expect(e.problems[1]!.hint).toMatch(/did you mean "prod-us-east-1"/);
    }
  });
});

describe('withContexts: --context <cluster>=<context> for one run', () => {
  const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/training-mesh.yaml'), 'utf8'), 'training-mesh.yaml').document.spec;
  it('replaces the named clusters\' contexts only; the spec object is not changed', () => {
    const changed = withContexts(spec, { eu: 'staging-eu' });
    expect(changed.clusters.find((c) => c.name === 'eu')!.context).toBe('staging-eu');
    expect(changed.clusters.find((c) => c.name === 'us')!.context).toBe(spec.clusters.find((c) => c.name === 'us')!.context);
    expect(spec.clusters.find((c) => c.name === 'eu')!.context).not.toBe('staging-eu');
    expect(withContexts(spec, undefined)).toBe(spec);
  });
  it('a cluster not in the spec is exit 2 naming --context', () => {
    try {
      withContexts(spec, { ue: 'x' });
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).exitCode).toBe(2);
      expect((error as InputError).problems[0]).toMatchObject({ path: '--context' });
    }
  });
});
