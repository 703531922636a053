/**
 * The `ManifestStore` port (STYLE.md principle 8): the worker reads a manifest file and commits a new
 * version of it through this interface, whichever backend holds the repository (`store-gitlab.ts` through
 * the GitLab REST API, `store-git.ts` through the git CLI). The manifest repository's history is fjord's
 * audit log, so every write is one commit with trailers (`commit-message.ts`).
 *
 * Optimistic locking follows GitLab's commits API: `commit` carries the `lastCommitId` that `read`
 * returned and fails with `ManifestConflict` when the file's last commit on the branch is no longer that
 * one. Commits that touch other files do not conflict. `commitWithRetry` re-reads and re-applies.
 */

export interface Author {
  name: string;
  email: string;
}

export interface ManifestFile {
  /** The file's text at the branch head (UTF-8). */
  content: string;
  /** Id of the last commit that touched this file on the branch: the optimistic lock for `commit`. */
  commitId: string;
  /** Id of the branch head commit at the time of the read. */
  headId: string;
}

export interface CommitRequest {
  file: string;
  content: string;
  /** `commitId` from the `read` this content was derived from. */
  lastCommitId: string;
  message: string;
  /** Commit author; the backend's configured identity when absent. */
  author?: Author;
  /** The file does not exist yet (`read` threw `ManifestNotFound`): create it; `ManifestConflict` when it
   *  exists by now (`lastCommitId` is not checked then). Used for fjord's holds file (lib/holds). */
  create?: boolean;
}

export interface CommitResult {
  commitId: string;
  /** Link to the commit (GitLab only). */
  webUrl?: string;
}

export interface HistoryEntry {
  commitId: string;
  message: string;
  /** `Key: value` git trailers of the message's last paragraph (`Fjord-Tag`, `Fjord-Job`, …). */
  trailers: Record<string, string>;
  /** ISO 8601. */
  authoredAt: string;
  author: Author;
}

export interface MergeRequestRequest {
  file: string;
  content: string;
  message: string;
  title: string;
  description?: string;
  /** Branch that carries the change: `mergeRequestBranch(app, env, tag)`. Rewritten when it exists. */
  sourceBranch: string;
  /** Commit the content was derived from (`headId` of the read); the branch head when absent. */
  baseCommitId?: string;
  author?: Author;
}

export interface MergeRequestResult {
  sourceBranch: string;
  /** `merge-request`: GitLab opened (or found) a merge request. `branch`: plain git has no merge requests,
   *  only the pushed branch exists; a person merges it by hand. */
  kind: 'merge-request' | 'branch';
  iid?: number;
  webUrl?: string;
}

export interface ManifestStore {
  /** Branch the store reads from and commits to. */
  readonly branch: string;
  read(file: string): Promise<ManifestFile>;
  /** Files under `dir` at the branch head, recursive and repository-relative ([] when none); absent: the backend cannot list (managed-file directories need it). */
  list?(dir: string): Promise<string[]>;
  /** The file's text at `commitId` (rollback, converge). */
  readAt(file: string, commitId: string): Promise<string>;
  /** One commit that replaces the file's content; `ManifestConflict` when the file moved on. */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Commits that touched the file on the branch, newest first. */
  history(file: string, options?: { limit?: number }): Promise<HistoryEntry[]>;
  /** The change on its own branch, for a person to merge (`writeBack: mr`, `promote: mr`). */
  openMergeRequest(request: MergeRequestRequest): Promise<MergeRequestResult>;
}

/** Source branch of a write-back merge request: `fjord/<app>-<env>-<tag>` (names and tag are grammar-checked). */
export const mergeRequestBranch = (app: string, environment: string, tag: string): string =>
  `fjord/${app}-${environment}-${tag}`;
