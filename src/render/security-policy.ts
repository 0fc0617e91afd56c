// One policy set for every cluster: mesh-wide mTLS and authorization by caller identity.
import type { KubeObject } from '../k8s/object.ts';
import type { AuthorizationRule, MeshSpec } from '../spec/schema.ts';
import { ISTIO_NAMESPACE } from './helm-releases.ts';

export function meshPeerAuthentication(spec: MeshSpec): KubeObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: ISTIO_NAMESPACE },
    spec: { mtls: { mode: spec.policy.mtls } },
  };
}

/** AuthorizationPolicy principals are SPIFFE IDs without the scheme: <trust-domain>/ns/<ns>/sa/<sa>. */
const principalOf = (spiffe: string) => spiffe.replace(/^spiffe:\/\//, '');

export function authorizationPolicies(spec: MeshSpec): KubeObject[] {
  return spec.policy.authorization.map((rule) => authorizationPolicy(spec, rule));
}

/** Raw security objects from the spec, the same in every cluster. */
export function passThroughSecurityObjects(spec: MeshSpec): KubeObject[] {
  return spec.policy.objects.map((o) => structuredClone(o) as KubeObject);
}

function authorizationPolicy(spec: MeshSpec, rule: AuthorizationRule): KubeObject {
  const service = spec.services.find((s) => s.name === rule.service && (rule.namespace === undefined || s.namespace === rule.namespace))!;
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `${service.name}-allow`, namespace: service.namespace },
    spec: {
      selector: { matchLabels: { app: service.name } },
      action: 'ALLOW',
      rules: rule.allow.map((source) => {
        const principals = [
          ...(source.principals ?? []).map(principalOf),
          ...(source.serviceAccounts ?? []).map((nsSa) => {
            const [ns, sa] = nsSa.split('/');
            return `${spec.trustDomain}/ns/${ns}/sa/${sa}`;
          }),
        ];
        const from = { source: { ...(principals.length ? { principals } : {}), ...(source.namespaces?.length ? { namespaces: source.namespaces } : {}) } };
        const operation = { ...(source.methods?.length ? { methods: source.methods } : {}), ...(source.paths?.length ? { paths: source.paths } : {}) };
        return { from: [from], ...(Object.keys(operation).length ? { to: [{ operation }] } : {}) };
      }),
    },
  };
}
