// Which running proxies still lack a proxy setting apply changed (they take it at their next restart).
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { proxiesWithout, proxiesWithoutMultiRoot } from '../../src/k8s/proxy-settings.ts';

const pod = (name: string, options: { env?: Record<string, string>; proxy?: 'container' | 'native' | 'none'; phase?: string; deleting?: boolean } = {}): V1Pod => {
  const proxy = { name: 'istio-proxy', env: Object.entries(options.env ?? {}).map(([n, value]) => ({ name: n, value })) };
  const app = { name: 'app' };
  const where = options.proxy ?? 'container';
  return {
    metadata: { namespace: 'echo', name, ...(options.deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: { containers: where === 'container' ? [app, proxy] : [app], ...(where === 'native' ? { initContainers: [proxy] } : {}) },
    status: { phase: options.phase ?? 'Running' },
  };
};

describe('proxies that still lack a setting', () => {
  it('a proxy without the variable, or with another value, is listed; one with it is not', () => {
    expect(proxiesWithout([
      pod('a', { env: { PROXY_CONFIG_XDS_AGENT: 'true' } }),
      pod('b', { env: {} }),
      pod('c', { env: { PROXY_CONFIG_XDS_AGENT: 'false' } }),
    ], 'PROXY_CONFIG_XDS_AGENT', 'true')).toEqual(['echo/b', 'echo/c']);
  });

  it('a native sidecar (an init container) counts as the pod\'s proxy', () => {
    expect(proxiesWithoutMultiRoot([pod('n1', { proxy: 'native' }), pod('n2', { proxy: 'native', env: { PROXY_CONFIG_XDS_AGENT: 'true' } })])).toEqual(['echo/n1']);
  });

  it('pods without a proxy, not running, or being deleted are left out', () => {
    expect(proxiesWithoutMultiRoot([pod('plain', { proxy: 'none' }), pod('pending', { phase: 'Pending' }), pod('going', { deleting: true })])).toEqual([]);
  });

  it('sorted by namespace/name', () => {
    expect(proxiesWithoutMultiRoot([pod('z'), pod('a'), pod('m')])).toEqual(['echo/a', 'echo/m', 'echo/z']);
  });
});
