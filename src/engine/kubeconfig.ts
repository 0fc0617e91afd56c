// Which kubeconfig files a command reads: kubectl's rules (src/k8s/kubeconfig.ts), plus the lab's
// kubeconfig of a registered provider last, when it alone has the spec's contexts (so the lab works
// without an export).
import { kubeconfigSource, type KubeconfigSource } from '../k8s/kubeconfig.ts';
import { providerKubeconfig } from './provider.ts';

export function resolveKubeconfig(contexts: readonly string[], flag?: string, env: NodeJS.ProcessEnv = process.env): KubeconfigSource {
  return kubeconfigSource({ flag, env, contexts, ...(providerKubeconfig() ? { fallback: providerKubeconfig() } : {}) });
}
