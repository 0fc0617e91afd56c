// Where one lab node keeps its files on the host, and where they appear inside the node.
import { join } from 'node:path';
import { LAB_STATE_ROOT } from '../../sources/lab-state-files.ts';

export { LAB_STATE_ROOT };

export interface NodeConfig {
  cluster: string;
  nodeName: string;
  nodeIp: string;
  podCidr: string;
  serviceCidr: string;
  region: string;
  zone: string;
  cgroupParent: string;
  loadBalancerAddresses: string[];
  kubernetesBin: string;
  etcd: string;
  /** Host directory of this node. */
  dir: string;
}

export const nodeDir = (cluster: string) => join(LAB_STATE_ROOT, 'nodes', cluster);

/** Host directory → path inside the node's mount namespace. */
export function nodeBinds(dir: string): [string, string][] {
  return [
    [join(dir, 'etc'), '/etc/kubernetes'],
    [join(dir, 'cni-conf'), '/etc/cni/net.d'],
    [join(dir, 'data', 'etcd'), '/var/lib/etcd'],
    [join(dir, 'data', 'kubelet'), '/var/lib/kubelet'],
    [join(dir, 'data', 'containerd'), '/var/lib/containerd'],
    [join(dir, 'data', 'cni'), '/var/lib/cni'],
    [join(dir, 'data', 'log-pods'), '/var/log/pods'],
    [join(dir, 'data', 'log-containers'), '/var/log/containers'],
  ];
}
