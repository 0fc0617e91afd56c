// Results to stdout, everything else to stderr; -o json serializes the same result the human view shows.
import { stringify } from 'yaml';
import type { Message, Reporter } from '../core/reporter.ts';

export type OutputFormat = 'text' | 'yaml' | 'json';
export const OUTPUT_FORMATS: OutputFormat[] = ['text', 'yaml', 'json'];

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Colours and animation only on a TTY outside CI. */
  interactive: boolean;
  /** Set by a command whose result is a failure (a failed check, drift, an unreachable cluster). */
  exitCode?: number;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, interactive: Boolean(process.stderr.isTTY) && !process.env.CI };
}

export function printResult(io: Io, format: OutputFormat, result: unknown, text: () => string): void {
  if (format === 'json') io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (format === 'yaml') io.stdout.write(stringify(result, { lineWidth: 0 }));
  else {
    const out = text();
    if (out) io.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  }
}

/** Shows core messages on stderr: `warn:`/`error:` prefixed, info plain, debug only when asked. */
export function stderrReporter(io: Io, options: { verbose?: boolean } = {}): Reporter {
  return {
    report(message: Message) {
      if (message.level === 'debug' && !options.verbose) return;
      const prefix = message.level === 'info' ? '' : `${message.level}: `;
      io.stderr.write(`${prefix}${message.message}\n`);
    },
  };
}
