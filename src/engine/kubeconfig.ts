// Which kubeconfig files a command reads: kubectl's rules (src/k8s/kubeconfig.ts), plus the lab's
// kubeconfig last when it alone has the spec's contexts (so the lab works without an export).
import { LAB_KUBECONFIG } from '../sources/lab-state-files.ts';
import { kubeconfigSource, type KubeconfigSource } from '../k8s/kubeconfig.ts';

export function resolveKubeconfig(contexts: readonly string[], flag?: string, env: NodeJS.ProcessEnv = process.env): KubeconfigSource {
  return kubeconfigSource({ flag, env, contexts, fallback: LAB_KUBECONFIG });
}
