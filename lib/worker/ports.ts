/**
 * What a deploy is handed: config, manifest store, registry wait, rollout, queue, platform API. Its own file,
 * one level below `deploy.ts` and `promote.ts`, which both take it (no import cycles).
 */
import type { Config } from '../config/schema.js';
import type { DesiredFile } from '../files/desired-files.js';
import type { GatePorts } from '../gates/gate.js';
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { ImageRef } from '../registry/reference.js';
import type { RolloutEvent, RolloutInput, RolloutReport } from '../rollout/types.js';
import type { Secret } from '../secret.js';
import type { AppSecrets } from '../secrets/load-app-secrets.js';
import type { BranchHead, ConfirmSource } from './confirm-source.js';

export interface DeployPorts extends GatePorts {
  config: Config;
  store: ManifestStore;
  /** Resolves once `image:tag` exists; throws `ImageNotFound` past the deadline. */
  waitForImage(
    ref: ImageRef,
    options: { deadlineMs: number; heartbeat: () => Promise<unknown>; signal?: AbortSignal },
  ): Promise<unknown>;
  /** Rolls `image:tag` out to the environment's hosts. Absent: the manifest commit is the deploy (GitOps only). */
  rollout?(
    input: RolloutInput,
    options: { onEvent?: (e: RolloutEvent) => void; signal?: AbortSignal },
  ): Promise<RolloutReport>;
  /** Queues a follow-up job (auto promotion). Absent (the CLI): promotion is reported, not done. */
  enqueue?(job: DeployJob): Promise<void>;
  /** The worker's age identities (`secrets.identityEnv`), for environments with `secrets.file`. */
  ageIdentities?: readonly Secret[];
  /** Progress of a rollout, for CLI lines; the worker logs the same events as JSON lines. */
  onRolloutEvent?(event: RolloutEvent): void;
  /** This job's decrypted secrets (set by `deploy` itself, for its rollout). */
  secrets?: AppSecrets;
  /** This job's managed files per host (set by `deploy` itself, for its rollout). */
  files?: ReadonlyMap<string, DesiredFile[]>;
  /** Asks the source platform's API whether a webhook job's MR and sha hold (confirm-source.ts): why not, or undefined. */
  confirmSource?: ConfirmSource;
  /** Where a push's branch points now, per the API (confirm-source.ts): whether a push past an intent still stands. */
  branchHead?: BranchHead;
}
