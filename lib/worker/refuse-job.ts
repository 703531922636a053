/**
 * A queue message is not an order (DESIGN.md "Desired state", issue 12 item 1): the message names app,
 * environment, tag, sha and reason; fjord.yaml says image, hosts and how. A job from a queue whose image is
 * not its app's `image` in fjord.yaml, or whose reason only a person at the CLI may give (`manual`,
 * `rollback`: `fjord deploy` and `fjord rollback` run in-process and never queue), is refused before
 * anything runs. Pure.
 */
import type { Config } from '../config/schema.js';
import type { DeployJob, Reason } from '../job.js';
import type { Outcome } from './outcome.js';

/** Reasons only `fjord deploy` / `fjord rollback` give, in their own process: never accepted from a queue. */
export const CLI_ONLY_REASONS: readonly Reason[] = ['manual', 'rollback'];

/** Why a job taken from a queue must not run, or undefined when fjord.yaml agrees with it. */
export function refusalOf(job: DeployJob, config: Config): string | undefined {
  if (CLI_ONLY_REASONS.includes(job.reason))
    return `reason ${job.reason} is accepted only from the fjord CLI (fjord deploy / fjord rollback), not from a queue`;
  const app = config.apps[job.app];
  if (!app?.environments[job.environment]) return `fjord.yaml has no environment ${job.app}/${job.environment}`;
  if (job.image !== app.image) return `image ${JSON.stringify(job.image)} is not apps.${job.app}.image (${app.image})`;
  return undefined;
}

/** The final outcome of a refused job (never retried): nothing was committed or rolled out, and `why` says why. */
export const refusedOutcome = (why: string): Outcome => ({
  status: 'failed',
  detail: `refused: ${why}`,
  refused: true,
});
