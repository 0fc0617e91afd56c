// What a command may do in a cluster: three access levels, each a set of RBAC rules (data). A command
// connects at its level; the engine asks the API server (SelfSubjectAccessReviews) whether the user has
// each right before anything else, and `--print-rbac` prints the ClusterRole that grants them.
//   read  — get/list/watch of what eastwest reads (no Secrets) and port-forward to Istio's pods (istiod's
//           debug endpoints, proxies' admin, Prometheus): status, traffic, sync status (doctor, dashboard).
//   probe — read, plus exec in client pods and scaling the Deployments it tests: verify (its own probes,
//           without the demo, need one more role: VERIFY_PROBES_GRANT).
//   write — everything (installing Istio needs cluster-admin): apply, diff (it compares Secrets).
import { ACCESS_LEVEL_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../core/vocabulary.ts';
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { mapLimit } from '../core/fan-out.ts';
import { ClusterError } from '../k8s/cluster-error.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';

export type AccessLevel = 'read' | 'probe' | 'write';
export const ACCESS_LEVELS: readonly AccessLevel[] = ['read', 'probe', 'write'];

export interface AccessRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Only these objects (by name). */
  resourceNames?: string[];
  /** The namespace the review asks about (a grant meant for one namespace; a ClusterRole rule has none). */
  reviewNamespace?: string;
}

/**
 * A right beyond a level that one flag of a command needs, in a ClusterRole of its own (bound beside the
 * level's): doctor --read-cacerts reads the Secret `cacerts` — its certificates; the key is dropped unread.
 */
export interface AccessGrant {
  /** The flag that needs it. */
  flag: string;
  role: string;
  rules: AccessRule[];
}

export const CACERTS_GRANT: AccessGrant = {
  flag: '--read-cacerts',
  role: 'eastwest-read-cacerts',
  // Reviewed in istio-system: a Role there grants it as well as this ClusterRole does.
  rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['cacerts'], verbs: ['get'], reviewNamespace: 'istio-system' }],
};

/**
 * verify's own probes (without the demo): creating its namespace and, in it, what the probes are made of.
 * RBAC cannot scope `create` to a namespace that does not exist yet, so this role may create these kinds
 * in any namespace (a Deployment runs pods as any service account of its namespace): bind it only where
 * that is acceptable, or prove the mesh with the demo workload (`--probes demo`), which needs the probe
 * level alone. Deleting is limited to the namespace `eastwest-verify` by name; nothing is ever patched.
 */
export const VERIFY_PROBES_GRANT: AccessGrant = {
  flag: '--probes own',
  role: 'eastwest-verify-probes',
  rules: [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['create'] },
    { apiGroups: [''], resources: ['namespaces'], resourceNames: ['eastwest-verify'], verbs: ['delete'] },
    { apiGroups: [''], resources: ['serviceaccounts', 'services'], verbs: ['create'], reviewNamespace: 'eastwest-verify' },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'], reviewNamespace: 'eastwest-verify' },
    { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'workloadentries', 'destinationrules'], verbs: ['create'], reviewNamespace: 'eastwest-verify' },
    { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies'], verbs: ['create'], reviewNamespace: 'eastwest-verify' },
  ],
};

/** The ClusterRole of a grant. */
export function grantRole(grant: AccessGrant): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: grant.role, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [ACCESS_LEVEL_LABEL]: grant.role } }, rules: grant.rules.map(({ reviewNamespace: _n, ...r }) => ({ ...r })) } as KubeObject;
}

const READ_VERBS = ['get', 'list', 'watch'];

const READ_RULES: AccessRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'nodes', 'pods', 'services', 'endpoints', 'configmaps', 'serviceaccounts', 'events'], verbs: READ_VERBS },
  // Port-forward to Istio's and the observability pods (websocket upgrades are authorized as get or create).
  { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: READ_VERBS },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ_VERBS },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ_VERBS },
  { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'workloadentries', 'workloadgroups', 'destinationrules', 'virtualservices', 'gateways', 'sidecars', 'envoyfilters', 'proxyconfigs'], verbs: READ_VERBS },
  { apiGroups: ['security.istio.io'], resources: ['peerauthentications', 'authorizationpolicies', 'requestauthentications'], verbs: READ_VERBS },
  { apiGroups: ['telemetry.istio.io'], resources: ['telemetries'], verbs: READ_VERBS },
  { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports', 'serviceimports'], verbs: READ_VERBS },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ_VERBS },
  { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], verbs: READ_VERBS },
];

const PROBE_RULES: AccessRule[] = [
  ...READ_RULES,
  // curl from a client pod, Envoy's admin stats of a proxy.
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
  // The failover check scales the service's Deployment to zero and back.
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] },
];

const WRITE_RULES: AccessRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

