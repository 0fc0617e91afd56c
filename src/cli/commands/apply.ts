import type { Command } from 'commander';
import { Option } from 'commander';
import { join } from 'node:path';
import { applyMesh, type ApplyResult } from '../../apply/apply-mesh.ts';
import { helmBinary } from '../../apply/helm.ts';
import { resolveKubeconfig } from '../../apply/kubeconfig.ts';
import { EXIT } from '../../core/errors.ts';
import type { Reporter } from '../../core/reporter.ts';
import { buildHelm } from '../../lab/build/go-components.ts';
import { readLabVersions } from '../../lab/versions.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { formatOption, specOption } from './options.ts';

/** The helm to run: $EASTWEST_HELM, helm on PATH, or (for the lab profile) the lab's own build. */
export async function helmFor(profile: string, reporter: Reporter): Promise<string> {
  const onPath = helmBinary(undefined);
  if (onPath !== 'helm' || profile !== 'lab') return onPath;
  return join((await buildHelm(readLabVersions(), reporter)).dir, 'helm');
}

export function applyExitCode(result: ApplyResult): number {
  return result.ok ? EXIT.ok : EXIT.clusterError;
}

function renderApply(result: ApplyResult): string {
  const lines: string[] = [];
  for (const p of result.preflight) lines.push(p.ok ? `✓ ${p.cluster}: ${p.value.kubernetesVersion}` : `✗ ${p.cluster} [${p.step}]: ${p.error}${p.hint ? `\n    hint: ${p.hint}` : ''}`);
  for (const c of result.clusters) {
    if (!c.ok) {
      lines.push(`✗ ${c.cluster} [${c.step}]: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
      continue;
    }
    const changed = c.value.changes.filter((x) => x.action !== 'unchanged');
    lines.push(`${c.cluster}: ${changed.length ? `${changed.length} change(s)` : 'no changes'}${c.value.gatewayAddress ? `, east-west gateway ${c.value.gatewayAddress}` : ''}`);
    for (const x of changed) lines.push(`  ${x.action.padEnd(12)} ${x.ref}`);
  }
  lines.push(`${result.ok ? (result.dryRun ? 'dry run: nothing was changed' : 'applied') : 'failed'} in ${result.seconds} s`);
  return lines.join('\n');
}

export function registerApplyCommand(program: Command, io: Io): void {
  program
    .command('apply')
    .description('install Istio with Helm on every cluster and apply the mesh objects (server-side apply)')
    .addOption(specOption())
    .option('--dry-run', 'change nothing; print what would change')
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the lab\'s)')
    .addOption(new Option('--timeout <seconds>', 'wait this long for releases and gateway addresses').default('600'))
    .addOption(formatOption())
    .addHelpText('after', '\nExamples:\n  eastwest apply -f examples/lab.yaml\n  eastwest apply -f examples/training-mesh.yaml --dry-run -o json')
    .action(async (opts: { file: string; dryRun?: boolean; kubeconfig?: string; timeout: string; output: OutputFormat }) => {
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      const kubeconfig = resolveKubeconfig(document.spec.clusters.map((c) => c.context), opts.kubeconfig);
      const result = await applyMesh({ file: opts.file, kubeconfig, helm: await helmFor(document.spec.profile, reporter), dryRun: Boolean(opts.dryRun), timeoutSeconds: Number(opts.timeout) }, reporter);
      printResult(io, opts.output, result, () => renderApply(result));
      io.exitCode = applyExitCode(result);
    });
}
