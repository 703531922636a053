/**
 * fjord's comments on a GitHub pull request: a PR's conversation comments are issue comments
 * (docs.github.com/en/rest/issues/comments: list, create, update). A comment is found again by the hidden
 * marker it carries and edited in place, so a redelivered job, a retry or another process never adds a
 * second one. Listing is oldest first, 100 a page, at most `MAX_PAGES` pages: past that a new comment is
 * written rather than reading on forever.
 */
import type { Octokit } from '@octokit/rest';

const MAX_PAGES = 10;
const PER_PAGE = 100;

export interface PostedComment {
  id: number;
  /** The comment's web address (`…/pull/<n>#issuecomment-<id>`). */
  url: string;
  created: boolean;
}

export class GithubComments {
  readonly #octokit: Octokit;
  /** Comment ids this process wrote, by repository, PR and marker: saves the search next time. */
  readonly #known = new Map<string, { id: number; url: string }>();

  constructor(octokit: Octokit) {
    this.#octokit = octokit;
  }

  /** The web address of the comment carrying `marker`, if this process wrote or found it. */
  urlOf(repository: string, pr: number, marker: string): string | undefined {
    return this.#known.get(`${repository}#${pr}${marker}`)?.url;
  }

  /** Edits the comment carrying `marker` on PR `pr` of `owner/repo`, or creates it. */
  async upsert(repository: string, pr: number, marker: string, body: string): Promise<PostedComment> {
    const { owner, repo } = splitRepository(repository);
    const key = `${repository}#${pr}${marker}`;
    const known = this.#known.get(key) ?? (await this.#find(owner, repo, pr, marker));
    if (known) {
      try {
        const { data } = await this.#octokit.rest.issues.updateComment({ owner, repo, comment_id: known.id, body });
        this.#known.set(key, { id: data.id, url: data.html_url });
        return { id: data.id, url: data.html_url, created: false };
      } catch (err) {
        // Deleted by a person since: write a new one. Anything else is the caller's to report.
        if ((err as { status?: number }).status !== 404) throw err;
      }
    }
    const { data } = await this.#octokit.rest.issues.createComment({ owner, repo, issue_number: pr, body });
    this.#known.set(key, { id: data.id, url: data.html_url });
    return { id: data.id, url: data.html_url, created: true };
  }

  async #find(
    owner: string,
    repo: string,
    pr: number,
    marker: string,
  ): Promise<{ id: number; url: string } | undefined> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { data } = await this.#octokit.rest.issues.listComments({
        owner,
        repo,
        issue_number: pr,
        per_page: PER_PAGE,
        page,
      });
      const hit = data.find((c) => typeof c.body === 'string' && c.body.includes(marker));
      if (hit) return { id: hit.id, url: hit.html_url };
      if (data.length < PER_PAGE) return undefined;
    }
    return undefined;
  }
}

/** `owner/repo` → its parts (the config's project grammar and the job's checked source already hold it to one `/`). */
export function splitRepository(repository: string): { owner: string; repo: string } {
  const at = repository.indexOf('/');
  return { owner: repository.slice(0, at), repo: repository.slice(at + 1) };
}
