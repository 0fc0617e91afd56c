// The demo workload (the original guide's `echo` and its clients): what verify proves the mesh with.
import type { Component } from './component.ts';
import { NO_DERIVED, noEnsured } from './component.ts';
import { DEMO_NAMESPACE, demoObjects } from '../render/demo-workload.ts';

export const demo: Component = {
  id: 'demo',
  description: 'the demo workload: echo in its clusters and clients (one per identity, one without a sidecar) everywhere',
  enabled: (spec) => spec.demo.enabled,
  render: ({ spec }, cluster) => (spec.demo.enabled
    ? { postInstall: demoObjects(spec, cluster).map((object) => ({ stage: object.kind === 'Namespace' ? 'namespaces' : 'istio-config', object })) }
    : {}),
  derived: NO_DERIVED,
  ensured: noEnsured,
  readers: {},
  pruneKinds: [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'ServiceAccount' },
    { apiVersion: 'v1', kind: 'Service' },
  ],
  waits: (_spec, _cluster, desired) => desired.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === DEMO_NAMESPACE).map((o) => ({ kind: 'Deployment', namespace: DEMO_NAMESPACE, name: o.metadata.name })),
  checks: ['cross-cluster-via-gateway', 'local-preference', 'failover', 'strict-mtls'],
};
