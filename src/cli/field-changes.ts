// How field-level changes read, for `diff` and `apply` (dry run or not) alike: one formatter, so the two
// views cannot drift apart. Pure.
import { CONTENT_HASH_ANNOTATION } from '../core/vocabulary.ts';
import type { FieldDifference } from '../util/field-diff.ts';
import { unifiedDiff } from '../diff/line-diff.ts';
import { maskValue, type ChangeSetEntry } from '../k8s/resource-manager.ts';

/** The content hash changes whenever anything else does: the human views do not list it. */
export const CONTENT_HASH_PATH = `metadata.annotations.${CONTENT_HASH_ANNOTATION}`;

const show = (v: unknown) => (v === undefined ? '<unset>' : JSON.stringify(v));
const multiLine = (v: unknown) => typeof v === 'string' && v.includes('\n');
const SECRET_VALUE_PATH = /^(data|stringData)(\.|$)/;
const MASKED = /^sha256:[0-9a-f]{12} \(\d+ bytes\)$/;

/** A Secret value as the resource manager masks it (kept when it already is): never the value itself. */
function masked(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' && MASKED.test(value)) return value;
  if (typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, masked(v)]));
  return maskValue(value);
}

/**
 * The lines that show `fields` of the object `ref` (`Kind/namespace/name`), each indented by `indent`:
 * `path: want X, live Y`; a multi-line string as a unified diff (`-` live, `+` want) under its path; the
 * content hash left out. A Secret's values stay masked even if a caller forgot to mask them.
 */
export function formatFieldChanges(ref: string, fields: readonly FieldDifference[], indent = '    '): string[] {
  const secret = ref.startsWith('Secret/');
  const shown = fields.filter((f) => f.path !== CONTENT_HASH_PATH);
  if (fields.length > 0 && shown.length === 0) return [`${indent}(only eastwest's content-hash annotation differs)`];
  const lines: string[] = [];
  for (const f of shown) {
    const [want, live] = secret && SECRET_VALUE_PATH.test(f.path) ? [masked(f.want), masked(f.live)] : [f.want, f.live];
    const lineDiffable = (multiLine(want) || multiLine(live)) && (typeof want === 'string' || want === undefined) && (typeof live === 'string' || live === undefined);
    if (!lineDiffable) {
      lines.push(`${indent}${f.path}: want ${show(want)}, live ${show(live)}`);
      continue;
    }
    const unset = [live === undefined ? 'live <unset>' : '', want === undefined ? 'want <unset>' : ''].filter(Boolean).join(', ');
    lines.push(`${indent}${f.path}: (- live, + want${unset ? `; ${unset}` : ''})`);
    for (const l of unifiedDiff((live as string | undefined) ?? '', (want as string | undefined) ?? '')) lines.push(`${indent}  ${l}`);
  }
  return lines;
}

/** Counts of a cluster's change set, for the plan's last line and `-o json`'s `summary`. */
export interface ChangeSummary {
  create: number;
  update: number;
  prune: number;
  helmInstall: number;
  helmUpgrade: number;
  unchanged: number;
  skipped: number;
}

const isRelease = (c: ChangeSetEntry) => c.ref.startsWith('HelmRelease/');

export function changeSummary(changes: readonly ChangeSetEntry[]): ChangeSummary {
  const count = (test: (c: ChangeSetEntry) => boolean) => changes.filter(test).length;
  return {
    create: count((c) => c.action === 'created' && !isRelease(c)),
    update: count((c) => c.action === 'configured' && !isRelease(c)),
    prune: count((c) => c.action === 'deleted'),
    helmInstall: count((c) => c.action === 'created' && isRelease(c)),
    helmUpgrade: count((c) => c.action === 'configured' && isRelease(c)),
    unchanged: count((c) => c.action === 'unchanged'),
    skipped: count((c) => c.action === 'skipped'),
  };
}

/** `2 to create, 1 to update, 0 to prune, Helm releases: 1 to install, 0 to upgrade; 40 unchanged` (or what was done). */
export function formatSummary(s: ChangeSummary, dryRun: boolean): string {
  const n = (count: number, plan: string, done: string) => `${count} ${dryRun ? `to ${plan}` : done}`;
  const text = `${n(s.create, 'create', 'created')}, ${n(s.update, 'update', 'updated')}, ${n(s.prune, 'prune', 'pruned')}, Helm releases: ${n(s.helmInstall, 'install', 'installed')}, ${n(s.helmUpgrade, 'upgrade', 'upgraded')}; ${s.unchanged} unchanged`;
  return s.skipped ? `${text}, ${s.skipped} skipped` : text;
}
