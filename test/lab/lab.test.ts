// The lab's definition of done, against the real lab (issue 3).
import { pollUntil } from '../../src/util/poll.ts';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { silentReporter } from '../../src/core/reporter.ts';
import { labDown } from '../../src/lab/lab-down.ts';
import { readLabState } from '../../src/lab/lab-state.ts';
import { labUp } from '../../src/lab/lab-up.ts';
import { labNetworkState } from '../../src/lab/host-network.ts';
import { LAB_BRIDGE } from '../../src/lab/plan.ts';
import { exec } from '../../src/util/exec.ts';
import { kubectl } from '../integration/lab-helpers.ts';

const workload = (region: string) => `
apiVersion: v1
kind: Namespace
metadata: {name: labtest}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: labtest}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: echo
        image: lab.eastwest.dev/echo:1
        imagePullPolicy: Never
        env: [{name: REGION, value: ${region}}, {name: CLUSTER, value: ${region}}, {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: labtest}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: labtest}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: labtest}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: client, image: lab.eastwest.dev/client:1, imagePullPolicy: Never}]
`;

const curl = (context: string, url: string, timeout = 5) =>
  kubectl(context, ['exec', '-n', 'labtest', 'client', '--', 'curl', '-s', '-m', String(timeout), url], { okCodes: [7, 28] });

/** Services converge (endpoints → kube-proxy rules) a moment after pods are ready: ask again for up to 30 s. */
async function curlUntil(context: string, url: string, expected: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 30; i++) {
    last = (await curl(context, url, 3)).stdout;
    if (expected.test(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

describe('lab clusters', () => {
  it('both nodes are Ready, with their region and zone labels', async () => {
    for (const [context, region] of [['lab-us', 'us'], ['lab-eu', 'eu']] as const) {
      const nodes = JSON.parse((await kubectl(context, ['get', 'nodes', '-o', 'json'])).stdout).items;
      expect(nodes).toHaveLength(1);
      expect(nodes[0].status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
      expect(nodes[0].metadata.labels['topology.kubernetes.io/region']).toBe(region);
      expect(nodes[0].status.nodeInfo.kubeletVersion).toBe('v1.35.4');
    }
  });

  it('a 2-replica Deployment runs in each cluster and its Service answers by ClusterIP and by DNS name from another pod', async () => {
    for (const [context, region] of [['lab-us', 'us'], ['lab-eu', 'eu']] as const) {
      await kubectl(context, ['apply', '-f', '-'], { input: workload(region) });
      await kubectl(context, ['-n', 'labtest', 'rollout', 'status', 'deploy/web', '--timeout=120s'], { timeoutMs: 130_000 });
      await kubectl(context, ['-n', 'labtest', 'wait', '--for=condition=Ready', 'pod/client', '--timeout=120s'], { timeoutMs: 130_000 });
      const ready = JSON.parse((await kubectl(context, ['-n', 'labtest', 'get', 'deploy/web', '-o', 'json'])).stdout).status.readyReplicas;
      expect(ready).toBe(2);
      const clusterIp = (await kubectl(context, ['-n', 'labtest', 'get', 'svc/web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
      const byIp = new RegExp(`^region=${region} cluster=${region} pod=web-`);
      expect(await curlUntil(context, `http://${clusterIp}/`, byIp)).toMatch(byIp);
      const byName = new RegExp(`^region=${region} `);
      expect(await curlUntil(context, 'http://web.labtest.svc.cluster.local/', byName)).toMatch(byName);
    }
  });

  it('a US pod cannot reach an EU pod IP, but reaches an EU LoadBalancer Service by its assigned address', async () => {
    const euPodIp = (await kubectl('lab-eu', ['-n', 'labtest', 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].status.podIP}'])).stdout;
    expect(euPodIp).toMatch(/^198\.18\.\d+\.\d+$/);
    const direct = await curl('lab-us', `http://${euPodIp}:8080/`, 3);
    expect(direct.code).not.toBe(0);
    expect(direct.stdout).toBe('');
    let lbIp = '';
    for (let i = 0; i < 30 && !lbIp; i++) {
      lbIp = (await kubectl('lab-eu', ['-n', 'labtest', 'get', 'svc/web-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).stdout;
      if (!lbIp) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(lbIp).toMatch(/^198\.18\.2\.(1[7-9]|2\d)$/); // EU's range 198.18.2.16/28
    expect(await curlUntil('lab-us', `http://${lbIp}/`, /^region=eu cluster=eu pod=web-/)).toMatch(/^region=eu cluster=eu pod=web-/);
  });

  it('lab up on a running lab is a no-op that reports it', async () => {
    const result = await labUp({ clusters: ['us', 'eu'] }, silentReporter);
    expect(result.alreadyRunning).toBe(true);
    expect(result.contexts).toEqual(['lab-us', 'lab-eu']);
  });
});

describe('lab lifecycle', () => {
  it('recognises and clears the leftovers of a killed lab, then comes up again', async () => {
    // What a session's end does: every lab process killed at once, namespaces and cgroups left behind.
    const before = await readLabState();
    for (const pid of before.processes) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const node of before.nodes) if (node.supervisorPid) try { process.kill(node.supervisorPid, 'SIGKILL'); } catch { /* gone */ }
    // Gone once no lab process runs any more (a zombie left to a PID 1 that does not reap counts as gone).
    const killed = await pollUntil(15, 100, async () => {
      const state = await readLabState();
      return state.running ? undefined : state;
    });
    expect(killed, 'no lab process running 15 s after SIGKILL').toBeDefined();
    if (!killed) return;
    expect(killed.running).toBe(false);
    expect(killed.stale).toBe(true);
    expect(killed.netns.length).toBe(2);
    const result = await labUp({ clusters: ['us', 'eu'] }, silentReporter);
    expect(result.clearedStale).toBe(true);
    expect((await readLabState()).running).toBe(true);
    const nodes = JSON.parse((await kubectl('lab-eu', ['get', 'nodes', '-o', 'json'])).stdout).items;
    expect(nodes[0].status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
  });

  it('after lab down no lab process, netns, mount, interface, iptables rule or cgroup remains; up after down works', async () => {
    const running = await readLabState();
    const pids = running.processes;
    expect(pids.length).toBeGreaterThan(5);
    await labDown(silentReporter);
    const after = await readLabState();
    expect(after.nodes).toEqual([]);
    expect(after.processes).toEqual([]);
    expect(after.cgroups).toEqual([]);
    expect(after.netns).toEqual([]);
    expect(after.iptablesRules).toEqual([]);
    expect((await labNetworkState(LAB_BRIDGE)).links).toEqual([]);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(readFileSync('/proc/mounts', 'utf8')).not.toMatch(/eastwest/);
    expect((await exec('ip', ['route', 'show'])).stdout).not.toMatch(/198\.18\./);
    expect((await exec('iptables', ['-S'])).stdout).not.toMatch(/eastwest/);
    // Down is idempotent.
    expect((await labDown(silentReporter)).leftovers).toEqual([]);
    // Up after down works (and leaves the lab running for the tiers after this one).
    const again = await labUp({ clusters: ['us', 'eu'] }, silentReporter);
    expect(again.alreadyRunning).toBe(false);
    expect((await readLabState()).running).toBe(true);
  });
});
