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
  /** How the text view marks outcomes: glyphs (coloured unless NO_COLOR/--no-color) on a terminal, ASCII words otherwise. */
  style: Style;
  /** Set by a command whose result is a failure (a failed check, drift, an unreachable cluster). */
  exitCode?: number;
}

/** Outcome markers of the text view; all marks of one style have the same width, so columns line up. */
export interface Style {
  ok: string;
  warn: string;
  fail: string;
  arrow: string;
  /** True when the marks carry ANSI colour. */
  color: boolean;
}

const paint = (code: number, text: string) => `\x1b[${code}m${text}\x1b[39m`;

/** Glyphs on a terminal (coloured unless `color` is false); plain ASCII words when the output is piped or in CI. */
export function makeStyle(options: { terminal: boolean; color: boolean }): Style {
  if (!options.terminal) return { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', arrow: '->', color: false };
  if (!options.color) return { ok: '✓', warn: '‼', fail: '✗', arrow: '→', color: false };
  return { ok: paint(32, '✓'), warn: paint(33, '‼'), fail: paint(31, '✗'), arrow: '→', color: true };
}

/** What a renderer called without a style (from a test or a library user) marks outcomes with. */
export const GLYPHS: Style = makeStyle({ terminal: true, color: false });

/** The streams of a command, styled for where its results go: stdout a TTY, not CI, NO_COLOR unset (https://no-color.org). */
export function makeIo(stdout: NodeJS.WritableStream & { isTTY?: boolean }, stderr: NodeJS.WritableStream & { isTTY?: boolean }, env: Record<string, string | undefined>): Io {
  const terminal = Boolean(stdout.isTTY) && !env.CI;
  return { stdout, stderr, interactive: Boolean(stderr.isTTY) && !env.CI, style: makeStyle({ terminal, color: !env.NO_COLOR }) };
}

export function processIo(): Io {
  return makeIo(process.stdout, process.stderr, process.env);
}

/** YAML for output: no line wrapping, and a repeated object written out again rather than as an anchor and alias. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function printResult(io: Io, format: OutputFormat, result: unknown, text: () => string): void {
  if (format === 'json') io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (format === 'yaml') io.stdout.write(toYaml(result));
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
