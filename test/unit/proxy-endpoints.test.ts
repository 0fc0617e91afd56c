// Envoy's /clusters?format=json as a client proxy answers it: per Envoy cluster, endpoints held and usable.
import { describe, expect, it } from 'vitest';
import { outboundCluster, parseClusterHealth } from '../../src/doctor/proxy-endpoints.ts';

const host = (address: string, health: Record<string, unknown> = { eds_health_status: 'HEALTHY' }) => ({ address: { socket_address: { address, port_value: 15443 } }, health_status: health });
const body = JSON.stringify({
  cluster_statuses: [
    { name: 'outbound|80||echo.eu.mesh.local', host_statuses: [host('198.18.2.17')] },
    { name: 'outbound|80||echo.ap.mesh.local', host_statuses: [host('198.18.2.33', { eds_health_status: 'HEALTHY', failed_outlier_check: true }), host('198.18.2.34', { eds_health_status: 'UNHEALTHY' })] },
    { name: 'outbound|80||gone.mesh.local' },
    { name: 'outbound|80||echo.echo.svc.cluster.local', host_statuses: [host('10.0.0.1'), host('10.0.0.2', { eds_health_status: 'DRAINING' })] },
  ],
});

describe('client proxy endpoints', () => {
  it('counts endpoints held and usable per wanted cluster, with why the others are not', () => {
    const wanted = new Set(['outbound|80||echo.eu.mesh.local', 'outbound|80||echo.ap.mesh.local', 'outbound|80||gone.mesh.local']);
    const health = parseClusterHealth(body, wanted)!;
    expect([...health.keys()].sort()).toEqual([...wanted].sort());
    expect(health.get('outbound|80||echo.eu.mesh.local')).toEqual({ total: 1, healthy: 1, reasons: {} });
    expect(health.get('outbound|80||echo.ap.mesh.local')).toEqual({ total: 2, healthy: 0, reasons: { 'ejected by outlier detection': 1, 'unhealthy in EDS': 1 } });
    expect(health.get('outbound|80||gone.mesh.local')).toEqual({ total: 0, healthy: 0, reasons: {} });
  });
  it('every cluster when none is named; a draining endpoint is not usable', () => {
    const all = parseClusterHealth(body)!;
    expect(all.size).toBe(4);
    expect(all.get('outbound|80||echo.echo.svc.cluster.local')).toEqual({ total: 2, healthy: 1, reasons: { 'draining in EDS': 1 } });
  });
  it('an answer that is not Envoy\'s clusters document is undefined, never an empty (healthy-looking) map', () => {
    expect(parseClusterHealth('not json')).toBeUndefined();
    expect(parseClusterHealth('{"configs": []}')).toBeUndefined();
    expect(parseClusterHealth('null')).toBeUndefined();
  });
  it('names the Envoy cluster as Istio does', () => {
    expect(outboundCluster('echo.eu.mesh.local', 80)).toBe('outbound|80||echo.eu.mesh.local');
  });
});
