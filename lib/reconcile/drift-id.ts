/**
 * Names for a drift and its heal jobs. The same drift (app, environment, desired tag, and which host runs
 * what) always gets the same id, so two reconciles that see it enqueue the same heal job — the queue
 * drops the second by its dedup id `heal/<job id>` (lib/job.ts) — and the ledger on the hosts counts
 * attempts per drift. The attempt number is part of the job id: a later attempt is a new job, not a
 * duplicate of the failed one.
 */
import { createHash } from 'node:crypto';
import type { HostDrift } from './classify-host.js';

/** Hosts a heal can act on: reachable, and not running the desired image. */
export const HEALABLE = new Set<HostDrift['status']>(['drifted', 'missing']);

export function driftIdOf(app: string, environment: string, desiredTag: string, hosts: readonly HostDrift[]): string {
  // A file's hash on the host is part of what it runs: a new hand edit is a new drift, with fresh attempts.
  const files = (h: HostDrift) =>
    (h.files ?? [])
      .filter((f) => f.status !== 'in-sync')
      .map((f) => `|${f.target}=${f.hash ?? ''}`)
      .join('');
  const env = (h: HostDrift) => (h.secrets && h.secrets.status !== 'in-sync' ? `|env=${h.secrets.hash ?? ''}` : '');
  const pairs = hosts
    .filter((h) => HEALABLE.has(h.status))
    .map((h) => `${h.host}=${h.running ?? ''}${files(h)}${env(h)}`)
    .sort();
  return createHash('sha256')
    .update(JSON.stringify([app, environment, desiredTag, pairs]))
    .digest('hex')
    .slice(0, 24);
}

export const healJobId = (drift: string, attempt: number): string => `heal-${drift}-${attempt}`;

/** `heal-<drift>-<attempt>` back into its parts; undefined for an id not made by `healJobId`. */
export function parseHealJobId(id: string): { drift: string; attempt: number } | undefined {
  const m = /^heal-([0-9a-f]{24})-([1-9]\d{0,2})$/.exec(id);
  return m ? { drift: m[1]!, attempt: Number(m[2]) } : undefined;
}
