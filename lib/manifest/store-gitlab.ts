/**
 * `ManifestStore` through the GitLab REST API (@gitbeaker/rest), for a self-hosted or gitlab.com instance.
 * Reads with the repository files API (`content` + `last_commit_id`), lists directories with the tree API, commits with the commits API, one
 * `update` action per file carrying `last_commit_id` (a per-action attribute: docs.gitlab.com/ee/api/commits.html
 * #create-a-commit-with-multiple-files-and-actions), which GitLab checks against the file's last commit on
 * the branch and answers 400 "You are attempting to update a file that has changed since you started
 * editing it." when it moved: that becomes `ManifestConflict`. The API token stays a `Secret` until the
 * request header is written.
 */
import { decodeManifest, encodeManifest, hasRawBytes } from './manifest-bytes.js';
import { gitlabClientOptions } from '../gitlab-client.js';
import {
  Commits,
  GitbeakerRequestError,
  GitbeakerRetryError,
  GitbeakerTimeoutError,
  MergeRequests,
  Repositories,
  RepositoryFiles,
} from '@gitbeaker/rest';
import type { Secret } from '../secret.js';
import { checkCommit, checkFile } from './git-commands.js';
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
import { parseTrailers } from './trailers.js';

export interface GitlabStoreOptions {
  /** GitLab base URL (`https://gitlab.example.com`); the API is `<url>/api/v4`. */
  url: string;
  token: Secret;
  /** Manifest project: `group/project` path or numeric id. */
  project: string | number;
  branch: string;
  /** Commit author when a commit names none (the committer is always the token's user). */
  author?: Author;
  timeoutMs?: number;
}

export class GitlabManifestStore implements ManifestStore {
  readonly branch: string;
  readonly #project: string | number;
  readonly #host: string;
  readonly #author: Author | undefined;
  readonly #files: RepositoryFiles<false>;
  readonly #commits: Commits<false>;
  readonly #mergeRequests: MergeRequests<false>;
  readonly #repositories: Repositories<false>;

  constructor({ url, token, project, branch, author, timeoutMs = 30_000 }: GitlabStoreOptions) {
    this.branch = branch;
    this.#project = project;
    this.#host = url.replace(/\/+$/, '');
    this.#author = author;
    // A token function: the raw value is read per request and never stored on the client objects.
    const options = gitlabClientOptions({ host: this.#host, token, timeoutMs });
    this.#files = new RepositoryFiles<false>(options);
    this.#commits = new Commits<false>(options);
    this.#mergeRequests = new MergeRequests<false>(options);
    this.#repositories = new Repositories<false>(options);
  }

  async read(file: string): Promise<ManifestFile> {
    const f = await this.#call(file, 'read', () => this.#files.show(this.#project, checkFile(file), this.branch));
    return {
      content: decodeManifest(Buffer.from(f.content, 'base64')),
      commitId: f.last_commit_id,
      headId: f.commit_id,
    };
  }

  /**
   * Files under `dir` at the branch head, through the repository tree API (`recursive=true`; gitbeaker
   * follows every `Link: rel="next"` page: docs.gitlab.com/ee/api/repositories.html#list-repository-tree).
   * GitLab answers 404 "Tree Not Found" for a directory that is not there: no files.
   */
  async list(dir: string): Promise<string[]> {
    const path = checkFile(dir.replace(/\/+$/, ''));
    const entries = await this.#call(dir, 'list', () =>
      this.#repositories.allRepositoryTrees(this.#project, { path, ref: this.branch, recursive: true, perPage: 100 }),
    ).catch((err: unknown) => {
      if (err instanceof ManifestNotFound) return [];
      throw err;
    });
    return entries
      .filter((e) => e.type === 'blob')
      .map((e) => e.path)
      .sort();
  }

  async readAt(file: string, commitId: string): Promise<string> {
    const f = await this.#call(file, 'read', () =>
      this.#files.show(this.#project, checkFile(file), checkCommit(commitId)),
    );
    return decodeManifest(Buffer.from(f.content, 'base64'));
  }

