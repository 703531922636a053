/**
 * A project's GitLab Freeze Periods (docs.gitlab.com/api/freeze_periods/: `GET /projects/:id/freeze_periods`
 * → `[{id, freeze_start, freeze_end, cron_timezone, created_at, updated_at}]`, crons and an IANA zone),
 * read with the kept GitLab client and cached per project for `ttlMs` (one worker asks at most once a
 * minute per project, not once per job).
 */
import { FreezePeriods } from '@gitbeaker/rest';
import { gitlabClientOptions } from '../gitlab-client.js';
import type { Secret } from '../secret.js';
import type { Window } from './windows.js';

export type FreezePeriodReader = (project: string) => Promise<Window[]>;

export function gitlabFreezePeriods({
  url,
  token,
  now,
  ttlMs = 60_000,
  timeoutMs = 10_000,
}: {
  url: string;
  token: Secret;
  now: () => Date;
  ttlMs?: number;
  timeoutMs?: number;
}): FreezePeriodReader {
  const api = new FreezePeriods<false>(gitlabClientOptions({ host: url, token, timeoutMs }));
  const cache = new Map<string, { at: number; windows: Promise<Window[]> }>();
  return (project) => {
    const t = now().getTime();
    const hit = cache.get(project);
    if (hit && t - hit.at < ttlMs && t >= hit.at) return hit.windows;
    const windows = api.all(project, { perPage: 100, page: 1 }).then((periods) =>
      periods.map(
        (p): Window => ({
          label: `GitLab freeze period ${p.id}`,
          kind: 'deny',
          cron: p.freeze_start,
          until: p.freeze_end,
          timeZone: p.cron_timezone || 'UTC',
        }),
      ),
    );
    // A failed read is not cached: the next job asks again.
    windows.catch(() => cache.delete(project));
    cache.set(project, { at: t, windows });
    return windows;
  };
}
