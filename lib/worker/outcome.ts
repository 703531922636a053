/**
 * What a job came to. Every received job ends in exactly one outcome, which is logged and acknowledged;
 * only a `RetryableError` thrown by a stage sends the job back to the queue.
 */
export type OutcomeStatus =
  | 'received' // recorded only (no deploy stage configured)
  | 'deployed' // manifest committed (or already there) and every host healthy
  | 'planned' // a `plan` job: what merging an open MR will do was worked out (and posted); nothing changed
  | 'noop' // already at this tag everywhere
  | 'superseded' // older than what the environment already runs
  | 'proposed' // `writeBack: mr`: the change waits in a merge request for a person
  | 'held' // the environment is held (lib/holds): the manifest commit is made, the rollout waits for a release
  | 'waiting' // a gate parked it (approvals, lib/gates/protect-gate.ts): recorded in git, nothing committed; sent again once approved
  | 'drifted' // reconcile: a host does not run what the manifest says (reported; healed when `selfHeal`)
  | 'failed'; // final: rolled back and reported, never redelivered

export interface Outcome {
  status: OutcomeStatus;
  detail?: string;
  [key: string]: unknown;
}

/** A transient failure (registry down, queue hiccup, lost lock race): the job is retried with back-off. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly delaySec = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryableError';
  }
}
