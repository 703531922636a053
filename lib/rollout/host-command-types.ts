/**
 * A host's rollout as data — the target, one command, the commands around the health check — shared by the
 * builders (`host-commands.ts`, `proxy/proxy-commands.ts`) and the engine, one level below both (no import cycles).
 */
import type { RolloutConfig } from '../config/schema.js';
import type { Secret } from '../secret.js';
import type { CommandFailed } from '../ssh/errors.js';
import type { ContainerSecrets } from './env-file-commands.js';
import type { Step } from './types.js';

export interface HostTarget {
  app: string;
  environment: string;
  jobId: string;
  image: string;
  tag: string;
  rollout: RolloutConfig;
  stateDir: string;
  /** The app's decrypted secrets (docker strategy): written to the env file before the new container starts. */
  secrets?: ContainerSecrets;
  /** The image was pulled on every host before batch 1 (`prePullCommand`): the batches skip the pull. */
  pulled?: boolean;
}

export interface Cmd {
  step: Step;
  argv: string[];
  /** Clean-up whose failure changes nothing (removing a container that may not exist). */
  mayFail?: boolean;
  /** Run (its failure ignored) when this command fails: a failed `docker run -d` can leave a `created` container holding the name. */
  undo?: string[];
  /** Written to the command's stdin (the env file's text): never part of argv, logs or errors. */
  stdin?: Secret;
  /** Says what a non-zero exit means for the host, as a named error (the proxy path: `ProxyUnavailable`). */
  explain?: (failed: CommandFailed) => Error;
}

export interface HostCommands {
  before: Cmd[];
  after: Cmd[];
  /** The container `before` started: checked after its settle window and after the health check (`checkStarted`). */
  started?: string;
  /** Behind a proxy: the container whose published slot the HTTP health check probes directly (`probeAt`). */
  probes?: { container: string; containerPort: number };
}
