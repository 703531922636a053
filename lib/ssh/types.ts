/** The SSH runner's contract: what a host is, how to log in, and what a session can do. */
import type { Secret } from '../secret.js';

export interface SshHost {
  /** The host's name in fjord.yaml: used in every error and log line. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Pinned host key, `SHA256:<base64>` as printed by `ssh-keygen -lf`. */
  hostKey: string;
}

export interface SshAuth {
  /** OpenSSH or PEM private key text. */
  privateKey?: Secret;
  passphrase?: Secret;
  /** ssh-agent socket path (`SSH_AUTH_SOCK`). */
  agent?: string;
}

export interface SshOptions {
  /** TCP connect + handshake + authentication. */
  connectTimeoutMs: number;
  /** Default deadline of one command; `exec(…, { timeoutMs })` overrides it. */
  commandTimeoutMs: number;
  /** Channels run at once on one connection (default 6; OpenSSH's `MaxSessions` defaults to 10). */
  maxChannels?: number;
  /** SSH keepalive interval, so a dead peer is noticed during a long command (0 = off). */
  keepaliveMs?: number;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Written to the command's stdin, then EOF. Without it stdin is closed at once. */
  stdin?: string | Buffer;
  /** Environment for this command, as shell assignments (visible in the host's process list: no secrets). */
  env?: Record<string, string>;
  /** Rollout step name, carried into errors (`pull`, `start`, `health`). */
  step?: string;
}

export interface ExecResult {
  /** Exit status; 128 + signal number when the command died of a signal. */
  exitCode: number;
  /** Signal name (`KILL`, `TERM`) when the command died of one. */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** One authenticated connection to one host, reused for all of its commands. */
export interface SshSession {
  readonly host: SshHost;
  /** Time from TCP connect to authenticated, in ms. */
  readonly connectMs: number;
  readonly closed: boolean;
  /** Runs argv; any exit status is a result. Throws CommandTimeout, ConnectionLost. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit throws CommandFailed. */
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
