import type { Command } from 'commander';
import { EXIT } from '../../core/errors.ts';
import { selectClusters, withContexts } from '../../engine/context.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { statusMesh, type ClusterStatus, type StatusResult } from '../../status/status-mesh.ts';
import { GLYPHS, printResult, stderrReporter, type Io, type OutputFormat, type Style } from '../output.ts';
import { helmFor } from './apply.ts';
import { table } from '../table.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';

const short = (fp: string) => `${fp.slice(0, 'SHA256:'.length + 11)}…`;


function cells(s: ClusterStatus, style: Style): string[] {
  const mark = (good: boolean | undefined, text: string) => `${good === undefined ? style.warn : good ? style.ok : style.fail} ${text}`;
  const istio = s.istio ? mark(s.istio.ready >= 1, `${s.istio.version ?? '?'} (${s.istio.ready}/${s.istio.desired})`) : mark(false, 'not installed');
  const gateway = s.gateway.address ? mark(true, `${s.gateway.address}${s.gateway.source === 'live' ? '' : ` (${s.gateway.source})`}`) : mark(false, 'no address');
  const root = s.root ? mark(s.rootMatches, `${short(s.root)}${s.rootMatches === false ? ' differs' : ''}`) : mark(false, 'none published');
  const sync = s.sync === undefined ? '-' : mark(s.sync.ready >= 1 && s.sync.leader !== undefined, `${s.sync.ready}/${s.sync.desired}${s.sync.leader ? ` leader ${s.sync.leader}${s.sync.renewedSecondsAgo !== undefined ? ` (${s.sync.renewedSecondsAgo} s ago)` : ''}` : ' no leader'}`);
  const drift = s.driftNotCounted ? '- not counted (no access to Secrets)' : s.drift === undefined ? mark(undefined, `unknown: ${s.driftError ?? ''}`) : mark(s.drift === 0, String(s.drift));
  return [istio, gateway, root, sync, drift];
}

export function renderStatus(result: StatusResult, style: Style = GLYPHS): string {
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const c of result.clusters) {
    if (c.ok) rows.push([c.cluster, `${style.ok} ${c.value.kubernetesVersion}`, ...cells(c.value, style)]);
    else {
      rows.push([c.cluster, `${style.fail} ${c.unreachable ? 'unreachable' : 'failed'}`, '', '', '', '', '']);
      failures.push(`${c.cluster}: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
    }
  }
  const lines = [`mesh ${result.meshID}${result.meshRoot ? `, root ${result.meshRoot.fingerprint} (${result.meshRoot.source})` : ', no root published yet'}`, ...table(['CLUSTER', 'REACHABLE', 'ISTIO (READY)', 'EAST-WEST GATEWAY', 'ROOT', 'SYNC', 'DRIFT'], rows), ...failures];
  const answered = result.clusters.length - result.unreachable.length;
  lines.push(answered === 0 ? 'no cluster answered: nothing is known about the mesh' : result.ok ? `healthy${result.clusters.some((c) => c.ok && c.value.driftNotCounted) ? ' (drift not counted: this user may not read Secrets; `eastwest diff` with apply\'s access counts it)' : ''}` : `needs attention${result.unreachable.length ? ` (not reached: ${result.unreachable.join(', ')})` : ''}: \`eastwest diff\` shows the drift`);
  return lines.join('\n');
}

export function registerStatusCommand(program: Command, io: Io): void {
  program
    .command('status')
    .description('one screen per cluster: reachable, Istio version, east-west gateway address, same root as the mesh, sync controller, drift count (read-only)')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('show'))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nRead-only: changes nothing; roots come from each cluster\'s istio-ca-root-cert ConfigMap; the drift count reads what diff reads.\nExit code 0 healthy, 1 something needs attention, 3 a cluster could not be reached.\nExample:\n  eastwest status -f examples/lab.yaml')
    .action(async (opts: { printRbac?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'status', 'read', opts.output);
      const reporter = stderrReporter(io);
      const { document } = await loadMeshSpec(opts.file);
      selectClusters(withContexts(document.spec, opts.context), opts.clusters); // flags are checked before anything is contacted
      const result = await statusMesh({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, helm: await helmFor(document.spec.profile, reporter) }, reporter);
      printResult(io, opts.output, result, () => renderStatus(result, io.style));
      io.exitCode = result.unreachable.length ? EXIT.clusterError : result.ok ? EXIT.ok : EXIT.failed;
    });
}
