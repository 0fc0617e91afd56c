// diff time for 2 clusters × ~500 owned objects: the lab mesh plus generated exported services, applied,
// diffed (timed), then the lab mesh applied again (which prunes the generated objects).
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { applyMesh } from '../src/apply/apply-mesh.ts';
import { silentReporter } from '../src/core/reporter.ts';
import { diffMesh } from '../src/diff/diff-mesh.ts';
import { LAB_KUBECONFIG } from '../src/lab/lab-state.ts';

export async function diffBenchmark(helm: string, extraServices = 120): Promise<Record<string, number | string>> {
  const labSpec = resolve('examples/lab.yaml');
  const doc = parse(readFileSync(labSpec, 'utf8')) as { spec: Record<string, any> };
  doc.spec.pki = { directory: resolve('examples/.eastwest/pki') };
  for (let i = 0; i < extraServices; i++) {
    doc.spec.services.push({ name: `bench-${i}`, namespace: 'bench', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], clusters: ['us', 'eu'] });
  }
  const file = resolve('examples', '.eastwest', 'bench-mesh.yaml');
  writeFileSync(file, stringify(doc));
  try {
    const applied = await applyMesh({ file, kubeconfig: LAB_KUBECONFIG, helm, timeoutSeconds: 300 }, silentReporter);
    if (!applied.ok) throw new Error(`bench apply failed: ${JSON.stringify(applied.clusters.filter((c) => !c.ok))}`);
    const owned = applied.clusters.reduce((n, c) => n + (c.ok ? c.value.changes.filter((x) => !x.ref.startsWith('HelmRelease/')).length : 0), 0);
    const started = performance.now();
    const result = await diffMesh({ file, kubeconfig: LAB_KUBECONFIG, helm }, silentReporter);
    const seconds = (performance.now() - started) / 1000;
    return { clusters: 2, objectsCompared: owned, applySeconds: applied.seconds, diffSeconds: Math.round(seconds * 10) / 10, drift: result.differs ? 'yes' : 'none' };
  } finally {
    await applyMesh({ file: labSpec, kubeconfig: LAB_KUBECONFIG, helm, timeoutSeconds: 300 }, silentReporter);
    rmSync(file, { force: true });
  }
}
