/** The deploy pipeline's hooks into holds (lib/worker/deploy.ts): is this job held, hold after a rollback, the held outcome. */
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Outcome } from '../worker/outcome.js';
import { HELD_REASONS, heldText, type Hold } from './hold.js';
import { readHold } from './read-hold.js';
import { changeHold } from './write-hold.js';

/** On a manifest commit made while its environment was held: it is in git, not on the hosts. */
export const HELD_TRAILER = 'Fjord-Held';

/** The hold that stops this job's rollout, or undefined (not held, or a person's order at the CLI). */
export async function holdOf(
  store: ManifestStore,
  job: Pick<DeployJob, 'app' | 'environment' | 'reason'>,
): Promise<Hold | undefined> {
  return HELD_REASONS.includes(job.reason) ? readHold(store, job.app, job.environment) : undefined;
}

/** Holds the environment after the automatic rollback `rollbackCommitId` of `job` (a person's hold stays as it is). */
export async function holdAfterRollback(
  store: ManifestStore,
  job: Pick<DeployJob, 'app' | 'environment' | 'tag'>,
  rollbackCommitId: string,
  why?: string,
): Promise<void> {
  const hold: Hold = {
    since: new Date().toISOString(),
    by: 'fjord',
    reason: `automatic rollback of ${job.tag}${why ? `: ${why}` : ''}`.slice(0, 200),
    rollback: rollbackCommitId,
  };
  await changeHold(store, job.app, job.environment, hold, { keep: () => true });
}

export function heldOutcome(
  job: Pick<DeployJob, 'app' | 'environment'>,
  hold: Hold,
  o: { tag: string | undefined; commitId?: string; previousTag?: string | undefined },
): Outcome {
  const what = o.commitId ? `${o.tag} committed (${o.commitId.slice(0, 12)}), not rolled out` : 'nothing rolled out';
  return { status: 'held', detail: `${what}: ${heldText(hold, job.app, job.environment)}`, hold, ...o };
}
