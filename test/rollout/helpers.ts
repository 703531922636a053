/** Shared bits of the rollout tests (not a test file itself). */
import { configSchema, type EnvironmentConfig, type RolloutConfig } from '../../lib/config/schema.js';
import type { ExecOptions, SshOptions, SshSession } from '../../lib/ssh/types.js';

export const IMAGE = 'registry.example.com/acme/api';
export const OPTIONS: SshOptions = { connectTimeoutMs: 5_000, commandTimeoutMs: 30_000 };

/** An environment config as fjord.yaml would give it, with `rollout` (schema input) filled by the schema's defaults. */
export function environment(rollout: Record<string, unknown>, hosts: string[] = []): EnvironmentConfig {
  const config = configSchema.parse({
    manifest: { backend: 'git', repository: './m.git' },
    apps: {
      api: {
        source: { project: 'acme/api' },
        image: IMAGE,
        environments: { prod: { manifest: { file: 'prod/values.yaml', path: 'image.tag' }, hosts, rollout } },
      },
    },
  });
  return config.apps.api!.environments.prod!;
}

export const rolloutOf = (rollout: Record<string, unknown>): RolloutConfig => environment(rollout).rollout;

import { openFleet, type Fleet } from '../../lib/ssh/fleet.js';
import type { TestFleet } from '../fixtures/fleet.js';
import { rolloutEnvironment } from '../../lib/rollout/rollout-environment.js';
import type { RolloutEvent, RolloutReport } from '../../lib/rollout/types.js';

/**
 * An SSH fleet over copies of the test hosts: a later `rotateHostKey` changes the test fleet's pin but not
 * this one's, so the next connection sees a mismatch (as a real fleet would after a host was rebuilt).
 */
export const sshFleet = (fleet: TestFleet): Fleet =>
  openFleet(
    fleet.hosts.map((h) => ({ ...h })),
    fleet.auth,
    OPTIONS,
  );

/** What the container on `address:port` says it runs (undefined: nothing answers). */
export async function served(address: string, port: number): Promise<string | undefined> {
  const res = await fetch(`http://${address}:${port}/healthz`).catch(() => undefined);
  if (!res) return undefined;
  const body = (await res.json()) as { tag: string };
  return body.tag;
}

/** The version a test-images app on `address:port` answers at `/` (undefined: nothing answers). */
export async function version(address: string, port: number): Promise<string | undefined> {
  const res = await fetch(`http://${address}:${port}/`).catch(() => undefined);
  return res ? (await res.text()).trim() : undefined;
}

export interface Rollout {
  tag: string;
  /** Image name without tag (default IMAGE; a real engine needs the loopback registry's name). */
  image?: string;
  hosts: string[];
  jobId?: string;
  env: EnvironmentConfig;
  onEvent?: (e: RolloutEvent) => void;
  lockStaleAfterMs?: number;
  signal?: AbortSignal;
}

/** Runs the engine the way the worker will: a fresh SSH fleet, closed afterwards. */
export async function roll(fleet: TestFleet | Fleet, r: Rollout): Promise<RolloutReport> {
  const ssh = 'session' in fleet ? fleet : sshFleet(fleet);
  try {
    return await rolloutEnvironment(
      {
        app: 'api',
        environment: 'prod',
        image: r.image ?? IMAGE,
        tag: r.tag,
        jobId: r.jobId ?? `job-${r.tag}`,
        env: r.env,
        hosts: r.hosts,
      },
      ssh,
      {
        stateDir: '.fjord',
        lockStaleAfterMs: r.lockStaleAfterMs ?? 3_600_000,
        ...(r.onEvent ? { onEvent: r.onEvent } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      },
    );
  } finally {
    if (!('session' in fleet)) await ssh.close();
  }
}

export const statuses = (report: RolloutReport) => Object.fromEntries(report.hosts.map((h) => [h.host, h.status]));

/** `session` with every exec (and run) it is asked for written to `log`. */
export function counted(s: SshSession, log: Array<{ argv: readonly string[]; step?: string | undefined }>): SshSession {
  const note = (argv: readonly string[], o?: ExecOptions) => log.push({ argv, step: o?.step });
  return {
    host: s.host,
    connectMs: s.connectMs,
    get closed() {
      return s.closed;
    },
    exec: (argv, o) => {
      note(argv, o);
      return s.exec(argv, o);
    },
    run: (argv, o) => {
      note(argv, o);
      return s.run(argv, o);
    },
    close: () => s.close(),
  };
}