export function accessRules(level: AccessLevel): AccessRule[] {
  return level === 'read' ? READ_RULES : level === 'probe' ? PROBE_RULES : WRITE_RULES;
}

export const accessRoleName = (level: AccessLevel) => `eastwest-${level}`;

/** The ClusterRole of a level (write: cluster-admin's rules, as installing Istio needs). */
export function accessRole(level: AccessLevel): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: accessRoleName(level), labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [ACCESS_LEVEL_LABEL]: level } },
    rules: [...accessRules(level).map((r) => ({ ...r })), ...(level === 'write' ? [{ nonResourceURLs: ['*'], verbs: ['*'] }] : [])],
  } as KubeObject;
}

/** One right to ask about: a verb on a resource (with its subresource) of a group. */
export interface AccessRight {
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
  /** One object by name. */
  name?: string;
  /** Asked in this namespace (else cluster-wide). */
  namespace?: string;
}

/** Every verb on every resource (and named object) of some rules. */
export function rulesRights(rules: readonly AccessRule[]): AccessRight[] {
  const out: AccessRight[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const [name, sub] = resource.split('/');
        for (const verb of rule.verbs) {
          for (const object of rule.resourceNames ?? [undefined]) out.push({ group, resource: name!, ...(sub ? { subresource: sub } : {}), verb, ...(object ? { name: object } : {}), ...(rule.reviewNamespace ? { namespace: rule.reviewNamespace } : {}) });
        }
      }
    }
  }
  return out;
}

/** What the review asks: every verb on every resource of the level (for write: everything at once). */
export function accessRights(level: AccessLevel): AccessRight[] {
  return rulesRights(accessRules(level));
}

export const rightText = (r: AccessRight) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.group ? `.${r.group}` : ''}${r.name ? ` named ${r.name}` : ''}${r.namespace ? ` in ${r.namespace}` : ''}`;

/** Whether the context's user has one right (cluster-wide). */
export async function mayI(client: KubeClient, right: AccessRight): Promise<boolean> {
  const review = await client.call('access review', () => client.config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: right.group, resource: right.resource, ...(right.subresource ? { subresource: right.subresource } : {}), ...(right.name ? { name: right.name } : {}), ...(right.namespace ? { namespace: right.namespace } : {}), verb: right.verb } } },
  }));
  return review.status?.allowed === true;
}

/** The rights of `grant` the context's user lacks (asked of the API server). */
export async function missingGrantRights(client: KubeClient, grant: AccessGrant): Promise<AccessRight[]> {
  const rights = rulesRights(grant.rules);
  const answers = await mapLimit(rights, 16, (right) => mayI(client, right));
  return rights.filter((_, i) => !answers[i]);
}

/** How to grant what `grant` holds (for a hint). */
export const grantHint = (grant: AccessGrant, command: string) => `eastwest ${command} --print-rbac ${grant.flag} | kubectl apply -f - && kubectl create clusterrolebinding ${grant.role}-<user> --clusterrole ${grant.role} --user <user>`;

/**
 * Asks the API server whether the context's user has every right of `level` (cluster-wide). Throws a
 * ClusterError ("forbidden") naming what is missing and how to grant it.
 */
export async function reviewAccess(client: KubeClient, cluster: string, level: AccessLevel, command: string, grants: readonly AccessGrant[] = []): Promise<void> {
  const rights = accessRights(level);
  const extra = grants.flatMap((g) => rulesRights(g.rules).map((right) => ({ right, grant: g })));
  const answers = await mapLimit([...rights, ...extra.map((e) => e.right)], 16, (right) => mayI(client, right));
  const missing = rights.filter((_, i) => !answers[i]);
  const missingGrant = extra.find((_, i) => !answers[rights.length + i]);
  if (missing.length === 0 && missingGrant) {
    const { grant } = missingGrant;
    throw new ClusterError(cluster, 'forbidden', `the context's user may not ${rightText(missingGrant.right)}, which ${grant.flag} needs`, `grant it: ${grantHint(grant, command)}; or run without ${grant.flag}`);
  }
  if (missing.length === 0) return;
  const shown = missing.slice(0, 6).map(rightText).join(', ');
  const what = level === 'write' ? 'may not manage every resource (installing Istio needs cluster-admin)' : `lacks ${missing.length} right(s) of the ${level} access level: ${shown}${missing.length > 6 ? ', …' : ''}`;
  throw new ClusterError(cluster, 'forbidden', `the context's user ${what}`, level === 'write'
    ? 'use a context bound to cluster-admin'
    : `grant them: eastwest ${command} --print-rbac | kubectl apply -f - && kubectl create clusterrolebinding ${accessRoleName(level)}-<user> --clusterrole ${accessRoleName(level)} --user <user>`);
}
