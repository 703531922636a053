/**
 * Event → DeployJob[] through the config. Routing is a list of `Route`s whose jobs are put together: today
 * `routeToApps` (deploys), `routeManifestPush` (a push to the manifest repository becomes a `converge` job,
 * issue 4 item 5) and `routePlan` (an open merge request becomes a `plan` job, issue 7 item 3).
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import { buildJob } from './build-job.js';
import { quote, type Ignored, type SourceEvent } from './event.js';
import { matchApps } from './match-apps.js';
import { routeManifestPush } from './route-manifest-push.js';
import { routePlan } from './route-plan.js';

export interface RouteContext {
  config: Config;
  deliveryId: string;
  now: () => number;
  newId?: () => string;
}

export type Routed = { jobs: DeployJob[] } | Ignored;
export type Route = (event: SourceEvent, ctx: RouteContext) => Routed;

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
  if (event.trigger === 'plan') return { ignored: '' }; // route-plan.ts
  const { matches, reasons } = matchApps(event, ctx.config);
  if (matches.length === 0) {
    return { ignored: reasons.length > 0 ? reasons.join('; ') : `no app deploys ${event.provider} project ${quote(event.project)}` };
  }
  return { jobs: matches.map((m) => buildJob(event, m, ctx)) };
};

/** The routes every receiver uses: source pushes/merges → deploys; manifest pushes → converge; open MRs → plans. */
export const ROUTES: readonly Route[] = [routeToApps, routeManifestPush, routePlan];
