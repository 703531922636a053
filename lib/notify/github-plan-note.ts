/**
 * Plans on GitHub pull requests (issue 14, item 5): the `PlanNotes` of gitlab-plan-note.ts, written as one
 * issue comment per app on the PR (github-comments.ts). The PR is read first (docs.github.com/en/rest/pulls/pulls#get-a-pull-request)
 * so that a late plan of an older push is dropped; its state is told in GitLab's words, which run-plan.ts
 * reads: `open` → `opened`, closed and merged → `merged`, closed otherwise → `closed`.
 */
import type { Octokit } from '@octokit/rest';
import { GithubComments, splitRepository } from './github-comments.js';
import type { PlanNotes } from './plan-notes.js';

export class GithubPlanNotes implements PlanNotes {
  readonly #octokit: Octokit;
  readonly #comments: GithubComments;

  constructor(octokit: Octokit) {
    this.#octokit = octokit;
    this.#comments = new GithubComments(octokit);
  }

  async head(project: string, mr: number): Promise<{ state: string; sha: string | undefined }> {
    const { data } = await this.#octokit.rest.pulls.get({ ...splitRepository(project), pull_number: mr });
    const state = data.state === 'open' ? 'opened' : data.merged ? 'merged' : 'closed';
    return { state, sha: data.head?.sha };
  }

  async upsert(project: string, mr: number, marker: string, body: string): Promise<{ id: number; created: boolean }> {
    const { id, created } = await this.#comments.upsert(project, mr, marker, body);
    return { id, created };
  }
}
