/**
 * Whether an environment's drift gets a heal now (issue 7: "a heal never fires more than once per drift
 * and never loops"). Pure: the drift, its ledger records and the clock in, a decision out. After a heal
 * attempt the next waits `healBackoff`, doubled per attempt made; after `healAttempts` it stops, and the
 * drift is only reported until a person changes something (the drift id changes) or the host is in sync
 * again (the reconciler clears the record).
 */
import type { Config } from '../config/schema.js';
import { driftIdOf, HEALABLE, healJobId } from './drift-id.js';
import type { EnvironmentDrift, HealDecision } from './drift-types.js';

export type HealLimits = Pick<Config['reconcile'], 'healAttempts' | 'healBackoff'>;

/** undefined when there is nothing a heal could do (in sync, only unreachable hosts, no desired tag). */
export function decideHeal(e: EnvironmentDrift, limits: HealLimits, now: Date): HealDecision | undefined {
  const healable = e.hosts.filter((h) => HEALABLE.has(h.status));
  if (e.error || e.desiredTag === undefined || healable.length === 0) return undefined;
  const drift = driftIdOf(e.app, e.environment, e.desiredTag, e.hosts);
  const records = healable.flatMap((h) => (h.healRecord?.drift === drift ? [h.healRecord] : []));
  const last = records.sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  const attempts = Math.max(0, ...records.map((r) => r.attempts));
  const base = {
    drift,
    hosts: healable.map((h) => h.host),
    attempts,
    limit: limits.healAttempts,
    ...(last ? { lastOutcome: last.outcome } : {}),
  };
  if (attempts >= limits.healAttempts) return { ...base, action: 'stopped' };
  if (last && attempts > 0) {
    const next = Date.parse(last.at) + limits.healBackoff * 2 ** (attempts - 1);
    if (now.getTime() < next) return { ...base, action: 'wait', nextAt: new Date(next).toISOString() };
  }
  return { ...base, action: 'heal', jobId: healJobId(drift, attempts + 1) };
}

/** One line for logs, `fjord status` and the reconcile job's outcome. */
export function describeHeal(d: HealDecision): string {
  const last = d.lastOutcome ? ` (last: ${d.lastOutcome})` : '';
  if (d.action === 'stopped')
    return `heal stopped after ${d.attempts} attempts${last}; fix ${d.hosts.join(', ')} by hand or deploy`;
  if (d.action === 'wait') return `heal attempt ${d.attempts + 1}/${d.limit} waits until ${d.nextAt}${last}`;
  return `heal attempt ${d.attempts + 1}/${d.limit} due for ${d.hosts.join(', ')}`;
}
