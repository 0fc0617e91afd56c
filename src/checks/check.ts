// Checks as data (for doctor, verify and the dashboard): a check declares what it is — id, category,
// severity, whether it changes the cluster, its fix and where the README explains it — and returns
// findings of one shape. The runner (run-checks.ts) turns them into a status per check and cluster.

export type Severity = 'error' | 'warning' | 'info';

export const CATEGORIES = ['control-plane', 'trust', 'network', 'routing', 'policy', 'proxies', 'sync', 'observability', 'traffic'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The object a finding is about, as kubectl names it. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface Finding {
  /** The check's id. */
  check: string;
  severity: Severity;
  /** The cluster it was found in (absent: about the mesh as a whole). */
  cluster?: string;
  object?: ObjectRef;
  /** A field of the object (a dotted path), when one is at fault. */
  field?: string;
  /** The other cluster, for findings about a pair. */
  peer?: string;
  figures?: Record<string, number | string>;
  message: string;
  /** What to do about it. */
  hint?: string;
}

/** passed: ran, no error or warning; failed: an error or warning finding; skipped: not applicable; unreachable: the cluster did not answer in time. */
export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'unreachable';

export interface CheckResult {
  id: string;
  category: Category;
  /** Absent for a check of the whole mesh. */
  cluster?: string;
  status: CheckStatus;
  seconds: number;
  figures?: Record<string, number | string>;
  findings: Finding[];
}

/**
 * What a check's run returns: its findings (the runner adds the check's id, the cluster, the check's
 * severity when a finding has none, and its hint), and figures worth showing even when it passes.
 */
export interface CheckOutput {
  findings: (Omit<Finding, 'check' | 'severity'> & { severity?: Severity })[];
  figures?: Record<string, number | string>;
  /** Why the check does not apply to this cluster (its result is `skipped`). */
  skipped?: string;
}

export interface Check<C> {
  id: string;
  category: Category;
  /** One line: what it makes sure of. */
  title: string;
  /** The severity of what it finds, unless a finding says otherwise. */
  severity: Severity;
  /** It changes the cluster (scales, deploys probes): never run by doctor; run after every check that does not. */
  disruptive: boolean;
  /** `cluster`: run once per cluster; `mesh`: once, comparing clusters. */
  scope: 'cluster' | 'mesh';
  /** It reads what the other checks did (their requests in the metrics): run after all of them, disruptive ones included. */
  last?: boolean;
  /** The general fix, shown when a finding has no hint of its own. */
  hint: string;
  /** The README anchor that explains it (`#check-<id>`). */
  docs: string;
  applies?: (ctx: C) => boolean;
  /** `signal` aborts when the run's deadline passes: a check stops there (a disruptive one puts back what it changed). */
  run: (ctx: C, cluster: string | undefined, signal: AbortSignal) => Promise<CheckOutput>;
}
