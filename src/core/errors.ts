// One error base class with a code and an exit code; recognised across module copies by a Symbol marker.
export const EXIT = {
  ok: 0,
  /** A check failed or drift was found. */
  failed: 1,
  /** The input (spec, flags, files) is wrong. */
  badInput: 2,
  /** A cluster could not be reached or refused an operation. */
  clusterError: 3,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM, after putting back what it changed (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const MARKER = Symbol.for('eastwest.error');

export interface ProblemLocation {
  file: string;
  line: number;
  col: number;
}

/** One thing wrong with an input, located in its file. */
export interface Problem extends Partial<ProblemLocation> {
  path: string;
  message: string;
  hint?: string;
}

export class EastwestError extends Error {
  readonly [MARKER] = true;
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'EastwestError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.hint = options.hint;
  }
  static is(value: unknown): value is EastwestError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Bad input: carries every problem found, each with its place. */
export class InputError extends EastwestError {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[], hint?: string) {
    super('bad-input', message, { exitCode: EXIT.badInput, ...(hint === undefined ? {} : { hint }) });
    this.name = 'InputError';
    this.problems = problems;
  }
}

export function formatProblem(problem: Problem): string {
  const where = problem.file ? `${problem.file}:${problem.line ?? 1}:${problem.col ?? 1} ` : '';
  const path = problem.path ? `${problem.path}: ` : '';
  const hint = problem.hint ? `\n    hint: ${problem.hint}` : '';
  return `${where}${path}${problem.message}${hint}`;
}
