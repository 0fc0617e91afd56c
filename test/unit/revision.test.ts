// spec.istio.revision: without it, today's shape (istiod, istio-injection=enabled); with it, every object that
// selects or names the control plane names that revision, and nothing still points at the default one.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { renderMesh } from '../../src/components/render-mesh.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { ensurePki, type PkiBundle } from '../../src/pki/store.ts';
import type { RenderAddons } from '../../src/render/render-mesh.ts';
import { istiodName, meshConfigMapName, podInjectionLabels, revisionNamespaceLabels } from '../../src/render/revision.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { istioAddonObjects, istioDashboards } from '../../src/sources/upstream-sources.ts';

const root = join(import.meta.dirname, '../..');
const lab = readFileSync(join(root, 'examples/lab.yaml'), 'utf8');
const withRevision = (revision: string) => lab.replace('    tag: 1.31-lab\n', `    tag: 1.31-lab\n    revision: ${revision}\n`);
const specOf = (text: string) => decodeMeshSpec(text, 'mesh.yaml').document.spec;

let pki: PkiBundle;
let addons: RenderAddons;
beforeAll(async () => {
  addons = { prometheus: await istioAddonObjects('prometheus'), kiali: await istioAddonObjects('kiali'), dashboards: await istioDashboards() };
  pki = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'eastwest-rev-pki-')), clusters: ['us', 'eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'training-mesh' })).bundle;
});

function rendered(text: string) {
  const us = renderMesh({ addons, spec: specOf(text), pki }).find((c) => c.cluster.name === 'us');
  const objects = [...us!.preInstall, ...us!.postInstall].map((s) => s.object as KubeObject);
  return { releases: us!.releases, objects };
}

describe('spec.istio.revision', () => {
  it('absent: istiod is the default revision, namespaces are labelled istio-injection=enabled, nothing names a revision', () => {
    const { releases, objects } = rendered(lab);
    expect(releases.map((r) => r.release)).toContain('istiod');
    const istiod = releases.find((r) => r.release === 'istiod')!;
    expect(istiod.values).not.toHaveProperty('revision');
    expect(releases.find((r) => r.release === 'istio-base')!.values).not.toHaveProperty('defaultRevision');
    const echo = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'echo')!;
    expect(echo.metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(JSON.stringify(objects)).not.toContain('istio.io/rev');
  });

  it('set: istiod-<rev> with values.revision, base\'s default validator and the gateway\'s pods on it, namespaces and the addons\' pods selecting it', () => {
    const { releases, objects } = rendered(withRevision('1-31-0'));
    expect(releases.map((r) => r.release)).toEqual(expect.arrayContaining(['istio-base', 'istiod-1-31-0', 'istio-eastwestgateway']));
    expect(releases.map((r) => r.release)).not.toContain('istiod');
    expect(releases.find((r) => r.release === 'istiod-1-31-0')!.values).toMatchObject({ revision: '1-31-0', global: { meshID: 'training-mesh', network: 'us-net' } });
    expect(releases.find((r) => r.release === 'istio-base')!.values).toMatchObject({ defaultRevision: '1-31-0' });
    expect(releases.find((r) => r.release === 'istio-eastwestgateway')!.values).toMatchObject({ revision: '1-31-0', networkGateway: 'us-net' });
    const namespaces = objects.filter((o) => o.kind === 'Namespace' && o.metadata.name !== 'istio-system' && o.metadata.labels?.['istio.io/rev'] !== undefined);
    expect(namespaces.map((n) => n.metadata.name)).toContain('echo');
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) expect(ns.metadata.labels ?? {}).not.toHaveProperty('istio-injection');
    // The lab's Prometheus and Kiali join the mesh by pod label: the revision's injector must select them.
    const injectedByLabel = objects.filter((o) => o.kind === 'Deployment' && (o.spec as { template: { metadata: { labels?: Record<string, string> } } }).template.metadata.labels?.['sidecar.istio.io/inject'] === 'true');
    expect(injectedByLabel.length).toBeGreaterThan(0);
    for (const d of injectedByLabel) expect((d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels['istio.io/rev']).toBe('1-31-0');
    const kialiConfig = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kiali');
    if (kialiConfig) expect(JSON.stringify(kialiConfig)).toContain('istiod-1-31-0');
  });

  it('is a DNS label and never "default" (the name of the revision that has none): exit-2 problems at the field', () => {
    for (const bad of ['1.31.0', 'Canary', '-x', 'default', 'a'.repeat(41)]) {
      try {
        decodeMeshSpec(withRevision(JSON.stringify(bad)), 'mesh.yaml');
        expect.unreachable(`${bad} was accepted`);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).problems.map((p) => p.path)).toEqual(['spec.istio.revision']);
      }
    }
    expect(specOf(withRevision('canary')).istio.revision).toBe('canary');
  });

  it('names: istiod, its mesh config, the labels that select it', () => {
    expect(istiodName(undefined)).toBe('istiod');
    expect(istiodName('1-31-0')).toBe('istiod-1-31-0');
    expect(meshConfigMapName(undefined)).toBe('istio');
    expect(meshConfigMapName('1-31-0')).toBe('istio-1-31-0');
    expect(revisionNamespaceLabels(undefined)).toEqual({ 'istio-injection': 'enabled' });
    expect(revisionNamespaceLabels('canary')).toEqual({ 'istio.io/rev': 'canary' });
    expect(podInjectionLabels({ istio: {} })).toEqual({ 'sidecar.istio.io/inject': 'true' });
    expect(podInjectionLabels({ istio: { revision: 'canary' } })).toEqual({ 'sidecar.istio.io/inject': 'true', 'istio.io/rev': 'canary' });
  });
});
