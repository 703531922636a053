/**
 * A deploy that never ran because a newer deploy of its environment replaced it in the queue (coalescing,
 * lib/queue/coalesce.ts), a job waiting for a freeze to end included: told as `superseded`, like the
 * worker's own superseded jobs (lib/worker/superseded.ts), so its MR note and commit status (`canceled`)
 * name the newer deploy instead of still saying "waiting for the freeze to end …".
 */
import type { DeployJob } from '../job.js';
import type { Outcome } from '../worker/outcome.js';
import type { Notifier } from './notifier.js';

/** `superseded`, naming the newer deploy: its tag, MR and commit. */
export function replacedOutcome(by: DeployJob): Outcome {
  const where = [by.source.mr !== undefined ? `!${by.source.mr}` : undefined, by.sha ? by.sha.slice(0, 12) : undefined]
    .filter(Boolean)
    .join(', ');
  return {
    status: 'superseded',
    detail: `replaced in the queue by a newer deploy of ${by.app}/${by.environment}: ${by.tag}${where ? ` (${where})` : ''}; not run`,
  };
}

/** The local queue's `onCoalesced`, telling `notifier` (which never throws). */
export const reportReplaced =
  (notifier: Notifier) =>
  ({ job, byJob }: { job: DeployJob; byJob: DeployJob }): Promise<void> =>
    notifier.jobFinished(job, replacedOutcome(byJob));
