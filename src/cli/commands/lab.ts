import type { Command } from 'commander';
import { Option } from 'commander';
import { labDown } from '../../lab/lab-down.ts';
import { labStatus } from '../../lab/lab-status.ts';
import { labUp } from '../../lab/lab-up.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { MAX_CLUSTERS } from '../../lab/plan.ts';
import { labClustersFlag } from '../flags.ts';
import { formatOption } from './options.ts';

export function registerLabCommand(program: Command, io: Io): void {
  const lab = program.command('lab').description('the offline lab: real Kubernetes clusters on this machine, one node each');
  lab.command('up')
    .description('build (or find cached) components and start the lab clusters')
    .addOption(new Option('--clusters <names>', `comma-separated cluster names, 1 to ${MAX_CLUSTERS}`).argParser(labClustersFlag).default(['us', 'eu'], 'us,eu'))
    .option('--retain', 'keep a lab that failed to start, for debugging')
    .option('--previous-istio', 'also build and load the older Istio snapshot (lab/versions.json istioPrevious), to try moving a mesh between two Istio builds')
    .addOption(formatOption())
    .addHelpText('after', '\nExample:\n  eastwest lab up && export KUBECONFIG=/var/lib/eastwest-lab/kubeconfig && kubectl --context lab-eu get nodes')
    .action(async (opts: { clusters: string[]; retain?: boolean; previousIstio?: boolean; output: OutputFormat }) => {
      const result = await labUp({ clusters: opts.clusters, retain: Boolean(opts.retain), previousIstio: Boolean(opts.previousIstio) }, stderrReporter(io));
      printResult(io, opts.output, result, () => `lab ${result.alreadyRunning ? 'already running' : 'up'}: contexts ${result.contexts.join(', ')}\nexport KUBECONFIG=${result.kubeconfig}`);
    });
  lab.command('down')
    .description('stop exactly what lab up started and remove its namespaces, interfaces, rules, cgroups and files')
    .addOption(formatOption())
    .action(async (opts: { output: OutputFormat }) => {
      const result = await labDown(stderrReporter(io));
      printResult(io, opts.output, result, () => (result.leftovers.length ? `lab down, but left: ${result.leftovers.join('; ')}` : 'lab down: nothing of the lab remains'));
    });
  lab.command('status')
    .description('what of the lab runs on this machine')
    .addOption(formatOption())
    .action(async (opts: { output: OutputFormat }) => {
      const status = await labStatus();
      printResult(io, opts.output, status, () => [status.summary, ...status.nodes.map((n) => `  ${n.cluster}: ${n.phase}${n.supervisorAlive ? ` (supervisor ${n.supervisorPid})` : ''}`)].join('\n'));
    });
}
