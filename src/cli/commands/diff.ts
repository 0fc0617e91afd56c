import type { Command } from 'commander';
import { diffMesh, type DiffResult } from '../../diff/diff-mesh.ts';
import { EXIT } from '../../core/errors.ts';
import { selectClusters } from '../../engine/context.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { helmFor } from './apply.ts';
import { clustersOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';

const show = (v: unknown) => (v === undefined ? '<unset>' : JSON.stringify(v));

export function renderDiff(result: DiffResult): string {
  const lines: string[] = [];
  for (const c of result.clusters) {
    if (!c.ok) {
      lines.push(`${c.cluster}  ${c.unreachable ? 'unreachable' : 'failed'}  ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
      continue;
    }
    if (c.value.drift.length === 0) lines.push(`${c.cluster}  in sync`);
    for (const d of c.value.drift) {
      lines.push(`${c.cluster}  ${d.state.padEnd(7)}  ${d.ref}`);
      for (const f of d.fields ?? []) lines.push(`    ${f.path}: want ${show(f.want)}, live ${show(f.live)}`);
    }
  }
  for (const g of result.gateways.filter((g) => g.source === 'last-known')) lines.push(`(${g.cluster}'s east-west gateway: last-known address ${g.address})`);
  if (result.crossCluster.length) {
    lines.push('mesh-scoped security objects that differ between clusters:');
    for (const x of result.crossCluster) lines.push(`  ${x.ref}  ${Object.entries(x.byCluster).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  lines.push(result.differs ? `drift found${result.unreachable.length ? ` (not compared: ${result.unreachable.join(', ')})` : ''}` : result.unreachable.length ? `no drift in the reachable clusters; not compared: ${result.unreachable.join(', ')}` : 'no drift');
  return lines.join('\n');
}

export function registerDiffCommand(program: Command, io: Io): void {
  program
    .command('diff')
    .description('desired vs live in every cluster (missing, changed field by field, extra), and security objects that differ between clusters')
    .addOption(specOption())
    .addOption(kubeconfigOption())
    .addOption(clustersOption('compare'))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nExit code 1 when anything differs, 3 when a cluster is unreachable.\nExample:\n  eastwest diff -f examples/lab.yaml -o json')
    .action(async (opts: { file: string; kubeconfig?: string; clusters?: string[]; requestTimeout: number; output: OutputFormat }) => {
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      selectClusters(document.spec, opts.clusters); // flags are checked before anything is built or contacted
      const result = await diffMesh({ file: opts.file, kubeconfig: opts.kubeconfig, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, helm: await helmFor(document.spec.profile, reporter) }, reporter);
      printResult(io, opts.output, result, () => renderDiff(result));
      io.exitCode = result.unreachable.length ? EXIT.clusterError : result.differs ? EXIT.failed : EXIT.ok;
    });
}
