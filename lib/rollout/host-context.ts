/** What one host's rollout runs with (its session, lock and job), shared by the steps of `deploy-host.ts`,
 * `with-locked-host.ts` and `rollback-host.ts`, one level below them (no import cycles). */
import type { EnvironmentConfig } from '../config/schema.js';
import type { DesiredFile } from '../files/desired-files.js';
import type { Fleet } from '../ssh/fleet.js';

export interface HostContext {
  fleet: Fleet;
  host: string;
  env: EnvironmentConfig;
  stateDir: string;
  lockStaleAfterMs: number;
  /** Owner file text; its first line is `token=<token>`. */
  lockOwner: string;
  /** The job: a lock its earlier delivery left behind is taken over. */
  jobId: string;
  token: string;
  /** Values to mask in the container's own output (`container.env` and the app's secrets). */
  redact?: readonly string[];
  /** The managed files this host should hold (`files[]`, rendered for it). */
  files?: readonly DesiredFile[];
}
