/**
 * What one environment's drift check finds and what the heal ledger decides about it: the types that
 * `drift.ts`, `check-environment.ts` and `decide-heal.ts` share, one level below them (no import cycles).
 */
import type { HostDrift } from './classify-host.js';

export interface HealDecision {
  /** heal: enqueue `jobId` now; wait: back-off until `nextAt`; stopped: `healAttempts` used up. */
  action: 'heal' | 'wait' | 'stopped';
  drift: string;
  /** The drifted and missing hosts: the ones the heal rolls. */
  hosts: string[];
  /** Attempts already made for this drift. */
  attempts: number;
  limit: number;
  jobId?: string;
  nextAt?: string;
  /** Outcome of the last attempt (`failed`, `deployed`, `running`, …). */
  lastOutcome?: string;
}

export interface EnvironmentDrift {
  app: string;
  environment: string;
  file: string;
  /** The manifest's tag (absent: it sets none, or it could not be read: see `error`). */
  desiredTag?: string;
  hosts: HostDrift[];
  /** The manifest could not be read or parsed: no host was checked. */
  error?: string;
  /** `secrets.file` is set but no age identity was given: the hosts' env files were not compared. */
  secretsNotChecked?: string;
  /** `selfHeal: true` and a host drifted or missing: what the heal ledger allows now. */
  heal?: HealDecision;
}
