/**
 * The shape every route shares, one level below `route.ts` so that the routes (`route-plan.ts`,
 * `route-command.ts`, …) and `build-job.ts` need not import the module that imports them (no cycles).
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import type { Ignored, SourceEvent } from './event.js';

export interface RouteContext {
  config: Config;
  deliveryId: string;
  now: () => number;
  newId?: () => string;
}

export type Routed = { jobs: DeployJob[] } | Ignored;
export type Route = (event: SourceEvent, ctx: RouteContext) => Routed;
