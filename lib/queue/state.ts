/**
 * The embedded queue's state in memory, changed only by applying journal records — the same function
 * serves live operations and replay at open, so what is on disk and what is in memory cannot drift.
 */
import type { DeployJob } from '../job.js';
import { Fifo } from './fifo.js';
import type { JournalRecord } from './records.js';

export interface StoredMessage {
  id: string;
  group: string;
  dedup: string;
  job: DeployJob;
  /** When it was sent (ms): start of its dedup window. */
  at: number;
  /** Receives so far. */
  attempts: number;
  /** Hidden until this time (ms): in flight (with a receipt) or delayed by a retry (without). */
  visibleAt: number;
  /** Set while received and not yet acked/retried; only this receipt is valid. */
  receipt?: string;
  dead?: true;
  /** The job's signature as sent (lib/queue/queue-key.ts). */
  sig?: string;
  /** Why it is a dead letter, when not for running out of attempts. */
  deadReason?: string;
}

export type EntryState = 'pending' | 'in-flight' | 'delayed' | 'dead';

export class QueueState {
  readonly messages = new Map<string, StoredMessage>();
  /** Live messages per group, in send order; only the head may be in flight. Map order = round-robin order. */
  readonly groups = new Map<string, Fifo<StoredMessage>>();
  /** Dead letters in the order they died. */
  readonly dead = new Map<string, StoredMessage>();
  /** dedupId → first message, in send order so expired entries are at the front. */
  readonly dedup = new Map<string, { id: string; at: number }>();

  apply(r: JournalRecord): void {
    switch (r.op) {
      case 'head':
        return;
      case 'send':
        this.#add({
          id: r.id,
          group: r.group,
          dedup: r.dedup,
          job: r.job,
          at: r.at,
          attempts: 0,
          visibleAt: 0,
          ...(r.sig ? { sig: r.sig } : {}),
        });
        this.#remember(r.dedup, r.id, r.at);
        return;
      case 'put': {
        const { op: _, ...m } = r;
        if (m.dead) this.dead.set(m.id, m);
        else this.#add(m);
        this.#remember(m.dedup, m.id, m.at);
        return;
      }
      case 'dedup':
        this.#remember(r.key, r.id, r.at);
        return;
    }
    // The rest change a live message; a record for an unknown one is ignored (it is already gone).
    const m = this.messages.get(r.id);
    if (!m) return;
    switch (r.op) {
      case 'recv':
        m.attempts += 1;
        m.receipt = r.receipt;
        m.visibleAt = r.visibleAt;
        return;
      case 'extend':
        m.visibleAt = r.visibleAt;
        return;
      case 'retry':
        if (r.refund && m.attempts > 0) m.attempts -= 1;
        m.receipt = undefined;
        m.visibleAt = r.visibleAt;
        return;
      case 'ack':
      case 'drop':
        this.#remove(m);
        return;
      case 'dead':
        this.#remove(m);
        m.receipt = undefined;
        m.dead = true;
        if (r.reason) m.deadReason = r.reason;
        this.dead.set(m.id, m);
        return;
    }
  }

  /** Forgets dedup entries whose window has closed. */
  pruneDedup(before: number): void {
    for (const [key, entry] of this.dedup) {
      if (entry.at > before) break;
      this.dedup.delete(key);
    }
  }

  /** Puts the dedup map back in time order after a replay (a snapshot lists dead letters first). */
  sortDedup(): void {
    const entries = [...this.dedup].sort((a, b) => a[1].at - b[1].at);
    this.dedup.clear();
    for (const [key, entry] of entries) this.dedup.set(key, entry);
  }

  /** The whole state as records, for compaction: replaying them rebuilds this state. */
  *snapshot(dedupSince: number): Generator<JournalRecord> {
    for (const m of [...this.dead.values(), ...this.messages.values()]) {
      yield { op: 'put', ...m };
    }
    for (const [key, entry] of this.dedup) {
      const m = this.messages.get(entry.id) ?? this.dead.get(entry.id);
      if (entry.at > dedupSince && m?.dedup !== key) yield { op: 'dedup', key, ...entry };
    }
  }

  /** How a listing shows a message at time `now`. */
  stateOf(m: StoredMessage, now: number): EntryState {
    if (m.dead) return 'dead';
    if (m.visibleAt <= now) return 'pending';
    return m.receipt ? 'in-flight' : 'delayed';
  }

  #add(m: StoredMessage): void {
    this.messages.set(m.id, m);
    let fifo = this.groups.get(m.group);
    if (!fifo) {
      fifo = new Fifo();
      this.groups.set(m.group, fifo);
    }
    fifo.push(m);
  }

  #remove(m: StoredMessage): void {
    this.messages.delete(m.id);
    const fifo = this.groups.get(m.group);
    if (!fifo) return;
    if (fifo.peek() === m) fifo.shift();
    else fifo.remove(m);
    if (fifo.size === 0) this.groups.delete(m.group);
  }

  #remember(key: string, id: string, at: number): void {
    const known = this.dedup.get(key);
    if (known && known.at > at) return; // a snapshot may list an older message with the same key later
    // Re-inserting keeps the map in send order (a key reused after its window moves to the back).
    this.dedup.delete(key);
    this.dedup.set(key, { id, at });
  }
}
