// Every external command (go, helm, ip, iptables …) goes through here: no shell, output captured and
// shown on failure, a hint when the binary is missing.
import { spawn } from 'node:child_process';
import { EastwestError } from '../core/errors.ts';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Milliseconds; the child is killed after it. */
  timeoutMs?: number;
  /** Exit codes that are not failures. */
  okCodes?: number[];
  /** Called with each chunk of stderr, for progress. */
  onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends EastwestError {
  readonly result: ExecResult | undefined;
  /** Killed at its deadline (ExecOptions.timeoutMs). */
  readonly timedOut: boolean;
  constructor(message: string, result?: ExecResult, hint?: string, timedOut = false) {
    super('exec-failed', message, hint === undefined ? {} : { hint });
    this.result = result;
    this.timedOut = timedOut;
  }
}

const tail = (s: string, n = 40) => s.trimEnd().split('\n').slice(-n).join('\n');

export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs) timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      options.onStderr?.(d);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new ExecError(`cannot run ${command}: ${error.message}`, undefined, error.code === 'ENOENT' ? `is ${command} installed and on PATH?` : undefined));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? 128, stdout, stderr };
      if (code === 0 || options.okCodes?.includes(code ?? -1)) resolve(result);
      else {
        const why = signal ? `killed by ${signal}${options.timeoutMs ? ` (timeout ${options.timeoutMs} ms)` : ''}` : `exit code ${code}`;
        reject(new ExecError(`${command} ${args.join(' ')} failed (${why}):\n${tail(stderr || stdout)}`, result, undefined, timedOut));
      }
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
