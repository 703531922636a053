/**
 * Event → DeployJob[] through the config. Routing is a list of `Route`s whose jobs are put together: today
 * `routeToApps` (deploys), `routeManifestPush` (a push to the manifest repository becomes a `converge` job,
 * issue 4 item 5) and `routePlan` (an open merge request becomes a `plan` job, issue 7 item 3).
 */
import type { DeployJob } from '../job.js';
import { BRANCH } from '../grammar.js';
import { buildJob } from './build-job.js';
import { imageTagOfRef } from './image-tag-of-ref.js';
import { quote, type SourceEvent } from './event.js';
import { matchApps } from './match-apps.js';
import { routeManifestPush } from './route-manifest-push.js';
import { routePlan } from './route-plan.js';
import { routeCommand } from './route-command.js';
import type { Route, RouteContext, Routed } from './route-types.js';

/** Every job the event causes, or why it causes none. Throws InvalidEvent (422) for a bad value. */
export function routeEvent(event: SourceEvent, ctx: RouteContext, routes: readonly Route[] = ROUTES): Routed {
  const jobs: DeployJob[] = [];
  const reasons: string[] = [];
  for (const route of routes) {
    const out = route(event, ctx);
    if ('jobs' in out) jobs.push(...out.jobs);
    else if (out.ignored) reasons.push(out.ignored); // '' = this route has nothing to say about the event
  }
  return jobs.length > 0 ? { jobs } : { ignored: reasons.join('; ') };
}

/** Apps whose source is this project, environments whose branch is this branch, trigger as configured. */
export const routeToApps: Route = (event, ctx) => {
  if (event.trigger === 'plan' || event.trigger === 'command') return { ignored: '' }; // route-plan.ts, route-command.ts
  const { matches, reasons } = matchApps(event, ctx.config);
  if (matches.length === 0) {
    return {
      ignored:
        reasons.length > 0 ? reasons.join('; ') : `no app deploys ${event.provider} project ${quote(event.project)}`,
    };
  }
  // A git tag that is a valid ref but no image tag, even mapped, is not a deploy — and never a 4xx, which
  // counts towards the sender disabling the hook (issue 12, item 13).
  if (event.ref.type === 'tag') {
    const name = event.ref.name;
    if (!BRANCH.test(name) || imageTagOfRef(name) === undefined) {
      return {
        ignored: `git tag ${quote(name)} has no image tag (characters outside [A-Za-z0-9_.-] become "-"; the result must start with a letter, digit or _ and be at most 128 characters)`,
      };
    }
  }
  return { jobs: matches.map((m) => buildJob(event, m, ctx)) };
};

/** The routes every receiver uses: source pushes/merges → deploys; manifest pushes → converge; open MRs → plans. */
export const ROUTES: readonly Route[] = [routeToApps, routeManifestPush, routePlan, routeCommand];
