/** Depth-first walk over a document's maps and sequences, with a readable trail; aliases are not followed. */
import { isMap, isSeq } from 'yaml';
import { scalarText } from './path.js';

/** Calls `visit` for every node below `root` (root included) with its trail, e.g. `spec.containers[0]`. */
export function walk(root: unknown, visit: (node: unknown, trail: string) => void, trail = ''): void {
  visit(root, trail);
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = scalarText(pair.key) ?? '?';
      walk(pair.value, visit, trail ? `${trail}.${key}` : key);
    }
  } else if (isSeq(root)) {
    root.items.forEach((item, i) => {
      walk(item, visit, `${trail}[${i}]`);
    });
  }
}
