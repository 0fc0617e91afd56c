import type { Command } from 'commander';
import { diffMesh, type DiffResult } from '../../diff/diff-mesh.ts';
import { EXIT } from '../../core/errors.ts';
import { selectClusters, withContexts } from '../../engine/context.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { formatFieldChanges } from '../field-changes.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { helmFor } from './apply.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';

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
      lines.push(...formatFieldChanges(d.ref, d.fields ?? []));
    }
  }
  for (const g of result.gateways.filter((g) => g.source === 'last-known')) lines.push(`(${g.cluster}'s east-west gateway: last-known address ${g.address})`);
  if (result.crossCluster.length) {
    lines.push('mesh-scoped security objects that differ between clusters:');
    for (const x of result.crossCluster) lines.push(`  ${x.ref}  ${Object.entries(x.byCluster).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  lines.push(result.clusters.length > 0 && result.clusters.every((c) => !c.ok) ? `nothing compared: no cluster answered (${result.clusters.map((c) => c.cluster).join(', ')})` : result.differs ? `drift found${result.unreachable.length ? ` (not compared: ${result.unreachable.join(', ')})` : ''}` : result.unreachable.length ? `no drift in the reachable clusters; not compared: ${result.unreachable.join(', ')}` : 'no drift');
  return lines.join('\n');
}

export function registerDiffCommand(program: Command, io: Io): void {
  program
    .command('diff')
    .description('desired vs live in every cluster (missing, changed field by field, extra), and security objects that differ between clusters')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('compare'))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nExit code 1 when anything differs, 3 when a cluster is unreachable.\nExample:\n  eastwest diff -f examples/lab.yaml -o json')
    .action(async (opts: { printRbac?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'diff', 'write', opts.output);
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      selectClusters(withContexts(document.spec, opts.context), opts.clusters); // flags are checked before anything is built or contacted
      const result = await diffMesh({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, helm: await helmFor(document.spec.profile, reporter) }, reporter);
      printResult(io, opts.output, result, () => renderDiff(result));
      io.exitCode = result.unreachable.length ? EXIT.clusterError : result.differs ? EXIT.failed : EXIT.ok;
    });
}
