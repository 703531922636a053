/**
 * A host's rollout as data, per strategy: the commands before the health check (pull, start) and after it
 * (switch, record). The engine runs them; `--dry-run` prints them. Rolling back is the same commands for
 * the previous `image:tag`, or `removeCommands` when nothing ran before.
 */
import type { RolloutConfig } from '../config/schema.js';
import {
  composeInspectRunning,
  composePull,
  composeSetTag,
  composeUp,
  type ComposeTarget,
} from './compose-commands.js';
import {
  containerName,
  dockerInspectRunning,
  dockerPull,
  dockerRemove,
  dockerRename,
  dockerRun,
  dockerStop,
  nextName,
  stopsFirst,
} from './docker-commands.js';
import { hookCommands } from './hook-commands.js';
import { explainNotRoot, requireRoot, writeEnvFile } from './env-file-commands.js';
import { proxyDockerCommands } from './proxy/proxy-commands.js';
import { readDeployed, recordDeployed } from './state-commands.js';
import type { RunningImage } from './types.js';
import type { Cmd, HostCommands, HostTarget } from './host-command-types.js';

export const imageRef = (image: string, tag: string): string => `${image}:${tag}`;

/** Splits `registry:5000/acme/api:v1` into image and tag (the tag is after the last `:` past the last `/`). */
export function splitRef(ref: string): { image: string; tag: string } | undefined {
  const at = ref.lastIndexOf(':');
  if (at <= ref.lastIndexOf('/')) return undefined;
  return { image: ref.slice(0, at), tag: ref.slice(at + 1) };
}

function composeTarget(rollout: RolloutConfig): ComposeTarget {
  if (!rollout.compose) throw new Error('rollout.strategy is compose but rollout.compose is not set');
  return rollout.compose;
}

function hooksOf(rollout: RolloutConfig) {
  return rollout.command ?? { pre: [], deploy: [], post: [] };
}

/** The command that reads what runs now (see `read-running.ts` for its output). */
export function inspectCommand(t: Omit<HostTarget, 'tag' | 'jobId' | 'image'>): string[] {
  switch (t.rollout.strategy) {
    case 'docker':
      return dockerInspectRunning(containerName(t.app, t.environment, t.rollout.container));
    case 'compose':
      return composeInspectRunning(composeTarget(t.rollout));
    case 'command':
      return readDeployed(t.stateDir, t.app, t.environment);
  }
}

/**
 * The pull run on every host before batch 1, so that a registry problem anywhere fails the rollout before
 * any host changes. Compose pulls the app's `image:tag` too (its service's image is the app's image, as
 * the manifest names it); the command strategy has no image to pull.
 */
export function prePullCommand(t: HostTarget): Cmd | undefined {
  return t.rollout.strategy === 'command' ? undefined : { step: 'pull', argv: dockerPull(imageRef(t.image, t.tag)) };
}

/**
 * Commands that put `image:tag` on the host. `current` is what runs there now: it decides whether there
 * is an old container to stop and replace.
 */
export function deployCommands(t: HostTarget, current: RunningImage | undefined): HostCommands {
  const ref = imageRef(t.image, t.tag);
  const record: Cmd = { step: 'record', argv: recordDeployed(t.stateDir, t.app, t.environment, ref) };
  switch (t.rollout.strategy) {
    case 'docker': {
      // The env file first: the old container keeps the environment it started with (docker reads the file at `run`).
      // A user that cannot make it root-owned is refused by a read-only step, before anything changes.
      const env: Cmd[] = t.secrets
        ? [
            { step: 'inspect', argv: requireRoot(), explain: explainNotRoot },
            { step: 'configure', argv: writeEnvFile(t.secrets.path), stdin: t.secrets.envFile },
          ]
        : [];
      if (t.rollout.proxy) {
        const commands = proxyDockerCommands({ ...t, ref, proxy: t.rollout.proxy }, current, record);
        // After the proxy check (a host without its proxy changes nothing), before the pull and start.
        return { ...commands, before: [commands.before[0]!, ...env, ...commands.before.slice(1)] };
      }
      const name = containerName(t.app, t.environment, t.rollout.container);
      const next = nextName(name);
      const spec = {
        app: t.app,
        environment: t.environment,
        jobId: t.jobId,
        ref,
        tag: t.tag,
        container: t.rollout.container,
        ...(t.secrets ? { secrets: t.secrets } : {}),
      };
      return {
        before: [
          ...(t.pulled ? [] : [{ step: 'pull' as const, argv: dockerPull(ref) }]),
          ...env,
          { step: 'start', argv: dockerRemove(next), mayFail: true }, // left over from an interrupted rollout
          ...(current && stopsFirst(t.rollout.container)
            ? [{ step: 'stop' as const, argv: dockerStop(name, t.rollout.container.stopTimeout) }]
            : []),
          { step: 'start', argv: dockerRun(spec, next), undo: dockerRemove(next) },
        ],
        started: next,
        after: [
          ...(current ? [{ step: 'switch' as const, argv: dockerRemove(name) }] : []),
          { step: 'switch', argv: dockerRename(next, name) },
          record,
        ],
      };
    }
    case 'compose': {
      const c = composeTarget(t.rollout);
      return {
        before: [
          { step: 'configure', argv: composeSetTag(c, t.tag) },
          ...(t.pulled ? [] : [{ step: 'pull' as const, argv: composePull(c) }]),
          { step: 'start', argv: composeUp(c) },
        ],
        after: [record],
      };
    }
    case 'command': {
      const hooks = hooksOf(t.rollout);
      const values = { image: t.image, tag: t.tag, app: t.app, env: t.environment };
      const cmd = (argv: string[]): Cmd => ({ step: 'hook', argv });
      return {
        before: hookCommands({ pre: hooks.pre, deploy: hooks.deploy, post: [] }, values).map(cmd),
        after: [...hookCommands({ pre: [], deploy: [], post: hooks.post }, values).map(cmd), record],
      };
    }
  }
}

/**
 * Rolling back a host that ran nothing before: remove what this rollout started. The `command` strategy
 * has nothing to undo with; undefined says so (the engine reports the rollback as failed).
 */
export function removeCommands(
  t: Omit<HostTarget, 'tag' | 'jobId' | 'image'>,
  current: RunningImage | undefined,
): Cmd[] | undefined {
  switch (t.rollout.strategy) {
    case 'docker': {
      const name = containerName(t.app, t.environment, t.rollout.container);
      return [{ step: 'remove', argv: dockerRemove(nextName(name), name), mayFail: true }];
    }
    case 'compose':
      return current?.container ? [{ step: 'remove', argv: dockerRemove(current.container) }] : [];
    case 'command':
      return undefined;
  }
}
