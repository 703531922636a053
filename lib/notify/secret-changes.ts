/** What a rollout did to the hosts' secrets, by variable name (never a value): `web-1, web-2: changed API_TOKEN`. */
import type { RolloutReport } from '../rollout/types.js';
import { describeKeyChanges } from '../secrets/key-changes.js';

/** One entry per distinct change, naming its hosts; hosts whose env file kept every value are left out. */
export function secretChanges(report: RolloutReport): string[] {
  const byChange = new Map<string, string[]>();
  for (const h of report.hosts) {
    if (!h.secrets) continue;
    const what = describeKeyChanges(h.secrets);
    if (what !== 'no change') byChange.set(what, [...(byChange.get(what) ?? []), h.host]);
  }
  return [...byChange].map(([what, hosts]) => `${hosts.join(', ')}: ${what}`);
}
