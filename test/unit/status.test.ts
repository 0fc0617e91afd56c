// eastwest status's one screen (issue 18): every field per cluster, what marks a cluster as needing
// attention, an unreachable one, and the honest line when no cluster answered.
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/commands/status.ts';
import { makeStyle } from '../../src/cli/output.ts';
import type { ClusterStatus, StatusResult } from '../../src/status/status-mesh.ts';

const ROOT = 'SHA256:16:05:B3:7F:EE:9B:AA:90:8F:05:7F:04:BA:A7:9B:52:C7:33:9C:B4:E3:87:94:05:BF:98:8E:74:AC:CA:CF:23';
const healthy = (over: Partial<ClusterStatus> = {}): ClusterStatus => ({
  kubernetesVersion: 'v1.35.0',
  istio: { version: '1.31.0', ready: 1, desired: 1 },
  gateway: { address: '198.18.2.1', source: 'live' },
  root: ROOT,
  rootMatches: true,
  sync: { ready: 2, desired: 2, leader: 'eastwest-sync-7d9-abc', renewedSecondsAgo: 3 },
  drift: 0,
  ...over,
});
const result = (clusters: StatusResult['clusters'], ok: boolean): StatusResult => ({
  meshID: 'training-mesh', meshRoot: { fingerprint: ROOT, source: 'clusters' }, clusters, ok,
  unreachable: clusters.filter((c) => !c.ok).map((c) => c.cluster), seconds: 1.2,
});
const piped = makeStyle({ terminal: false, color: false });

describe('renderStatus', () => {
  it('a healthy mesh: one row per cluster with every field, and "healthy"', () => {
    const text = renderStatus(result([{ cluster: 'us', ok: true, value: healthy() }, { cluster: 'eu', ok: true, value: healthy({ gateway: { address: '198.18.2.17', source: 'live' } }) }], true), piped);
    expect(text).toContain(`mesh training-mesh, root ${ROOT} (clusters)`);
    expect(text).toMatch(/^us\s+ok\s+v1\.35\.0\s+ok\s+1\.31\.0 \(1\/1\)\s+ok\s+198\.18\.2\.1\s+ok\s+SHA256:16:05:B3:7F…\s+ok\s+2\/2 leader eastwest-sync-7d9-abc \(3 s ago\)\s+ok\s+0$/m);
    expect(text).toMatch(/^eu\s+ok .*198\.18\.2\.17/m);
    expect(text.split('\n').at(-1)).toBe('healthy');
    expect(text).not.toMatch(/\x1b\[|✓|✗/);
  });

  it('drift, another root, no gateway address, istiod not ready and no sync leader are each marked FAIL', () => {
    const text = renderStatus(result([
      { cluster: 'us', ok: true, value: healthy({ drift: 3, rootMatches: false, root: 'SHA256:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55' }) },
      { cluster: 'eu', ok: true, value: healthy({ gateway: { source: 'unknown' }, istio: { version: '1.31.0', ready: 0, desired: 1 }, sync: { ready: 0, desired: 2 } }) },
    ], false), piped);
    expect(text).toMatch(/^us .*FAIL SHA256:AA:BB:CC:DD…\s+differs .*FAIL 3$/m);
    expect(text).toMatch(/^eu .*FAIL 1\.31\.0 \(0\/1\)\s+FAIL no address .*FAIL 0\/2 no leader/m);
    expect(text.split('\n').at(-1)).toMatch(/^needs attention: `eastwest diff` shows the drift$/);
  });

  it('an unreachable cluster is a row with its error and hint; the others are still shown', () => {
    const text = renderStatus(result([
      { cluster: 'us', ok: true, value: healthy() },
      { cluster: 'eu', ok: false, step: 'connect', error: 'unreachable (timeout after 10 s) during version', hint: 'is the cluster up?', unreachable: true },
    ], false), piped);
    expect(text).toMatch(/^eu\s+FAIL unreachable$/m);
    expect(text).toContain('eu: unreachable (timeout after 10 s) during version\n    hint: is the cluster up?');
    expect(text.split('\n').at(-1)).toBe('needs attention (not reached: eu): `eastwest diff` shows the drift');
  });

  it('no cluster answered: says that nothing is known, not "healthy"', () => {
    const down = { ok: false as const, step: 'connect', error: 'unreachable', unreachable: true };
    const text = renderStatus({ ...result([{ cluster: 'us', ...down }, { cluster: 'eu', ...down }], false), meshRoot: undefined } as unknown as StatusResult, piped);
    expect(text.split('\n').at(-1)).toBe('no cluster answered: nothing is known about the mesh');
    expect(text.split('\n')[0]).toBe('mesh training-mesh, no root published yet');
  });

  it('unknown drift (diff could not read the cluster) is a warning with the reason; columns stay aligned with colour on a terminal', () => {
    const tty = makeStyle({ terminal: true, color: true });
    const text = renderStatus(result([{ cluster: 'us', ok: true, value: healthy({ drift: undefined, driftError: 'forbidden' }) }, { cluster: 'eu', ok: true, value: healthy() }], false), tty);
    expect(text).toContain('unknown: forbidden');
    // eslint-disable-next-line no-control-regex
    const plain = text.replace(/\x1b\[\d+m/g, '').split('\n');
    const column = (line: string) => line.indexOf('1.31.0');
    expect(column(plain.find((l) => l.startsWith('us'))!)).toBe(column(plain.find((l) => l.startsWith('eu'))!));
  });
});
