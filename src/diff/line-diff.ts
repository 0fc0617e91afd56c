// A unified line diff of two texts (pure): the longest common subsequence of their lines, grouped into
// hunks with a few lines of context, the way `diff -u` shows them. Used to show a multi-line value that
// changed (a ConfigMap's YAML file) as the lines that changed instead of two long strings.

export type LineOp = ' ' | '-' | '+';

export interface DiffLine {
  op: LineOp;
  text: string;
  /** The last line of a text that does not end with a newline. */
  noNewline?: boolean;
}

export interface Hunk {
  /** 1-based first line in the old text (the line before it when `oldLines` is 0), as `diff -u` says. */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
}

/** Beyond this many LCS cells (lines × lines after the common head and tail), the middle is shown replaced whole. */
export const MAX_LCS_CELLS = 4_000_000;

interface Line {
  text: string;
  noNewline: boolean;
}

/** The lines of a text; a final newline ends the last line instead of starting an empty one. */
export function splitLines(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const trailing = parts[parts.length - 1] === '';
  if (trailing) parts.pop();
  return parts.map((t, i) => ({ text: t, noNewline: !trailing && i === parts.length - 1 }));
}

const same = (a: Line, b: Line) => a.text === b.text && a.noNewline === b.noNewline;

/** Every line of `before` and `after` in order: kept (' '), removed ('-') or added ('+'). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && same(a[head]!, b[head]!)) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!)) tail++;
  const line = (op: LineOp, l: Line): DiffLine => (l.noNewline ? { op, text: l.text, noNewline: true } : { op, text: l.text });
  const out: DiffLine[] = a.slice(0, head).map((l) => line(' ', l));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  out.push(...middle(midA, midB, line));
  out.push(...a.slice(a.length - tail).map((l) => line(' ', l)));
  return out;
}

function middle(a: Line[], b: Line[], line: (op: LineOp, l: Line) => DiffLine): DiffLine[] {
  if (a.length === 0 || b.length === 0 || a.length * b.length > MAX_LCS_CELLS) {
    return [...a.map((l) => line('-', l)), ...b.map((l) => line('+', l))];
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..], row-major in one array.
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = same(a[i]!, b[j]!) ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (same(a[i]!, b[j]!)) {
      out.push(line(' ', a[i]!));
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) out.push(line('-', a[i++]!));
    else out.push(line('+', b[j++]!));
  }
  while (i < a.length) out.push(line('-', a[i++]!));
  while (j < b.length) out.push(line('+', b[j++]!));
  return out;
}

/** The changed lines of `before` → `after` in hunks, each with up to `context` unchanged lines around. */
export function diffHunks(before: string, after: string, context = 3): Hunk[] {
  const lines = lineDiff(before, after);
  const hunks: Hunk[] = [];
  // Line numbers (0-based) in the old and new text before each diff line.
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let n = 0;
  for (const l of lines) {
    oldAt.push(o);
    newAt.push(n);
    if (l.op !== '+') o++;
    if (l.op !== '-') n++;
  }
  let k = 0;
  while (k < lines.length) {
    if (lines[k]!.op === ' ') {
      k++;
      continue;
    }
    // A change at k: extend while the next change is within 2 × context unchanged lines.
    const start = Math.max(0, k - context);
    let end = k;
    for (;;) {
      while (end < lines.length && lines[end]!.op !== ' ') end++;
      let next = end;
      while (next < lines.length && lines[next]!.op === ' ') next++;
      if (next < lines.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(lines.length, end + context);
    const slice = lines.slice(start, stop);
    const oldLines = slice.filter((l) => l.op !== '+').length;
    const newLines = slice.filter((l) => l.op !== '-').length;
    hunks.push({ oldStart: oldLines ? oldAt[start]! + 1 : oldAt[start]!, oldLines, newStart: newLines ? newAt[start]! + 1 : newAt[start]!, newLines, lines: slice });
    k = stop;
  }
  return hunks;
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);

/**
 * `diff -u` without the file headers: `@@ -l,s +l,s @@` and the lines prefixed ' ', '-', '+'; a changed
 * line without a final newline is followed by `\ No newline at end of file`. Identical texts give [].
 */
export function unifiedDiff(before: string, after: string, options: { context?: number } = {}): string[] {
  const out: string[] = [];
  for (const h of diffHunks(before, after, options.context ?? 3)) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`);
    for (const l of h.lines) {
      out.push(`${l.op}${l.text}`);
      if (l.noNewline && l.op !== ' ') out.push('\\ No newline at end of file');
    }
  }
  return out;
}
