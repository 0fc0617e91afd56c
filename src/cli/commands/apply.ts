import type { Command } from 'commander';
import { Option } from 'commander';
import { join } from 'node:path';
import { applyMesh, type ApplyResult, type ClusterApply } from '../../apply/apply-mesh.ts';
import type { ClusterOutcome } from '../../core/fan-out.ts';
import { helmBinary } from '../../apply/helm.ts';
import { EXIT } from '../../core/errors.ts';
import type { Reporter } from '../../core/reporter.ts';
import { buildHelm } from '../../lab/build/go-components.ts';
import { readLabVersions } from '../../sources/lab-versions.ts';
import { selectClusters, withContexts } from '../../engine/context.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { changeSummary, formatFieldChanges, formatSummary, type ChangeSummary } from '../field-changes.ts';
import { GLYPHS, printResult, stderrReporter, type Io, type OutputFormat, type Style } from '../output.ts';
import { durationFlag } from '../flags.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';

/** The helm to run: $EASTWEST_HELM, helm on PATH, or (for the lab profile) the lab's own build. */
export async function helmFor(profile: string, reporter: Reporter): Promise<string> {
  const onPath = helmBinary(undefined);
  if (onPath !== 'helm' || profile !== 'lab') return onPath;
  return join((await buildHelm(readLabVersions(), reporter)).dir, 'helm');
}

export function applyExitCode(result: ApplyResult): number {
  return result.ok ? EXIT.ok : EXIT.clusterError;
}

const PLAN_VERBS: Record<string, string> = { created: 'create', configured: 'update', deleted: 'prune' };
const RELEASE_PLAN_VERBS: Record<string, string> = { created: 'install', configured: 'upgrade' };
/** In a dry run, what would happen (the words of the counts: a Helm release is installed or upgraded, an object pruned). */
const verb = (x: { action: string; ref: string }, dryRun: boolean) => {
  const planned = (x.ref.startsWith('HelmRelease/') ? RELEASE_PLAN_VERBS[x.action] : undefined) ?? PLAN_VERBS[x.action];
  return dryRun && planned ? `would ${planned}` : x.action;
};

/** The result as `-o json`/`yaml` give it: every cluster that answered with its `summary` counts. */
export type ApplyView = Omit<ApplyResult, 'clusters'> & { clusters: ClusterOutcome<ClusterApply & { summary: ChangeSummary }>[] };

export function withSummaries(result: ApplyResult): ApplyView {
  return { ...result, clusters: result.clusters.map((c) => (c.ok ? { ...c, value: { ...c.value, summary: changeSummary(c.value.changes) } } : c)) };
}

/** The plan (dry run) or what was done: per cluster every change with its field changes, then the counts. */
export function renderApply(result: ApplyResult, style: Style = GLYPHS): string {
  const lines: string[] = [];
  for (const p of result.preflight) {
    const role = result.selected.includes(p.cluster) ? '' : ' (peer, read only)';
    lines.push(p.ok ? `${style.ok} ${p.cluster}${role}: ${p.value.kubernetesVersion}` : `${style.fail} ${p.cluster}${role} [${p.step}]: ${p.error}${p.hint ? `\n    hint: ${p.hint}` : ''}`);
  }
  for (const g of result.gateways.filter((g) => g.source === 'last-known')) lines.push(`  ${g.cluster}: routes keep its gateway's last-known address ${g.address}`);
  for (const c of result.clusters) {
    if (!c.ok) {
      lines.push(`${style.fail} ${c.cluster} [${c.step}]: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
      continue;
    }
    const changed = c.value.changes.filter((x) => x.action !== 'unchanged');
    lines.push(`${c.cluster}: ${changed.length ? `${changed.length} change(s)` : 'no changes'}${c.value.gatewayAddress ? `, east-west gateway ${c.value.gatewayAddress}` : ''}`);
    for (const x of changed) {
      lines.push(`  ${verb(x, result.dryRun).padEnd(15)} ${x.ref}${x.note ? ` (${x.note})` : ''}`);
      lines.push(...formatFieldChanges(x.ref, x.fields ?? []));
    }
    lines.push(`  ${c.cluster}: ${formatSummary(changeSummary(c.value.changes), result.dryRun)}`);
  }
  const failedSelected = result.preflight.some((p) => !p.ok && result.selected.includes(p.cluster));
  if (failedSelected) lines.push('nothing was changed anywhere: every selected cluster must answer first (limit the run with --clusters to the reachable ones)');
  lines.push(`${result.ok ? (result.dryRun ? 'dry run: nothing was changed' : 'applied') : 'failed'} in ${result.seconds} s`);
  return lines.join('\n');
}

export function registerApplyCommand(program: Command, io: Io): void {
  program
    .command('apply')
    .description('install Istio with Helm on every cluster and apply the mesh objects (server-side apply)')
    .addOption(specOption())
    .addOption(printRbacOption())
    .option('--dry-run', 'change nothing; print the plan: per cluster, each object to create, update (field by field) or prune, each Helm release to install or upgrade (its values\' changes), and the counts')
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('apply to; the others are only read (during a regional outage: the reachable ones)'))
    .addOption(new Option('--timeout <duration>', 'wait this long for releases, gateway addresses and the demo workload').argParser(durationFlag('--timeout', 1, 24 * 3600)).default(600, '10m'))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nExamples:\n  eastwest apply -f examples/lab.yaml\n  eastwest apply -f examples/training-mesh.yaml --dry-run -o json')
    .action(async (opts: { printRbac?: boolean; file: string; dryRun?: boolean; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; timeout: number; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'apply', 'write', opts.output);
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      selectClusters(withContexts(document.spec, opts.context), opts.clusters); // flags are checked before anything is built or contacted
      const result = await applyMesh({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, helm: await helmFor(document.spec.profile, reporter), dryRun: Boolean(opts.dryRun), timeoutSeconds: opts.timeout }, reporter);
      printResult(io, opts.output, withSummaries(result), () => renderApply(result, io.style));
      io.exitCode = applyExitCode(result);
    });
}
