// The README holds what the code does: its field table is the one the schema gives (`npm run docs`), and
// its "Real clusters" section, read on its own, gives specs that validate and render, and facts
// (versions, ports, the image's user and entrypoint) that match the code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSpecText, parseContextMappings } from '../../src/actions/init-spec.ts';
import { helmBinary } from '../../src/apply/helm.ts';
import { SUPPORTED_KUBERNETES } from '../../src/engine/context.ts';
import { ensurePki, type PkiBundle } from '../../src/pki/store.ts';
import { CROSS_NETWORK_PORT } from '../../src/render/mesh-objects.ts';
import { renderMesh } from '../../src/components/render-mesh.ts';
import { syncControllerDeployment } from '../../src/render/sync-controller.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { FIELD_NOTES, currentFieldTable, fieldRows, fieldTable, markdownCell, replaceFieldTable } from '../../src/spec/field-table.ts';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The text of a `## ` section, up to the next one. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has no "## ${title}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Fenced blocks of a language, in order. */
const fenced = (text: string, lang: string): string[] => [...text.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);

describe('README: the spec\'s field table', () => {
  it('is the one the schema gives (run `npm run docs` when this fails)', () => {
    const current = currentFieldTable(readme);
    expect(current, 'README.md has lost its field-table markers').toBeDefined();
    expect(current).toBe(fieldTable());
    expect(replaceFieldTable(readme)).toBe(readme);
  });

  it('shows every field by its full path, whether it is required, and what it means', () => {
    const rows = fieldRows();
    const byPath = new Map(rows.map((r) => [r.path, r]));
    expect(byPath.get('spec.clusters[].eastWestGateway.address')).toMatchObject({ required: 'no' });
    expect(byPath.get('spec.clusters[].name')).toMatchObject({ required: 'yes', type: 'DNS label' });
    expect(byPath.get('spec.meshID')).toMatchObject({ required: 'yes' });
    expect(byPath.get('spec.pki.directory')).toMatchObject({ required: 'no, default `.eastwest/pki`' });
    expect(byPath.get('spec.sync.image')?.required).toMatch(/^no; yes with `sync.inCluster: true`/);
    expect(rows.filter((r) => !r.description).map((r) => r.path)).toEqual([]);
  });

  it('its notes only fill gaps: each names a field, and none repeats what the schema describes', () => {
    const rows = new Map(fieldRows().map((r) => [r.path, r]));
    expect(Object.keys(FIELD_NOTES).filter((p) => !rows.has(p))).toEqual([]);
    // A note whose row shows something else is shadowed by a description in the schema: remove the note.
    expect(Object.entries(FIELD_NOTES).filter(([p, note]) => rows.get(p)?.description !== note).map(([p]) => p)).toEqual([]);
  });

  it('keeps placeholders and pipes visible in Markdown cells', () => {
    expect(markdownCell('the <cluster> in <svc>.<cluster>.mesh.local.')).toBe('the `<cluster>` in `<svc>.<cluster>.mesh.local`.');
    expect(markdownCell('a | b, `x|y`, "*" for all')).toBe('a \\| b, `x\\|y`, "\\*" for all');
  });
});

describe('README: "Real clusters", followed on its own', () => {
  const text = section('Real clusters');
  let pki: PkiBundle;
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-readme-pki-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    pki = (await ensurePki({ directory: dir, clusters: ['us', 'eu'], keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'readme' })).bundle;
  });

  it('shows exactly what its `eastwest init` command writes', () => {
    const command = /^(?:npx )?eastwest init (.+)$/m.exec(text)?.[1];
    expect(command, 'no `eastwest init` command in the section').toBeDefined();
    const flag = (name: string) => [...command!.matchAll(new RegExp(`${name} (\\S+)`, 'g'))].map((m) => m[1]!);
    const shown = initSpecText({ clusters: parseContextMappings(flag('--context')), meshID: flag('--mesh-id')[0], trustDomain: flag('--trust-domain')[0] });
    expect(`${fenced(text, 'yaml')[0]}`).toBe(shown);
  });

  it('every spec in it validates and renders for every cluster, with cacerts, the releases and the cross-network gateway', () => {
    const specs = fenced(text, 'yaml');
    expect(specs.length).toBeGreaterThanOrEqual(2);
    for (const [i, yaml] of specs.entries()) {
      const { spec } = decodeMeshSpec(yaml, `README.md (Real clusters, yaml block ${i + 1})`).document;
      expect(spec.profile).toBe('standard');
      const rendered = renderMesh({ spec, pki });
      expect(rendered.map((c) => c.cluster.name).sort()).toEqual(spec.clusters.map((c) => c.name).sort());
      for (const cluster of rendered) {
        expect(cluster.cacertsMissing).toBe(false);
        expect(cluster.releases.map((r) => r.release)).toEqual(expect.arrayContaining(['istio-base', 'istiod', 'istio-eastwestgateway']));
        const objects = [...cluster.preInstall, ...cluster.postInstall].map((s) => `${s.object.kind}/${s.object.metadata.name}`);
        expect(objects).toEqual(expect.arrayContaining(['Secret/cacerts', 'Gateway/cross-network-gateway']));
        if (spec.sync.inCluster) expect(objects).toContain('ConfigMap/eastwest-sync-spec');
      }
    }
  });

  it('states the supported Kubernetes versions, the gateway port and the helm override as the code has them', () => {
    expect(text).toContain(`Kubernetes 1.${SUPPORTED_KUBERNETES.minMinor}–1.${SUPPORTED_KUBERNETES.maxMinor}`);
    expect(text).toContain(`Port ${CROSS_NETWORK_PORT}/TCP`);
    expect(text).toContain('$EASTWEST_HELM');
    expect(helmBinary(undefined, { EASTWEST_HELM: '/opt/helm/bin/helm', PATH: '' })).toBe('/opt/helm/bin/helm');
  });

  it('builds a sync image that the Deployment can run: entrypoint eastwest, its user, non-root', () => {
    const dockerfile = fenced(text, 'Dockerfile')[0];
    expect(dockerfile).toBeDefined();
    const withImage = specsWithSync(fenced(text, 'yaml'));
    expect(withImage, 'a spec in the section sets sync.image').toBeDefined();
    const { spec } = withImage!;
    const deployment = syncControllerDeployment(spec, spec.clusters[0]!, { image: spec.sync.image!, specYaml: '', accessHash: '' }) as unknown as {
      spec: { template: { spec: { securityContext: { runAsUser: number; runAsGroup: number }; containers: { args: string[]; securityContext: { readOnlyRootFilesystem: boolean } }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(dockerfile).toContain(`USER ${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["eastwest"\]$/m);
    expect(pod.containers[0]!.args.slice(0, 2)).toEqual(['sync', 'run']);
    expect(pod.containers[0]!.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(text.replace(/\s+/g, ' ')).toContain(`run as user ${pod.securityContext.runAsUser} with a read-only root file system`);
  });
});

function specsWithSync(yamls: string[]) {
  return yamls.map((y) => decodeMeshSpec(y, 'README.md').document).find((d) => d.spec.sync.image !== undefined);
}
