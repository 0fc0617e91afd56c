import type { Command } from 'commander';
import { resolveKubeconfig } from '../../apply/kubeconfig.ts';
import { diffMesh, type DiffResult } from '../../diff/diff-mesh.ts';
import { EXIT } from '../../core/errors.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { helmFor } from './apply.ts';
import { formatOption, specOption } from './options.ts';

const show = (v: unknown) => (v === undefined ? '<unset>' : JSON.stringify(v));

export function renderDiff(result: DiffResult): string {
  const lines: string[] = [];
  for (const c of result.clusters) {
    if (!c.ok) {
      lines.push(`${c.cluster}  unreachable  ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
      continue;
    }
    if (c.value.drift.length === 0) lines.push(`${c.cluster}  in sync`);
    for (const d of c.value.drift) {
      lines.push(`${c.cluster}  ${d.state.padEnd(7)}  ${d.ref}`);
      for (const f of d.fields ?? []) lines.push(`    ${f.path}: want ${show(f.want)}, live ${show(f.live)}`);
    }
  }
  if (result.crossCluster.length) {
    lines.push('mesh-scoped security objects that differ between clusters:');
    for (const x of result.crossCluster) lines.push(`  ${x.ref}  ${Object.entries(x.byCluster).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  lines.push(result.differs ? 'drift found' : result.unreachable.length ? 'no drift in the reachable clusters' : 'no drift');
  return lines.join('\n');
}

export function registerDiffCommand(program: Command, io: Io): void {
  program
    .command('diff')
    .description('desired vs live in every cluster (missing, changed field by field, extra), and security objects that differ between clusters')
    .addOption(specOption())
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the lab\'s)')
    .addOption(formatOption())
    .addHelpText('after', '\nExit code 1 when anything differs, 3 when a cluster is unreachable.\nExample:\n  eastwest diff -f examples/lab.yaml -o json')
    .action(async (opts: { file: string; kubeconfig?: string; output: OutputFormat }) => {
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      const kubeconfig = resolveKubeconfig(document.spec.clusters.map((c) => c.context), opts.kubeconfig);
      const result = await diffMesh({ file: opts.file, kubeconfig, helm: await helmFor(document.spec.profile, reporter) }, reporter);
      printResult(io, opts.output, result, () => renderDiff(result));
      io.exitCode = result.unreachable.length ? EXIT.clusterError : result.differs ? EXIT.failed : EXIT.ok;
    });
}
