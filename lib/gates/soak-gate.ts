/**
 * The staging soak (issue 14, item 2): a promotion to an environment with `soak: {after, healthyFor}`
 * waits until `after` has run the same tag for `healthyFor`, counted from its deploy commit in the manifest
 * history (git is the record: every run mode decides alike), and is refused when `after` no longer runs it
 * (rolled back, or a newer tag since). It waits until that time, once, not polling.
 */
import type { Config } from '../config/schema.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Gate, GateDecision } from './gate.js';

export function soakGate({ config, store }: { config: Config; store: Pick<ManifestStore, 'history'> }): Gate {
  return {
    name: 'soak',
    async check({ job, now }): Promise<GateDecision> {
      const soak = config.apps[job.app]?.environments[job.environment]?.soak;
      if (!soak || job.reason !== 'promote') return { verdict: 'pass' };
      const after = config.apps[job.app]!.environments[soak.after];
      if (!after)
        return { verdict: 'refuse', reason: `soak.after names ${soak.after}, which ${job.app} has no environment of` };
      const history = await store.history(after.manifest.file, { limit: 50 });
      const last = history.find(
        (e) => e.trailers['Fjord-App'] === job.app && e.trailers['Fjord-Environment'] === soak.after,
      );
      if (!last || last.trailers['Fjord-Tag'] !== job.tag || last.trailers['Fjord-Rollback-Of']) {
        const what = last
          ? `${last.trailers['Fjord-Rollback-Of'] ? 'was rolled back' : `moved on to ${last.trailers['Fjord-Tag'] ?? '?'}`} in ${last.commitId.slice(0, 12)}`
          : 'has no deploy recorded';
        return {
          verdict: 'refuse',
          reason: `${soak.after} no longer runs ${job.tag} (it ${what}): not promoted to ${job.environment}`,
        };
      }
      const until = new Date(Date.parse(last.authoredAt) + soak.healthyFor);
      if (until <= now) return { verdict: 'pass' };
      return {
        verdict: 'wait',
        until,
        reason: `waiting for ${soak.after} to run ${job.tag} healthily until ${until.toISOString()} (soak ${Math.round(soak.healthyFor / 60_000)} min since ${last.commitId.slice(0, 12)})`,
      };
    },
  };
}
