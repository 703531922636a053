/** The rollout engine's named errors (the SSH runner's own are in lib/ssh/errors.ts). */
import { FjordError } from '../errors.js';
import type { CommandFailed } from '../ssh/errors.js';
import type { ContainerState } from './types.js';

/** Another deploy holds the host's lock; `owner` is its owner file (token line dropped). */
export class LockHeld extends FjordError {
  override status = 409;
  constructor(
    readonly host: string,
    readonly owner: string,
  ) {
    super(`host ${host}: locked by another deploy (${owner.replace(/\n/g, ', ') || 'owner unknown'})`);
  }
}

/** The health check did not pass before its deadline; `last` describes the last attempt. */
export class HealthCheckFailed extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
    readonly last: string,
    readonly stderrTail = '',
  ) {
    super(`host ${host}: health check failed for ${timeoutMs} ms (last attempt: ${last})`);
  }
}

/** The new container exited, crash-loops or restarted within its settle window (or after its health check). */
export class ContainerNotRunning extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly container: string,
    readonly state: ContainerState,
    readonly reason: string,
    readonly when: string,
  ) {
    super(`host ${host}: container ${container} is not running ${when}: ${reason}`);
  }
}

/** The host's whole rollout ran past `rollout.hostTimeout`. */
export class HostTimeout extends FjordError {
  override status = 504;
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
    readonly step: string,
  ) {
    super(`host ${host}: rollout exceeded hostTimeout of ${timeoutMs} ms during ${step}`);
  }
}

/** The rollout's input is unusable (bad image or tag, unknown host): nothing was run anywhere. */
export class InvalidRollout extends FjordError {
  override status = 422;
}

/** The rollout was aborted through its signal. */
export class RolloutAborted extends FjordError {
  override status = 499;
}

/** A managed file's `validate` command rejected its new content on a host: nothing was swapped there. */
export class FileInvalid extends FjordError {
  override status = 422;
  readonly stderrTail: string;
  constructor(
    readonly host: string,
    file: string,
    failed: CommandFailed,
  ) {
    super(`${file} failed validation (nothing was swapped on host ${host}): ${failed.message}`);
    this.stderrTail = failed.stderrTail;
  }
}
