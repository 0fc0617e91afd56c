// Small helpers for tests against the lab: kubectl from the lab's own build, with the lab kubeconfig.
import { join } from 'node:path';
import { exec, type ExecResult } from '../../src/util/exec.ts';
import { buildKubernetes } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { silentReporter } from '../../src/core/reporter.ts';

let kubectlPath: Promise<string> | undefined;
export function kubectlBinary(): Promise<string> {
  kubectlPath ??= buildKubernetes(readLabVersions(), silentReporter).then((p) => join(p.dir, 'kubectl'));
  return kubectlPath;
}

export async function kubectl(context: string, args: string[], options: { input?: string; okCodes?: number[]; timeoutMs?: number } = {}): Promise<ExecResult> {
  return exec(await kubectlBinary(), ['--kubeconfig', LAB_KUBECONFIG, '--context', context, ...args], { timeoutMs: options.timeoutMs ?? 120_000, ...options });
}
