// `lab up`: an ordered list of steps (kind's model). On failure everything is cleaned up unless
// `retain`; a running lab is reported as is (up twice is a no-op); a killed lab's leftovers are cleared.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';
import { KubeClient, loadKubeConfig } from '../k8s/client.ts';
import { exec } from '../util/exec.ts';
import { pollUntil } from '../util/poll.ts';
import { buildLabComponents, buildPreviousIstio, type LabComponents } from './build/build-all.ts';
import { readImageDigests } from './build/oci-images.ts';
import { ensureHostPackages } from './build/host-packages.ts';
import { readLabVersions } from '../sources/lab-versions.ts';
import { coreDnsObjects } from './cluster-addons.ts';
import { addLoadBalancerRoutes, createBridge, createNodeNetwork } from './host-network.ts';
import { HOST_MOUNTPOINTS_FILE, labDown } from './lab-down.ts';
import { LAB_KUBECONFIG, readLabState, readNodeStates, recordLabEastwestImage, type LabState } from './lab-state.ts';
import { labClusters, labPlan, type LabNodePlan, type LabPlan } from './plan.ts';
import { CONTAINERD_SOCKET } from './node/config-files.ts';
import { LAB_STATE_ROOT, nodeBinds, nodeDir } from './node/node-layout.ts';
import { prepareNode } from './node/prepare-node.ts';
import { writeLabKubeconfig } from './lab-kubeconfig.ts';

export interface LabUpOptions {
  clusters: string[];
  retain?: boolean;
  /** Also the older Istio snapshot's images (lab/versions.json istioPrevious), to try moving a mesh between two Istio builds. */
  previousIstio?: boolean;
}

export interface LabUpResult {
  alreadyRunning: boolean;
  clearedStale: boolean;
  kubeconfig: string;
  contexts: string[];
  steps: { name: string; seconds: number }[];
  components?: { name: string; built: boolean; seconds: number }[];
}

interface Step {
  name: string;
  run: () => Promise<void>;
}

