/**
 * read → edit → commit with the lock → on `ManifestConflict` read again and re-apply the edit on the fresh
 * content (bounded). The edit runs on every attempt, so a concurrent change to another part of the file
 * (another environment's tag) is kept, never overwritten: the GitLab-API equivalent of a rebase.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Author, ManifestStore } from './store.js';
import { ManifestConflict } from './store-errors.js';

/** Returns the new content, or `null` when the file already says what it should (nothing to commit). */
export type Edit = (content: string) => string | null;

export type CommitOutcome =
  | { changed: false; commitId: string; attempts: number; conflicts: number }
  | { changed: true; commitId: string; webUrl?: string; attempts: number; conflicts: number };

export interface RetryOptions {
  attempts?: number;
  author?: Author;
  /** Pause before attempt n (n ≥ 2): random 0..`backoffMs`·(n−1) ms, so racing workers spread out. */
  backoffMs?: number;
  onConflict?: (error: ManifestConflict, attempt: number) => void;
}

/** Commits `edit(content)` to `file`, retrying on conflict; `ManifestConflict` after `attempts` tries. */
export async function commitWithRetry(
  store: ManifestStore,
  file: string,
  edit: Edit,
  message: string,
  { attempts = 5, author, backoffMs = 100, onConflict }: RetryOptions = {},
): Promise<CommitOutcome> {
  let conflicts = 0;
  for (let attempt = 1; ; attempt++) {
    const current = await store.read(file);
    const next = edit(current.content);
    if (next === null || next === current.content)
      return { changed: false, commitId: current.commitId, attempts: attempt, conflicts };
    try {
      const result = await store.commit({ file, content: next, lastCommitId: current.commitId, message, author });
      return { changed: true, ...result, attempts: attempt, conflicts };
    } catch (err) {
      if (!(err instanceof ManifestConflict)) throw err;
      conflicts++;
      onConflict?.(err, attempt);
      if (attempt >= attempts) throw new ManifestConflict(file, `still changing under us after ${attempts} attempts`);
      if (backoffMs > 0) await sleep(Math.random() * backoffMs * attempt);
    }
  }
}
