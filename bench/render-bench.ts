// Render time for 3 clusters × 1,000 exported services (pure render + serialization).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../src/pki/store.ts';
import { renderedFiles } from '../src/render/output-files.ts';
import { renderMesh } from '../src/components/render-mesh.ts';
import { meshDocumentSchema } from '../src/spec/schema.ts';

export async function renderBenchmark(services = 1000, clusters = ['us', 'eu', 'ap']): Promise<Record<string, number | string>> {
  const doc = meshDocumentSchema.parse({
    apiVersion: 'eastwest.dev/v1alpha1',
    kind: 'Mesh',
    spec: {
      meshID: 'bench-mesh',
      trustDomain: 'corp.local',
      clusters: clusters.map((name, i) => ({ name, context: `ctx-${name}`, network: `${name}-net`, region: name, eastWestGateway: { address: `198.18.2.${i + 1}` } })),
      services: Array.from({ length: services }, (_, i) => ({
        name: `svc-${i}`,
        namespace: `team-${i % 20}`,
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }, { number: 9090, name: 'grpc-api', protocol: 'GRPC' }],
        clusters: clusters.filter((_, c) => (i + c) % 3 !== 0 || c === 0),
      })),
    },
  });
  const pki = (await ensurePki({ directory: mkdtempSync(join(tmpdir(), 'eastwest-bench-')), clusters, keyAlgorithm: 'ECDSA-P256', rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'bench' })).bundle;
  const decodeStart = performance.now();
  meshDocumentSchema.parse(doc);
  const decodeMs = performance.now() - decodeStart;
  const runs: number[] = [];
  let objects = 0;
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const rendered = renderMesh({ spec: doc.spec, pki });
    const files = renderedFiles(doc.spec.meshID, rendered);
    runs.push(performance.now() - start);
    objects = rendered.reduce((n, c) => n + c.preInstall.length + c.postInstall.length, 0);
    bytes = [...files.values()].reduce((n, f) => n + f.content.length, 0);
  }
  runs.sort((a, b) => a - b);
  return { clusters: clusters.length, services, objects, outputMiB: Math.round((bytes / 1048576) * 10) / 10, validateMs: Math.round(decodeMs), renderMsMedian: Math.round(runs[2]!), renderMsMin: Math.round(runs[0]!) };
}
