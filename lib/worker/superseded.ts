/**
 * "A newer deploy is never overwritten by an older one." Webhooks arrive out of order (GitLab retries a
 * delivery that timed out, after the next merge went through), so the worker compares the job's source
 * commit time with the one recorded, as a `Fjord-Source-Time` trailer, by the last fjord commit for the
 * same app and environment in the manifest history. Manual deploys and rollbacks go back on purpose, and
 * record when they did (`Fjord-Intent-Time`): an event whose source is older than that intent is stale too
 * (issue 12, item 2). A push or pipeline whose `before` is the sha deployed last is the branch's next
 * state — a reset or force-push back to an older commit included — and wins whatever its commit time
 * (item 3). GitLab push events carry no push time: a push received after the intent was made after it (a
 * reset back to an older commit after `fjord rollback`, say) and is ordered by when it was received, as
 * long as its sha is still the branch's head where the API can tell (`unlessMoved`, deploy.ts). Git history
 * is the only record, so every run mode decides alike.
 */
import type { DeployJob } from '../job.js';
import type { HistoryEntry } from '../manifest/store.js';
import { clampTime } from '../events/clamp-time.js';

export const SOURCE_TIME_TRAILER = 'Fjord-Source-Time';
export const INTENT_TIME_TRAILER = 'Fjord-Intent-Time';
export const DELIVERY_TRAILER = 'Fjord-Delivery';
export const ORDERED_REASONS = new Set<DeployJob['reason']>(['merge', 'push', 'pipeline', 'promote']);

export interface Supersession {
  commitId: string;
  tag: string | undefined;
  sourceTime: string;
  /** `intent`: a `fjord deploy`/`fjord rollback` made after this job's source commit. */
  kind: 'newer' | 'intent' | 'replay';
}

export interface Ordering {
  superseded?: Supersession;
  /** The `Fjord-Source-Time` to record: the job's own (clamped), or the last one when it follows it. */
  sourceTime?: string;
  /** A push let past an intent by its receive time: superseded by this after all if its branch has moved on since. */
  unlessMoved?: Supersession;
}

const sameEnv = (job: DeployJob) => (e: HistoryEntry) =>
  e.trailers['Fjord-App'] === job.app && e.trailers['Fjord-Environment'] === job.environment;
const sourceSha = (e: HistoryEntry) => e.trailers['Fjord-Source']?.split('@').at(-1);
/** A recorded time far beyond the commit that recorded it (written before times were clamped) counts as that commit's time. */
const recordedTime = (e: HistoryEntry, value: string) => clampTime(value, Date.parse(e.authoredAt)) ?? e.authoredAt;

/** Whether `job` is stale against `history` (newest first), and the source time its commit records. */
export function orderJob(job: DeployJob, history: readonly HistoryEntry[]): Ordering {
  if (!ORDERED_REASONS.has(job.reason)) return {};
  const mine = history.filter(sameEnv(job));
  // A replay of an event already deployed once (GitLab "Resend", GitHub "Redeliver", a retry after the
  // queue's dedup window): whatever happened since — a rollback, a newer deploy — stands.
  const delivery = job.source.deliveryId;
  const replayed = delivery
    ? mine.find(
        (e) =>
          e.trailers[DELIVERY_TRAILER] === delivery &&
          e.trailers['Fjord-Reason'] === job.reason &&
          sourceSha(e) === job.sha,
      )
    : undefined;
  if (replayed)
    return {
      superseded: {
        commitId: replayed.commitId,
        tag: replayed.trailers['Fjord-Tag'],
        sourceTime: replayed.trailers[SOURCE_TIME_TRAILER] ?? replayed.authoredAt,
        kind: 'replay',
      },
    };
  const jobTime = job.source.committedAt
    ? clampTime(job.source.committedAt, Math.min(Date.parse(job.enqueuedAt), Date.now()))
    : undefined;
  if (!jobTime) return {};
  const last = mine.find((e) => e.trailers[SOURCE_TIME_TRAILER] || e.trailers[INTENT_TIME_TRAILER]);
  if (!last) return { sourceTime: jobTime };
  const intent = last.trailers[INTENT_TIME_TRAILER];
  const lastTime = recordedTime(last, intent ?? last.trailers[SOURCE_TIME_TRAILER]!);
  const newest = Date.parse(lastTime) > Date.parse(jobTime) ? lastTime : jobTime;
  // The source branch moved from what was deployed last to this sha: it is what the branch says now.
  if (!intent && job.source.before && job.source.before === sourceSha(last)) return { sourceTime: newest };
  if (Date.parse(lastTime) <= Date.parse(jobTime)) return { sourceTime: jobTime };
  const superseded: Supersession = {
    commitId: last.commitId,
    tag: last.trailers['Fjord-Tag'],
    sourceTime: lastTime,
    kind: intent ? 'intent' : 'newer',
  };
  const receivedAt = clampTime(job.enqueuedAt, Date.now());
  if (intent && job.reason === 'push' && receivedAt && Date.parse(receivedAt) > Date.parse(lastTime))
    return { sourceTime: receivedAt, unlessMoved: superseded };
  return { superseded };
}

/** The newer deploy that makes `job` stale, if any. `history` is newest first. */
export const supersededBy = (job: DeployJob, history: readonly HistoryEntry[]): Supersession | undefined =>
  orderJob(job, history).superseded;
