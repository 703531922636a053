/**
 * Confirms a webhook's claim with the GitHub API (@octokit/rest, lib/notify/github-client.ts), before fjord
 * commits anything:
 * - a merged pull request: `GET /repos/{owner}/{repo}/pulls/{n}` says `merged: true`, the base is the ref
 *   and `merge_commit_sha` is the job's sha (docs.github.com/en/rest/pulls/pulls#get-a-pull-request);
 * - every event: `GET /repos/{owner}/{repo}/compare/{sha}...{ref}` is `ahead` or `identical`: the ref's
 *   history holds the sha (docs.github.com/en/rest/commits/commits#compare-two-commits).
 * The branch's head, for a push that must still be what the branch says: `GET /repos/{owner}/{repo}/branches/{branch}`
 * (docs.github.com/en/rest/branches/branches#get-a-branch).
 */
import type { Octokit } from '@octokit/rest';
import { splitRepository } from '../notify/github-comments.js';
import { GithubApiError } from '../notify/github-client.js';
import { failedCall, quoted, SourceRefused, type SourceApi, type SourceClaim } from './source-claim.js';

export function githubConfirmer(octokit: Octokit): SourceApi {
  const call = async <T>(claim: SourceClaim, what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      // github-client.ts turns every failed request into a GithubApiError (status, GitHub's message).
      if (err instanceof GithubApiError) failedCall(claim, what, err.status, err.message);
      throw err;
    }
  };

  const confirm = async (claim: SourceClaim): Promise<void> => {
    const repo = splitRepository(claim.project);
    const short = claim.sha.slice(0, 12);
    if (claim.mr !== undefined) {
      const { data: pull } = await call(claim, `pull request #${claim.mr}`, () =>
        octokit.rest.pulls.get({ ...repo, pull_number: claim.mr! }),
      );
      const name = `pull request ${claim.project}#${claim.mr}`;
      if (pull.merged !== true)
        throw new SourceRefused(`GitHub says ${name} is not merged (state ${quoted(pull.state)})`);
      if (pull.base.ref !== claim.ref)
        throw new SourceRefused(
          `GitHub says ${name} was merged into ${quoted(pull.base.ref)}, not ${quoted(claim.ref)}`,
        );
      if (pull.merge_commit_sha !== claim.sha)
        throw new SourceRefused(
          `GitHub says ${name} was merged as ${pull.merge_commit_sha?.slice(0, 12) ?? 'an unknown commit'}, not ${short}`,
        );
    }
    const { data: compared } = await call(claim, `commit ${short} compared with ${claim.ref}`, () =>
      octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${claim.sha}...${claim.ref}`, per_page: 1 }),
    );
    if (compared.status !== 'ahead' && compared.status !== 'identical') {
      throw new SourceRefused(
        `GitHub says commit ${short} is not on ${claim.refKind} ${quoted(claim.ref)} of project ${claim.project} (${quoted(compared.status)})`,
      );
    }
  };
  const head = async (claim: SourceClaim): Promise<string> =>
    (
      await call(claim, `branch ${quoted(claim.ref)}`, () =>
        octokit.rest.repos.getBranch({ ...splitRepository(claim.project), branch: claim.ref }),
      )
    ).data.commit.sha;
  return { confirm, head };
}
