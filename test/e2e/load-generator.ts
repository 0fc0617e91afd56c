// The load of the day-2 proofs: fortio (built from its Go module by the lab) in a namespace of its own in
// every cluster, outside every namespace an operation restarts, sending requests at a fixed rate along
// named streams (us→eu, eu→us, local) while an operation runs, and counting every request that did not
// answer 200. Its pods call the demo service as `eastwest-load/load`: an ALLOW policy beside the mesh's
// own admits that identity, and everything is removed afterwards.
import { type KubeConfig } from '@kubernetes/client-node';
import { INJECTION_LABEL } from '../../src/core/vocabulary.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { waitDeploymentReady } from '../../src/k8s/deployments.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { podExec } from '../../src/k8s/pod-exec.ts';
import { readyPod } from '../../src/k8s/pods.ts';
import { IMAGES } from '../../src/sources/lab-images.ts';
import { pollUntil } from '../../src/util/poll.ts';

export const LOAD_NAMESPACE = 'eastwest-load';
const LOAD_ACCOUNT = 'load';
const FIELD_MANAGER = 'eastwest-load';

export interface LoadStream {
  /** e.g. `us→eu`. */
  name: string;
  /** The cluster whose load pod sends. */
  from: string;
  url: string;
}

export interface StreamResult {
  name: string;
  sent: number;
  failed: number;
  /** Answers by HTTP status (`-1`: no answer: reset, refused, timed out). */
  codes: Record<string, number>;
  seconds: number;
}

/** The three streams of the proofs on a two-cluster lab: both remote directions and one local. */
export function labStreams(local = 'us', remote = 'eu', service = { name: 'echo', namespace: 'echo' }, hostSuffix = 'mesh.local'): LoadStream[] {
  return [
    { name: `${local}→${remote}`, from: local, url: `http://${service.name}.${remote}.${hostSuffix}/` },
    { name: `${remote}→${local}`, from: remote, url: `http://${service.name}.${local}.${hostSuffix}/` },
    { name: `${local} local`, from: local, url: `http://${service.name}.${service.namespace}.svc.cluster.local/` },
  ];
}

function loadObjects(trustDomain: string, servedNamespace: string): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOAD_NAMESPACE, labels: { ...labels, [INJECTION_LABEL]: 'enabled' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: LOAD_ACCOUNT, namespace: LOAD_NAMESPACE, labels } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fortio', namespace: LOAD_NAMESPACE, labels },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'fortio' } },
        template: {
          metadata: { labels: { app: 'fortio' } },
          spec: {
            serviceAccountName: LOAD_ACCOUNT, terminationGracePeriodSeconds: 2,
            containers: [{ name: 'fortio', image: IMAGES.fortio, imagePullPolicy: 'Never', resources: { requests: { cpu: '20m', memory: '32Mi' } } }],
          },
        },
      },
    },
    {
      apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'eastwest-load-allow', namespace: servedNamespace, labels },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: [`${trustDomain}/ns/${LOAD_NAMESPACE}/sa/${LOAD_ACCOUNT}`] } }] }] },
    },
  ];
}

export interface LoadGenerators {
  /** Starts every stream at `qps` requests per second each; `stop()` ends them and counts. */
  start(streams: LoadStream[], qps?: number): Promise<{ stop(): Promise<StreamResult[]> }>;
  /** Sends requests until each stream has `n` answers in a row with status 200 (the mesh is serving them). */
  waitServing(streams: LoadStream[], timeoutSeconds?: number): Promise<void>;
  remove(): Promise<void>;
}

/** fortio's JSON result: the answers by status. */
export function countAnswers(json: string): { sent: number; codes: Record<string, number>; seconds: number } {
  const result = JSON.parse(json) as { RetCodes?: Record<string, number>; ActualDuration?: number };
  const codes = result.RetCodes ?? {};
  const sent = Object.values(codes).reduce((a, b) => a + b, 0);
  return { sent, codes, seconds: Math.round((result.ActualDuration ?? 0) / 1e8) / 10 };
}

