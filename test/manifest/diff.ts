/** Test helper: assert that two texts differ in exactly one place, one tag replaced by another. */
import assert from 'node:assert/strict';

/** The one changed region of `before` → `after`, found by trimming the common prefix and suffix. */
export function changedRegion(before: string, after: string): { start: number; removed: string; added: string } {
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && s < after.length - p && before[before.length - 1 - s] === after[after.length - 1 - s])
    s++;
  return { start: p, removed: before.slice(p, before.length - s), added: after.slice(p, after.length - s) };
}

/**
 * Assert that `after` is `before` with one occurrence of `from` replaced by `to` and nothing else, and
 * that the character diff falls inside that occurrence. Returns the edited line of `after`.
 */
export function assertOnlyTagChanged(before: string, after: string, from: string, to: string): string {
  const diff = changedRegion(before, after);
  assert.ok(diff.removed.length > 0 || diff.added.length > 0, 'nothing changed');
  const end = diff.start + diff.removed.length;
  const origins: number[] = [];
  for (
    let o = before.indexOf(from, Math.max(0, end - from.length));
    o !== -1 && o <= diff.start;
    o = before.indexOf(from, o + 1)
  ) {
    if (end <= o + from.length && after === before.slice(0, o) + to + before.slice(o + from.length)) origins.push(o);
  }
  assert.equal(
    origins.length,
    1,
    `expected exactly ${JSON.stringify(from)} → ${JSON.stringify(to)}, got diff ${JSON.stringify(diff)}`,
  );
  const at = origins[0]!;
  const lineStart = after.lastIndexOf('\n', at) + 1;
  const lineEnd = after.indexOf('\n', at);
  return after.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
}