  async commit({
    file,
    content,
    lastCommitId,
    message,
    author = this.#author,
    create,
  }: CommitRequest): Promise<CommitResult> {
    const action = create
      ? { action: 'create' as const, filePath: checkFile(file), ...actionContent(content) }
      : {
          action: 'update' as const,
          filePath: checkFile(file),
          ...actionContent(content),
          lastCommitId: checkCommit(lastCommitId),
        };
    const created = await this.#call(file, 'commit', () =>
      this.#commits.create(this.#project, this.branch, message, [action], authorOptions(author)),
    );
    return { commitId: created.id, webUrl: created.web_url };
  }

  async history(file: string, { limit = 20 }: { limit?: number } = {}): Promise<HistoryEntry[]> {
    // `page` set: gitbeaker fetches this one page instead of following every `Link: rel="next"`.
    const list = await this.#call(file, 'history', () =>
      this.#commits.all(this.#project, {
        refName: this.branch,
        path: checkFile(file),
        perPage: Math.min(100, limit),
        page: 1,
      }),
    );
    return list.slice(0, limit).map((c) => ({
      commitId: c.id,
      message: c.message,
      trailers: parseTrailers(c.message),
      authoredAt: c.authored_date ?? c.created_at,
      author: { name: c.author_name, email: c.author_email },
    }));
  }

  /** Commits the change to `sourceBranch` (created from `baseCommitId`, or reset onto it when it exists:
   *  `force` with `start_sha`), then opens a merge request into the branch, or returns the open one. */
  async openMergeRequest({
    file,
    content,
    message,
    title,
    description,
    sourceBranch,
    baseCommitId,
    author = this.#author,
  }: MergeRequestRequest): Promise<MergeRequestResult> {
    const start = baseCommitId ? { startSha: checkCommit(baseCommitId) } : { startBranch: this.branch };
    const action = { action: 'update' as const, filePath: checkFile(file), ...actionContent(content) };
    await this.#call(file, 'commit to merge request branch', () =>
      this.#commits.create(this.#project, sourceBranch, message, [action], {
        ...start,
        force: true,
        ...authorOptions(author),
      }),
    );
    const open = await this.#call(file, 'list merge requests', () =>
      this.#mergeRequests.all({
        projectId: this.#project,
        sourceBranch,
        targetBranch: this.branch,
        state: 'opened',
        perPage: 1,
        page: 1,
      }),
    );
    const mr =
      open[0] ??
      (await this.#call(file, 'open merge request', () =>
        this.#mergeRequests.create(this.#project, sourceBranch, this.branch, title, {
          description,
          removeSourceBranch: true,
        }),
      ));
    return { sourceBranch, kind: 'merge-request', iid: mr.iid, webUrl: mr.web_url };
  }

  /** Runs one API call and turns gitbeaker's errors into named ones. */
  async #call<T>(file: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateError(err, { file, what, host: this.#host, project: this.#project });
    }
  }
}

// Text with bytes that are not UTF-8 goes as base64 of those bytes (the commits API's `encoding`).
const actionContent = (content: string) =>
  hasRawBytes(content) ? { content: encodeManifest(content).toString('base64'), encoding: 'base64' } : { content };
const authorOptions = (author: Author | undefined) =>
  author ? { authorName: author.name, authorEmail: author.email } : {};

/** gitbeaker error → ManifestConflict / ManifestNotFound / ManifestStoreError. The request (which holds the
 *  token header) is not kept as `cause`. */
export function translateError(
  err: unknown,
  { file, what, host, project }: { file: string; what: string; host: string; project: string | number },
): Error {
  if (err instanceof GitbeakerRequestError) {
    const cause = err.cause as { description?: string; response?: { status?: number } } | undefined;
    const status = cause?.response?.status;
    const text = cause?.description ?? err.message;
    if (status === 400 && /changed since you started editing/i.test(text)) return new ManifestConflict(file);
    // A `create` action lost the race with another writer creating the same file.
    if (status === 400 && /A file with this name already exists/i.test(text))
      return new ManifestConflict(file, 'it was created since it was read');
    // Gitaly lost a ref-update race with a concurrent push: the same situation, retry the same way.
    if (status === 400 && /Could not update refs\/heads\//i.test(text))
      return new ManifestConflict(file, 'the branch moved during the commit');
    if (status === 404) return new ManifestNotFound(file, `${what}: not found in GitLab project ${project} (${text})`);
    if (status === 401 || status === 403)
      return new ManifestStoreError(`GitLab refused the API token (${status}) for ${what} in project ${project}`);
    return new ManifestStoreError(`GitLab API ${what} failed (${status ?? 'no status'}): ${text}`, {
      transient: status === undefined || status >= 500,
    });
  }
  if (err instanceof GitbeakerTimeoutError)
    return new ManifestStoreError(`GitLab API ${what} timed out (${host})`, { transient: true });
  if (err instanceof GitbeakerRetryError)
    return new ManifestStoreError(`GitLab API ${what}: ${err.message}`, { transient: true });
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    const code = (err.cause as { code?: string } | undefined)?.code;
    return new ManifestStoreError(`cannot reach GitLab at ${host}${code ? ` (${code})` : ''}`, { transient: true });
  }
  return err instanceof Error ? err : new ManifestStoreError(String(err));
}
