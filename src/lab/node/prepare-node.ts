// Writes one node's files on the host: certificates, kubeconfigs, component configs, CNI config.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClusterPki, type ClusterPki } from '../kube-pki.ts';
import { loadBalancerAddress, type LabNodePlan } from '../plan.ts';
import { cniConfig, containerdConfig, kubeconfig, kubeletConfig, kubeProxyConfig } from './config-files.ts';
import type { NodeConfig } from './node-layout.ts';

export async function prepareNode(node: LabNodePlan, dir: string, bins: { kubernetesBin: string; etcd: string }): Promise<ClusterPki> {
  const pki = await createClusterPki(node);
  const etc = join(dir, 'etc');
  await mkdir(join(etc, 'pki'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'cni-conf'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const put = (path: string, content: string, mode = 0o644) => writeFile(path, content, { mode });
  const pairs: [string, { certPem: string; keyPem: string }][] = [
    ['ca', pki.ca], ['apiserver', pki.apiserver], ['apiserver-kubelet-client', pki.apiserverKubeletClient], ['admin', pki.admin],
  ];
  for (const [name, pair] of pairs) {
    await put(join(etc, 'pki', `${name}.crt`), pair.certPem);
    await put(join(etc, 'pki', `${name}.key`), pair.keyPem, 0o600);
  }
  await put(join(etc, 'pki', 'sa.key'), pki.serviceAccountKeyPem, 0o600);
  await put(join(etc, 'pki', 'sa.pub'), pki.serviceAccountPubPem);
  const local = 'https://127.0.0.1:6443';
  await put(join(etc, 'controller-manager.kubeconfig'), kubeconfig(local, pki.ca.certPem, pki.controllerManager, node.context), 0o600);
  await put(join(etc, 'scheduler.kubeconfig'), kubeconfig(local, pki.ca.certPem, pki.scheduler, node.context), 0o600);
  await put(join(etc, 'kubelet.kubeconfig'), kubeconfig(local, pki.ca.certPem, pki.kubelet, node.context), 0o600);
  await put(join(etc, 'kube-proxy.kubeconfig'), kubeconfig(local, pki.ca.certPem, pki.kubeProxy, node.context), 0o600);
  await put(join(etc, 'admin.kubeconfig'), kubeconfig(local, pki.ca.certPem, pki.admin, node.context), 0o600);
  await put(join(etc, 'kubelet.yaml'), kubeletConfig(node));
  await put(join(etc, 'kube-proxy.yaml'), kubeProxyConfig(node));
  await put(join(etc, 'containerd.toml'), containerdConfig());
  // Pods resolve through cluster DNS only; the lab has no upstream resolver to forward to.
  await put(join(etc, 'resolv.conf'), 'options ndots:5\n');
  await put(join(dir, 'cni-conf', '10-eastwest.conflist'), cniConfig(node));
  await put(join(dir, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  const config: NodeConfig = {
    cluster: node.cluster, nodeName: node.nodeName, nodeIp: node.nodeIp, podCidr: node.podCidr, serviceCidr: node.serviceCidr,
    region: node.region, zone: node.zone, cgroupParent: node.cgroupParent,
    loadBalancerAddresses: Array.from({ length: node.loadBalancerCount }, (_, i) => loadBalancerAddress(node, i)), kubernetesBin: bins.kubernetesBin, etcd: bins.etcd, dir,
  };
  await put(join(dir, 'node.json'), `${JSON.stringify(config, null, 2)}\n`);
  return pki;
}
