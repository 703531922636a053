/** What runs on a host for an app's environment now: the no-op check, rollback records and the reconciler read it. */
import type { EnvironmentConfig } from '../config/schema.js';
import type { Fleet } from '../ssh/fleet.js';
import type { ExecOptions, SshSession } from '../ssh/types.js';
import { CommandFailed } from '../ssh/errors.js';
import { inspectCommand } from './host-commands.js';
import type { RunningImage } from './types.js';

export interface RunningTarget {
  app: string;
  environment: string;
  env: EnvironmentConfig;
  /** `ssh.stateDir` (the `command` strategy's record lives there). */
  stateDir?: string;
}

// fjord's labels, and those docker compose writes on the services the compose strategy runs.
const OURS = ['fjord.', 'com.docker.compose.'];

/**
 * The labels fjord wrote (`fjord.*`; for compose, compose's own `com.docker.compose.*`). A real engine
 * merges the image's labels into the container's (`org.opencontainers.image.*`, or an image's own
 * `fjord.tag`, which our `--label` overrides): those are not ours to read.
 */
export function parseLabels(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  // `docker ps` gives labels as one `k=v,k=v` string; `docker inspect` as an object.
  const all: Record<string, unknown> =
    typeof value === 'string'
      ? Object.fromEntries(
          value
            .split(',')
            .filter(Boolean)
            .map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]),
        )
      : ((value ?? {}) as Record<string, unknown>);
  return Object.fromEntries(
    Object.entries(all).filter(
      (e): e is [string, string] => OURS.some((p) => e[0].startsWith(p)) && typeof e[1] === 'string',
    ),
  );
}

/** Parses the inspect command's output: `name|image:tag|state|labels` lines, or one recorded `image:tag`. */
export function parseRunning(
  stdout: string,
  strategy: EnvironmentConfig['rollout']['strategy'],
): RunningImage | undefined {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return undefined;
  if (strategy === 'command') return { ref: lines[0]!, state: 'recorded', labels: {} };
  const rows = lines.map((line) => {
    const [name = '', ref = '', state = '', ...labels] = line.split('|');
    return { container: name.replace(/^\//, ''), ref, state, labels: parseLabels(labels.join('|') || '{}') };
  });
  return rows.find((r) => r.state === 'running') ?? rows[0];
}

/** Judges the inspect command's result: undefined when nothing is deployed; CommandFailed when it failed otherwise. */
export function runningResult(
  host: string,
  argv: string[],
  r: { exitCode: number; stdout: string; stderr: string },
  strategy: EnvironmentConfig['rollout']['strategy'],
): RunningImage | undefined {
  if (r.exitCode !== 0) {
    // `docker inspect` of a missing container: exit 1, "No such container" / "No such object".
    if (/No such (container|object)/.test(r.stderr)) return undefined;
    throw new CommandFailed(host, argv, r.exitCode, r.stderr, 'inspect');
  }
  return parseRunning(r.stdout, strategy);
}

/** The inspect command of `t` (see `parseRunning` for its output). */
export const runningCommand = (t: RunningTarget): string[] =>
  inspectCommand({ app: t.app, environment: t.environment, rollout: t.env.rollout, stateDir: t.stateDir ?? '.fjord' });

/** Runs the inspect command on an open session; undefined when nothing is deployed there. */
export async function readRunningOn(
  session: SshSession,
  t: RunningTarget,
  options: ExecOptions = {},
): Promise<RunningImage | undefined> {
  const argv = runningCommand(t);
  return runningResult(
    session.host.name,
    argv,
    await session.exec(argv, { step: 'inspect', ...options }),
    t.env.rollout.strategy,
  );
}

/** The image:tag (with container name, state and labels) running for `app`/`environment` on `host`. */
export async function readRunning(fleet: Fleet, host: string, t: RunningTarget): Promise<RunningImage | undefined> {
  return readRunningOn(await fleet.session(host), t);
}
