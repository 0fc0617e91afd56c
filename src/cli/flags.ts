// Parsers for command-line flags: each one checks its value before any command contacts a cluster, and
// names the flag, what was expected and an example in its message (commander turns it into exit 2).
import { InvalidArgumentError } from 'commander';
import { MAX_CLUSTERS } from '../lab/plan.ts';

/** A whole number in [min, max]. */
export function integerFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const trimmed = value.trim();
    if (!/^\d+$/.test(trimmed)) throw new InvalidArgumentError(`${flag} expects a whole number from ${min} to ${max}, got "${value}" (e.g. ${flag} ${min === 0 ? 1 : min})`);
    const n = Number(trimmed);
    if (n < min || n > max) throw new InvalidArgumentError(`${flag} expects a whole number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds from "30", "30s", "1.5m", "500ms", "1h"; between min and max seconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}

export function durationFlag(flag: string, minSeconds: number, maxSeconds: number) {
  return (value: string): number => {
    const seconds = parseDuration(value);
    if (seconds === undefined) throw new InvalidArgumentError(`${flag} expects a duration such as 30s, 2m or 500ms (a bare number is seconds), got "${value}"`);
    if (seconds < minSeconds || seconds > maxSeconds) throw new InvalidArgumentError(`${flag} must be between ${minSeconds} s and ${maxSeconds} s, got ${seconds} s`);
    return seconds;
  };
}

/** Cluster names for the lab: DNS labels short enough for interface names, no duplicates, 1–8 of them. */
export const LAB_CLUSTER_NAME = /^[a-z]([a-z0-9-]{0,9}[a-z0-9])?$/;

export function parseClusterList(flag: string, value: string, options: { max?: number; pattern?: RegExp; patternHint?: string } = {}): string[] {
  const max = options.max ?? MAX_CLUSTERS;
  const names = value.split(',').map((c) => c.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError(`${flag} expects comma-separated cluster names without empty entries, got "${value}" (e.g. ${flag} us,eu)`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new InvalidArgumentError(`${flag} names cluster "${name}" twice; each cluster once (e.g. ${flag} us,eu)`);
    seen.add(name);
    if (options.pattern && !options.pattern.test(name)) throw new InvalidArgumentError(`${flag}: "${name}" is not a valid cluster name (${options.patternHint ?? options.pattern.source})`);
  }
  if (names.length > max) throw new InvalidArgumentError(`${flag} names ${names.length} clusters; at most ${max}`);
  return names;
}

export const labClustersFlag = (value: string) =>
  parseClusterList('--clusters', value, { pattern: LAB_CLUSTER_NAME, patternHint: 'lower-case letters, digits and -, starting with a letter, at most 11 characters' });

/** A subset of the spec's clusters; checked against the spec once it is loaded (see selectClusters). */
export const clusterSubsetFlag = (value: string) => parseClusterList('--clusters', value, { max: 64 });

/** `--context <cluster>=<context>`, repeatable: this run's kubeconfig context for a cluster of the spec. */
export function contextOverrideFlag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^=\s]+)=(\S+)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`--context expects <cluster>=<context>, got "${value}" (e.g. --context us=prod-us-east-1)`);
  const [, cluster, context] = match as unknown as [string, string, string];
  if (cluster in previous && previous[cluster] !== context) throw new InvalidArgumentError(`--context names cluster "${cluster}" twice (${previous[cluster]} and ${context}); once per cluster`);
  return { ...previous, [cluster]: context };
}
