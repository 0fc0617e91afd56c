// Map a data path (["spec","clusters",0,"name"]) to a place in the YAML source.
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface SourcePlace {
  line: number;
  col: number;
  /** True when the whole path exists in the source; false when only a parent was found. */
  exact: boolean;
}

type PathSegment = string | number;

/** Finds the node at `path`; with `atKey`, the key of the last segment instead of its value. */
export function placeOf(doc: Document, counter: LineCounter, path: readonly PathSegment[], atKey = false): SourcePlace {
  let node: unknown = doc.contents;
  let best: Node | null = (doc.contents as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return toPlace(best, counter, false);
      if (last && atKey && isScalar(pair.key)) return toPlace(pair.key as Node, counter, true);
      node = pair.value;
      best = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) return toPlace(best, counter, false);
      node = item;
      best = item as Node;
    } else {
      return toPlace(best, counter, false);
    }
  }
  return toPlace(best, counter, true);
}

function toPlace(node: Node | null, counter: LineCounter, exact: boolean): SourcePlace {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = counter.linePos(offset);
  return { line, col, exact };
}

export function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
