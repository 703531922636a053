/**
 * What becomes of a job whose handler did not reach an outcome, on both SQS paths (the Lambda batch and the
 * worker loop) and the embedded queue. A job a gate (a freeze) holds waits as a copy at the back of its
 * group, marked held: each copy is kept invisible for one round (until the freeze ends, at most
 * `maxHoldSec`), and at its next receive a fresh copy replaces it, so a long freeze never counts receives
 * up to the redrive policy's `maxReceiveCount` (README "Deploy freezes"). When the gates pass for a held
 * copy (`GateReleased`), the deploy is copied once more, unmarked, behind whatever queued during the freeze.
 */
import type { Logger } from '../log.js';
import type { Received } from '../queue/queue.js';
import { GateReleased, GateWait } from '../gates/gate.js';
import { RetryableError } from './outcome.js';

export interface HandBack {
  /** Send a fresh copy to the back of the group (and end this message) when the queue can. */
  copy: boolean;
  /** The copy is marked held: a gate still holds the job. */
  held: boolean;
  /** Otherwise, or when no copy could be sent: visible again after this many seconds. */
  delaySec: number;
}

/**
 * `err` thrown by the handler for `msg` → copy or hand back. A held copy's first receive keeps it in flight
 * for the round (SQS FIFO has no per-message delay, so a fresh copy would come straight back); any later
 * receive of a held job, or a first hold, is copied.
 */
export function handBackOf(err: unknown, msg: Pick<Received, 'attempts' | 'held'>, maxHoldSec: number): HandBack {
  const held = err instanceof GateWait;
  return {
    copy: err instanceof GateReleased || (held && (!msg.held || msg.attempts > 1)),
    held,
    // A job a freeze holds comes back at the freeze's end, a round at a time (SQS caps a visibility at 12 h).
    delaySec: held
      ? Math.min(err.delaySec, maxHoldSec)
      : err instanceof GateReleased
        ? 0
        : err instanceof RetryableError
          ? err.delaySec
          : Math.min(300, 2 ** msg.attempts),
  };
}

/** Sends the copy through `requeue` and logs why; false (logged) when it could not, and the message stays. */
export async function requeueCopy(
  requeue: (message: Received, held: boolean) => Promise<void>,
  msg: Received,
  err: Error,
  held: boolean,
  log: Logger,
): Promise<boolean> {
  try {
    await requeue(msg, held);
  } catch (error) {
    log.warn('could not requeue a held job; it stays in flight', { error });
    return false;
  }
  log.info(held ? 'job waits at a gate' : 'job released by its gates; queued behind newer deploys', {
    reason: err.message,
  });
  return true;
}

/** The log line of a job handed back rather than copied. */
export function logHandBack(err: unknown, delaySec: number, log: Logger): void {
  if (err instanceof GateWait)
    log.info('job waits at a gate', { until: err.until.toISOString(), reason: err.reason, delaySec });
  else log.warn('job will be retried', { error: err, delaySec });
}
