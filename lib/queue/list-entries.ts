/** Listings of the embedded queue for `fjord queue ls`: plain objects, one per message. */
import type { DeployJob } from '../job.js';
import type { DeadLetter } from './queue.js';
import type { EntryState, QueueState } from './state.js';

export interface QueueEntry {
  messageId: string;
  group: string;
  state: EntryState;
  attempts: number;
  job: DeployJob;
  /** ISO time it becomes visible again, for in-flight and delayed messages. */
  visibleAt?: string;
}

/** Live messages, group by group, each group in delivery order. */
export function listOf(state: QueueState, now: number): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (const [group, fifo] of state.groups) {
    for (const m of fifo) {
      const entry: QueueEntry = {
        messageId: m.id,
        group,
        state: state.stateOf(m, now),
        attempts: m.attempts,
        job: m.job,
      };
      if (m.visibleAt > now) entry.visibleAt = new Date(m.visibleAt).toISOString();
      out.push(entry);
    }
  }
  return out;
}

/** Dead letters, oldest first. */
export function listDeadOf(state: QueueState): DeadLetter[] {
  return [...state.dead.values()].map((m) => ({
    messageId: m.id,
    group: m.group,
    job: m.job,
    attempts: m.attempts,
    ...(m.deadReason ? { reason: m.deadReason } : {}),
  }));
}
