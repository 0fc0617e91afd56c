// Services served by several clusters: stay in the caller's region, fail over to another region when
// it has no healthy endpoint. Locality load balancing needs outlierDetection to have any effect.
import type { KubeObject } from '../k8s/object.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { clusterLocalHost } from './federation-service-entry.ts';

export const LOCALITY_OUTLIER_DETECTION = {
  consecutive5xxErrors: 3,
  interval: '5s',
  baseEjectionTime: '15s',
  maxEjectionPercent: 100,
} as const;

export function localityDestinationRules(spec: MeshSpec): KubeObject[] {
  const regionOf = new Map(spec.clusters.map((c) => [c.name, c.region]));
  return spec.services
    .filter((s) => s.clusters.length > 1)
    .map((service) => {
      const regions = [...new Set(service.clusters.map((c) => regionOf.get(c)!))].sort();
      // Each region fails over to the next one in order (a ring), so every region has a fallback.
      const failover = regions.length > 1 ? regions.map((from, i) => ({ from, to: regions[(i + 1) % regions.length]! })) : [];
      return {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: `${service.name}-locality`, namespace: service.namespace },
        spec: {
          host: clusterLocalHost(service),
          trafficPolicy: {
            tls: { mode: 'ISTIO_MUTUAL' },
            loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, ...(failover.length ? { failover } : {}) } },
            outlierDetection: { ...LOCALITY_OUTLIER_DETECTION },
          },
        },
      };
    });
}
