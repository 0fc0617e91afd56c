// Upstream files some renders need (render itself does no I/O), from the pinned istio.io/istio module in
// Go's module cache: the lab's Prometheus and Kiali (samples/addons), and Istio's Grafana dashboards;
// for apply and diff, the MCS API's CRDs from sigs.k8s.io/mcs-api.
import { EastwestError } from '../core/errors.ts';
import { mcsCrds } from '../mcs/crds.ts';
import { istioAddonObjects, istioDashboards } from '../sources/upstream-sources.ts';
import type { RenderAddons } from '../render/render-mesh.ts';
import type { MeshSpec } from '../spec/schema.ts';

/** With `ensured`, also what apply creates where absent (the MCS CRDs, or why they cannot be had). */
export async function loadRenderAddons(spec: MeshSpec, options: { ensured?: boolean } = {}): Promise<RenderAddons> {
  const rendered = await renderAddons(spec);
  if (!options.ensured) return rendered;
  return { ...rendered, mcsCrds: await mcsCrds().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))) };
}

async function renderAddons(spec: MeshSpec): Promise<RenderAddons> {
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