export async function deployLoadGenerators(configs: ReadonlyMap<string, KubeConfig>, options: { trustDomain: string; servedNamespace: string }): Promise<LoadGenerators> {
  const objects = loadObjects(options.trustDomain, options.servedNamespace);
  for (const [cluster, config] of configs) {
    const client = new KubeClient(config, { fieldManager: FIELD_MANAGER, cluster });
    for (const object of objects) await client.apply(object);
  }
  const pods = new Map<string, string>();
  for (const [cluster, config] of configs) {
    await waitDeploymentReady(config, LOAD_NAMESPACE, 'fortio', 180);
    pods.set(cluster, await readyPod(config, LOAD_NAMESPACE, 'app=fortio'));
  }
  const exec = (cluster: string, script: string, timeoutMs = 30_000) => {
    const config = configs.get(cluster);
    if (!config) throw new Error(`no load generator in ${cluster}`);
    return podExec(config, LOAD_NAMESPACE, pods.get(cluster)!, 'fortio', ['sh', '-c', script], timeoutMs);
  };
  let run = 0;
  return {
    async start(streams, qps = 20) {
      const id = ++run;
      const started: { stream: LoadStream; pid: string; file: string }[] = [];
      for (const [i, stream] of streams.entries()) {
        const file = `/tmp/run-${id}-${i}`;
        // -t 0: until interrupted (SIGINT ends the run and writes the result); -c 2: two connections per stream;
        // every non-200 is counted, the first ones too (-allow-initial-errors).
        const command = `fortio load -qps ${qps} -c 2 -t 0 -timeout 5s -allow-initial-errors -json ${file}.json ${stream.url}`;
        const { stdout, exitCode, stderr } = await exec(stream.from, `${command} > ${file}.log 2>&1 & echo $!`);
        if (exitCode !== 0) throw new Error(`fortio did not start in ${stream.from}: ${stderr}`);
        started.push({ stream, pid: stdout.trim(), file });
      }
      return {
        async stop() {
          const results: StreamResult[] = [];
          for (const { stream, pid } of started) await exec(stream.from, `kill -INT ${pid}`);
          for (const { stream, pid, file } of started) {
            // The result file is written when the run ends (the process may linger as a zombie of the pod's
            // `sleep`, which reaps nothing: its file, not its pid, says it is done).
            const answers = await pollUntil(30, 500, async () => {
              const { stdout } = await exec(stream.from, `cat ${file}.json 2>/dev/null || true`);
              try {
                return countAnswers(stdout);
              } catch {
                return undefined;
              }
            });
            if (!answers) throw new Error(`fortio ${stream.name} (pid ${pid}) wrote no result within 30 s of its interrupt`);
            results.push({ name: stream.name, sent: answers.sent, failed: answers.sent - (answers.codes['200'] ?? 0), codes: answers.codes, seconds: answers.seconds });
          }
          return results;
        },
      };
    },
    async waitServing(streams, timeoutSeconds = 120) {
      for (const stream of streams) {
        const ok = await pollUntil(timeoutSeconds, 1000, async () => {
          const { stdout } = await exec(stream.from, `fortio load -qps 0 -n 10 -c 1 -allow-initial-errors -json - ${stream.url} 2>/dev/null`);
          try {
            const answers = countAnswers(stdout);
            return answers.sent === 10 && answers.codes['200'] === 10 ? true : undefined;
          } catch {
            return undefined; // no JSON: fortio could not run at all yet
          }
        });
        if (!ok) throw new Error(`${stream.name} (${stream.url}) did not answer 10 requests in a row within ${timeoutSeconds} s`);
      }
    },
    async remove() {
      for (const [cluster, config] of configs) {
        const client = new KubeClient(config, { fieldManager: FIELD_MANAGER, cluster });
        for (const object of [...objects].reverse()) await client.delete(object).catch(() => false);
      }
      for (const [cluster, config] of configs) {
        const client = new KubeClient(config, { fieldManager: FIELD_MANAGER, cluster });
        await pollUntil(120, 1000, async () => ((await client.read(objects[0]!)) ? undefined : true));
      }
    },
  };
}

/** One line per stream: `us→eu 1,204 sent, 0 failed`. */
export function describeResults(results: StreamResult[]): string {
  return results.map((r) => `${r.name} ${r.sent} sent, ${r.failed} failed${r.failed ? ` (${Object.entries(r.codes).map(([c, n]) => `${c}×${n}`).join(' ')})` : ''} in ${r.seconds} s`).join('; ');
}
