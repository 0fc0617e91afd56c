// The lab's addressing and naming, derived from the cluster list alone (pure). Everything lives in
// 198.18.0.0/15 (RFC 2544 benchmarking space): nothing the lab sends can reach another network.
import { EastwestError, EXIT } from '../core/errors.ts';

export interface LabClusterSpec {
  name: string;
  region: string;
  zone: string;
}

export interface LabNodePlan {
  cluster: string;
  index: number;
  region: string;
  zone: string;
  /** Node name, hostname, context suffix. */
  nodeName: string;
  context: string;
  netns: string;
  /** Host side of the node's veth (on the lab bridge). */
  hostVeth: string;
  nodeIp: string;
  podCidr: string;
  /** The /24 the controller-manager gives the one node (first of podCidr). */
  nodePodCidr: string;
  serviceCidr: string;
  kubernetesServiceIp: string;
  dnsServiceIp: string;
  /** LoadBalancer addresses of this cluster: routed to this node. */
  loadBalancerCidr: string;
  loadBalancerFirst: string;
  loadBalancerCount: number;
  apiServerUrl: string;
  cgroupParent: string;
}

export interface LabPlan {
  bridge: string;
  bridgeIp: string;
  segmentCidr: string;
  nodes: LabNodePlan[];
}

export const LAB_PREFIX = 'eastwest';
export const LAB_BRIDGE = 'ew-lab0';
export const MAX_CLUSTERS = 8;

export const DEFAULT_LAB_CLUSTERS: LabClusterSpec[] = [
  { name: 'us', region: 'us', zone: 'us-a' },
  { name: 'eu', region: 'eu', zone: 'eu-a' },
  { name: 'ap', region: 'ap', zone: 'ap-a' },
];

export function labClusters(names: readonly string[]): LabClusterSpec[] {
  return names.map((name) => DEFAULT_LAB_CLUSTERS.find((c) => c.name === name) ?? { name, region: name, zone: `${name}-a` });
}

export function labPlan(clusters: readonly LabClusterSpec[]): LabPlan {
  if (clusters.length < 1 || clusters.length > MAX_CLUSTERS) throw new EastwestError('lab-cluster-count', `the lab runs 1 to ${MAX_CLUSTERS} clusters, not ${clusters.length}`, { exitCode: EXIT.badInput, hint: 'e.g. --clusters us,eu' });
  const names = clusters.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new EastwestError('lab-cluster-twice', `the lab cluster "${twice}" is named twice`, { exitCode: EXIT.badInput, hint: 'name each cluster once, e.g. --clusters us,eu' });
  const veths = names.map((n) => `ew-${n}`.slice(0, 15));
  if (new Set(veths).size !== veths.length) throw new EastwestError('lab-cluster-names', 'lab cluster names must differ in their first 12 characters (interface names)', { exitCode: EXIT.badInput });
  return {
    bridge: LAB_BRIDGE,
    bridgeIp: '198.18.0.1',
    segmentCidr: '198.18.0.0/24',
    nodes: clusters.map((c, i) => ({
      cluster: c.name,
      index: i,
      region: c.region,
      zone: c.zone,
      nodeName: `${c.name}-node`,
      context: `lab-${c.name}`,
      netns: `${LAB_PREFIX}-${c.name}`,
      hostVeth: `ew-${c.name}`.slice(0, 15),
      nodeIp: `198.18.0.${10 + i}`,
      podCidr: `198.18.${64 + 16 * i}.0/20`,
      nodePodCidr: `198.18.${64 + 16 * i}.0/24`,
      serviceCidr: `198.19.${16 * i}.0/20`,
      kubernetesServiceIp: `198.19.${16 * i}.1`,
      dnsServiceIp: `198.19.${16 * i}.10`,
      loadBalancerCidr: `198.18.2.${16 * i}/28`,
      loadBalancerFirst: `198.18.2.${16 * i + 1}`,
      loadBalancerCount: 14,
      apiServerUrl: `https://198.18.0.${10 + i}:6443`,
      cgroupParent: `${LAB_PREFIX}-${c.name}`,
    })),
  };
}

/** The i-th LoadBalancer address of a node (0-based). */
export function loadBalancerAddress(node: LabNodePlan, i: number): string {
  const parts = node.loadBalancerFirst.split('.').map(Number);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! + i}`;
}
