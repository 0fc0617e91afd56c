// Helm through its CLI (the real `helm`, as the guide uses it): upgrade --install, values, status.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { ChartRef, HelmRelease } from '../render/helm-releases.ts';
import { fieldDifferences, maskSensitive, type FieldDifference } from '../util/field-diff.ts';
import { ClusterError } from '../k8s/cluster-error.ts';
import { exec, ExecError } from '../util/exec.ts';
import { kubeconfigEnv, type KubeconfigSource } from '../k8s/kubeconfig.ts';

export interface HelmTarget {
  binary: string;
  /** The kubeconfig files (kubectl's rules), passed to helm as KUBECONFIG so that a list merges the same way. */
  kubeconfig: KubeconfigSource | undefined;
  context: string;
  /** Deadline of a query (list, get values); a helm that does not answer in time is killed. */
  timeoutMs?: number;
  /** The cluster's name in messages. */
  cluster?: string;
}

const QUERY_TIMEOUT_MS = 35_000;

/** A helm query against a cluster: killed at its deadline, reported as that cluster's timeout. */
async function query(target: HelmTarget, args: string[]) {
  const timeoutMs = target.timeoutMs ?? QUERY_TIMEOUT_MS;
  try {
    return await exec(target.binary, args, { timeoutMs, env: helmEnv(target) });
  } catch (error) {
    if (error instanceof ExecError && error.timedOut) {
      throw new ClusterError(target.cluster ?? target.context, 'timeout', `unreachable (timeout after ${Math.round(timeoutMs / 1000)} s) during helm ${args[0]}`, 'is the API server up and answering? raise --request-timeout for a slow link, or leave the cluster out with --clusters', error);
    }
    throw error;
  }
}

const base = (t: HelmTarget) => ['--kube-context', t.context];
/** helm's environment: KUBECONFIG is the list of files eastwest read (helm merges a list as kubectl does). */
const helmEnv = (t: HelmTarget): NodeJS.ProcessEnv => (t.kubeconfig?.files.length ? { ...process.env, KUBECONFIG: kubeconfigEnv(t.kubeconfig) } : process.env);

/** The chart argument(s) of `helm upgrade --install`. `lab://istio-charts` is resolved by the caller. */
export function chartArgs(chart: ChartRef, resolveDirectory: (path: string) => string): string[] {
  if ('path' in chart) return [resolveDirectory(chart.path)];
  if ('oci' in chart) return [chart.oci, '--version', chart.version];
  return [chart.name, '--repo', chart.repo, '--version', chart.version];
}

export interface DeployedRelease {
  status: string;
  values: Record<string, unknown>;
  chartVersion: string;
}

export async function deployedRelease(target: HelmTarget, release: string, namespace: string): Promise<DeployedRelease | undefined> {
  const list = await query(target, ['list', ...base(target), '-n', namespace, '--deployed', '--failed', '--pending', '-o', 'json', '--filter', `^${release}$`]);
  const entry = (JSON.parse(list.stdout || '[]') as { name: string; status: string; chart: string }[]).find((r) => r.name === release);
  if (!entry) return undefined;
  const values = await query(target, ['get', 'values', release, ...base(target), '-n', namespace, '-o', 'json']);
  return { status: entry.status, values: (JSON.parse(values.stdout || '{}') ?? {}) as Record<string, unknown>, chartVersion: entry.chart.replace(/^.*-(?=\d)/, '') };
}

/** The names of the releases in `namespace` whose name matches `filter` (a regular expression, as helm takes it). */
export async function releaseNames(target: HelmTarget, namespace: string, filter: string): Promise<string[]> {
  const list = await query(target, ['list', ...base(target), '-n', namespace, '--deployed', '--failed', '--pending', '-o', 'json', '--filter', filter]);
  return (JSON.parse(list.stdout || '[]') as { name: string }[]).map((r) => r.name).sort();
}

