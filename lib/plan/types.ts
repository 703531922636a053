/** What a `plan` job found out: what merging an open merge request will do, per environment (issue 7, item 3). */
import type { RolloutConfig } from '../config/schema.js';
import type { HostDrift } from '../reconcile/classify-host.js';
import type { KeyChanges } from '../secrets/key-changes.js';
import type { PlannedEnvironment } from './plan-environments.js';

export interface EnvironmentPlan extends PlannedEnvironment {
  file: string;
  /** `commit` to the manifest branch, or `mr`: a manifest merge request for a person to merge. */
  writeBack: 'commit' | 'mr';
  /** The tag the manifest sets now (absent: none, or unreadable: see `error`). */
  currentTag?: string;
  /** Unified-diff excerpt of the tag edit; '' when the file already says the new tag. */
  diff: string;
  /** The manifest could not be read or the edit not made: the rest of the plan still stands. */
  error?: string;
  strategy: RolloutConfig['strategy'];
  canary: boolean;
  batchSize: RolloutConfig['batchSize'];
  /** Host names per rollout batch, in order (lib/rollout/plan-batches.ts). */
  batches: string[][];
  /** What each host runs now against what the manifest says now (the drift the rollout would also replace). */
  hosts: HostDrift[];
  /** `secrets.file`: per host, the variables the rollout would add, change or remove (names only), or why unknown. */
  secrets?: { file: string; error?: string; hosts: { host: string; changes?: KeyChanges }[] };
}

/** `found` / `missing` in the registry now; `unchecked` when the app waits for no image (`waitForImage: 0`). */
export interface ImageCheck {
  status: 'found' | 'missing' | 'unchecked' | 'unknown';
  /** `unknown`: why the registry could not say. */
  detail?: string;
}

export interface Plan {
  app: string;
  image: string;
  /** The tag rendered from the app's template for the MR's head commit. */
  tag: string;
  template: string;
  sha: string;
  targetBranch: string;
  imageCheck: ImageCheck;
  environments: EnvironmentPlan[];
  plannedAt: string;
}
