// Columns for the text views: each cell padded to its column's widest, ANSI colour not counted.
// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\x1b\[\d+m/g, '');

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => cell + ' '.repeat(widths[i]! - visible(cell).length)).join('  ').trimEnd());
}
