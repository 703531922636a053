/**
 * `/fjord unlock <env>` and `fjord unlock <app> <env>` (issue 14, item 4): break the host locks that a deploy
 * of this environment left behind when it died (kill -9, a lost box), so the next deploy need not wait for
 * `ssh.lockStaleAfter`. Safe from a comment because the command job runs in the environment's queue group:
 * never during one of fjord's deploys of it. A lock another environment holds on a shared host is left.
 * Over SSH with the pinned host keys of fjord.yaml (the fleet of lib/reconcile/fleet-for.ts).
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { breakHostLock, type BrokenLock } from '../rollout/host-lock.js';
import type { Fleet } from '../ssh/fleet.js';

export type HostUnlock = { host: string } & (BrokenLock | { state: 'unreachable'; error: string });

/** Tries every host of the environment at once; never throws (a host that fails is `unreachable`). */
export async function unlockEnvironment(
  config: Config,
  app: string,
  environment: string,
  fleetFor: (hosts: readonly string[]) => Fleet,
  logger: Logger,
): Promise<HostUnlock[]> {
  const hosts = config.apps[app]!.environments[environment]!.hosts;
  const fleet = fleetFor(hosts);
  try {
    const results = await Promise.all(
      hosts.map(async (host): Promise<HostUnlock> => {
        try {
          return { host, ...(await breakHostLock(await fleet.session(host), config.ssh.stateDir, app, environment)) };
        } catch (err) {
          return { host, state: 'unreachable', error: (err as Error).message };
        }
      }),
    );
    logger.info('unlock', {
      app,
      environment,
      hosts: results.map((r) => ({
        host: r.host,
        state: r.state,
        ...('owner' in r && r.owner ? { owner: r.owner.replace(/\n/g, ', ') } : {}),
        ...('error' in r ? { error: r.error } : {}),
      })),
    });
    return results;
  } finally {
    await fleet.close();
  }
}

const LABELS: Record<HostUnlock['state'], string> = {
  unlocked: 'unlocked',
  none: 'were not locked',
  other: "locked by another environment's deploy, left alone",
  unreachable: 'could not be reached',
};

/** One line per outcome: `unlocked: web-1 (job=…, …)`, `were not locked: web-2`, … */
export function formatUnlock(app: string, environment: string, results: readonly HostUnlock[]): string {
  if (results.length === 0) return `${app}/${environment} has no hosts: nothing to unlock`;
  const lines = (Object.keys(LABELS) as Array<HostUnlock['state']>).flatMap((state) => {
    const of = results.filter((r) => r.state === state);
    if (of.length === 0) return [];
    const detail = (r: HostUnlock) =>
      'owner' in r && r.owner ? ` (${r.owner.replace(/\n/g, ', ')})` : 'error' in r ? ` (${r.error})` : '';
    return [`- ${LABELS[state]}: ${of.map((r) => `${r.host}${detail(r)}`).join('; ')}`];
  });
  return [`host locks of ${app}/${environment}:`, ...lines].join('\n');
}
