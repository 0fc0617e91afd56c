// The Kubernetes MCS API in every cluster: the ServiceExport and ServiceImport CRDs, created where
// absent and never replaced (another MCS implementation's are left alone). Without Go's module cache they
// cannot be had: that stops apply only when the spec runs the sync controller in-cluster.
import type { Component } from './component.ts';
import { noWaits, NO_DERIVED } from './component.ts';
import { owned } from '../k8s/ownership.ts';
import { objectRef } from '../k8s/object.ts';
import { MCS_CRD_NAMES } from '../mcs/crds.ts';

const crdRef = (name: string) => `CustomResourceDefinition/${name}`;

export const mcsApi: Component = {
  id: 'mcs-api',
  description: 'the MCS API\'s ServiceExport and ServiceImport CRDs (sigs.k8s.io/mcs-api), where absent',
  enabled: () => true,
  render: () => ({}),
  derived: NO_DERIVED,
  ensured(spec, _cluster, input) {
    const crds = input.addons?.mcsCrds;
    if (crds === undefined) return [];
    if (crds instanceof Error) {
      return MCS_CRD_NAMES.map((name) => ({ ref: crdRef(name), target: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } }, unavailable: { error: crds, fatal: spec.sync.inCluster } }));
    }
    return crds.map((crd) => ({ ref: objectRef(crd), target: crd, make: () => owned(spec.meshID, crd) }));
  },
  readers: {},
  pruneKinds: [],
  waits: noWaits,
  checks: ['service-exports'],
};
