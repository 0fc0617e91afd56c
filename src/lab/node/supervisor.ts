// One lab node's init: runs inside the node's network namespace and its own mount and UTS namespaces
// (started by `nsenter --net=… unshare --mount --uts --propagation private`). It prepares the node's
// mounts, starts etcd, kube-apiserver, containerd, controller-manager, scheduler, kubelet and kube-proxy,
// records their PIDs, and stops them in reverse order on SIGTERM.
//   usage: node supervisor.ts <node-dir>
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createCgroup, joinCgroup, pidsIn } from '../cgroups.ts';
import { startLoadBalancerAllocator } from '../load-balancer-allocator.ts';
import { CONTAINERD_SOCKET, NODE_PATHS } from './config-files.ts';
import { nodeBinds, type NodeConfig } from './node-layout.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: supervisor.ts <node-dir>\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as NodeConfig;
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;
let allocator: { stop: () => void } | undefined;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

function writeStatus(phase: string, extra: Record<string, unknown> = {}): void {
  const pids = Object.fromEntries(children.map(({ name, child }) => [name, child.pid]));
  writeFileSync(join(dir!, 'status.json'), `${JSON.stringify({ phase, supervisor: process.pid, pids, ...extra })}\n`);
}

function prepareMounts(): void {
  run('mount', ['--make-rshared', '/']);
  run('hostname', [config.nodeName]);
  run('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run']);
  for (const [source, target] of nodeBinds(dir!)) {
    mkdirSync(source, { recursive: true });
    run('mount', ['--bind', source, target]);
  }
  run('mount', ['--make-rshared', '/var/lib/kubelet']);
  run('mount', ['--bind', join(dir!, 'machine-id'), '/etc/machine-id']);
  for (const [key, value] of [
    ['net/ipv4/ip_forward', '1'],
    ['net/bridge/bridge-nf-call-iptables', '1'],
    ['net/ipv4/conf/all/route_localnet', '1'],
  ] as const) {
    try {
      writeFileSync(`/proc/sys/${key}`, value);
    } catch (error) {
      log(`sysctl ${key}: ${(error as Error).message}`);
    }
  }
}

function start(name: string, command: string, args: string[]): ChildProcess {
  const logFd = openSync(join(dir!, 'logs', `${name}.log`), 'a');
  const child = spawn(command, args, { stdio: ['ignore', logFd, logFd], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' } });
  closeSync(logFd);
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    log(`${name} exited (${signal ?? code})`);
    if (!stopping) writeStatus('degraded', { failed: name });
  });
  log(`${name} started, pid ${child.pid}`);
  writeStatus('starting');
  return child;
}

const k8s = (command: string) => join(config.kubernetesBin, command);
const pki = (file: string) => `${NODE_PATHS.kubernetes}/pki/${file}`;
const kc = (name: string) => `${NODE_PATHS.kubernetes}/${name}.kubeconfig`;

function get(path: string, port = 6443): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', ca: readFileSync(join(dir!, 'etc/pki/ca.crt')), cert: readFileSync(join(dir!, 'etc/pki/admin.crt')), key: readFileSync(join(dir!, 'etc/pki/admin.key')), timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready after ${seconds} s`);
}

