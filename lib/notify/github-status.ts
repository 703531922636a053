/**
 * The commit status `fjord/<env>` on the app's commit, on GitHub (docs.github.com/en/rest/commits/statuses#create-a-commit-status):
 * states are `pending`, `success`, `failure`, `error` and the description is at most 140 characters. GitHub
 * has no `running`: the rollout is a second `pending` whose description says "rolling out …". Each POST
 * adds a status and the newest per context is the one shown, so there is no transition to refuse.
 */
import { cleanText } from '../grammar.js';
import type { Outcome } from '../worker/outcome.js';

export type GithubStatusState = 'pending' | 'success' | 'failure' | 'error';
export type GithubDeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive' | 'error';

/**
 * The state each outcome leaves the commit status in: `failed` → `failure`; `superseded` → `error` (this
 * commit was deliberately not deployed because a newer one already is: `success` would claim it runs,
 * `failure` would call it broken; GitHub statuses have no `canceled`); `waiting` (parked for approvals) →
 * `pending`, nothing deployed yet; everything else (deployed, noop, received, proposed) → `success` with the
 * outcome in the description, as on GitLab (gitlab-status.ts).
 */
export const githubStatusOf = (o: Outcome): GithubStatusState =>
  o.status === 'failed'
    ? 'failure'
    : o.status === 'superseded' || o.status === 'held'
      ? 'error'
      : o.status === 'waiting'
        ? 'pending'
        : 'success';

/**
 * The final deployment status (docs.github.com/en/rest/deployments/statuses): what reached the environment.
 * `superseded`, `proposed` (`writeBack: mr`) and `waiting` (approvals): nothing yet → `inactive`; `failed` → `failure`.
 */
export const githubDeploymentStateOf = (o: Outcome): GithubDeploymentState =>
  o.status === 'failed'
    ? 'failure'
    : o.status === 'superseded' || o.status === 'proposed' || o.status === 'held' || o.status === 'waiting'
      ? 'inactive'
      : 'success';

/** GitHub refuses descriptions over 140 characters (422 "description is too long"): one clean line, cut with an ellipsis. */
export function statusDescription(text: string): string {
  // Counted in characters, not UTF-16 units: a cut never splits an emoji.
  const chars = [...cleanText(text).replace(/\s+/g, ' ').trim()];
  return chars.length > 140 ? `${chars.slice(0, 139).join('')}…` : chars.join('');
}
