/**
 * The embedded durable queue (DESIGN.md "Queue"): FIFO per group with one message in flight per group,
 * dedup window, visibility timeout, dead letters after `maxAttempts` receives — all kept in an
 * append-only journal under `dir` (see journal.ts), so a kill -9 loses no send whose promise resolved.
 * Every change is made in memory and appended to the journal in the same synchronous step; callers are
 * answered once their record (and so everything before it) is on disk. Every job is signed at send and
 * checked at receive (queue-key.ts): a journal record changed or added without the key goes to the dead
 * letters, never to a worker. Deploys of a group coalesce (coalesce.ts) and a group holds at most
 * `maxPerGroup` messages. The directory is 0700 and the journal 0600.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployJob } from '../job.js';
import { QueueUnavailable } from '../errors.js';
import { Journal, type JournalStats } from './journal.js';
import { acquireLock } from './lock.js';
import { listDeadOf, listOf, type QueueEntry } from './list-entries.js';
import type { Queue, Received, SendOptions, SendResult, DeadLetter } from './queue.js';
import { StaleReceipt } from './queue.js';
import { readState } from './read-state.js';
import { sendRecordLine, type JournalRecord } from './records.js';
import type { QueueState, StoredMessage } from './state.js';
import { checkSendOptions } from './check-send-options.js';
import { coalesce, hasNewerWaiting } from './coalesce.js';
import { QueueFull } from './errors.js';
import type { QueueKey } from './queue-key.js';

export interface LocalQueueOptions {
  /** Directory of this queue (the caller passes `$FJORD_DATA_DIR/queue`). */
  dir: string;
  /** Receives before a message goes to the dead-letter list instead of being delivered again. */
  maxAttempts?: number;
  dedupWindowMs?: number;
  fsync?: boolean;
  /** Journal bytes appended since the last snapshot that trigger a compaction. */
  compactBytes?: number;
  now?: () => number;
  /**
   * Told of each message moved to the dead letters (out of attempts: its worker kept failing or dying), so
   * the run mode can report it: a dead letter is neither deployed nor reported failed by a worker.
   */
  onDead?: (dead: DeadLetter) => void;
  /** Signs every send and checks every receive. */
  key: QueueKey;
  /** Live messages one group may hold; a send beyond it is refused with `QueueFull` (503: the sender retries). Default: no cap. */
  maxPerGroup?: number;
  /**
   * Deploys of a group coalesce to the newest (coalesce.ts) instead of all running in send order. Off by
   * default (the plain queue contract); `fjord start` turns it on.
   */
  coalesce?: boolean;
  /** Told of each job not run because a newer deploy of its group replaced it, or arrived before it (coalesce.ts). */
  onCoalesced?: (dropped: { messageId: string; job: DeployJob; by: string; byJob: DeployJob }) => void;
}

export interface LocalQueue extends Queue {
  /** Pending, delayed and in-flight messages, per group in delivery order. */
  list(): QueueEntry[];
  listDead(): DeadLetter[];
  /** Rewrites the journal as a snapshot of the state (it also happens by itself as the journal grows). */
  compact(): Promise<void>;
  /** Journal counters (group commit at work: records per write). */
  stats(): JournalStats;
}

/** Opens (or creates) the queue in `dir` for writing; throws `QueueLocked` if another process has it. */
export async function createLocalQueue({
  dir,
  maxAttempts = 5,
  dedupWindowMs = 300_000,
  fsync = true,
  compactBytes = 8 * 1024 * 1024,
  now = Date.now,
  onDead,
  key,
  maxPerGroup = Infinity,
  coalesce: coalescing = false,
  onCoalesced,
}: LocalQueueOptions): Promise<LocalQueue> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(dir);
  try {
    const file = join(dir, 'journal.log');
    const state = await readState(file);
    const snapshot = () => state.snapshot(now() - dedupWindowMs);
    const journal = await Journal.open({ file, fsync, compactBytes, snapshot, now });
    return new LocalQueueImpl(state, journal, {
      maxAttempts,
      dedupWindowMs,
      now,
      key,
      maxPerGroup,
      coalescing,
      release: () => lock.release(),
      ...(onDead ? { onDead } : {}),
      ...(onCoalesced ? { onCoalesced } : {}),
    });
  } catch (err) {
    await lock.release();
    throw err;
  }
}

