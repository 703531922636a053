/**
 * The commit status `fjord/<env>` on the app's commit (docs.gitlab.com/ee/api/commits.html#set-the-pipeline-status-of-a-commit;
 * states `pending`, `running`, `success`, `failed`, `canceled`), in the order a CI job would show it:
 * `pending` as the job starts (it may still wait for its image), `running` once hosts are being changed,
 * then the final state. A GitOps-only environment (no hosts) goes from `pending` straight to its final state.
 */
import type { Commits } from '@gitbeaker/rest';
import { cleanText } from '../grammar.js';
import type { DeployJob } from '../job.js';
import type { Outcome } from '../worker/outcome.js';

export type StatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';
export type FinalState = 'success' | 'failed' | 'canceled';

/**
 * The state each outcome leaves the commit status in:
 * - `deployed`, `noop` (already there: the commit does run), `received` → `success`, the detail in the description;
 * - `superseded` → `canceled`: this commit was deliberately not deployed because a newer one already is;
 *   `success` would claim it runs, `failed` would call someone for nothing — a CI job that was
 *   auto-canceled by a newer pipeline shows the same;
 * - `proposed` (`writeBack: mr`) → `success`: fjord's part is done and the description links the merge
 *   request; the deploy itself happens (and is reported) when a person merges it;
 * - `waiting` (parked for approvals) → `pending`: not done, nothing deployed; the approval sends it again;
 * - `failed` → `failed`.
 */
export const finalStateOf = (o: Outcome): StatusState => (o.status === 'waiting' ? 'pending' : endOf(o));

/** The Deployment's final status, what reached the environment: for `proposed` and `waiting`, nothing yet. */
export const deploymentStateOf = (o: Outcome): FinalState =>
  o.status === 'proposed' || o.status === 'waiting' ? 'canceled' : endOf(o);

// `held` (lib/holds): committed but not rolled out on purpose, like `superseded` — not running, not broken.
const endOf = (o: Outcome): FinalState =>
  o.status === 'failed' ? 'failed' : o.status === 'superseded' || o.status === 'held' ? 'canceled' : 'success';

/**
 * Whether GitLab accepts `next` after `last`. GitLab updates the commit's live (pending or running) status
 * with the same name and ref, where only pending → running and any → final are transitions; a repeat
 * ("Cannot transition status via :enqueue from :pending") or running → pending is refused with 400. After
 * a final state it starts a new status, so anything goes (a redeploy of the same commit).
 */
export function acceptsTransition(last: StatusState | undefined, next: StatusState): boolean {
  if (next === 'pending') return last !== 'pending' && last !== 'running';
  if (next === 'running') return last !== 'running';
  return true;
}

/** Sets the statuses of jobs, remembering what this process last set so it never asks for a refused transition. */
export class CommitStatusReporter {
  readonly #commits: Commits<false>;
  readonly #last = new Map<string, StatusState>();

  constructor(commits: Commits<false>) {
    this.#commits = commits;
  }

  /** Sets `state` unless the job has no commit to address, or GitLab would refuse the transition. */
  async set(job: DeployJob, state: StatusState, description: string, targetUrl?: string): Promise<void> {
    const { project, ref } = job.source;
    if (!project || !job.sha) return;
    const name = `fjord/${job.environment}`;
    const key = `${project}@${job.sha}/${name}/${ref ?? ''}`;
    if (!acceptsTransition(this.#last.get(key), state)) return;
    await this.#commits.editStatus(project, job.sha, state, {
      name,
      ...(ref ? { ref } : {}),
      description: cleanText(description).slice(0, 255),
      ...(targetUrl ? { targetUrl } : {}),
    });
    // A final state ends the status: forget it, so the map stays as small as the jobs in flight.
    if (state === 'pending' || state === 'running') this.#last.set(key, state);
    else this.#last.delete(key);
  }
}
