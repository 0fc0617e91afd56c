// ca rotate's pure parts: which pods carry a proxy, how the result reads, and bad input before any cluster.
import type { V1Pod } from '@kubernetes/client-node';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRootRotation, renderRotation } from '../../src/cli/commands/ca.ts';
import { makeStyle } from '../../src/cli/output.ts';
import { leftOnOldChain, proxyPods, type ProxyChain, type RotateResult } from '../../src/engine/ca-rotate.ts';
import { eastwest } from './run-cli.ts';

const spec = join(import.meta.dirname, '../../examples/lab.yaml');
const pod = (namespace: string, name: string, options: { labels?: Record<string, string>; sidecar?: boolean; phase?: string; deleting?: boolean } = {}): V1Pod => ({
  metadata: {
    namespace, name, labels: options.labels ?? {},
    annotations: options.sidecar ? { 'sidecar.istio.io/status': '{}' } : {},
    ...(options.deleting ? { deletionTimestamp: new Date() } : {}),
  },
  status: { phase: options.phase ?? 'Running' },
});

describe('the proxies a rotation reports', () => {
  it('sidecars (native ones too) and gateways (ours by label, others by their istio-proxy container) that run; not plain pods, pending ones or ones being deleted', () => {
    const found = proxyPods([
      pod('echo', 'echo-1', { sidecar: true }),
      pod('echo', 'plain-1'),
      pod('echo', 'echo-2', { sidecar: true, phase: 'Pending' }),
      pod('echo', 'echo-3', { sidecar: true, deleting: true }),
      pod('istio-system', 'gw-1', { labels: { istio: 'eastwestgateway' } }),
      pod('istio-system', 'istiod-1', { labels: { app: 'istiod' } }),
      pod('eastwest-load', 'fortio-1', { sidecar: true }),
      { ...pod('ingress', 'ingress-1'), spec: { containers: [{ name: 'istio-proxy' }] } },
      { ...pod('echo', 'native-1', { sidecar: true }), spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'istio-proxy' }] } },
    ]);
    expect(found.map((p) => `${p.namespace}/${p.pod} ${p.kind}`)).toEqual(['eastwest-load/fortio-1 sidecar', 'echo/echo-1 sidecar', 'echo/native-1 sidecar', 'ingress/ingress-1 gateway', 'istio-system/gw-1 gateway']);
  });
});

describe('the rotation as text', () => {
  const result: RotateResult = {
    ok: false, directory: '/team/pki', rootFingerprint: 'SHA256:AA', seconds: 61.2,
    clusters: [
      {
        cluster: 'us', ok: true, value: {
          old: { fingerprint: 'SHA256:01', notAfter: '2031-01-01T00:00:00.000Z' }, new: { fingerprint: 'SHA256:02', notAfter: '2031-11-27T06:37:00.000Z' },
          istiodSwitchedSeconds: 49.8, restarted: [{ namespace: 'echo', deployment: 'echo', seconds: 14.2 }],
          proxies: [
            { namespace: 'echo', pod: 'echo-1', kind: 'sidecar', chain: { holds: 'new', renewsAt: '2026-11-28T18:40:00.000Z', expiresAt: '2026-11-29T06:40:00.000Z', issuer: 'SHA256:02' } },
            { namespace: 'eastwest-load', pod: 'fortio-1', kind: 'sidecar', chain: { holds: 'old', renewsAt: '2026-11-28T18:33:00.000Z', expiresAt: '2026-11-29T06:33:00.000Z', issuer: 'SHA256:01' } },
            { namespace: 'istio-system', pod: 'gw-1', kind: 'gateway', error: 'port-forward failed' },
          ],
          oldChainProxies: 1, lastRenewal: '2026-11-28T18:33:00.000Z',
        },
      },
      { cluster: 'eu', ok: false, step: 'not started', error: 'not rotated: an earlier cluster failed', unreachable: false },
    ],
  };
  const text = renderRotation(result, makeStyle({ terminal: false, color: false }));

  it('per cluster: the intermediates, istiod\'s switch, each restart, and the count by chain with the last renewal', () => {
    expect(text).toContain('ok   us: intermediate SHA256:02');
    expect(text).toContain('istiod signs with the new intermediate (49.8 s after cacerts was written)');
    expect(text).toContain('restarted deployment echo/echo (14.2 s)');
    expect(text).toContain('proxies: 1 hold the new chain, 1 the old (all renewed by 2026-11-28 18:33 UTC), 1 not read');
  });

  it('one line per proxy with what it holds and when it renews; a proxy not read says why', () => {
    expect(text).toMatch(/eastwest-load\/fortio-1 +sidecar old +renews 2026-11-28 18:33/);
    expect(text).toMatch(/istio-system\/gw-1 +gateway not read: port-forward failed/);
  });

  it('a cluster not rotated says why; the last line says failed', () => {
    expect(text).toContain('FAIL eu [not started]: not rotated: an earlier cluster failed');
    expect(text.split('\n').at(-1)).toBe('failed in 61.2 s');
  });
});

