import type { Command } from 'commander';
import { Option } from 'commander';
import { ensureCa } from '../../actions/ensure-ca.ts';
import { EXIT, InputError } from '../../core/errors.ts';
import { rotateIntermediates, type RotateResult } from '../../engine/ca-rotate.ts';
import { rotateRoot, type RootRotationResult } from '../../engine/root-rotate.ts';
import { CACERTS_GRANT } from '../../engine/access.ts';
import { selectClusters, withContexts } from '../../engine/context.ts';
import { durationFlag } from '../flags.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';
import type { Style } from '../output.ts';
import { GLYPHS } from '../output.ts';
import { clustersOption, contextsOption, kubeconfigOption, requestTimeoutOption } from './options.ts';
import type { Rotation } from '../../pki/store.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { formatOption, specOption } from './options.ts';

export function registerCaCommand(program: Command, io: Io): void {
  const ca = program.command('ca').description('the shared root of trust');
  ca.command('init')
    .description('create the root CA and one intermediate CA per cluster (kept on re-run unless --rotate)')
    .addOption(specOption())
    .addOption(new Option('--rotate <what>', 'replace existing material').choices(['intermediates', 'all']))
    .addOption(formatOption())
    .addHelpText('after', '\nThe root key stays in the CA directory (spec.pki.directory); clusters only get their intermediate.\nExample:\n  eastwest ca init -f examples/training-mesh.yaml')
    .action(async (opts: { file: string; rotate?: Rotation; output: OutputFormat }) => {
      const decoded = await loadMeshSpec(opts.file);
      const { directory, changes } = await ensureCa(decoded, stderrReporter(io), opts.rotate ?? 'none');
      printResult(io, opts.output, { directory, changes }, () => changes.map((c) => `${c.what}: ${c.action}`).join('\n') + `\nCA directory: ${directory}`);
    });
  ca.command('rotate')
    .description('rotate the live mesh\'s CA without a failed request: --intermediates issues a new intermediate per cluster from the same root')
    .addOption(specOption())
    .addOption(printRbacOption())
    .option('--intermediates', 'new intermediates from the same root: cacerts replaced, istiod reloads it, proxies move at renewal (or now with --restart)')
    .option('--root', 'a new root in three phases across every cluster (trust both, sign with the new, drop the old), each waited for everywhere; resumable')
    .option('--status', 'with --root: where the rotation stands, per cluster; changes nothing')
    .option('--restart', 'move proxies to the new chain now: restart the Deployments of the spec\'s namespaces whose proxies hold the old one, one at a time, each rollout waited for')
    .addOption(new Option('--timeout <duration>', '--intermediates: how long istiod may take to sign with the new intermediate, and each restart; --root: how long each phase may take to be reached everywhere').argParser(durationFlag('--timeout', 1, 3600)).default(300, '5m'))
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('rotate'))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nThe root key stays in the CA directory; each cluster gets its new intermediate in cacerts. The old one\nstays trusted (same root) until every proxy has renewed: proxies renew at half of a 24 h life.\nExamples:\n  eastwest ca rotate -f examples/lab.yaml --intermediates\n  eastwest ca rotate -f examples/lab.yaml --intermediates --restart --clusters us')
    .action(async (opts: { file: string; printRbac?: boolean; intermediates?: boolean; root?: boolean; status?: boolean; restart?: boolean; timeout: number; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return opts.status ? printRbac(io, 'ca rotate', 'read', opts.output, [CACERTS_GRANT]) : printRbac(io, 'ca rotate', 'write', opts.output);
      if (Boolean(opts.intermediates) === Boolean(opts.root)) throw new InputError('say what to rotate', [{ path: opts.root ? '--root' : '--intermediates', message: opts.root ? '--intermediates and --root together: one rotation at a time' : 'missing: ca rotate needs --intermediates or --root', hint: 'eastwest ca rotate -f mesh.yaml --intermediates (same root), or --root (a new root, in phases)' }]);
      if (opts.status && !opts.root) throw new InputError('--status is for a root rotation', [{ path: '--status', message: '--status goes with --root', hint: 'eastwest ca rotate -f mesh.yaml --root --status' }]);
      if (opts.root && (opts.clusters?.length || opts.restart)) throw new InputError('a root rotation covers every cluster, without restarts', [{ path: opts.restart ? '--restart' : '--clusters', message: `--root does not take ${opts.restart ? '--restart' : '--clusters'}`, hint: 'every proxy of every cluster must come to trust the new root, from its own istiod (multi-root): run it on the whole mesh' }]);
      const decoded = await loadMeshSpec(opts.file);
      if (opts.root) {
        const rotated = await rotateRoot({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, requestTimeoutSeconds: opts.requestTimeout, statusOnly: Boolean(opts.status), timeoutSeconds: opts.timeout }, stderrReporter(io));
        printResult(io, opts.output, rotated, () => renderRootRotation(rotated, io.style));
        io.exitCode = rotated.ok ? EXIT.ok : EXIT.clusterError;
        return;
      }
      selectClusters(withContexts(decoded.document.spec, opts.context), opts.clusters);
      const result = await rotateIntermediates({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, restart: Boolean(opts.restart), timeoutSeconds: opts.timeout }, stderrReporter(io));
      printResult(io, opts.output, result, () => renderRotation(result, io.style));
      io.exitCode = result.ok ? EXIT.ok : EXIT.clusterError;
    });
}

