// The sync controller at scale: N ServiceExports (Services without pods, valid exports) created at once
// in lab-eu → time until lab-us has all their ServiceEntries; the controller's peak memory; the US
// client sidecar's configuration size (config_dump bytes) before and after (no scoping yet: every
// imported service reaches every sidecar); then unexported at once → time until all are gone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { podExec } from '../src/k8s/pod-exec.ts';
import { LAB_KUBECONFIG } from '../src/lab/lab-state.ts';
import { readyPod } from '../src/verify/mesh-probes.ts';
import { kubectl } from '../test/integration/lab-helpers.ts';

const root = join(import.meta.dirname, '..');

const rssMiB = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

async function importedCount(): Promise<number> {
  const r = await kubectl('lab-us', ['get', 'serviceentries', '-n', 'bulk', '-l', 'app.kubernetes.io/managed-by=eastwest-sync', '-o', 'name'], { okCodes: [0, 1] });
  return r.stdout.split('\n').filter(Boolean).length;
}

async function configDumpBytes(): Promise<number> {
  const config = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const pod = await readyPod(config, 'echo', 'app=client');
  const r = await podExec(config, 'echo', pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump'], 120_000);
  return Buffer.byteLength(r.stdout);
}

export async function syncScaleBenchmark(count = 1000): Promise<Record<string, number | string>> {
  for (const c of ['lab-eu', 'lab-us']) await kubectl(c, ['delete', 'namespace', 'bulk', '--ignore-not-found', '--wait=true'], { timeoutMs: 600_000 });
  const sync = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'sync', '-f', join(root, 'examples/lab.yaml'), '--kubeconfig', LAB_KUBECONFIG], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sync.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(sync.pid!))), 200);
  const wait = async (check: () => Promise<boolean>, limit: number) => {
    const started = performance.now();
    while ((performance.now() - started) / 1000 < limit) {
      if (await check()) return Math.round((performance.now() - started) / 100) / 10;
      await new Promise((r) => setTimeout(r, 500));
    }
    return Number.POSITIVE_INFINITY;
  };
  try {
    await wait(async () => /us: watching/.test(log) && /eu: watching/.test(log), 120);
    const idleMiB = Math.round(rssMiB(sync.pid!));
    const before = await configDumpBytes();
    const docs = ['apiVersion: v1\nkind: Namespace\nmetadata: {name: bulk}\n'];
    for (let i = 0; i < count; i++) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: bulk}\nspec: {selector: {app: s${i}}, ports: [{name: http, port: 80, targetPort: 8080}]}\n`);
      docs.push(`apiVersion: multicluster.x-k8s.io/v1alpha1\nkind: ServiceExport\nmetadata: {name: s${i}, namespace: bulk}\n`);
    }
    const creating = performance.now();
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: docs.join('---\n'), timeoutMs: 600_000 });
    const applied = Math.round((performance.now() - creating) / 100) / 10;
    await wait(async () => (await importedCount()) === count, 900);
    const converge = Math.round((performance.now() - creating) / 100) / 10;
    await new Promise((r) => setTimeout(r, 5000)); // the push reaches the sidecar
    const after = await configDumpBytes();
    const deleting = performance.now();
    await kubectl('lab-eu', ['delete', 'serviceexports', '-n', 'bulk', '--all', '--wait=false'], { timeoutMs: 600_000 });
    await wait(async () => (await importedCount()) === 0, 900);
    const gone = Math.round((performance.now() - deleting) / 100) / 10;
    return {
      exports: count,
      kubectlApplySeconds: applied,
      convergeSeconds: converge,
      unexportAllSeconds: gone,
      controllerIdleMiB: idleMiB,
      controllerPeakMiB: Math.round(peak),
      clientConfigDumpBeforeKiB: Math.round(before / 1024),
      clientConfigDumpAfterKiB: Math.round(after / 1024),
    };
  } finally {
    clearInterval(sampler);
    sync.kill('SIGTERM');
    await new Promise((r) => sync.once('exit', r));
    for (const c of ['lab-eu', 'lab-us']) await kubectl(c, ['delete', 'namespace', 'bulk', '--ignore-not-found', '--wait=false']);
  }
}
