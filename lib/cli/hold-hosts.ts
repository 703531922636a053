/**
 * `fjord deploy` / `fjord rollback` take every host's lock before they commit (issue 12, item 11). The CLI
 * has no queue to put a job back on: committing first and then meeting the worker's lock left the manifest
 * ahead of the fleet. So the locks are taken first — waiting while another deploy holds one, up to `--wait`,
 * then refusing with nothing committed. The owner file names this job, so the rollout takes each lock over
 * at once (lib/rollout/state-commands.ts: a lock of the same job is taken over); whatever the rollout never
 * reached is released here afterwards (release is a no-op on a lock that is no longer ours).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FjordError } from '../errors.js';
import type { DeployJob } from '../job.js';
import { LockHeld } from '../rollout/errors.js';
import { lockHost, unlockHost } from '../rollout/host-lock.js';
import { lockOwner } from '../rollout/state-commands.js';
import type { Fleet } from '../ssh/fleet.js';

/** Another deploy kept a host locked for all of `--wait`: nothing was committed. */
export class HostsBusy extends FjordError {
  override status = 409;
}

export interface HoldOptions {
  stateDir: string;
  lockStaleAfterMs: number;
  /** How long to wait for a host another deploy holds (0: refuse at once). */
  waitMs: number;
  /** Told once per host that it is waited for, with the lock's owner (token line dropped). */
  onWait?: (host: string, owner: string) => void;
}

/** Locks `hosts` of `job` in order; resolves to the release function, or throws `HostsBusy` with none held. */
export async function holdHosts(
  fleet: Fleet,
  hosts: readonly string[],
  job: Pick<DeployJob, 'id' | 'app' | 'environment'>,
  o: HoldOptions,
): Promise<() => Promise<void>> {
  const token = randomBytes(12).toString('hex');
  const owner = lockOwner({
    token,
    jobId: job.id,
    app: job.app,
    environment: job.environment,
    owner: `fjord cli on ${hostname()} pid ${process.pid}`,
    time: new Date(),
  });
  const held: string[] = [];
  const release = async () => {
    await Promise.all(
      held.map((h) =>
        fleet
          .session(h)
          .then((s) => unlockHost(s, o.stateDir, token))
          .catch(() => {}),
      ),
    );
  };
  const deadline = Date.now() + o.waitMs;
  try {
    // In config order, one at a time: two CLIs (or a CLI and a worker) never each hold half the fleet for long.
    for (const host of hosts) {
      for (let delay = 250, told = false; ; delay = Math.min(delay * 2, 5_000)) {
        try {
          await lockHost(await fleet.session(host), o.stateDir, owner, o.lockStaleAfterMs, 15_000, job.id);
          held.push(host);
          break;
        } catch (err) {
          // Unreachable or mismatched hosts are the rollout's to report (before it changes anything).
          if (!(err instanceof LockHeld)) break;
          if (Date.now() + delay > deadline) {
            throw new HostsBusy(
              `${err.message}; waited ${Math.round(o.waitMs / 1000)} s, nothing was committed (--wait to wait longer)`,
            );
          }
          if (!told) o.onWait?.(host, err.owner);
          told = true;
          await sleep(delay);
        }
      }
    }
  } catch (err) {
    await release();
    throw err;
  }
  return release;
}