async function main(): Promise<void> {
  mkdirSync(join(dir!, 'logs'), { recursive: true });
  createCgroup(`${config.cgroupParent}/system`);
  joinCgroup(`${config.cgroupParent}/system`, process.pid);
  prepareMounts();
  writeStatus('mounted');

  start('etcd', config.etcd, [
    '--name=default', '--data-dir=/var/lib/etcd',
    '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
    '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=default=http://127.0.0.1:2380', '--unsafe-no-fsync', '--log-level=warn',
    '--quota-backend-bytes=2147483648',
  ]);
  start('kube-apiserver', k8s('kube-apiserver'), [
    '--etcd-servers=http://127.0.0.1:2379', '--bind-address=0.0.0.0', `--advertise-address=${config.nodeIp}`, '--secure-port=6443',
    `--service-cluster-ip-range=${config.serviceCidr}`, '--service-node-port-range=30000-32767',
    `--tls-cert-file=${pki('apiserver.crt')}`, `--tls-private-key-file=${pki('apiserver.key')}`, `--client-ca-file=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    `--service-account-key-file=${pki('sa.pub')}`, `--service-account-signing-key-file=${pki('sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--api-audiences=https://kubernetes.default.svc.cluster.local,istio-ca',
    '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
    '--kubelet-preferred-address-types=InternalIP', '--profiling=false', '--endpoint-reconciler-type=lease', '--v=1',
  ]);
  await waitFor('kube-apiserver', async () => (await get('/readyz')) === 200, 120);
  writeStatus('apiserver-ready');
  allocator = startLoadBalancerAllocator({ kubeconfigPath: join(dir!, 'etc', 'admin.kubeconfig'), addresses: config.loadBalancerAddresses, log });

  start('containerd', '/usr/bin/containerd', ['--config', NODE_PATHS.containerdConfig]);
  await waitFor('containerd', () => existsSync(CONTAINERD_SOCKET), 60);
  start('kube-controller-manager', k8s('kube-controller-manager'), [
    `--kubeconfig=${kc('controller-manager')}`, `--authentication-kubeconfig=${kc('controller-manager')}`, `--authorization-kubeconfig=${kc('controller-manager')}`,
    '--bind-address=127.0.0.1', '--leader-elect=false', '--use-service-account-credentials=true', '--controllers=*,-cloud-node-lifecycle',
    '--allocate-node-cidrs=true', `--cluster-cidr=${config.podCidr}`, '--node-cidr-mask-size=24', `--service-cluster-ip-range=${config.serviceCidr}`,
    `--service-account-private-key-file=${pki('sa.key')}`, `--root-ca-file=${pki('ca.crt')}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`, '--v=1',
  ]);
  start('kube-scheduler', k8s('kube-scheduler'), [
    `--kubeconfig=${kc('scheduler')}`, `--authentication-kubeconfig=${kc('scheduler')}`, `--authorization-kubeconfig=${kc('scheduler')}`,
    '--bind-address=127.0.0.1', '--leader-elect=false', '--v=1',
  ]);
  start('kubelet', k8s('kubelet'), [
    `--config=${NODE_PATHS.kubernetes}/kubelet.yaml`, `--kubeconfig=${kc('kubelet')}`, `--hostname-override=${config.nodeName}`,
    `--node-ip=${config.nodeIp}`, `--node-labels=topology.kubernetes.io/region=${config.region},topology.kubernetes.io/zone=${config.zone}`, '--v=1',
  ]);
  start('kube-proxy', k8s('kube-proxy'), [`--config=${NODE_PATHS.kubernetes}/kube-proxy.yaml`, '--v=1']);
  writeStatus('running');
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  writeStatus('stopping');
  allocator?.stop();
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const exited = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    if (!exited) {
      child.kill('SIGKILL');
      // Reaped (by this process) before it goes on: no daemon is left as a zombie for PID 1.
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    }
    log(`${name} stopped`);
  }
  // What the daemons left in the node's cgroups (containerd shims, pod processes) is killed while this
  // node's subreaper (catatonit, our parent) is still alive to reap it: nothing becomes a zombie of a
  // PID 1 that does not reap.
  const killed = new Set<number>(children.flatMap(({ child }) => (child.pid ? [child.pid] : [])));
  for (let round = 0; round < 60; round++) {
    const left = pidsIn(config.cgroupParent).filter((pid) => pid !== process.pid);
    if (left.length === 0) break;
    for (const pid of left) {
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // An exited process leaves its cgroup at once but stays a zombie until it is reaped: wait until the
  // subreaper has reaped every one of them before this process (and with it the subreaper) exits.
  for (let round = 0; round < 100 && [...killed].some((pid) => existsSync(`/proc/${pid}`)); round++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  writeStatus('stopped');
  process.exit(0);
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
main().catch((error) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  writeStatus('failed', { error: (error as Error).message });
  void stop();
});