const day = (iso: string) => iso.replace('T', ' ').slice(0, 16);

/** Per cluster: the intermediates, istiod's switch, what was restarted, and which chain each proxy holds. */
export function renderRotation(result: RotateResult, style: Style = GLYPHS): string {
  const lines: string[] = [`root ${result.rootFingerprint} (${result.directory})`];
  for (const c of result.clusters) {
    if (!c.ok) {
      lines.push(`${style.fail} ${c.cluster} [${c.step}]: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
      continue;
    }
    const r = c.value;
    lines.push(`${style.ok} ${c.cluster}: intermediate ${r.new.fingerprint.slice(0, 30)}… (valid to ${day(r.new.notAfter)}) replaces ${r.old.fingerprint.slice(0, 30)}… (valid to ${day(r.old.notAfter)})`);
    lines.push(`    istiod signs with the new intermediate (${r.istiodSwitchedSeconds} s after cacerts was written)`);
    for (const x of r.restarted) lines.push(`    restarted deployment ${x.namespace}/${x.deployment} (${x.seconds} s)`);
    const onNew = r.proxies.filter((p) => p.chain?.holds === 'new').length;
    lines.push(`    proxies: ${onNew} hold the new chain, ${r.oldChainProxies} the old${r.lastRenewal ? ` (all renewed by ${day(r.lastRenewal)} UTC)` : ''}${r.proxies.some((p) => p.error) ? `, ${r.proxies.filter((p) => p.error).length} not read` : ''}`);
    for (const p of r.proxies) {
      const what = p.chain ? `${p.chain.holds.padEnd(5)} renews ${day(p.chain.renewsAt)}` : `not read: ${p.error}`;
      lines.push(`      ${`${p.namespace}/${p.pod}`.padEnd(52)} ${p.kind.padEnd(7)} ${what}`);
    }
  }
  lines.push(`${result.ok ? 'rotated' : 'failed'} in ${result.seconds} s`);
  return lines.join('\n');
}

/** Per cluster its phase; the phases this run finished; what a phase still waits for. */
export function renderRootRotation(result: RootRotationResult, style: Style = GLYPHS): string {
  const lines: string[] = [];
  if (result.newRoot) lines.push(`root ${result.oldRoot ?? '?'} → ${result.newRoot} (${result.directory})`);
  else lines.push(`no root rotation under way (${result.directory})`);
  for (const c of result.clusters) lines.push(`  ${c.cluster.padEnd(12)} ${typeof c.phase === 'number' ? `phase ${c.phase}` : `no phase: ${c.phase}`}`);
  for (const p of result.phases) lines.push(`${style.ok} phase ${p.phase}: ${p.goal} (${p.proxies} proxies, ${p.seconds} s)`);
  for (const w of (result.waiting ?? []).slice(0, 20)) lines.push(`${style.fail} waiting: ${w}`);
  if ((result.waiting?.length ?? 0) > 20) lines.push(`  and ${result.waiting!.length - 20} more`);
  if (result.waiting?.length) lines.push('the phase was not reached in time: run the same command again to resume (cacerts say where each cluster is)');
  lines.push(result.phases.length || !result.clusters.length ? `${result.done ? 'rotated' : result.ok ? 'under way' : 'stopped'} in ${result.seconds} s` : `${result.done ? 'done' : 'under way'} (${result.seconds} s)`);
  return lines.join('\n');
}
