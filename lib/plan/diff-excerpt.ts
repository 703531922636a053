/**
 * A unified-diff excerpt (`diff -U3` style) of a manifest before and after a tag edit. bumpTag changes only
 * the tag's characters on its line(s), so the texts have the same lines but for those: a line-by-line
 * comparison finds them, and no general diff algorithm is needed.
 */

/** `--- a/<file>` / `+++ b/<file>` and one `@@` hunk per group of changed lines; '' when nothing changed. */
export function diffExcerpt(file: string, before: string, after: string, context = 3): string {
  const a = lines(before);
  const b = lines(after);
  // A different line count would mean more than a tag edit: show the whole files as one hunk.
  if (a.length !== b.length)
    return [
      `--- a/${file}`,
      `+++ b/${file}`,
      `@@ -1,${a.length} +1,${b.length} @@`,
      ...a.map((l) => `-${l}`),
      ...b.map((l) => `+${l}`),
    ].join('\n');
  const changed = a.flatMap((line, i) => (line === b[i] ? [] : [i]));
  if (changed.length === 0) return '';
  const hunks: Array<[number, number]> = [];
  for (const i of changed) {
    const start = Math.max(0, i - context);
    const end = Math.min(a.length - 1, i + context);
    const last = hunks.at(-1);
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out = [`--- a/${file}`, `+++ b/${file}`];
  for (const [start, end] of hunks) {
    const n = end - start + 1;
    out.push(`@@ -${start + 1},${n} +${start + 1},${n} @@`);
    for (let i = start; i <= end; ) {
      if (a[i] === b[i]) {
        out.push(` ${a[i++]}`);
        continue;
      }
      // A run of changed lines: all removals, then all additions, as diff prints them.
      let j = i;
      while (j <= end && a[j] !== b[j]) j++;
      out.push(...a.slice(i, j).map((l) => `-${l}`), ...b.slice(i, j).map((l) => `+${l}`));
      i = j;
    }
  }
  return out.join('\n');
}

// The newline that ends a file is not a line of its own.
const lines = (text: string): string[] => (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
