// Configuration files of one lab node (pure): containerd, CNI, kubelet, kube-proxy, kubeconfigs.
import { stringify } from 'yaml';
import { IMAGES } from '../../sources/lab-images.ts';
import type { KeyAndCert } from '../kube-pki.ts';
import type { LabNodePlan } from '../plan.ts';

export const CNI_BIN_DIR = '/usr/lib/cni';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/** Node-local paths (inside the node's mount namespace) where the node's own directories are bound. */
export const NODE_PATHS = {
  kubernetes: '/etc/kubernetes',
  cniConf: '/etc/cni/net.d',
  containerdConfig: '/etc/kubernetes/containerd.toml',
} as const;

export function containerdConfig(): string {
  return `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
oom_score = 0

[grpc]
  address = "${CONTAINERD_SOCKET}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${IMAGES.pause}"
  restrict_oom_score_adj = true
  tolerate_missing_hugepages_controller = true
  disable_apparmor = true
  enable_selinux = false
  max_container_log_line_size = 16384

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "/etc/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = ""
`;
}

/** Bridge + host-local on the node's pod /24; masquerade so replies from other clusters' gateways find their way back. */
export function cniConfig(node: LabNodePlan): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'eastwest-lab',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: node.nodePodCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(node: LabNodePlan): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: `${NODE_PATHS.kubernetes}/pki/ca.crt` } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${node.cgroupParent}`,
    failCgroupV1: false,
    failSwapOn: false,
    oomScoreAdj: 0,
    maxOpenFiles: 20000,
    clusterDNS: [node.dnsServiceIp],
    clusterDomain: 'cluster.local',
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    resolvConf: `${NODE_PATHS.kubernetes}/resolv.conf`,
    address: node.nodeIp,
    healthzBindAddress: '127.0.0.1',
    readOnlyPort: 0,
    serializeImagePulls: false,
    imageGCHighThresholdPercent: 100,
    evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    localStorageCapacityIsolation: false,
    protectKernelDefaults: false,
    makeIPTablesUtilChains: true,
    maxPods: 110,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    nodeStatusReportFrequency: '10s',
    kubeReserved: {},
    systemReserved: {},
    enforceNodeAllocatable: [],
  });
}

export function kubeProxyConfig(node: LabNodePlan): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clusterCIDR: node.podCidr,
    hostnameOverride: node.nodeName,
    bindAddress: node.nodeIp,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    oomScoreAdj: 0,
    conntrack: { maxPerCore: 0, min: 0 },
    clientConnection: { kubeconfig: `${NODE_PATHS.kubernetes}/kube-proxy.kubeconfig` },
  });
}

/** A kubeconfig with embedded certificates. */
export function kubeconfig(server: string, caPem: string, user: KeyAndCert, name: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name, user: { 'client-certificate-data': b64(user.certPem), 'client-key-data': b64(user.keyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  });
}
