/**
 * The scheduled drift check as queue jobs (issue 7): one `reconcile` job per app × environment with hosts,
 * in that environment's queue group (`<app>/<env>`), so it never runs while a deploy of it runs. The one
 * function the three schedulers share — the embedded interval, the Lambda on an EventBridge rule, the
 * Workers cron — so each tick makes the same jobs everywhere. Ids are deterministic per tick (`now`
 * rounded down to `reconcile.interval`): a tick fired twice (a retried invocation, two schedulers) is
 * one job, since the queue drops the second by its dedup id `reconcile/<id>`.
 * Kept free of SSH and Node-only imports: the Workers bundle carries it.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { deployJobSchema, type DeployJob } from '../job.js';

/** The tag field of a reconcile job: it checks whatever the manifest says, so it names no tag of its own. */
export const RECONCILE_TAG = 'reconcile';

/** `now` rounded down to the reconcile interval (the tick a scheduler run belongs to). */
export function reconcileTick(intervalMs: number, now: Date): Date {
  return intervalMs > 0
    ? new Date(Math.floor(now.getTime() / intervalMs) * intervalMs)
    : new Date(Math.floor(now.getTime() / 1000) * 1000);
}

export function reconcileJobs(config: Config, now: Date): DeployJob[] {
  const tick = reconcileTick(config.reconcile.interval, now);
  const stamp = tick
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  const jobs: DeployJob[] = [];
  for (const [app, appConfig] of Object.entries(config.apps)) {
    for (const [environment, env] of Object.entries(appConfig.environments)) {
      // Without hosts the manifest commit is the deploy: there is nothing that could drift.
      if (env.hosts.length === 0) continue;
      const key = createHash('sha256').update(`${app}/${environment}`).digest('hex').slice(0, 12);
      jobs.push(
        deployJobSchema.parse({
          v: 1,
          id: `rc-${stamp}-${key}`,
          app,
          environment,
          image: appConfig.image,
          tag: RECONCILE_TAG,
          reason: 'reconcile',
          source: { provider: 'fjord' },
          enqueuedAt: tick.toISOString(),
        }),
      );
    }
  }
  return jobs;
}
