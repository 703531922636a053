/**
 * Shared by the crash and fleet-fault chaos tests (not a test file): a seeded random source, and what the
 * fleet looks like after a deploy — per host the image the container runs (read over SSH, as the
 * reconciler does), the tag its port answers with, and whether fjord's host lock is still there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../lib/config/schema.js';
import { readRunning } from '../../lib/rollout/read-running.js';
import { openFleet } from '../../lib/ssh/fleet.js';
import type { TestFleet } from '../fixtures/fleet.js';
import { served, version } from '../rollout/helpers.js';

/** mulberry32: the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HostState {
  host: string;
  /** `image:tag` of the app's container and its state (`running`, `exited`); undefined: none. */
  ref?: string;
  state?: string;
  /** What its published port answers (the stand-in's `/healthz` → tag, a test image's `/`); undefined: nothing listens. */
  serves?: string;
  /** The host lock directory exists; `lockOwner` is its owner file. */
  locked: boolean;
  lockOwner?: string;
}

/** Reads every host of the test fleet (with its current host key, so after a rotation too). */
export async function fleetState(
  fleet: TestFleet,
  env: EnvironmentConfig,
  port: number,
  stateDir = '.fjord',
): Promise<HostState[]> {
  const ssh = openFleet(
    fleet.hosts.map((h) => ({ ...h })),
    fleet.auth,
    { connectTimeoutMs: 5_000, commandTimeoutMs: 10_000 },
  );
  try {
    return await Promise.all(
      fleet.hosts.map(async (h) => {
        const running = await readRunning(ssh, h.name, { app: 'api', environment: 'prod', env, stateDir });
        const lock = join(h.home, stateDir, 'lock');
        const locked = existsSync(lock);
        let lockOwner: string | undefined;
        try {
          lockOwner = readFileSync(join(lock, 'owner'), 'utf8');
        } catch {}
        const serves = await (h.engine ? version : served)(h.address, port);
        return {
          host: h.name,
          ref: running?.ref,
          state: running?.state,
          serves,
          locked,
          ...(lockOwner ? { lockOwner } : {}),
        };
      }),
    );
  } finally {
    await ssh.close();
  }
}
