/**
 * Lock files that a git process killed with SIGKILL (a worker's OOM kill, a container stop, `kill -9`)
 * leaves in the cache clone: git removes its `*.lock` files on exit and on catchable signals, never after
 * SIGKILL, and from then on every fetch fails with "Unable to create '…/origin/main.lock': File exists"
 * (and `git init` with "could not lock config file"). git holds such a lock for milliseconds, so one
 * older than `staleMs` has no live owner even when another process (`fjord status`) shares the cache.
 * The throw-away index files of `writeCommit` left by a kill go the same way.
 */
import { readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export const STALE_LOCK_MS = 10_000;

/** Removes the stale lock files under the repository `dir` (top level and `refs/`); returns their paths. */
export function clearStaleLocks(dir: string, staleMs = STALE_LOCK_MS, now = Date.now()): string[] {
  const removed: string[] = [];
  const visit = (path: string, recurse: boolean) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return; // not made yet
    }
    for (const e of entries) {
      const full = join(path, e.name);
      if (e.isDirectory()) {
        if (recurse) visit(full, true);
        continue;
      }
      if (!e.name.endsWith('.lock') && !e.name.startsWith('fjord-index-')) continue;
      const mtime = statSync(full, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime === undefined || now - mtime < staleMs) continue;
      rmSync(full, { force: true });
      removed.push(full);
    }
  };
  visit(dir, false);
  visit(join(dir, 'refs'), true);
  return removed;
}

/** A git failure caused by a lock file that exists (possibly a stale one, cleared once it is old enough). */
export const isLockError = (stderr: string): boolean =>
  /\.lock'?: File exists|could not lock config file|cannot lock ref/i.test(stderr);
