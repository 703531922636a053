/**
 * The delivery storm's plan (issue 6, item 1), pure and seeded: per app and environment a line of merges
 * (or pushes) with rising merge times, delivered with duplicates — GitLab retrying a delivery (same
 * delivery id) and the same commit arriving again under a new delivery id — and out of order: a merge
 * delivered after newer ones of its environment (a retry that timed out, a slow hook).
 */
import { createHash } from 'node:crypto';
import type { Rng } from '../fixtures/prng.js';

export interface StormApp {
  app: string;
  project: string;
  trigger: 'merge' | 'push';
  environments: Array<{ environment: string; branch: string }>;
}

export interface StormEvent {
  app: string;
  environment: string;
  project: string;
  branch: string;
  trigger: 'merge' | 'push';
  sha: string;
  mr: number;
  /** Merge (or commit) time, ms: what orders the deploys. */
  time: number;
  /** Position in its environment's line, oldest 0. */
  index: number;
}

export interface Delivery {
  event: StormEvent;
  deliveryId: string;
  /** `same-id`: a retry of an earlier delivery; `new-id`: the same commit delivered again under a new id. */
  kind: 'first' | 'same-id' | 'new-id';
  /** An older merge delivered after a newer one of the same environment (a first delivery or a retry). */
  reordered: boolean;
  /** Sent after a pause, once the queue's dedup window may have closed (GitLab retrying much later). */
  tail: boolean;
}

export interface PlanOptions {
  apps: readonly StormApp[];
  /** Deliveries in all. */
  deliveries: number;
  /** Distinct events per app/environment. */
  eventsPerGroup: number;
  /** Chance that an event's first delivery comes 1..`maxLate` events late. */
  lateRate: number;
  maxLate?: number;
  /** How far (in events) after the first delivery a duplicate may come. */
  dupSpread?: number;
  /** Late duplicates per environment sent after the rest (the first of them repeats the newest merge). */
  tail?: number;
  /** Merge time of the first event. */
  start?: number;
}

interface Slot {
  at: number;
  event: StormEvent;
  kind: Delivery['kind'];
  tail?: boolean;
}

export function planStorm(rng: Rng, o: PlanOptions): Delivery[] {
  const groups = o.apps.flatMap((a) => a.environments.map((e) => ({ ...a, ...e })));
  const slots: Slot[] = [];
  let ids = 0;
  groups.forEach((g, gi) => {
    const total = Math.floor(o.deliveries / groups.length) + (gi < o.deliveries % groups.length ? 1 : 0);
    const tail = Math.min(o.tail ?? 0, total - 1);
    const k = Math.min(o.eventsPerGroup, total - tail);
    let time = o.start ?? Date.UTC(2026, 0, 5, 9, 0, 0);
    const firstAt: number[] = [];
    const events: StormEvent[] = Array.from({ length: k }, (_, index) => {
      time += 1000 * (30 + rng.int(600)); // whole seconds, as GitLab's timestamps
      const sha = createHash('sha1').update(`${rng.next()}/${g.app}/${g.environment}/${index}`).digest('hex');
      return {
        app: g.app,
        environment: g.environment,
        project: g.project,
        branch: g.branch,
        trigger: g.trigger,
        sha,
        mr: 1000 * (gi + 1) + index,
        time,
        index,
      };
    });
    for (const event of events) {
      const at = (event.index + (rng.chance(o.lateRate) ? 1 + rng.int(o.maxLate ?? 5) : 0) + rng.next() * 0.5) / k;
      firstAt.push(at);
      slots.push({ at, event, kind: 'first' });
    }
    for (let d = k; d < total - tail; d++) {
      const event = rng.pick(events);
      const at = firstAt[event.index]! + ((0.01 + rng.next()) * (o.dupSpread ?? 4)) / k;
      slots.push({ at, event, kind: rng.chance(0.5) ? 'same-id' : 'new-id' });
    }
    for (let d = 0; d < tail; d++) {
      slots.push({
        at: 100 + d / tail + rng.next() * 0.01,
        event: d === 0 ? events[k - 1]! : rng.pick(events),
        kind: rng.chance(0.5) ? 'same-id' : 'new-id',
        tail: true,
      });
    }
  });
  // Groups advance side by side: slot positions are fractions of each group's own line.
  slots.sort((a, b) => a.at - b.at);
  const lastId = new Map<StormEvent, string>();
  const newest = new Map<string, number>();
  return slots.map(({ event, kind, tail = false }) => {
    const group = `${event.app}/${event.environment}`;
    const reordered = (newest.get(group) ?? -1) > event.index;
    newest.set(group, Math.max(newest.get(group) ?? -1, event.index));
    const deliveryId =
      kind === 'same-id'
        ? lastId.get(event)!
        : `${(++ids).toString(16).padStart(8, '0')}-${rng.int(2 ** 30).toString(16)}-4000-8000-storm${event.index}`;
    lastId.set(event, deliveryId);
    return { event, deliveryId, kind, reordered, tail };
  });
}

/** Figures of a plan: duplicates (any delivery after an event's first) and deliveries out of order. */
export function planFigures(plan: readonly Delivery[]) {
  return {
    deliveries: plan.length,
    duplicates: plan.filter((d) => d.kind !== 'first').length,
    reordered: plan.filter((d) => d.reordered).length,
    /** Events whose first delivery came after a newer one's: the worker must find them superseded. */
    lateFirst: plan.filter((d) => d.reordered && d.kind === 'first').length,
    events: new Set(plan.map((d) => d.event)).size,
  };
}
