// Providers of clusters (src/engine/provider.ts): the lab is registered by the CLI, never imported by the
// engine; what a spec names under a provider's scheme is resolved by that provider alone.
import { describe, expect, it } from 'vitest';
import { resolveKubeconfig } from '../../src/engine/kubeconfig.ts';
import { providerChartDirectory, providerKubeconfig, providerOf, registerProvider } from '../../src/engine/provider.ts';
import { labProvider } from '../../src/lab/provider.ts';

// Each test file has its own module registry: the first test sees no provider.
describe('cluster providers', () => {
  it('without a registered provider there is no fallback kubeconfig; with the lab\'s, the lab\'s', () => {
    const env = { HOME: '/nonexistent' };
    expect(providerKubeconfig()).toBeUndefined();
    expect(resolveKubeconfig(['lab-us'], undefined, env).files).not.toContain(labProvider.kubeconfig);
    registerProvider(labProvider);
    expect(providerKubeconfig()).toBe(labProvider.kubeconfig);
  });
  it('a provider resolves charts under its own prefix; a path without a scheme is left to the caller', async () => {
    registerProvider({ name: 'test', charts: { prefix: 'test://charts', directory: async () => '/opt/charts' } });
    expect(await providerChartDirectory('test://charts/gateway')).toBe('/opt/charts/gateway');
    expect(await providerChartDirectory('./charts/gateway')).toBeUndefined();
  });
  it('a provider with several builds resolves <prefix>@<build>/<chart> to that build\'s directory; a name that only shares the prefix is not its', async () => {
    registerProvider({ name: 'builds', charts: { prefix: 'builds://charts', directory: async (build) => `/opt/${build ?? 'pinned'}` } });
    expect(await providerChartDirectory('builds://charts/base')).toBe('/opt/pinned/base');
    expect(await providerChartDirectory('builds://charts')).toBe('/opt/pinned');
    expect(await providerChartDirectory('builds://charts@1.31-alpha.b01690e6db7d/istio-control/istio-discovery')).toBe('/opt/1.31-alpha.b01690e6db7d/istio-control/istio-discovery');
    await expect(providerChartDirectory('builds://chartsmore/base')).rejects.toThrow(/no provider resolves/);
  });
  it('the lab names its builds: the pinned one by default or by version, the older snapshot by version; another is an error listing them', async () => {
    const { istioBuildVersion, readLabVersions } = await import('../../src/sources/lab-versions.ts');
    const v = readLabVersions();
    await expect(labProvider.charts!.directory('1.0-alpha.000000000000')).rejects.toMatchObject({ code: 'unknown-lab-istio-build', exitCode: 2, hint: expect.stringContaining(istioBuildVersion(v.istioPrevious)) });
    expect(istioBuildVersion(v.istioPrevious)).not.toBe(istioBuildVersion(v.istio));
  });
  it('a scheme no provider claims is an error naming it, with a hint (not a path that does not exist)', async () => {
    await expect(providerChartDirectory('other://charts/gateway')).rejects.toThrow(/no provider resolves other:\/\/charts\/gateway/);
  });
  it('the lab\'s provider resolves lab://istio-charts, offers its kubeconfig and its image for profile lab', () => {
    expect(labProvider.charts?.prefix).toBe('lab://istio-charts');
    expect(labProvider.kubeconfig).toMatch(/kubeconfig$/);
    registerProvider(labProvider);
    expect(providerOf('lab')).toBe(labProvider);
    expect(providerOf('production')).toBeUndefined();
    expect(providerKubeconfig()).toBe(labProvider.kubeconfig);
  });
});