interface Settings {
  maxAttempts: number;
  dedupWindowMs: number;
  now: () => number;
  release: () => Promise<void>;
  onDead?: (dead: DeadLetter) => void;
  key: QueueKey;
  maxPerGroup: number;
  coalescing: boolean;
  onCoalesced?: LocalQueueOptions['onCoalesced'];
}

class LocalQueueImpl implements LocalQueue {
  #closed = false;

  constructor(
    readonly state: QueueState,
    readonly journal: Journal,
    readonly settings: Settings,
  ) {}

  async send(job: DeployJob, { group, dedupId }: SendOptions): Promise<SendResult> {
    this.#check();
    checkSendOptions(group, dedupId);
    const now = this.settings.now();
    this.state.pruneDedup(now - this.settings.dedupWindowMs);
    const first = this.state.dedup.get(dedupId);
    if (first && now - first.at < this.settings.dedupWindowMs) {
      // The first send may still be in the batch being written: answer only once it is durable.
      await this.journal.flush();
      return { messageId: first.id, duplicate: true };
    }
    const fifo = this.state.groups.get(group);
    // Only coalescing looks at the group's messages: a plain send costs the same however long the group is.
    const live = fifo && this.settings.coalescing ? [...fifo] : [];
    const { replaced, outdated } = !this.settings.coalescing
      ? { replaced: [], outdated: false }
      : coalesce(job, {
          waiting: live.filter((m) => !m.receipt).map((m) => ({ message: m, job: m.job })),
          inFlight: live.find((m) => m.receipt)?.job,
        });
    const held = fifo?.size ?? 0;
    if (held - replaced.length >= this.settings.maxPerGroup && !outdated) {
      throw new QueueFull(
        `the queue holds ${held} jobs for ${group} (at most ${this.settings.maxPerGroup} per app/environment); retry later`,
      );
    }
    const id = randomUUID();
    // The job is serialized once: the signature covers these bytes and the journal line embeds them.
    const jobJson = JSON.stringify(job);
    const sent = { op: 'send', id, group, dedup: dedupId, job, at: now, sig: this.settings.key.sign(jobJson) } as const;
    const writes = [this.#commit(sent, sendRecordLine(sent, jobJson))];
    const newest = outdated ? live.find((m) => !m.dead)! : { id, job };
    const dropped = outdated ? [{ id, job, by: newest }] : replaced.map((m) => ({ id: m.id, job: m.job, by: newest }));
    for (const d of dropped) writes.push(this.#commit({ op: 'drop', id: d.id, by: d.by.id }));
    await Promise.all(writes);
    for (const d of dropped)
      this.#tell(() =>
        this.settings.onCoalesced?.({
          messageId: d.id,
          job: structuredClone(d.job),
          by: d.by.id,
          byJob: structuredClone(d.by.job),
        }),
      );
    return { messageId: id, duplicate: false };
  }

  newerWaiting(message: Received): boolean {
    const fifo = this.state.groups.get(message.group);
    return (
      this.settings.coalescing &&
      !!fifo &&
      hasNewerWaiting(
        message.job,
        [...fifo].filter((m) => m.id !== message.messageId && !m.receipt).map((m) => m.job),
      )
    );
  }

  async receive(max: number, visibilitySec: number): Promise<Received[]> {
    this.#check();
    const now = this.settings.now();
    const out: Received[] = [];
    const writes: Promise<void>[] = [];
    for (const [group, fifo] of [...this.state.groups]) {
      if (out.length >= max) break;
      let m = fifo.peek();
      // Visible: never received, retried and its delay over, or in flight and its visibility expired.
      while (m && m.visibleAt <= now && m.attempts >= this.settings.maxAttempts) {
        writes.push(this.#dead(m));
        m = fifo.peek();
      }
      if (!m || m.visibleAt > now) continue; // empty, or its head is in flight or delayed
      const refused = this.settings.key.refusal(JSON.stringify(m.job), m.sig);
      if (refused) {
        // Not a job this queue's producers sent (the journal was edited without the key): kept, never run.
        writes.push(this.#dead(m, `refused: ${refused}`));
        continue;
      }
      const receipt = `${m.attempts + 1}.${randomBytes(9).toString('base64url')}`;
      writes.push(this.#commit({ op: 'recv', id: m.id, receipt, visibleAt: now + visibilitySec * 1000 }));
      out.push(received(m));
      // Round-robin: a served group goes to the back, so one busy receiver cannot starve the others.
      this.state.groups.delete(group);
      this.state.groups.set(group, fifo);
    }
    await Promise.all(writes);
    return out;
  }

  async ack(message: Received): Promise<void> {
    await this.#commit({ op: 'ack', id: this.#holder(message).id });
  }

  async retry(message: Received, delaySec = 0): Promise<void> {
    const m = this.#holder(message);
    // Out of attempts: straight to the dead letters instead of one more round through the group.
    if (m.attempts >= this.settings.maxAttempts) await this.#dead(m);
    else await this.#commit({ op: 'retry', id: m.id, visibleAt: this.settings.now() + delaySec * 1000 });
  }

  /** A not-before time that survives a restart: the journal's retry record, the receive refunded. */
  async defer(message: Received, delaySec: number): Promise<void> {
    const m = this.#holder(message);
    await this.#commit({ op: 'retry', id: m.id, visibleAt: this.settings.now() + delaySec * 1000, refund: true });
  }

  async extend(message: Received, visibilitySec: number): Promise<void> {
    const m = this.#holder(message);
    await this.#commit({ op: 'extend', id: m.id, visibleAt: this.settings.now() + visibilitySec * 1000 });
  }

  list(): QueueEntry[] {
    return listOf(this.state, this.settings.now());
  }

  listDead(): DeadLetter[] {
    return listDeadOf(this.state);
  }

  stats(): JournalStats {
    return { ...this.journal.stats };
  }

  compact(): Promise<void> {
    this.#check();
    return this.journal.compact();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.journal.close();
    } finally {
      await this.settings.release();
    }
  }

  #check(): void {
    if (this.#closed) throw new QueueUnavailable('queue is closed');
  }

  /** The message this receipt still holds, or StaleReceipt. */
  #holder(message: Received): StoredMessage {
    this.#check();
    const m = this.state.messages.get(message.messageId);
    if (!m || m.receipt !== message.receipt) throw new StaleReceipt(message.messageId);
    return m;
  }

  async #dead(m: StoredMessage, reason?: string): Promise<void> {
    const dead: DeadLetter = {
      messageId: m.id,
      group: m.group,
      job: structuredClone(m.job),
      attempts: m.attempts,
      ...(reason ? { reason } : {}),
    };
    await this.#commit({ op: 'dead', id: m.id, ...(reason ? { reason } : {}) });
    this.#tell(() => this.settings.onDead?.(dead));
  }

  #tell(report: () => void): void {
    try {
      report();
    } catch {
      // A reporter's bug must not lose the queue's answer.
    }
  }

  #commit(record: JournalRecord, line?: string): Promise<void> {
    this.state.apply(record);
    return this.journal.append(record, line);
  }
}

function received(m: StoredMessage): Received {
  // A copy: the worker may change its job object without changing the queue's.
  return { messageId: m.id, receipt: m.receipt!, group: m.group, job: structuredClone(m.job), attempts: m.attempts };
}
