/** The pure half of the drift report: what one host's reading means against the manifest's desired tag. */
import { sameImage, splitImageRef } from '../manifest/image-ref.js';
import type { RunningImage } from '../rollout/types.js';
import type { HealRecord } from './heal-record.js';
import type { FileDrift } from '../files/read-file-drift.js';
import type { EnvFileDrift } from './read-env-file-drift.js';

export type DriftStatus = 'in-sync' | 'drifted' | 'missing' | 'unreachable';

export interface HostDrift {
  host: string;
  status: DriftStatus;
  /** `image:tag` the manifest asks for (absent: the manifest sets no tag). */
  desired?: string;
  /** `image:tag` found on the host (absent: nothing deployed there, or not readable). */
  running?: string;
  /** Container state as the host reports it (`running`, `exited`, … or `recorded`). */
  state?: string;
  container?: string;
  /** unreachable: the error's class (`HostUnreachable`, `HostKeyMismatch`, `CommandFailed`, …) and message. */
  errorName?: string;
  error?: string;
  /** The self-heal ledger found on the host (heal-record.ts), when there is one. */
  healRecord?: HealRecord;
  /** Each managed file against git (`files[]`): in sync / drifted (with a diff) / missing. */
  files?: FileDrift[];
  /** The app's env file against git's secrets (by hash; key names only, never values). */
  secrets?: EnvFileDrift;
}

export interface HostReading {
  host: string;
  /** App image name without tag, from fjord.yaml. */
  image: string;
  desiredTag: string | undefined;
  /** What `readRunning` returned; undefined when nothing is deployed there. */
  running?: RunningImage;
  /** What `readRunning` threw instead. */
  error?: Error;
}

// `recorded` is the command strategy's state file: it says what was deployed, the only "running" it has.
const LIVE_STATES = new Set(['running', 'recorded']);

/** in-sync: the desired image:tag runs; drifted: another one runs; missing: none runs; unreachable: no reading. */
export function classifyHost(r: HostReading): HostDrift {
  const desired = r.desiredTag === undefined ? undefined : `${r.image}:${r.desiredTag}`;
  const base = { host: r.host, ...(desired ? { desired } : {}) };
  if (r.error) return { ...base, status: 'unreachable', errorName: r.error.name, error: r.error.message };
  const running = r.running;
  if (!running) return { ...base, status: desired ? 'missing' : 'in-sync' };
  const found = {
    running: running.ref,
    state: running.state,
    ...(running.container ? { container: running.container } : {}),
  };
  if (!LIVE_STATES.has(running.state)) return { ...base, ...found, status: desired ? 'missing' : 'in-sync' };
  const ref = splitImageRef(running.ref);
  const same = desired !== undefined && sameImage(ref.name, r.image) && ref.tag === r.desiredTag;
  return { ...base, ...found, status: same ? 'in-sync' : 'drifted' };
}
