/**
 * What happened to one job, and when: received → image found → committed → rollout → each batch healthy →
 * done (or failed at a step). The worker's handler makes one per job and hands it to the pipeline through
 * `JobContext.timeline` (never a global); the pipeline marks milestones as it passes them, and notifiers
 * render the entries (MR note, chat). Marking never throws and never waits: listeners run synchronously
 * and must only schedule their work.
 */

export type Stage =
  | 'received'
  | 'image-found'
  | 'committed'
  | 'rollout'
  | 'batch'
  | 'rollback'
  | 'restored'
  | 'retry'
  | 'done'
  | 'failed';

export interface TimelineEntry {
  stage: Stage;
  /** Epoch milliseconds. */
  at: number;
  /** One plain-text line (no markup: each renderer formats it for its target). */
  text: string;
  /** False for a milestone that went wrong (a failed batch, a failed rollback). */
  ok: boolean;
}

export class Timeline {
  readonly #entries: TimelineEntry[] = [];
  readonly #listeners = new Set<(entry: TimelineEntry) => void>();
  readonly #now: () => number;
  #step: string | undefined;

  /** `receivedAt`: the job's `enqueuedAt`, when the receiver accepted the webhook. */
  constructor(receivedAt: string, { text = 'received', now = Date.now }: { text?: string; now?: () => number } = {}) {
    this.#now = now;
    const at = Date.parse(receivedAt);
    this.#entries.push({ stage: 'received', at: Number.isNaN(at) ? now() : at, text, ok: true });
  }

  /** Records a milestone (now, unless `at` says when it happened) and tells the listeners. */
  mark(stage: Stage, text: string, ok = true, at = this.#now()): TimelineEntry {
    const entry = { stage, at, text, ok };
    this.#entries.push(entry);
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch {
        // A listener's bug must not stop a deploy.
      }
    }
    return entry;
  }

  /** Names the step under way, so a failure can say where it happened ("failed at image wait"). */
  begin(step: string): void {
    this.#step = step;
  }

  get step(): string | undefined {
    return this.#step;
  }

  get entries(): readonly TimelineEntry[] {
    return this.#entries;
  }

  /** The timeline's clock (epoch ms). */
  now(): number {
    return this.#now();
  }

  get receivedAt(): number {
    return this.#entries[0]!.at;
  }

  has(stage: Stage): boolean {
    return this.#entries.some((e) => e.stage === stage);
  }

  /** Calls `listener` on every later mark; returns the unsubscribe function. */
  onMark(listener: (entry: TimelineEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
