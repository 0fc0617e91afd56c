// Upstream files some renders need (render itself does no I/O), from the pinned istio.io/istio module in
// Go's module cache: the lab's Prometheus and Kiali (samples/addons), and Istio's Grafana dashboards.
import { EastwestError } from '../core/errors.ts';
import { istioAddonObjects, istioDashboards } from '../sources/upstream-sources.ts';
import type { RenderAddons } from '../render/render-mesh.ts';
import type { MeshSpec } from '../spec/schema.ts';

export async function loadRenderAddons(spec: MeshSpec): Promise<RenderAddons> {
  if (!spec.observability.prometheus) return {};
  if (spec.profile !== 'lab') {
    if (!spec.observability.grafana) return {};
    try {
      return { dashboards: await istioDashboards() };
    } catch (error) {
      throw new EastwestError('addon-manifest', `cannot read Istio's Grafana dashboards from the pinned istio.io/istio module: ${(error as Error).message.split('\n')[0]}`, {
        hint: 'they come from Go\'s module cache (`go mod download`): install Go and reach a Go module proxy, or set observability.grafana: false',
      });
    }
  }
  try {
    return { prometheus: await istioAddonObjects('prometheus'), ...(spec.observability.kiali ? { kiali: await istioAddonObjects('kiali') } : {}) };
  } catch (error) {
    throw new EastwestError('addon-manifest', `cannot read Istio's samples/addons from the pinned istio.io/istio module: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'the lab profile takes it from Go\'s module cache: is `go` on PATH and the module proxy reachable? (`npx eastwest lab up` fetches it)',
    });
  }
}
