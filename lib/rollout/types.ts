/** The rollout engine's contract: what to roll out, what it reports, what it emits while it runs. */
import type { EnvironmentConfig } from '../config/schema.js';
import type { KeyChanges } from '../secrets/key-changes.js';
import type { AppSecrets } from '../secrets/load-app-secrets.js';
import type { DesiredFile } from '../files/desired-files.js';

/** One rollout: `image:tag` of `app` onto `hosts` (names in fjord.yaml) of one environment. */
export interface RolloutInput {
  app: string;
  environment: string;
  /** Image name without tag (OCI reference grammar). */
  image: string;
  tag: string;
  jobId: string;
  env: EnvironmentConfig;
  hosts: readonly string[];
  /** The environment's decrypted secrets (`secrets.file`): the env file each host's container starts with. */
  secrets?: AppSecrets;
  /** Managed files per host (`files[]`, rendered for each host): applied before the container. */
  files?: ReadonlyMap<string, DesiredFile[]>;
}

export interface RolloutOptions {
  onEvent?: (event: RolloutEvent) => void;
  /** Aborting stops the rollout as a failure: no new steps start, touched hosts are rolled back. */
  signal?: AbortSignal;
  /** `ssh.stateDir`: fjord's directory on each host (relative to the deploy user's home). */
  stateDir: string;
  /** `ssh.lockStaleAfter`: a host lock older than this is taken over. */
  lockStaleAfterMs: number;
  /** Who holds the lock, written to its owner file (default `<hostname> pid <pid>`). */
  owner?: string;
  /** `ssh.commandTimeout`: cap of one command below the host's deadline (default: the host's deadline). */
  commandTimeoutMs?: number;
}

export type Step =
  | 'connect'
  | 'lock'
  | 'inspect'
  | 'files'
  | 'validate'
  | 'reload'
  | 'configure'
  | 'pull'
  | 'proxy'
  | 'stop'
  | 'start'
  | 'health'
  | 'switch'
  | 'drain'
  | 'record'
  | 'unlock'
  | 'remove'
  | 'hook'
  | 'timeout'
  | 'aborted';

export type HostStatus = 'updated' | 'unchanged' | 'rolled-back' | 'failed' | 'untouched' | 'rollback-failed';

export interface HostReport {
  host: string;
  status: HostStatus;
  /** `image:tag` running before this rollout changed the host (absent: none was running). */
  previousImage?: string;
  /** Step that failed (deploy, or rollback when `status` is `rollback-failed`). */
  step?: Step;
  error?: string;
  /** The error's class: `LockHeld`, `HostKeyMismatch`, `HostUnreachable`, `CommandFailed`, `HealthCheckFailed`, `HostTimeout`, … */
  errorName?: string;
  stderrTail?: string;
  /** What the new container said and did, collected before the rollback removed it (failed start or health). */
  diagnostics?: FailureDiagnostics;
  /** Milliseconds per step; rollback steps are prefixed `rollback.`. */
  timings: Record<string, number>;
  /** Without a proxy, when the old container was stopped before its successor started: how long nothing served (ms). */
  downtimeMs?: number;
  /** The env file this host had against the one it was given (`secrets.file`): variable names only, never values. */
  secrets?: KeyChanges;
}

export interface RolloutFailure {
  host: string;
  step: Step;
  message: string;
  /** The error's class (see HostReport.errorName): `LockHeld` means another deploy holds the host, worth a retry later. */
  errorName: string;
  stderrTail: string;
}

export interface RolloutReport {
  ok: boolean;
  hosts: HostReport[];
  /** The first failure, which stopped the rollout. */
  failed?: RolloutFailure;
  /** Set when some rollback failed: the fleet is on a mix of versions. Names the hosts. */
  mixedVersions?: string;
  durationMs: number;
}

export type RolloutEvent =
  | { type: 'batch-start'; batch: number; hosts: string[] }
  | { type: 'batch-end'; batch: number; ok: boolean; ms: number }
  | { type: 'host-step'; host: string; step: Step; status: 'start' | 'ok' | 'failed'; ms?: number; rollback?: boolean }
  | { type: 'host-done'; host: string; status: HostStatus }
  /** A stale lock, or one an earlier delivery of this job left (a worker that died), was taken over; `from` is its owner file. */
  | { type: 'lock-taken-over'; host: string; from: string }
  | { type: 'rollback-start'; hosts: string[]; reason: string }
  | { type: 'rollback-end'; ok: boolean };

/** What runs in a container (or compose service) now. */
export interface RunningImage {
  /** `image:tag` as the container records it. */
  ref: string;
  /** Container name (docker, compose); absent for the command strategy. */
  container?: string;
  /** `running`, `exited`, `created`, … (`recorded` for the command strategy's state file). */
  state: string;
  labels: Record<string, string>;
}

/** A container's state as the engine reports it (`docker inspect`). */
export interface ContainerState {
  /** `created`, `running`, `restarting`, `exited`, … */
  status: string;
  running: boolean;
  restarting: boolean;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  /** The engine's error for a container it could not start (empty when none). */
  error: string;
  startedAt?: string;
  finishedAt?: string;
}

/** One health probe as it ran. */
export interface HealthProbeRecord {
  /** When the probe started (ISO 8601). */
  at: string;
  /** The URL probed, or the health command. */
  target: string;
  /** HTTP status (0: no answer); absent for a command check. */
  status?: number;
  exitCode: number;
  /** First 200 bytes of the body (a command check: of its output), redacted. */
  body: string;
  /** curl's own error line (connection refused, timeout), when there was one. */
  error?: string;
  ms: number;
}

/** Why a new container failed, for a person to act on: all of it redacted against secrets and `container.env`. */
export interface FailureDiagnostics {
  container: string;
  /** Its last 50 log lines (`docker logs --tail 50`, stdout and stderr). */
  logs: string;
  /** Its state when the failure was seen (absent: the container no longer exists). */
  state?: ContainerState;
  /** The health probes run (the last 20), oldest first. */
  probes: HealthProbeRecord[];
  /** Probes run in all (more than `probes` holds when the check ran long). */
  probeCount: number;
}
