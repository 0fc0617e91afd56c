// istiod's /debug/syncz as doctor reads it (src/doctor/proxy-sync.ts): the JSON istiod writes, and which
// states are problems (a rejected config at once; an unacknowledged one only after 30 s: pushes in flight
// are normal).
import { describe, expect, it } from 'vitest';
import { parseSyncz, STALE_AFTER_SECONDS, syncProblems, type ProxySync } from '../../src/doctor/proxy-sync.ts';

// The shape istiod's SyncStatus marshals to (pilot/pkg/xds/debug.go), two proxies.
const SYNCZ = JSON.stringify([
  {
    cluster_id: 'us', proxy: 'client-76cc9ccdbf-qjbgg.echo', proxy_type: 'sidecar', istio_version: '1.31-lab',
    cluster_sent: 'a', cluster_acked: 'a',
    resources: {
      'type.googleapis.com/envoy.config.cluster.v3.Cluster': { sent: 'n2', acked: 'n1', sentTime: '2026-11-28T00:50:00Z', lastError: 'Invalid duration:\n Expected positive duration\nseconds: -1\n' },
      'type.googleapis.com/envoy.config.listener.v3.Listener': { sent: 'n5', acked: 'n5', sentTime: '2026-11-28T00:50:00Z' },
      'type.googleapis.com/istio.networking.nds.v1.NameTable': { sent: 'n1', acked: 'n1', sentTime: '0001-01-01T00:00:00Z' },
    },
  },
  { cluster_id: 'us', proxy: 'istio-eastwestgateway-abc.istio-system', proxy_type: 'router', resources: {} },
]);

describe('istiod\'s syncz', () => {
  it('reads proxies as pods with their namespace, and each xDS type by a short name; Envoy\'s message on one line', () => {
    const proxies = parseSyncz(SYNCZ)!;
    expect(proxies.map((p) => `${p.namespace}/${p.pod} ${p.kind}`)).toEqual(['echo/client-76cc9ccdbf-qjbgg sidecar', 'istio-system/istio-eastwestgateway-abc router']);
    expect(proxies[0]!.types.map((t) => t.type)).toEqual(['clusters', 'DNS names', 'listeners']);
    expect(proxies[0]!.types[0]!.error).toBe('Invalid duration: Expected positive duration seconds: -1');
    // Go's zero time means "never sent": not a time.
    expect(proxies[0]!.types.find((t) => t.type === 'DNS names')!.sentAt).toBeUndefined();
  });
  it('anything but a list of proxies is not read as one', () => {
    expect(parseSyncz('<html>')).toBeUndefined();
    expect(parseSyncz('{"error":"x"}')).toBeUndefined();
    expect(parseSyncz('[]')).toEqual([]);
  });
  it('a rejected config is a problem at once; an unacknowledged one only after 30 s', () => {
    const sentAt = Date.parse('2026-11-28T00:50:00Z');
    const proxy = (types: ProxySync['types']): ProxySync[] => [{ pod: 'p', namespace: 'n', kind: 'sidecar', types }];
    expect(syncProblems(parseSyncz(SYNCZ)!, sentAt).map((p) => `${p.kind} ${p.type}`)).toEqual(['rejected clusters']);
    const pending = proxy([{ type: 'listeners', sent: 'n2', acked: 'n1', sentAt: '2026-11-28T00:50:00Z' }]);
    expect(syncProblems(pending, sentAt + (STALE_AFTER_SECONDS - 1) * 1000)).toEqual([]);
    expect(syncProblems(pending, sentAt + (STALE_AFTER_SECONDS + 5) * 1000).map((p) => `${p.kind} ${p.type} ${p.detail}`)).toEqual([`stale listeners sent ${STALE_AFTER_SECONDS + 5} s ago, not acknowledged`]);
    expect(syncProblems(proxy([{ type: 'routes', sent: 'n3', acked: 'n3', sentAt: '2026-11-28T00:00:00Z' }]), sentAt)).toEqual([]);
  });
});
