// The demo workload (guide's `echo` service and a curl client) in every cluster of a mesh with
// demo.enabled: namespace echo with sidecar injection, echo answering region=<region> (+ cluster, pod),
// a `client` Deployment (service account client) and, for the STRICT mTLS check, a pod without sidecar.
import { SIDECAR_INJECT_KEY } from '../core/vocabulary.ts';
import { namespaceInjectionLabels } from './revision.ts';
import type { KubeObject } from '../k8s/object.ts';
import { IMAGES } from '../sources/lab-images.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';

export const DEMO_NAMESPACE = 'echo';

interface DemoImages {
  echo: string;
  echoArgs?: string[];
  echoPort: number;
  client: string;
  clientCommand: string[];
}

function demoImages(spec: MeshSpec, cluster: ClusterSpec): DemoImages {
  if (spec.profile === 'lab') return { echo: IMAGES.echo, echoPort: 8080, client: IMAGES.client, clientCommand: ['/bin/sleep', 'infinity'] };
  return {
    echo: 'docker.io/hashicorp/http-echo:1.0',
    echoArgs: ['-listen=:8080', `-text=region=${cluster.region} cluster=${cluster.name}`],
    echoPort: 8080,
    client: 'docker.io/curlimages/curl:8.11.1',
    clientCommand: ['/bin/sleep', 'infinity'],
  };
}

/** What one mesh workload set is made of: a namespace, the clients and (where it serves) one server. */
export interface WorkloadShape {
  namespace: string;
  /** The server's name (Deployment, Service, service account and `app` label), or none in this cluster. */
  server?: { name: string; replicas: number };
  /** A second client with another identity (sa other), for authorization by SPIFFE principal. */
  otherClient: boolean;
  /** Labels put on every object (and the namespace). */
  labels?: Record<string, string>;
}

/**
 * The objects of one workload set in one cluster: namespace with injection, `client` (sa client),
 * `client-plaintext` (no sidecar, sa other) and, when it serves, the server answering region=<region>.
 */
export function workloadObjects(spec: MeshSpec, cluster: ClusterSpec, shape: WorkloadShape): KubeObject[] {
  const ns = shape.namespace;
  const images = demoImages(spec, cluster);
  const pullPolicy = spec.profile === 'lab' ? 'Never' : 'IfNotPresent';
  const extra = shape.labels ?? {};
  const meta = (name: string, labels: Record<string, string> = {}) => ({ name, namespace: ns, ...(Object.keys({ ...extra, ...labels }).length ? { labels: { ...extra, ...labels } } : {}) });
  const deployment = (name: string, replicas: number, labels: Record<string, string>, podSpec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, labels),
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels: { ...extra, ...labels }, annotations }, spec: { terminationGracePeriodSeconds: 2, ...podSpec } } },
  });
  const clientPod = (sa: string) => ({
    serviceAccountName: sa,
    containers: [{ name: 'client', image: images.client, imagePullPolicy: pullPolicy, command: images.clientCommand, resources: { requests: { cpu: '5m', memory: '8Mi' } } }],
  });
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...extra, ...namespaceInjectionLabels(spec) } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('client') },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('other') },
    deployment('client', 1, { app: 'client' }, clientPod('client')),
    // Same pod, another identity: authorization by SPIFFE principal must tell them apart.
    ...(shape.otherClient ? [deployment('client-other', 1, { app: 'client-other' }, clientPod('other'))] : []),
    // No sidecar: its plaintext requests must be refused under STRICT mTLS.
    deployment('client-plaintext', 1, { app: 'client-plaintext' }, clientPod('other'), { [SIDECAR_INJECT_KEY]: 'false' }),
  ];
  if (shape.server) {
    const { name, replicas } = shape.server;
    objects.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) },
      deployment(name, replicas, { app: name }, {
        serviceAccountName: name,
        // Room for the server's own drain (it answers for 10 s after SIGTERM, longer than its sidecar's 5 s).
        terminationGracePeriodSeconds: 20,
        containers: [{
          name, image: images.echo, imagePullPolicy: pullPolicy, ...(images.echoArgs ? { args: images.echoArgs } : {}),
          env: [
            { name: 'REGION', value: cluster.region }, { name: 'CLUSTER', value: cluster.name }, { name: 'PORT', value: String(images.echoPort) },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          ports: [{ name: 'http', containerPort: images.echoPort }],
          readinessProbe: { tcpSocket: { port: images.echoPort }, periodSeconds: 2 },
          resources: { requests: { cpu: '5m', memory: '16Mi' } },
        }],
      }),
      {
        apiVersion: 'v1', kind: 'Service', metadata: meta(name, { app: name }),
        spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: images.echoPort, appProtocol: 'http' }] },
      },
    );
  }
  return objects;
}

export function demoObjects(spec: MeshSpec, cluster: ClusterSpec): KubeObject[] {
  const serves = spec.services.some((s) => s.name === 'echo' && s.namespace === DEMO_NAMESPACE && s.clusters.includes(cluster.name));
  return workloadObjects(spec, cluster, { namespace: DEMO_NAMESPACE, otherClient: true, ...(serves ? { server: { name: 'echo', replicas: 2 } } : {}) });
}