/**
 * What an upgrade of a deployed release changes, as apply's plan and diff both show it: its status, the
 * pinned chart version (a chart from a repository or registry; a local directory's chart is whatever its
 * Chart.yaml says), and its values field by field — values whose key names a secret masked.
 */
export function releaseDifferences(deployed: DeployedRelease, release: HelmRelease): FieldDifference[] {
  const wantVersion = 'path' in release.chart ? undefined : release.chart.version.replace(/^v/, '');
  return [
    ...(deployed.status !== 'deployed' ? [{ path: 'status', want: 'deployed', live: deployed.status }] : []),
    ...(wantVersion !== undefined && deployed.chartVersion !== wantVersion ? [{ path: 'chart.version', want: wantVersion, live: deployed.chartVersion }] : []),
    ...maskSensitive(fieldDifferences(parse(stringify(release.values)), deployed.values, 'values')),
  ];
}

/** Deployed, and nothing an upgrade would change. */
export function releaseUpToDate(deployed: DeployedRelease | undefined, release: HelmRelease): boolean {
  return deployed !== undefined && releaseDifferences(deployed, release).length === 0;
}

export async function upgradeInstall(target: HelmTarget, release: HelmRelease, chart: string[], options: { timeoutSeconds: number; dryRun?: boolean }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'eastwest-helm-'));
  try {
    const valuesFile = join(dir, `${release.release}.yaml`);
    await writeFile(valuesFile, stringify(release.values));
    // Helm waits up to --timeout itself; it is killed a minute after that if it does not return.
    const killAfterMs = (options.timeoutSeconds + 60) * 1000;
    await exec(
      target.binary,
      ['upgrade', '--install', release.release, ...chart, ...base(target), '-n', release.namespace, '--create-namespace', '-f', valuesFile, '--wait', '--timeout', `${options.timeoutSeconds}s`, ...(options.dryRun ? ['--dry-run=server'] : [])],
      { timeoutMs: killAfterMs, env: helmEnv(target) },
    );
  } catch (error) {
    if (error instanceof ExecError && error.timedOut) {
      throw new ClusterError(target.cluster ?? target.context, 'timeout', `unreachable (helm upgrade --install ${release.release} did not return within ${options.timeoutSeconds + 60} s)`, 'is the API server answering? `helm status -n istio-system <release>` tells what Helm was doing', error);
    }
    if (error instanceof ExecError) throw new ExecError(`helm upgrade --install ${release.release} failed: ${error.result?.stderr.trim() || error.message}`, error.result, 'Helm\'s own message is above; `helm status` and the pods in istio-system tell more');
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A release left half-done (an apply killed mid-install or mid-upgrade) blocks every later operation
 * ("another operation is in progress"): roll an upgrade back, remove an install, so it can run again.
 */
export async function recoverPendingRelease(target: HelmTarget, release: string, namespace: string, status: string): Promise<'rolled back' | 'removed' | undefined> {
  if (status === 'pending-install') {
    await exec(target.binary, ['uninstall', release, ...base(target), '-n', namespace, '--wait', '--timeout', '300s'], { timeoutMs: 6 * 60_000, env: helmEnv(target) });
    return 'removed';
  }
  if (status === 'pending-upgrade' || status === 'pending-rollback') {
    await exec(target.binary, ['rollback', release, ...base(target), '-n', namespace, '--wait', '--timeout', '300s'], { timeoutMs: 6 * 60_000, env: helmEnv(target) });
    return 'rolled back';
  }
  return undefined;
}

/** helm: $EASTWEST_HELM, else `helm` on PATH, else the lab's own build. */
export function helmBinary(labHelm: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (env.EASTWEST_HELM) return env.EASTWEST_HELM;
  const onPath = (env.PATH ?? '').split(':').map((d) => join(d, 'helm')).find((p) => existsSync(p));
  return onPath ?? labHelm ?? 'helm';
}
