// Everything apply puts into a cluster after Istio is installed, in stage order: the rendered mesh
// objects, remote secrets (endpoint-discovery mode) and the demo workload. Shared by apply and diff.
import { STAGES, type KubeObject } from '../k8s/object.ts';
import { demoObjects } from '../render/demo-workload.ts';
import { owned } from '../render/ownership.ts';
import type { RenderedCluster } from '../render/render-mesh.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { PreflightInfo } from './preflight.ts';
import { remoteSecret, serverOf } from './remote-secrets.ts';

export function meshObjects(spec: MeshSpec, cluster: ClusterSpec, rendered: RenderedCluster, info: Map<string, PreflightInfo>, tokens: Map<string, string>): KubeObject[] {
  const staged = [...rendered.postInstall];
  if (spec.federation.mode === 'endpoint-discovery') {
    for (const other of spec.clusters) {
      const token = tokens.get(other.name);
      if (other.name === cluster.name || token === undefined) continue;
      const { server, caData } = serverOf(info.get(other.name)!.client.config);
      staged.push({ stage: 'secrets', object: owned(spec.meshID, remoteSecret(other.name, server, caData, token)) });
    }
  }
  if (spec.demo.enabled) for (const object of demoObjects(spec, cluster)) staged.push({ stage: object.kind === 'Namespace' ? 'namespaces' : 'istio-config', object: owned(spec.meshID, object) });
  return staged.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage)).map((s) => s.object);
}

