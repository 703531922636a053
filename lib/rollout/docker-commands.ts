/**
 * argv builders for the `docker` strategy (Docker CLI reference: docs.docker.com/reference/cli/docker/).
 * The new container starts under a temporary name (`<name>-next`), is health-checked there, and only then
 * replaces the old one (`rm -f` + `rename`), like Kamal. With published host ports two containers cannot
 * bind the same port, so then the old one is stopped first (downtime of one start + health check).
 */
import type { RolloutConfig } from '../config/schema.js';
import { secretsRunArgs, type ContainerSecrets } from './env-file-commands.js';

type Container = RolloutConfig['container'];

export interface ContainerTarget {
  app: string;
  environment: string;
  jobId: string;
  /** `image:tag` */
  ref: string;
  tag: string;
  container: Container;
  /** The app's secrets (env file written before the start). */
  secrets?: ContainerSecrets;
}

/** The running container's name: `container.name`, else `<app>-<environment>`. */
export const containerName = (app: string, environment: string, container: Container): string =>
  container.name ?? `${app}-${environment}`;
/** Where the new container is started before it replaces the old one. */
export const nextName = (name: string): string => `${name}-next`;
/** Stop-then-start: asked for, or forced by fixed host ports that the old container holds. */
export const stopsFirst = (container: Container): boolean => container.stopFirst || container.ports.length > 0;

export const dockerPull = (ref: string): string[] => ['docker', 'pull', ref];
/** Whole seconds for `docker stop -t` / `--stop-timeout` (both take an integer), rounded up. */
export const stopSeconds = (ms: number): string => String(Math.ceil(ms / 1000));
/** `docker stop`, with `container.stopTimeout` as the grace before SIGKILL when set (docker's own default: 10 s). */
export const dockerStop = (name: string, stopTimeoutMs?: number): string[] => [
  'docker',
  'stop',
  ...(stopTimeoutMs === undefined ? [] : ['-t', stopSeconds(stopTimeoutMs)]),
  name,
];
export const dockerRemove = (...names: string[]): string[] => ['docker', 'rm', '-f', ...names];
export const dockerRename = (from: string, to: string): string[] => ['docker', 'rename', from, to];

/** Labels recording what a container is: read back by `readRunning` and the reconciler. */
export function fjordLabels(t: Pick<ContainerTarget, 'app' | 'environment' | 'tag' | 'jobId'>): string[] {
  return [`fjord.app=${t.app}`, `fjord.environment=${t.environment}`, `fjord.tag=${t.tag}`, `fjord.job=${t.jobId}`];
}

/** `docker run -d` of the configured spec under `name`. */
export function dockerRun(t: ContainerTarget, name: string, extraLabels: readonly string[] = []): string[] {
  const c = t.container;
  const argv = ['docker', 'run', '-d', '--name', name, '--restart', c.restart];
  if (c.init) argv.push('--init');
  if (c.stopTimeout !== undefined) argv.push('--stop-timeout', stopSeconds(c.stopTimeout));
  for (const p of c.ports) argv.push('-p', p);
  if (c.envFile) argv.push('--env-file', c.envFile);
  argv.push(...secretsRunArgs(t.secrets));
  for (const [k, v] of Object.entries(c.env)) argv.push('-e', `${k}=${v}`);
  for (const v of c.volumes) argv.push('-v', v);
  for (const l of [...fjordLabels(t), ...extraLabels]) argv.push('--label', l);
  return [...argv, t.ref, ...c.args];
}

// One JSON object (the engine's whole State, plus RestartCount, which lives outside it): `container-state.ts`
// reads it. `docker run -d` succeeds even when the program exits at once, and under a restart policy a
// crash loop reads `Running=true`: Status, Restarting and RestartCount tell (shared/REAL-FLEET.md).
const STATE_FORMAT = '{"state":{{json .State}},"restartCount":{{json .RestartCount}}}';

/** The named container's state as one JSON line (see `parseContainerState`); exit 1 when there is none. */
export const dockerInspectState = (name: string): string[] => [
  'docker',
  'inspect',
  '--type',
  'container',
  '--format',
  STATE_FORMAT,
  name,
];

/** The second line of `STARTED_FORMAT` for a container that counts as started (`notStarted`'s rule), as a shell compares it. */
export const STARTED_LINE = 'running true false 0';
/** `STATE_FORMAT`, then `Status Running Restarting RestartCount` on a line of its own (health-loop.ts). */
export const STARTED_FORMAT = `${STATE_FORMAT}\n{{.State.Status}} {{.State.Running}} {{.State.Restarting}} {{.RestartCount}}`;

/** `dockerInspectState` with the line a shell compares with `STARTED_LINE`. */
export const dockerInspectStarted = (name: string): string[] => [
  ...dockerInspectState(name).slice(0, -2),
  STARTED_FORMAT,
  name,
];

/** The last `lines` lines the container wrote, stdout and stderr in the order the engine returns them. */
export const dockerLogs = (name: string, lines = 50): string[] => [
  'sh',
  '-c',
  'exec docker logs --tail "$2" "$1" 2>&1',
  'fjord-logs',
  name,
  String(lines),
];

// `|`-separated; labels as JSON so values with any character survive.
const INSPECT_FORMAT = '{{.Name}}|{{.Config.Image}}|{{.State.Status}}|{{json .Config.Labels}}';

/** One line `/name|image:tag|state|{labels}` for the named container; exit 1 when there is none. */
export const dockerInspectRunning = (name: string): string[] => [
  'docker',
  'inspect',
  '--type',
  'container',
  '--format',
  INSPECT_FORMAT,
  name,
];
