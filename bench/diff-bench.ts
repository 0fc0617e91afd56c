// diff time for 2 clusters × ~500 owned objects: the lab mesh plus generated exported services, applied,
// diffed (timed), applied again with nothing to change (timed), then the lab mesh applied again (which
// prunes the generated objects).
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
    const perCluster = applied.clusters.map((c) => (c.ok ? c.value.changes.filter((x) => !x.ref.startsWith('HelmRelease/')).length : 0));
    const diffs: number[] = [];
    let drift = 'none';
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const result = await diffMesh({ file, kubeconfig: LAB_KUBECONFIG, helm }, silentReporter);
      diffs.push((performance.now() - started) / 1000);
      if (result.differs) drift = 'yes';
    }
    const again = performance.now();
    const noop = await applyMesh({ file, kubeconfig: LAB_KUBECONFIG, helm, timeoutSeconds: 300 }, silentReporter);
    const noopSeconds = (performance.now() - again) / 1000;
    const noopChanges = noop.clusters.reduce((n, c) => n + (c.ok ? c.value.changes.filter((x) => x.action !== 'unchanged').length : 1), 0);
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      clusters: 2,
      objectsPerCluster: perCluster.join(' + '),
      firstApplySeconds: applied.seconds,
      diffSecondsMedian: round(diffs.sort((a, b) => a - b)[1]!),
      diffSecondsAll: diffs.map(round).join(' '),
      drift,
      noChangeApplySeconds: round(noopSeconds),
      noChangeApplyChanges: noopChanges,
    };
  } finally {
    await applyMesh({ file: labSpec, kubeconfig: LAB_KUBECONFIG, helm, timeoutSeconds: 300 }, silentReporter);
    rmSync(file, { force: true });
  }
}
