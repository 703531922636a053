/**
 * `fjord rollback` without `--to`: the tag the environment had before the current one, read from the
 * manifest history itself (each earlier version of the file), so hand edits and reverts count too. A tag
 * whose rollout failed (a deploy commit that a `Fjord-Rollback-Of` commit undid) is skipped: after an
 * automatic rollback, "the previous tag" is the one before the failure, not the failure (issue 12, item 12).
 */
import type { EnvironmentConfig } from '../config/schema.js';
import { readTag } from '../manifest/index.js';
import type { HistoryEntry, ManifestStore } from '../manifest/store.js';

/** Commits of `history` that deployed a version whose rollout failed and was rolled back. */
export function failedDeploys(history: readonly HistoryEntry[]): Set<string> {
  const undone = new Set(history.map((e) => e.trailers['Fjord-Rollback-Of']).filter((id): id is string => !!id));
  return new Set(
    history
      .filter((e) => !e.trailers['Fjord-Rollback-Of'] && undone.has(e.trailers['Fjord-Job'] ?? ''))
      .map((e) => e.commitId),
  );
}

export async function previousTag(
  store: ManifestStore,
  target: EnvironmentConfig['manifest'],
  limit = 50,
): Promise<string | undefined> {
  const history = await store.history(target.file, { limit });
  const [head, ...older] = history;
  if (!head) return undefined;
  const current = readTag(await store.readAt(target.file, head.commitId), target);
  const failed = failedDeploys(history);
  for (const entry of older) {
    if (failed.has(entry.commitId)) continue;
    const tag = readTag(await store.readAt(target.file, entry.commitId), target);
    if (tag !== undefined && tag !== current) return tag;
  }
  return undefined;
}
