/** Named errors of the proxy path: a command's failure, said as what it means for the host. */
import { FjordError } from '../../errors.js';
import { errorLine, type CommandFailed } from '../../ssh/errors.js';

/** The host's proxy is missing, down or misconfigured: found before anything on the host was stopped or started. */
export class ProxyUnavailable extends FjordError {
  override status = 502;
  readonly stderrTail: string;
  constructor(
    readonly host: string,
    readonly kind: string,
    failed: CommandFailed,
  ) {
    super(
      `host ${host}: proxy ${kind} is not usable: ${errorLine(failed.stderrTail) || `check exited ${failed.exitCode}`}; nothing on the host was stopped or started`,
    );
    this.stderrTail = failed.stderrTail;
  }
}

/** Pointing the proxy at a container failed; the proxy keeps (or got back) its previous upstream. */
export class ProxySwitchFailed extends FjordError {
  override status = 502;
  readonly stderrTail: string;
  constructor(
    readonly host: string,
    readonly kind: string,
    readonly container: string,
    failed: CommandFailed,
  ) {
    super(
      `host ${host}: switching ${kind} to ${container} failed: ${errorLine(failed.stderrTail) || `exited ${failed.exitCode}`}`,
    );
    this.stderrTail = failed.stderrTail;
  }
}
