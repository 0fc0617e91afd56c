// `eastwest doctor`: every cluster read at once with the read access level (no Secrets), then doctor's
// checks (checks.ts) against the spec and across clusters. A cluster that cannot be read is a result of its
// own (not diagnosed); the others are still diagnosed. With `waitSeconds`, the clusters are read and
// checked again until nothing fails or the time is up (as `linkerd check --wait`).
import type { CheckResult } from '../checks/check.ts';
import { exitCodeOf, runChecks } from '../checks/run-checks.ts';
import { fanOut } from '../core/fan-out.ts';
import type { Reporter } from '../core/reporter.ts';
import { classifier, openEngine, type EngineOptions } from '../engine/context.ts';
import { CACERTS_GRANT } from '../engine/access.ts';
import { pkiDirectory } from '../engine/mesh-ca.ts';
import { readPki } from '../pki/store.ts';
import { DOCTOR_CHECKS } from './checks.ts';
import { readSnapshot, type ClusterSnapshot } from './snapshot.ts';

export interface DoctorOptions extends EngineOptions {
  waitSeconds?: number;
  /** Also read the certificates of each cluster's cacerts (a right beyond read: CACERTS_GRANT). */
  readCacerts?: boolean;
}

export interface DoctorResult {
  meshID: string;
  results: CheckResult[];
  /** Each check's one-line title, by id. */
  titles: Record<string, string>;
  exitCode: 0 | 1 | 3;
  seconds: number;
}

export async function doctorMesh(options: DoctorOptions, reporter: Reporter): Promise<DoctorResult> {
  const started = Date.now();
  const engine = await openEngine({ ...options, access: 'read', command: 'doctor', ...(options.readCacerts ? { grants: [CACERTS_GRANT] } : {}) });
  const local = await readPki(pkiDirectory(engine.decoded), []).catch(() => undefined);
  const until = started + (options.waitSeconds ?? 0) * 1000;
  for (let round = 1; ; round++) {
    const reads = await fanOut(engine.selected.filter((c) => engine.connected.has(c.name)), 'read', (c) => readSnapshot(engine.connected.get(c.name)!.client, c.name, engine.spec, { cacerts: options.readCacerts === true }), classifier(engine.requestTimeoutSeconds));
    const snapshots = new Map<string, ClusterSnapshot>(reads.flatMap((r) => (r.ok ? [[r.cluster, r.value] as [string, ClusterSnapshot]] : [])));
    const why = (name: string) => {
      const failed = [...engine.connections, ...reads].find((r) => r.cluster === name && !r.ok);
      return failed && !failed.ok ? failed.error : undefined;
    };
    const results = await runChecks(DOCTOR_CHECKS, {
      ctx: { spec: engine.spec, snapshots, ...(local?.rootCertPem ? { localRootPem: local.rootCertPem } : {}), ...(options.readCacerts ? { cacertsRead: true } : {}) },
      clusters: engine.selected.map((c) => ({ name: c.name, reachable: snapshots.has(c.name), ...(why(c.name) ? { why: why(c.name)! } : {}) })),
      deadlineSeconds: engine.requestTimeoutSeconds,
    });
    const exitCode = exitCodeOf(results);
    if (exitCode === 0 || Date.now() >= until) {
      return { meshID: engine.spec.meshID, results, titles: Object.fromEntries(DOCTOR_CHECKS.map((c) => [c.id, c.title])), exitCode, seconds: Math.round((Date.now() - started) / 100) / 10 };
    }
    reporter.report({ level: 'info', code: 'doctor', message: `round ${round}: ${results.filter((r) => r.status !== 'passed' && r.status !== 'skipped').length} check(s) not passing; again in 2 s (--wait)` });
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, until - Date.now()))));
  }
}
