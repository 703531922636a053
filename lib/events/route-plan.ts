/**
 * "Operations by Pull Request" (issue 7, item 3): a merge request opened, reopened or given new commits whose
 * target branch an app deploys becomes one `plan` job per app. The worker answers it with a note on the MR
 * saying what merging will do; nothing is deployed. The job names the first environment the merge deploys
 * directly (its queue group); the worker works out the rest, promotions included, from fjord.yaml.
 *
 * The job id is derived from app, MR and head commit, so a redelivered webhook is a duplicate in the queue
 * (lib/job.ts KEYED_REASONS) and a new push to the MR is a new plan.
 */
import { createHash } from 'node:crypto';
import { InvalidEvent } from '../errors.js';
import { buildJob } from './build-job.js';
import { quote } from './event.js';
import { matchApps } from './match-apps.js';
import type { Route } from './route-types.js';

/** `plan-<40 hex>`: within the job id grammar whatever the app name's length. */
export const planJobId = (app: string, mr: number, sha: string): string =>
  `plan-${createHash('sha256').update(`${app}\n${mr}\n${sha}`).digest('hex').slice(0, 40)}`;

export const routePlan: Route = (event, ctx) => {
  if (event.trigger !== 'plan') return { ignored: '' };
  if (!ctx.config.notify.planNotes) return { ignored: 'plan notes are off (notify.planNotes: false)' };
  // Any app trigger: merging deploys through a merge, the push it makes, or the pipeline on the target branch.
  const { matches, reasons } = matchApps(event, ctx.config, { checkTrigger: false });
  if (matches.length === 0) {
    return {
      ignored:
        reasons.length > 0 ? reasons.join('; ') : `no app deploys ${event.provider} project ${quote(event.project)}`,
    };
  }
  if (event.mr === undefined)
    throw new InvalidEvent(event.paths.mr ?? 'mr', 'missing: the merge request to answer is unknown');
  const mr = event.mr;
  const firstPerApp = matches.filter((m, i) => matches.findIndex((o) => o.app === m.app) === i);
  return {
    // buildJob holds sha, author and ref to their grammar before it asks for the id.
    jobs: firstPerApp.map((m) => buildJob(event, m, { ...ctx, newId: () => planJobId(m.app, mr, event.sha!) })),
  };
};
