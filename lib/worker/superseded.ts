/**
 * "A newer deploy is never overwritten by an older one." Webhooks arrive out of order (GitLab retries a
 * delivery that timed out, after the next merge went through), so the worker compares the job's source
 * commit time with the one recorded, as a `Fjord-Source-Time` trailer, by the last fjord commit for the
 * same app and environment in the manifest history. Manual deploys and rollbacks go back on purpose.
 */
import type { DeployJob } from '../job.js';
import type { HistoryEntry } from '../manifest/store.js';

export const SOURCE_TIME_TRAILER = 'Fjord-Source-Time';
const ORDERED_REASONS = new Set<DeployJob['reason']>(['merge', 'push', 'pipeline', 'promote']);

export interface Supersession {
  commitId: string;
  tag: string | undefined;
  sourceTime: string;
}

/** The newer deploy that makes `job` stale, if any. `history` is newest first. */
export function supersededBy(job: DeployJob, history: readonly HistoryEntry[]): Supersession | undefined {
  const jobTime = job.source.committedAt;
  if (!ORDERED_REASONS.has(job.reason) || !jobTime) return undefined;
  const last = history.find(
    (e) => e.trailers['Fjord-App'] === job.app && e.trailers['Fjord-Environment'] === job.environment && e.trailers[SOURCE_TIME_TRAILER],
  );
  const lastTime = last?.trailers[SOURCE_TIME_TRAILER];
  if (!last || !lastTime) return undefined;
  if (Date.parse(lastTime) <= Date.parse(jobTime)) return undefined;
  return { commitId: last.commitId, tag: last.trailers['Fjord-Tag'], sourceTime: lastTime };
}
