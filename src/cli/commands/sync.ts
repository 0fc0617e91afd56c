import type { Command } from 'commander';
import { startSync, watchMesh } from '../../controller/sync.ts';
import { hostname } from 'node:os';
import { Option } from 'commander';
import { startLeaderElection } from '../../controller/leader-election.ts';
import { connect, selectClusters, withContexts } from '../../engine/context.ts';
import { resolveKubeconfig } from '../../engine/kubeconfig.ts';
import { InputError } from '../../core/errors.ts';
import { SYNC_LEASE, SYNC_NAMESPACE } from '../../render/sync-controller.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { EXIT } from '../../core/errors.ts';
import { readSyncStatus, type SyncStatusResult } from '../../controller/sync-status.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';

function renderStatus(result: SyncStatusResult): string {
  const lines: string[] = [];
  if (result.reports.length === 0) lines.push('no report from a sync controller in the reachable clusters (is `eastwest sync` running, or sync.inCluster set?)');
  for (const report of result.reports) {
    const who = report.writes ? `the controller of ${report.writes.join(', ')}` : 'the controller';
    lines.push(`as reported by ${who} ${report.ageSeconds} s ago (read from ${report.readFrom}):`);
    for (const c of report.clusters) lines.push(`  ${c.cluster.padEnd(10)} ${c.state.padEnd(10)} since ${c.since}${c.error ? `  (${c.error})` : ''}`);
  }
  for (const u of result.unreadable) lines.push(`  ${u.cluster}: not readable now: ${u.error}`);
  return lines.join('\n');
}

export function registerSyncCommand(program: Command, io: Io): void {
  const sync = program
    .command('sync')
    .description('the controller: services exported with an MCS ServiceExport are routed from every other cluster as <svc>.<ns>.svc.clusterset.local');
  sync
    .command('run', { isDefault: true })
    .description('run the controller in the foreground (the default: `eastwest sync -f mesh.yaml`)')
    .addOption(specOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(requestTimeoutOption())
    .addOption(clustersOption('write (every cluster is read)'))
    .addOption(new Option('--leader-election', `act only while holding the Lease ${SYNC_NAMESPACE}/${SYNC_LEASE} in the one cluster of --clusters (for replicas of the in-cluster controller)`))
    .addHelpText('after', '\nLogs go to stderr; stop it with Ctrl-C (SIGINT) or SIGTERM.\nExamples:\n  eastwest sync -f examples/lab.yaml\n  eastwest sync -f mesh.yaml --clusters us --leader-election   # what the in-cluster controller runs')
    .action(async (opts: { file: string; kubeconfig?: string; context?: Record<string, string>; requestTimeout: number; clusters?: string[]; leaderElection?: boolean }) => {
      const spec = withContexts((await loadMeshSpec(opts.file)).document.spec, opts.context);
      const writes = opts.clusters ? selectClusters(spec, opts.clusters) : undefined;
      if (opts.leaderElection && writes?.length !== 1) {
        throw new InputError('--leader-election needs exactly one cluster', [{ path: '--leader-election', message: 'the Lease lives in the cluster the controller writes', hint: 'add --clusters <the controller\'s own cluster>' }]);
      }
      const reporter = stderrReporter(io);
      const say = (message: string) => reporter.report({ level: 'info', code: 'sync', message });
      const signalled = new Promise<string>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve('signal');
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const options = { file: opts.file, kubeconfig: opts.kubeconfig, requestTimeoutSeconds: opts.requestTimeout, ...(writes ? { writeClusters: writes.map((c) => c.name) } : {}) };
      const watching = `sync: watching ${spec.clusters.map((c) => c.name).join(', ')}${writes ? `; writing ${writes.map((c) => c.name).join(', ')}` : ''}`;
      if (!opts.leaderElection) {
        const controller = startSync(options, spec, reporter);
        say(watching);
        await signalled;
        say('sync: stopping');
        await controller.stop();
        return;
      }
      const own = writes![0]!;
      const kubeconfig = resolveKubeconfig(spec.clusters.map((c) => c.context), opts.kubeconfig);
      const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
      let stopping = false;
      void signalled.then(() => (stopping = true));
      // Its own API server may be down when it starts: tried again until it answers (never a crash loop).
      let client: Awaited<ReturnType<typeof connect>>['client'] | undefined;
      while (!client && !stopping) {
        try {
          client = (await connect(own, kubeconfig, opts.requestTimeout, { access: 'none' })).client;
        } catch (error) {
          reporter.report({ level: 'warn', code: 'sync', message: `sync: ${own.name} does not answer (${(error as Error).message}); trying again` });
          await Promise.race([new Promise((r) => setTimeout(r, 2000)), signalled]);
        }
      }
      // Watched from the start, also while waiting for the lease: a replica that takes over has full
      // caches and reconciles at once.
      const clusters = watchMesh(spec, options, reporter);
      while (client && !stopping) {
        // A candidate until it holds the lease; acting while it does; a candidate again when it loses it.
        const election = startLeaderElection({
          client,
          namespace: process.env.POD_NAMESPACE ?? SYNC_NAMESPACE,
          name: SYNC_LEASE,
          identity,
          onError: (message) => reporter.report({ level: 'warn', code: 'sync', message: `sync: ${message}` }),
        });
        say(`sync: ${identity} waits for the lease ${SYNC_LEASE} in ${own.name}`);
        if ((await Promise.race([election.leading.then(() => 'leading'), signalled])) !== 'leading') {
          await election.stop();
          break;
        }
        say(`sync: ${identity} holds the lease; acting`);
        // Writes stop the moment the lease is not renewed in time, even inside a reconcile.
        const controller = startSync({ ...options, active: election.isLeading }, spec, reporter, clusters);
        say(watching);
        const why = await Promise.race([signalled, election.lost.then((reason) => `lost: ${reason}`)]);
        say(why === 'signal' ? 'sync: stopping' : `sync: leadership ${why}; stopping until it holds the lease again`);
        await controller.stop();
        await election.stop();
      }
      await clusters.stop();
    });
  sync
    .command('status')
    .description('which clusters the running controller watches live, and which are stale since when')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .action(async (opts: { printRbac?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'sync status', 'read', opts.output);
      const result = await readSyncStatus({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, requestTimeoutSeconds: opts.requestTimeout });
      printResult(io, opts.output, result, () => renderStatus(result));
      io.exitCode = result.reports.length > 0 ? EXIT.ok : EXIT.failed;
    });
}
