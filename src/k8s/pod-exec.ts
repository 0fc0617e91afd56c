// Runs a command in a pod's container through the API server (what `kubectl exec` does).
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';

export interface PodExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(chunk, _enc, done) { chunks.push(Buffer.from(chunk)); done(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

export async function podExec(config: KubeConfig, namespace: string, pod: string, container: string, command: string[], timeoutMs = 120_000): Promise<PodExecResult> {
  const out = collector();
  const err = collector();
  let socket: { terminate?: () => void; close: () => void } | undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      // The deadline closes the connection too: a stuck exec must not keep the process alive.
      (socket?.terminate ?? socket?.close)?.call(socket);
      reject(new EastwestError('exec-timeout', `exec in ${namespace}/${pod} did not finish within ${Math.round(timeoutMs / 1000)} s`, { exitCode: EXIT.clusterError, hint: 'is the pod\'s node and its API server answering?' }));
    }, timeoutMs);
    new Exec(config)
      .exec(namespace, pod, container, command, out.stream, err.stream, null, false, (status: V1Status) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const code = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
        // Let the streams flush what the socket delivered with the status.
        setImmediate(() => resolve({ exitCode: code, stdout: out.text(), stderr: err.text() }));
      })
      .then((ws) => {
        socket = ws as unknown as typeof socket;
        if (settled) (socket?.terminate ?? socket?.close)?.call(socket);
      })
      .catch((error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new EastwestError('exec-failed', `exec in ${namespace}/${pod}: ${error.message?.split('\n')[0] ?? String(error)}`, { exitCode: EXIT.clusterError, hint: 'is the pod running, and does the container have the command?', cause: error }));
      });
  });
}