// Beside this module: supervisor.ts in a clone, supervisor.js in a built package.
const supervisorScript = fileURLToPath(new URL(`./node/supervisor.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
/** Waits for `check`; an error from it (a component still starting) is remembered and retried. */
async function waitFor(what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
  let lastError = '';
  const ready = await pollUntil(seconds, 1000, async () => {
    try {
      return (await check()) ? true : undefined;
    } catch (error) {
      lastError = (error as Error).message;
      return undefined;
    }
  });
  if (ready) return;
  throw new EastwestError('lab-timeout', `${what}: not ready after ${seconds} s${lastError ? ` (${lastError})` : ''}`, { hint: `logs are in ${LAB_STATE_ROOT}/nodes/<cluster>/logs/` });
}

/** Bind targets that do not exist on the host are created (and recorded, so `down` removes them). */
function ensureHostMountpoints(): void {
  const created: string[] = existsSync(HOST_MOUNTPOINTS_FILE) ? JSON.parse(readFileSync(HOST_MOUNTPOINTS_FILE, 'utf8')) : [];
  for (const [, target] of nodeBinds('/x')) {
    const parts = target.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const path = `/${parts.slice(0, i).join('/')}`;
      if (!existsSync(path)) {
        mkdirSync(path);
        created.push(path);
      }
    }
  }
  writeFileSync(HOST_MOUNTPOINTS_FILE, `${JSON.stringify(created, null, 2)}\n`);
}

function startSupervisor(node: LabNodePlan): void {
  const dir = nodeDir(node.cluster);
  const log = openSync(join(dir, 'logs', 'supervisor.log'), 'a');
  // catatonit (Debian) is the node's subreaper: processes that daemonize (containerd shims) and pods
  // orphaned when a shim dies are re-parented to it and reaped, not to a PID 1 that may not reap.
  const child = spawn('nsenter', [`--net=/run/netns/${node.netns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'catatonit', '--', process.execPath, supervisorScript, dir], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
}

/** Runs a command inside a node's namespaces (mount, network, UTS) via its supervisor's PID. */
export function inNode(cluster: string, command: string, args: string[], timeoutMs = 10 * 60_000) {
  const node = readNodeStates().find((n) => n.cluster === cluster);
  if (!node?.supervisorPid || !node.supervisorAlive) throw new EastwestError('lab-not-running', `lab node ${cluster} is not running`, { exitCode: EXIT.clusterError, hint: 'run eastwest lab up' });
  return exec('nsenter', ['-t', String(node.supervisorPid), '-m', '-n', '-u', '--', command, ...args], { timeoutMs });
}

async function nodeReady(client: KubeClient, name: string): Promise<boolean> {
  const node = await client.read({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const conditions = ((node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** `ctr images ls` output: each image name with its digest. */
export function parseCtrImages(stdout: string): Map<string, string> {
  const present = new Map<string, string>();
  for (const line of stdout.split('\n').slice(1)) {
    const [ref, , digest] = line.trim().split(/\s+/);
    if (ref && digest?.startsWith('sha256:')) present.set(ref, digest);
  }
  return present;
}

/** Whether a node must import an archive: one of its images is missing, or (digests known) has other content. */
export function needsImport(present: ReadonlyMap<string, string>, images: readonly string[], digests: Readonly<Record<string, string>> | undefined): boolean {
  return images.some((name) => !present.has(name) || (digests?.[name] !== undefined && present.get(name) !== digests[name]));
}

/** Imports `archive` into each running node that lacks one of `images` or holds another build of it; how many nodes loaded it. */
export async function loadMissingImages(clusters: readonly string[], archive: string, images: readonly string[]): Promise<number> {
  let loaded = 0;
  const digests = readImageDigests(archive);
  for (const cluster of clusters) {
    const present = parseCtrImages((await inNode(cluster, 'ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'ls'])).stdout);
    if (!needsImport(present, images, digests)) continue;
    await inNode(cluster, 'ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', '--all-platforms', archive], 20 * 60_000);
    loaded++;
  }
  return loaded;
}


export async function labUp(options: LabUpOptions, reporter: Reporter): Promise<LabUpResult> {
  if (process.getuid?.() !== 0) throw new EastwestError('lab-needs-root', 'the lab needs root (network namespaces, mounts, cgroups)', { exitCode: EXIT.badInput });
  const plan: LabPlan = labPlan(labClusters(options.clusters));
  // The host's packages come before anything that uses them (iptables, ip, nsenter …).
  await ensureHostPackages(readLabVersions().debian.hostPackages, reporter);
  const state: LabState = await readLabState();
  const wanted = plan.nodes.map((n) => n.cluster).sort().join(',');
  if (state.running && state.nodes.map((n) => n.cluster).sort().join(',') === wanted) {
    // Up twice changes nothing, except that an image the nodes lack (eastwest's own, after the project
    // changed) is built and loaded, so that apply finds the image it names.
    const components = await buildLabComponents(reporter);
    let loaded = 0;
    for (const [i, archive] of components.imagesArchives.entries()) loaded += await loadMissingImages(plan.nodes.map((n) => n.cluster), archive, components.archiveImages[i]!);
    if (options.previousIstio) {
      const previous = await buildPreviousIstio(reporter);
      loaded += await loadMissingImages(plan.nodes.map((n) => n.cluster), previous.archive, previous.images);
    }
    recordLabEastwestImage(components.ownImage);
    reporter.report({ level: 'info', code: 'lab-running', message: `the lab is already running (${wanted}); ${loaded ? `loaded ${loaded} new image archive(s)` : 'nothing to do'}` });
    return { alreadyRunning: true, clearedStale: false, kubeconfig: LAB_KUBECONFIG, contexts: plan.nodes.map((n) => n.context), steps: [] };
  }
  let clearedStale = false;
  if (state.running || state.stale) {
    reporter.report({ level: 'info', code: 'lab-stale', message: state.running ? `a lab with other clusters is running; replacing it` : `clearing what a previous lab left (${state.netns.length} netns, ${state.cgroups.length} cgroup trees, ${state.processes.length} processes)` });
    await labDown(reporter);
    clearedStale = true;
  }

  let components: LabComponents | undefined;
  const clients = new Map<string, KubeClient>();
  const steps: Step[] = [
    { name: 'build or find components', run: async () => void (components = await buildLabComponents(reporter)) },
    { name: 'prepare host', run: async () => {
      mkdirSync(join(LAB_STATE_ROOT, 'nodes'), { recursive: true });
      ensureHostMountpoints();
      for (const path of ['/proc/sys/fs/inotify/max_user_instances', '/proc/sys/fs/inotify/max_user_watches']) {
        const current = Number(readFileSync(path, 'utf8'));
        if (current < 8192) writeFileSync(path, '8192');
      }
      await createBridge(plan);
    } },
    { name: 'node networks', run: async () => {
      for (const node of plan.nodes) await createNodeNetwork(plan, node);
      await addLoadBalancerRoutes(plan);
    } },
    { name: 'node files and certificates', run: async () => {
      for (const node of plan.nodes) await prepareNode(node, nodeDir(node.cluster), { kubernetesBin: components!.kubernetesBin, etcd: components!.etcd });
      await writeLabKubeconfig(plan, LAB_KUBECONFIG);
    } },
    { name: 'start nodes', run: async () => {
      for (const node of plan.nodes) startSupervisor(node);
      await waitFor('control planes', 180, async () => {
        const nodes = readNodeStates();
        const failed = nodes.find((n) => n.phase === 'failed' || n.phase === 'degraded');
        if (failed) throw new EastwestError('lab-node-failed', `lab node ${failed.cluster}: ${failed.error ?? `component ${JSON.stringify(failed)} failed`}`, { hint: `see ${nodeDir(failed.cluster)}/logs/` });
        return plan.nodes.every((p) => nodes.find((n) => n.cluster === p.cluster)?.phase === 'running');
      });
    } },
    { name: 'load images', run: async () => {
      const archives = [...components!.imagesArchives, ...(options.previousIstio ? [(await buildPreviousIstio(reporter)).archive] : [])];
      await Promise.all(plan.nodes.map(async (node) => {
        for (const archive of archives) {
          await inNode(node.cluster, 'ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', '--all-platforms', archive], 20 * 60_000);
        }
      }));
      recordLabEastwestImage(components!.ownImage);
    } },
    { name: 'nodes ready', run: async () => {
      for (const node of plan.nodes) clients.set(node.cluster, new KubeClient(loadKubeConfig(node.context, LAB_KUBECONFIG)));
      await Promise.all(plan.nodes.map((node) => waitFor(`node ${node.nodeName}`, 180, () => nodeReady(clients.get(node.cluster)!, node.nodeName))));
    } },
    { name: 'cluster DNS', run: async () => {
      await Promise.all(plan.nodes.map(async (node) => {
        const client = clients.get(node.cluster)!;
        for (const object of coreDnsObjects(node)) await client.apply(object);
        const core = client.config.makeApiClient(CoreV1Api);
        await waitFor(`CoreDNS in ${node.cluster}`, 180, async () => {
          const pods = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
          return pods.items.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        });
      }));
    } },
  ];

  const done: { name: string; seconds: number }[] = [];
  for (const step of steps) {
    const started = Date.now();
    reporter.report({ level: 'info', code: 'lab-step', message: `• ${step.name} …` });
    try {
      await step.run();
    } catch (error) {
      reporter.report({ level: 'error', code: 'lab-step-failed', message: `✗ ${step.name}: ${(error as Error).message}` });
      if (!options.retain) {
        reporter.report({ level: 'info', code: 'lab-cleanup', message: 'cleaning up (use --retain to keep the failed lab for debugging)' });
        await labDown(reporter);
      }
      throw error;
    }
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    done.push({ name: step.name, seconds });
    reporter.report({ level: 'info', code: 'lab-step-done', message: `✓ ${step.name} (${seconds} s)` });
  }
  return {
    alreadyRunning: false,
    clearedStale,
    kubeconfig: LAB_KUBECONFIG,
    contexts: plan.nodes.map((n) => n.context),
    steps: done,
    components: components!.parts.map((p) => ({ name: p.name, built: p.built, seconds: p.seconds })),
  };
}
