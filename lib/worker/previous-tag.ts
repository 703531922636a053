/**
 * `fjord rollback` without `--to`: the tag the environment had before the current one, read from the
 * manifest history itself (each earlier version of the file), so hand edits and reverts count too.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import { readTag } from '../manifest/index.js';
import type { ManifestStore } from '../manifest/store.js';

export async function previousTag(store: ManifestStore, target: EnvironmentConfig['manifest'], limit = 50): Promise<string | undefined> {
  const history = await store.history(target.file, { limit });
  const [head, ...older] = history;
  if (!head) return undefined;
  const current = readTag(await store.readAt(target.file, head.commitId), target);
  for (const entry of older) {
    const tag = readTag(await store.readAt(target.file, entry.commitId), target);
    if (tag !== undefined && tag !== current) return tag;
  }
  return undefined;
}
