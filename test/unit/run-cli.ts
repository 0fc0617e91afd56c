// Runs the CLI in-process through run(argv, io), with recording streams (a fake terminal when asked).
import { Writable } from 'node:stream';
import { run } from '../../src/cli/main.ts';
import { makeIo } from '../../src/cli/output.ts';

class Recorder extends Writable {
  text = '';
  readonly isTTY: boolean;
  constructor(isTTY: boolean) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `eastwest <args>` in this process: its exit code and what it wrote. `tty`: stdout and stderr are a terminal. */
export async function eastwest(args: string[], options: { tty?: boolean; env?: Record<string, string | undefined> } = {}): Promise<CliRun> {
  const stdout = new Recorder(options.tty ?? false);
  const stderr = new Recorder(options.tty ?? false);
  const code = await run(['node', 'eastwest', ...args], makeIo(stdout, stderr, options.env ?? {}));
  return { code, stdout: stdout.text, stderr: stderr.text };
}
