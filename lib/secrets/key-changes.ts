/** Which variables a secrets change adds, removes or changes: names only, for people to read (never values). */
export interface KeyChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export function keyChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): KeyChanges {
  const sorted = (keys: Iterable<string>) => [...keys].sort();
  return {
    added: sorted([...after.keys()].filter((k) => !before.has(k))),
    removed: sorted([...before.keys()].filter((k) => !after.has(k))),
    changed: sorted([...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k))),
  };
}

/** `added A, B; changed C; removed D`, or `no change`. */
export function describeKeyChanges(c: KeyChanges): string {
  const parts = (['added', 'changed', 'removed'] as const)
    .filter((k) => c[k].length)
    .map((k) => `${k} ${c[k].join(', ')}`);
  return parts.length ? parts.join('; ') : 'no change';
}
