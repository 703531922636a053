/**
 * Confirms a webhook's claim with the GitLab API (@gitbeaker/rest), before fjord commits anything:
 * - a merge event: `GET /projects/:id/merge_requests/:iid` says `state: merged`, the target branch is the
 *   ref, and the job's sha is the MR's `merge_commit_sha`, `squash_commit_sha` or (fast-forward) `sha`
 *   (docs.gitlab.com/api/merge_requests/#get-single-mr);
 * - every event: the sha is on the ref — `GET /projects/:id/repository/commits/:sha/refs?type=branch|tag`
 *   lists it (docs.gitlab.com/api/commits/#get-references-a-commit-is-pushed-to). When that endpoint is not
 *   there (404) or its list is cut at our page limit, `GET /projects/:id/repository/compare?from=<ref>&to=<sha>`
 *   decides: no commits reachable from the sha that the ref lacks means the ref holds it
 *   (docs.gitlab.com/api/repositories/#compare-branches-tags-or-commits).
 * The branch's head, for a push that must still be what the branch says: `GET /projects/:id/repository/branches/:branch`
 * (docs.gitlab.com/api/branches/#get-single-repository-branch).
 */
import {
  Branches,
  Commits,
  GitbeakerRequestError,
  GitbeakerRetryError,
  GitbeakerTimeoutError,
  MergeRequests,
  Repositories,
} from '@gitbeaker/rest';
import { gitlabClientOptions } from '../gitlab-client.js';
import type { Secret } from '../secret.js';
import { failedCall, quoted, SourceRefused, type SourceApi, type SourceClaim } from './source-claim.js';

const REFS_PER_PAGE = 100;
const REFS_MAX_PAGES = 5;

export function gitlabConfirmer({
  url,
  token,
  timeoutMs = 10_000,
}: {
  url: string;
  token: Secret;
  timeoutMs?: number;
}): SourceApi {
  // A token function: the raw value is read per request and never stored on the client objects.
  const options = gitlabClientOptions({ host: url.replace(/\/+$/, ''), token, timeoutMs });
  const mergeRequests = new MergeRequests<false>(options);
  const commits = new Commits<false>(options);
  const repositories = new Repositories<false>(options);
  const branches = new Branches<false>(options);

  const call = async <T>(claim: SourceClaim, what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof GitbeakerRequestError) {
        const cause = err.cause as { description?: string; response?: { status?: number } } | undefined;
        failedCall(claim, what, cause?.response?.status, cause?.description ?? err.message);
      }
      if (
        err instanceof GitbeakerTimeoutError ||
        err instanceof GitbeakerRetryError ||
        (err instanceof TypeError && /fetch failed/i.test(err.message))
      )
        failedCall(claim, what, undefined, err.message);
      throw err;
    }
  };

  const onRef = async (claim: SourceClaim): Promise<boolean> => {
    const what = `commit ${claim.sha.slice(0, 12)}`;
    let refs: Array<{ name: string }> | undefined;
    try {
      refs = await call(claim, `the refs of ${what}`, () =>
        commits.allReferences(claim.project, claim.sha, {
          type: claim.refKind,
          perPage: REFS_PER_PAGE,
          maxPages: REFS_MAX_PAGES,
        }),
      );
    } catch (err) {
      // 404: an unknown sha, or an instance without the endpoint; compare tells which.
      if (!(err instanceof SourceRefused && / answered 404 /.test(err.message))) throw err;
    }
    if (refs?.some((r) => r.name === claim.ref)) return true;
    if (refs && refs.length < REFS_PER_PAGE * REFS_MAX_PAGES) return false;
    const compared = await call(claim, `${what} compared with ${claim.ref}`, () =>
      repositories.compare(claim.project, claim.ref, claim.sha),
    );
    return (compared.commits ?? []).length === 0;
  };

  const confirm = async (claim: SourceClaim): Promise<void> => {
    if (claim.mr !== undefined) {
      const mr = await call(claim, `merge request !${claim.mr}`, () => mergeRequests.show(claim.project, claim.mr!));
      const name = `merge request ${claim.project}!${claim.mr}`;
      if (mr.state !== 'merged') throw new SourceRefused(`GitLab says ${name} is ${quoted(mr.state)}, not merged`);
      if (mr.target_branch !== claim.ref)
        throw new SourceRefused(
          `GitLab says ${name} was merged into ${quoted(mr.target_branch)}, not ${quoted(claim.ref)}`,
        );
      const shas = [mr.merge_commit_sha, mr.squash_commit_sha, mr.sha].filter(
        (s): s is string => typeof s === 'string' && s.length > 0,
      );
      if (!shas.includes(claim.sha))
        throw new SourceRefused(
          `GitLab says ${name} was merged as ${shas.map((s) => s.slice(0, 12)).join(' / ') || 'an unknown commit'}, not ${claim.sha.slice(0, 12)}`,
        );
    }
    if (!(await onRef(claim)))
      throw new SourceRefused(
        `GitLab says commit ${claim.sha.slice(0, 12)} is not on ${claim.refKind} ${quoted(claim.ref)} of project ${claim.project}`,
      );
  };
  const head = async (claim: SourceClaim): Promise<string> =>
    (await call(claim, `branch ${quoted(claim.ref)}`, () => branches.show(claim.project, claim.ref))).commit.id;
  return { confirm, head };
}
