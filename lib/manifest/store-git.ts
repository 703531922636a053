/**
 * `ManifestStore` over any git repository the `git` CLI can reach: a local path, `file://` or ssh. It keeps
 * a bare cache clone under the data dir and builds each commit with plumbing (hash-object, a throw-away
 * index, commit-tree), so no working tree is checked out and nothing local can go stale.
 *
 * Same semantics as the GitLab backend: `commit` is refused with `ManifestConflict` when the file's last
 * commit on the remote branch is no longer `lastCommitId`; a push rejected because another file moved the
 * branch is rebuilt on the new head and pushed again (GitLab, too, commits onto whatever the head is).
 * One store instance serialises its own git calls; use one data dir per process. Lock files left in the
 * cache by a git that was killed with the process (kill -9) are cleared once stale (clear-stale-locks.ts).
 */
import { decodeManifest } from './manifest-bytes.js';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clearStaleLocks, isLockError } from './clear-stale-locks.js';
import { checkCommit, checkFile, gitCommands as cmd, trackingRef } from './git-commands.js';
import { git, gitBuffer, GitCommandFailed } from './git-cli.js';
import { pushCommit, writeCommit } from './git-plumbing.js';
import { parseLog } from './parse-git-log.js';
import type {
  Author,
  CommitRequest,
  CommitResult,
  HistoryEntry,
  ManifestFile,
  ManifestStore,
  MergeRequestRequest,
  MergeRequestResult,
} from './store.js';
import { ManifestConflict, ManifestNotFound, ManifestStoreError } from './store-errors.js';

export interface GitStoreOptions {
  /** Path or URL of the manifest repository (a local path, `file://…`, `ssh://…`, `user@host:path`). */
  repository: string;
  branch: string;
  /** The cache clone lives in `<dataDir>/manifest-<hash>.git`. */
  dataDir: string;
  /** Author and committer when a commit names no author. */
  author?: Author;
  /** How often a push rejected by an unrelated change is rebuilt and retried. */
  pushAttempts?: number;
  timeoutMs?: number;
}

