// Upstream manifests some renders need (render itself does no I/O): the lab's Prometheus comes from
// Istio's samples/addons (prometheus.yaml, kiali.yaml) in the pinned istio.io/istio module, read from Go's module cache.
import { EastwestError } from '../core/errors.ts';
import { istioAddonObjects } from '../lab/upstream-sources.ts';
import type { RenderAddons } from '../render/render-mesh.ts';
import type { MeshSpec } from '../spec/schema.ts';

export async function loadRenderAddons(spec: MeshSpec): Promise<RenderAddons> {
  if (spec.profile !== 'lab' || !spec.observability.prometheus) return {};
  try {
    return { prometheus: await istioAddonObjects('prometheus'), ...(spec.observability.kiali ? { kiali: await istioAddonObjects('kiali') } : {}) };
  } catch (error) {
    throw new EastwestError('addon-manifest', `cannot read Istio's samples/addons from the pinned istio.io/istio module: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'the lab profile takes it from Go\'s module cache: is `go` on PATH and the module proxy reachable? (`npx eastwest lab up` fetches it)',
    });
  }
}
