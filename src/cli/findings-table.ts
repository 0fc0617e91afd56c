// How check results read: grouped by category, one line per check with ✓ / ‼ / ✗ (as `linkerd check`),
// every finding under its check with its cluster, object and fix; and the JSON shape of doctor's -o json.
import { CATEGORIES, type CheckResult, type Finding, type ObjectRef } from '../checks/check.ts';
import { GLYPHS, type Style } from './output.ts';

export const objectName = (o: ObjectRef) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

function findingLine(f: Finding): string {
  const where = [f.cluster, f.peer ? `→ ${f.peer}` : undefined].filter(Boolean).join(' ');
  const what = f.object ? `${objectName(f.object)}${f.field ? ` ${f.field}` : ''}: ` : '';
  return `${where ? `${where}: ` : ''}${what}${f.message}`;
}

/** The text view; `titles` names each check (its id when absent). */
export function findingsTable(results: readonly CheckResult[], titles: ReadonlyMap<string, string> = new Map(), style: Style = GLYPHS): string {
  const lines: string[] = [];
  for (const category of CATEGORIES) {
    const inCategory = results.filter((r) => r.category === category);
    if (!inCategory.length) continue;
    lines.push(category);
    const ids = [...new Set(inCategory.map((r) => r.id))];
    for (const id of ids) {
      const runs = inCategory.filter((r) => r.id === id);
      const findings = runs.flatMap((r) => r.findings).filter((f) => f.severity !== 'info');
      const mark = runs.some((r) => r.status === 'unreachable') || findings.some((f) => f.severity === 'error') ? style.fail : findings.length ? style.warn : style.ok;
      const skipped = runs.every((r) => r.status === 'skipped');
      const clusters = runs.map((r) => r.cluster).filter((c): c is string => c !== undefined);
      lines.push(`  ${skipped ? '-' : mark} ${titles.get(id) ?? id}${clusters.length ? ` (${clusters.join(', ')})` : ''}${skipped ? ' skipped' : ''}`);
      for (const f of findings) {
        lines.push(`      ${findingLine(f)}`);
        if (f.hint) lines.push(`        hint: ${f.hint}`);
      }
    }
  }
  const errors = results.flatMap((r) => r.findings).filter((f) => f.severity === 'error').length;
  const warnings = results.flatMap((r) => r.findings).filter((f) => f.severity === 'warning').length;
  const undiagnosed = [...new Set(results.filter((r) => r.status === 'unreachable').map((r) => r.cluster ?? 'mesh'))];
  lines.push(`${new Set(results.map((r) => r.id)).size} checks: ${errors} error(s), ${warnings} warning(s)${undiagnosed.length ? `; not diagnosed: ${undiagnosed.join(', ')}` : ''}`);
  return lines.join('\n');
}

/** doctor's -o json: every finding, and per check and cluster its status (with figures when it has some). */
export function findingsJson(results: readonly CheckResult[]): { findings: Finding[]; checks: { id: string; cluster?: string; status: string; seconds: number; figures?: Record<string, number | string> }[] } {
  return {
    findings: results.flatMap((r) => r.findings),
    checks: results.map((r) => ({ id: r.id, ...(r.cluster !== undefined ? { cluster: r.cluster } : {}), status: r.status, seconds: r.seconds, ...(r.figures ? { figures: r.figures } : {}) })),
  };
}
