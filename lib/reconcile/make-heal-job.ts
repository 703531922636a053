/** The `heal` job a reconcile enqueues: roll the environment back to the manifest's tag, through the normal queue. */
import type { Config } from '../config/schema.js';
import { deployJobSchema, type DeployJob } from '../job.js';
import type { HealDecision } from './drift-types.js';

export function makeHealJob(
  config: Config,
  app: string,
  environment: string,
  desiredTag: string,
  decision: HealDecision & { jobId: string },
  now: Date,
): DeployJob {
  return deployJobSchema.parse({
    v: 1,
    id: decision.jobId,
    app,
    environment,
    image: config.apps[app]!.image,
    tag: desiredTag,
    reason: 'heal',
    source: { provider: 'fjord' },
    enqueuedAt: now.toISOString(),
  });
}