export class GitManifestStore implements ManifestStore {
  readonly branch: string;
  readonly #repository: string;
  readonly #cache: string;
  readonly #author: Author;
  readonly #pushAttempts: number;
  readonly #timeoutMs: number;
  #ready: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor({
    repository,
    branch,
    dataDir,
    author = { name: 'fjord', email: 'fjord@localhost' },
    pushAttempts = 5,
    timeoutMs = 60_000,
  }: GitStoreOptions) {
    this.branch = branch;
    this.#repository = repository;
    this.#cache = join(dataDir, `manifest-${createHash('sha256').update(repository).digest('hex').slice(0, 12)}.git`);
    this.#author = author;
    this.#pushAttempts = pushAttempts;
    this.#timeoutMs = timeoutMs;
    cmd.fetch(branch); // validates the branch name now rather than at the first read
  }

  read(file: string): Promise<ManifestFile> {
    return this.#serial(async () => {
      const headId = await this.#fetch(file);
      const { content } = await this.#blobAt(headId, file);
      return { content, commitId: await this.#lastCommitFor(headId, file), headId };
    });
  }

  list(dir: string): Promise<string[]> {
    return this.#serial(async () => {
      const headId = await this.#fetch(dir);
      return (await this.#git(cmd.lsFiles(headId, dir.replace(/\/+$/, '')))).split('\0').filter(Boolean);
    });
  }

  readAt(file: string, commitId: string): Promise<string> {
    checkCommit(commitId);
    return this.#serial(async () => {
      if (!(await this.#hasCommit(commitId))) await this.#fetch(file);
      if (!(await this.#hasCommit(commitId)))
        throw new ManifestNotFound(file, `commit ${commitId} is not in the manifest repository`);
      return (await this.#blobAt(commitId, file)).content;
    });
  }

  commit({ file, content, lastCommitId, message, author, create }: CommitRequest): Promise<CommitResult> {
    checkFile(file);
    return this.#serial(async () => {
      for (let attempt = 1; ; attempt++) {
        const headId = await this.#fetch(file);
        if (create) {
          const exists = await this.#entryAt(headId, file).then(
            () => true,
            (err: unknown) => (err instanceof ManifestNotFound ? false : Promise.reject(err)),
          );
          if (exists) throw new ManifestConflict(file, `it was created on ${this.branch} since it was read`);
          const commitId = await writeCommit(this.#io(), {
            parent: headId,
            file,
            mode: '100644',
            content,
            message,
            author: author ?? this.#author,
            committer: this.#author,
          });
          if (await pushCommit(this.#io(), commitId, this.branch)) {
            await this.#git(cmd.updateRef(trackingRef(this.branch), commitId));
            return { commitId };
          }
          if (attempt >= this.#pushAttempts)
            throw new ManifestConflict(file, `${this.branch} kept moving; push rejected ${attempt} times`);
          continue;
        }
        // GitLab's check (Files::BaseService#file_has_changed?): the file's last commit as of the branch
        // head against its last commit as of the id the writer read. Unknown ids conflict here (stricter).
        const current = await this.#lastCommitFor(headId, file);
        const expected = await this.#lastCommitFor(checkCommit(lastCommitId), file).catch((err: unknown) => {
          if (err instanceof GitCommandFailed) return undefined; // not a commit of this repository
          throw err;
        });
        if (current !== expected)
          throw new ManifestConflict(
            file,
            `it changed on ${this.branch} since it was read (last commit ${current.slice(0, 12)}, expected ${lastCommitId.slice(0, 12)})`,
          );
        const { mode } = await this.#entryAt(headId, file);
        const commitId = await writeCommit(this.#io(), {
          parent: headId,
          file,
          mode,
          content,
          message,
          author: author ?? this.#author,
          committer: this.#author,
        });
        if (await pushCommit(this.#io(), commitId, this.branch)) {
          await this.#git(cmd.updateRef(trackingRef(this.branch), commitId));
          return { commitId };
        }
        if (attempt >= this.#pushAttempts)
          throw new ManifestConflict(file, `${this.branch} kept moving; push rejected ${attempt} times`);
      }
    });
  }

  history(file: string, { limit = 20 }: { limit?: number } = {}): Promise<HistoryEntry[]> {
    return this.#serial(async () => {
      const headId = await this.#fetch(file);
      return parseLog(await this.#git(cmd.log(headId, file, limit)));
    });
  }

  /** Plain git has no merge requests: this pushes `sourceBranch` (rewritten if it exists) and returns it
   *  with `kind: 'branch'`; a person merges it, and the push to the manifest branch triggers converge. */
  openMergeRequest({
    file,
    content,
    message,
    sourceBranch,
    baseCommitId,
    author,
  }: MergeRequestRequest): Promise<MergeRequestResult> {
    checkFile(file);
    return this.#serial(async () => {
      const headId = await this.#fetch(file);
      const base = baseCommitId && (await this.#hasCommit(checkCommit(baseCommitId))) ? baseCommitId : headId;
      const { mode } = await this.#entryAt(base, file);
      const commitId = await writeCommit(this.#io(), {
        parent: base,
        file,
        mode,
        content,
        message,
        author: author ?? this.#author,
        committer: this.#author,
      });
      if (!(await pushCommit(this.#io(), commitId, sourceBranch, { force: true })))
        throw new ManifestStoreError(`push of branch ${sourceBranch} was rejected`);
      return { sourceBranch, kind: 'branch' };
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #io = () => ({ cwd: this.#cache, timeoutMs: this.#timeoutMs });

  #git(args: string[], options: { env?: Record<string, string>; input?: string | Buffer } = {}): Promise<string> {
    return git(args, { cwd: this.#cache, timeoutMs: this.#timeoutMs, ...options });
  }

  async #ensureCache(): Promise<void> {
    this.#ready ??= (async () => {
      mkdirSync(this.#cache, { recursive: true, mode: 0o700 });
      clearStaleLocks(this.#cache);
      try {
        await git(cmd.initBare(this.#cache), { timeoutMs: this.#timeoutMs });
        await this.#git(cmd.setRemote(this.#repository));
      } catch (err) {
        // A lock left by a git killed moments ago: gone (cleared as stale) by the next attempt.
        if (err instanceof GitCommandFailed && isLockError(err.stderr))
          throw new ManifestStoreError(`the manifest cache is locked: ${err.message}`, { transient: true });
        throw err;
      }
    })();
    await this.#ready.catch((err) => {
      this.#ready = undefined;
      throw err;
    });
  }

  /** Fetches the branch into the cache and returns its head. */
  async #fetch(file: string): Promise<string> {
    await this.#ensureCache();
    clearStaleLocks(this.#cache);
    try {
      await this.#git(cmd.fetch(this.branch));
    } catch (err) {
      if (err instanceof GitCommandFailed && /couldn't find remote ref/i.test(err.stderr))
        throw new ManifestNotFound(file, `branch ${this.branch} does not exist in the manifest repository`);
      // Unreachable host, refused key, timeout: the next attempt may well succeed.
      if (err instanceof GitCommandFailed)
        throw new ManifestStoreError(`cannot fetch the manifest repository: ${err.message}`, { transient: true });
      throw err;
    }
    return (await this.#git(cmd.revParse(trackingRef(this.branch)))).trim();
  }

  async #hasCommit(id: string): Promise<boolean> {
    try {
      await this.#git(cmd.revParse(checkCommit(id)));
      return true;
    } catch (err) {
      if (err instanceof GitCommandFailed) return false;
      throw err;
    }
  }

  async #lastCommitFor(rev: string, file: string): Promise<string> {
    return (await this.#git(cmd.lastCommitFor(rev, file))).trim();
  }

  /** Mode and blob id of `file` at `rev`; `ManifestNotFound` when it is not a file there. */
  async #entryAt(rev: string, file: string): Promise<{ mode: string; blob: string }> {
    const entry = (await this.#git(cmd.lsTree(rev, file))).split('\0')[0] ?? '';
    const match = /^(\d+) blob ([0-9a-f]+)\t/.exec(entry);
    if (!match) throw new ManifestNotFound(file, `no such file at ${rev.slice(0, 12)}`);
    return { mode: match[1]!, blob: match[2]! };
  }

  async #blobAt(rev: string, file: string): Promise<{ mode: string; blob: string; content: string }> {
    const entry = await this.#entryAt(rev, file);
    const content = decodeManifest(
      await gitBuffer(cmd.catBlob(entry.blob), { cwd: this.#cache, timeoutMs: this.#timeoutMs }),
    );
    return { ...entry, content };
  }
}
