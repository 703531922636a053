/** Reads the holds file through the manifest store: no file means no holds. */
import { ManifestNotFound } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';
import { HOLDS_FILE, holdKey, parseHolds, type Hold, type Holds } from './hold.js';

export interface HoldsRead {
  holds: Holds;
  /** The read's lock for the next commit: the file's last commit (empty when there is no file yet). */
  lastCommitId: string;
  exists: boolean;
}

export async function readHolds(store: ManifestStore): Promise<HoldsRead> {
  try {
    const file = await store.read(HOLDS_FILE);
    return { holds: parseHolds(file.content), lastCommitId: file.commitId, exists: true };
  } catch (err) {
    if (!(err instanceof ManifestNotFound)) throw err;
    return { holds: {}, lastCommitId: '', exists: false };
  }
}

/** The hold on one environment, or undefined when it is not held. */
export async function readHold(store: ManifestStore, app: string, environment: string): Promise<Hold | undefined> {
  return (await readHolds(store)).holds[holdKey(app, environment)];
}