describe('ca rotate: bad input before any cluster is contacted', () => {
  it('without --intermediates: exit 2, the flag named, with a hint', async () => {
    const run = await eastwest(['ca', 'rotate', '-f', spec]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--intermediates/);
    expect(run.stderr).toMatch(/hint/);
    expect(run.stdout).toBe('');
  });

  it('an unknown cluster: exit 2 naming it', async () => {
    const run = await eastwest(['ca', 'rotate', '-f', spec, '--intermediates', '--clusters', 'ap']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"ap" is not a cluster/);
  });

  it('a bad --timeout: exit 2', async () => {
    const run = await eastwest(['ca', 'rotate', '-f', spec, '--intermediates', '--timeout', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--timeout/);
  });

  it('--root with --intermediates, --clusters or --restart, and --status without --root: exit 2, each named', async () => {
    for (const [args, flag] of [
      [['--root', '--intermediates'], '--root'],
      [['--root', '--clusters', 'us'], '--clusters'],
      [['--root', '--restart'], '--restart'],
      [['--intermediates', '--status'], '--status'],
    ] as const) {
      const run = await eastwest(['ca', 'rotate', '-f', spec, ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(flag);
    }
  });
});

describe('the root rotation as text', () => {
  it('per cluster its phase; each phase finished; what a stopped phase waits for, and how to resume', () => {
    const text = renderRootRotation({
      ok: false, directory: '/team/pki', oldRoot: 'SHA256:OLD', newRoot: 'SHA256:NEW', done: false, seconds: 300.5,
      clusters: [{ cluster: 'us', phase: 2 }, { cluster: 'eu', phase: 1 }],
      phases: [{ phase: 1, goal: 'every istiod publishes both roots and every proxy trusts both', seconds: 56.9, proxies: 14 }],
      waiting: ['eu: echo/echo-1 holds no certificate of the new root yet'],
    }, makeStyle({ terminal: false, color: false }));
    expect(text).toContain('root SHA256:OLD → SHA256:NEW (/team/pki)');
    expect(text).toMatch(/us +phase 2/);
    expect(text).toMatch(/eu +phase 1/);
    expect(text).toContain('ok   phase 1: every istiod publishes both roots and every proxy trusts both (14 proxies, 56.9 s)');
    expect(text).toContain('FAIL waiting: eu: echo/echo-1 holds no certificate of the new root yet');
    expect(text).toContain('run the same command again to resume');
  });

  it('no rotation under way: says so, every cluster in phase 0', () => {
    const text = renderRootRotation({ ok: true, directory: '/team/pki', clusters: [{ cluster: 'us', phase: 0 }], phases: [], done: true, seconds: 1.4 }, makeStyle({ terminal: false, color: false }));
    expect(text).toContain('no root rotation under way (/team/pki)');
    expect(text).toMatch(/us +phase 0/);
  });
});

describe('leftOnOldChain: what --restart did not move when the old intermediate expires', () => {
  const chain = (holds: 'new' | 'old' | 'earlier' | 'foreign') => ({ holds, renewsAt: '2026-11-29T00:00:00Z' }) as unknown as ProxyChain['chain'];
  it('keeps proxies on the old or an earlier intermediate and those that could not be read; not the moved or foreign ones', () => {
    const proxies: ProxyChain[] = [
      { namespace: 'echo', pod: 'echo-1', kind: 'sidecar', chain: chain('new') },
      { namespace: 'echo', pod: 'job-1', kind: 'sidecar', chain: chain('old') },
      { namespace: 'istio-system', pod: 'gw-1', kind: 'gateway', chain: chain('earlier') },
      { namespace: 'other', pod: 'x', kind: 'sidecar', chain: chain('foreign') },
      { namespace: 'echo', pod: 'gone', kind: 'sidecar', error: 'connection refused' },
    ];
    expect(leftOnOldChain(proxies).map((p) => p.pod)).toEqual(['job-1', 'gw-1', 'gone']);
    expect(leftOnOldChain(proxies.slice(0, 1))).toEqual([]);
  });
});
