/**
 * Reconciles one delivery storm from four independent records: the receiver's answers, the jobs the queue
 * took (in its order), the worker's outcomes, and the manifest repository's history (trailers as git
 * itself parses them). The expected outcome of each job is replayed from the queue order — a job is
 * committed exactly when it is newer than what its environment ran at that time — and every accepted
 * delivery must end as deployed, deduplicated (at the queue, or a no-op) or superseded.
 */
import type { DeployJob } from '../../lib/job.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import type { Delivery } from './storm-plan.js';

export interface Answered {
  delivery: Delivery;
  status: number;
  body: {
    queued?: Array<{ id: string; app: string; environment: string; tag: string; sha?: string; duplicate?: true }>;
  } & Record<string, unknown>;
}

export interface ManifestCommit {
  id: string;
  trailers: Record<string, string>;
}

export interface StormRecords {
  answers: readonly Answered[];
  /** Jobs the queue took, duplicates excluded, in the order it took them. */
  accepted: readonly DeployJob[];
  /** Every outcome the worker reached, by job id. */
  outcomes: ReadonlyMap<string, Outcome[]>;
  /** fjord's commits in the manifest repository, oldest first. */
  commits: readonly ManifestCommit[];
  /** The tag each environment's manifest file says at the end, by `app/env`. */
  finalTags: ReadonlyMap<string, string | undefined>;
  /** The tag the manifest files were seeded with. */
  initialTag: string;
}

export interface StormLedger {
  lost: number;
  doubleCommits: number;
  finalTagWrong: number;
  /** How the accepted deliveries ended. */
  ended: { deployed: number; deduplicated: number; superseded: number };
  /** Jobs the queue let through again (dedup window over) that the worker found already done. */
  noops: number;
  problems: string[];
}

const groupOf = (x: { app: string; environment: string }) => `${x.app}/${x.environment}`;
const keyOf = (x: { app: string; environment: string; sha?: string | undefined }) => `${groupOf(x)}/${x.sha}`;

export function reconcileStorm(r: StormRecords): StormLedger {
  const problems: string[] = [];
  // 1. Replay the queue order: what each job should have come to.
  const expected = new Map<string, 'deployed' | 'noop' | 'superseded'>();
  const ran = new Map<string, { tag: string; time?: number }>();
  const expectedCommits = new Map<string, string[]>();
  for (const job of r.accepted) {
    const g = groupOf(job);
    const now = ran.get(g) ?? { tag: r.initialTag };
    const time = Date.parse(job.source.committedAt ?? '');
    if (job.tag === now.tag) expected.set(job.id, 'noop');
    else if (now.time === undefined || time > now.time) {
      expected.set(job.id, 'deployed');
      ran.set(g, { tag: job.tag, time });
      expectedCommits.set(g, [...(expectedCommits.get(g) ?? []), job.id]);
    } else expected.set(job.id, 'superseded');
  }
  let lost = 0;
  for (const job of r.accepted) {
    const [first, ...again] = r.outcomes.get(job.id) ?? [];
    if (!first) {
      lost++;
      problems.push(`job ${job.id} (${keyOf(job)}) was queued but never reached an outcome`);
    } else if (first.status !== expected.get(job.id)) {
      problems.push(
        `job ${job.id} (${keyOf(job)}): ${first.status} (${first.detail}), expected ${expected.get(job.id)}`,
      );
    }
    // At least once: a redelivered job may run again, but only to find it done.
    for (const o of again)
      if (o.status !== 'noop') problems.push(`job ${job.id} ran again and came to ${o.status}: ${o.detail}`);
  }

  // 2. The manifest history: one commit per expected deploy, in order; never an older one after a newer.
  const commitsOf = new Map<string, ManifestCommit[]>();
  const perKey = new Map<string, number>();
  for (const c of r.commits) {
    const g = `${c.trailers['Fjord-App']}/${c.trailers['Fjord-Environment']}`;
    commitsOf.set(g, [...(commitsOf.get(g) ?? []), c]);
    const key = `${g}/${(c.trailers['Fjord-Source'] ?? '').split('@').pop()}`;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const doubleCommits = [...perKey.values()].reduce((n, count) => n + Math.max(0, count - 1), 0);
  for (const [key, count] of perKey) if (count > 1) problems.push(`${key} committed ${count} times`);
  for (const g of new Set([...expectedCommits.keys(), ...commitsOf.keys()])) {
    const got = (commitsOf.get(g) ?? []).map((c) => c.trailers['Fjord-Job']);
    const want = expectedCommits.get(g) ?? [];
    if (got.join() !== want.join())
      problems.push(`${g}: commits for jobs [${got.join(', ')}], expected [${want.join(', ')}]`);
    const times = (commitsOf.get(g) ?? []).map((c) => Date.parse(c.trailers['Fjord-Source-Time'] ?? ''));
    times.forEach((t, i) => {
      if (i > 0 && !(t > times[i - 1]!)) problems.push(`${g}: commit ${i} is not newer than the one before it`);
    });
  }

  // 3. Every accepted delivery accounted for; the final tag is the newest merge delivered.
  const jobByKey = new Map(r.accepted.map((j) => [keyOf(j), j]));
  const jobById = new Map(r.accepted.map((j) => [j.id, j]));
  const ended = { deployed: 0, deduplicated: 0, superseded: 0 };
  const newest = new Map<string, { time: number; tag: string }>();
  for (const { delivery, status, body } of r.answers) {
    const entries = status === 202 ? (body.queued ?? []) : [];
    if (entries.length === 0) {
      lost++;
      problems.push(
        `delivery ${delivery.deliveryId} (${keyOf(delivery.event)}) answered ${status} ${JSON.stringify(body).slice(0, 200)}`,
      );
    }
    for (const e of entries) {
      const job = e.duplicate ? jobByKey.get(keyOf(e)) : jobById.get(e.id);
      const outcome = job && r.outcomes.get(job.id)?.[0];
      if (!job || !outcome) {
        lost++;
        problems.push(
          `delivery ${delivery.deliveryId}: ${e.duplicate ? 'duplicate of a job the queue never took' : `job ${e.id} not in the queue's record or without outcome`}`,
        );
      } else if (e.duplicate || outcome.status === 'noop') ended.deduplicated++;
      else if (outcome.status === 'deployed' || outcome.status === 'superseded') ended[outcome.status]++;
      else problems.push(`delivery ${delivery.deliveryId}: job ${job.id} came to ${outcome.status}: ${outcome.detail}`);
      const g = groupOf(e);
      if (delivery.event.time > (newest.get(g)?.time ?? -Infinity))
        newest.set(g, { time: delivery.event.time, tag: e.tag });
    }
  }
  let finalTagWrong = 0;
  for (const [g, { tag }] of newest) {
    if (r.finalTags.get(g) !== tag) {
      finalTagWrong++;
      problems.push(`${g}: manifest ends at ${r.finalTags.get(g)}, the newest merge delivered is ${tag}`);
    }
  }
  const noops = [...expected.values()].filter((s) => s === 'noop').length;
  return { lost, doubleCommits, finalTagWrong, ended, noops, problems };
}
