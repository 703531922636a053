/**
 * Coalescing per app/environment (issue 12, item 7): a source that sends deploy after deploy must not
 * starve its environment, each job waiting up to `waitForImage` for an image that may never come. Of the
 * deploys waiting in a group only the newest is kept: a new deploy replaces the waiting ones it is at
 * least as new as, and a deploy older than one already queued or running is outdated on arrival. "Newer"
 * is the source commit time (`source.committedAt`) when both jobs carry it, else the later send. Deploy
 * kinds coalesce only with their own kind: a webhook deploy never replaces a converge, nor the reverse.
 * Pure: the embedded queue applies it (SQS FIFO cannot look behind a group's head).
 */
import type { DeployJob, Reason } from '../job.js';

const KIND: Partial<Record<Reason, string>> = {
  merge: 'deploy',
  push: 'deploy',
  pipeline: 'deploy',
  promote: 'deploy',
  converge: 'converge',
};

/** Whether `a` is known to be newer than `b` by source commit time. */
function newerByCommit(a: DeployJob, b: DeployJob): boolean {
  const ta = a.source.committedAt ? Date.parse(a.source.committedAt) : NaN;
  const tb = b.source.committedAt ? Date.parse(b.source.committedAt) : NaN;
  return ta > tb; // false when either is unknown
}

const sameKind = (a: DeployJob, b: DeployJob): boolean =>
  KIND[a.reason] !== undefined && KIND[a.reason] === KIND[b.reason];

export interface CoalesceInput<M> {
  /** The group's messages not yet received (or handed back), in send order. */
  waiting: ReadonlyArray<{ message: M; job: DeployJob }>;
  /** The group's job in flight, if any. */
  inFlight?: DeployJob;
}

/** What a send of `job` to the group does: the waiting messages it replaces, and whether it is itself outdated. */
export function coalesce<M>(
  job: DeployJob,
  { waiting, inFlight }: CoalesceInput<M>,
): { replaced: M[]; outdated: boolean } {
  const rivals = waiting.filter((w) => sameKind(w.job, job));
  const outdated =
    rivals.some((w) => newerByCommit(w.job, job)) ||
    (inFlight !== undefined && sameKind(inFlight, job) && newerByCommit(inFlight, job));
  return { replaced: outdated ? [] : rivals.map((w) => w.message), outdated };
}

/** Whether a job in flight should stop waiting for its image: a deploy at least as new waits behind it. */
export function hasNewerWaiting(inFlight: DeployJob, waiting: readonly DeployJob[]): boolean {
  return waiting.some((w) => sameKind(w, inFlight) && !newerByCommit(inFlight, w));
}
