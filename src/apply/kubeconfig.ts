// Which kubeconfig apply/verify use: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; when the
// spec's contexts are only in the lab's kubeconfig, that one (so the lab works without an export).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LAB_KUBECONFIG } from '../lab/lab-state.ts';

function contextsIn(path: string): string[] {
  try {
    const config = parse(readFileSync(path, 'utf8')) as { contexts?: { name: string }[] };
    return (config.contexts ?? []).map((c) => c.name);
  } catch {
    return [];
  }
}

export function resolveKubeconfig(contexts: readonly string[], flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  const candidates = [...(env.KUBECONFIG ? env.KUBECONFIG.split(':') : []), join(homedir(), '.kube', 'config')].filter((p) => existsSync(p));
  const first = candidates.find((p) => contexts.every((c) => contextsIn(p).includes(c)));
  if (first) return first;
  if (existsSync(LAB_KUBECONFIG) && contexts.every((c) => contextsIn(LAB_KUBECONFIG).includes(c))) return LAB_KUBECONFIG;
  return candidates[0];
}
