/**
 * The rollout benchmark's floor: the least work that puts a new tag on the same hosts, same engines, same
 * parallelism. A local `git commit` + push of the one-line manifest change; every host connected at once;
 * the pull on every host (at most `pullParallel` at once, as fjord's pre-pull); then per batch (in
 * sequence, hosts of a batch in parallel) ONE remote script per host with the docker commands fjord runs
 * in a batch (start, the running check, health polled at the same interval, switch), taken from fjord's
 * own builders (`deployCommands`) so the two cannot drift apart. One bare ssh2 `Client` per host (default
 * settings, key auth), reused from pull to script. No lock, no inspect, no state records, no per-command
 * round trips: what fjord adds on top is the ratio.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RolloutConfig } from '../lib/config/schema.js';
import { containerName, nextName as nextOf } from '../lib/rollout/docker-commands.js';
import { deployCommands, prePullCommand } from '../lib/rollout/host-commands.js';
import type { Cmd, HostTarget } from '../lib/rollout/host-command-types.js';
import { healthProbe } from '../lib/rollout/health-commands.js';
import { planBatches } from '../lib/rollout/plan-batches.js';
import { joinArgv } from '../lib/ssh/quote.js';
import type { FleetHost } from '../test/fixtures/fleet.js';
import { connectFloor, eachLimited, type FloorClient } from './floor-ssh.js';

const run = promisify(execFile);

export interface FloorCase {
  hosts: FleetHost[];
  privateKey: string;
  /** A clone of the floor's own bare manifest repository, pushing to `origin main`. */
  clone: string;
  file: string;
  image: string;
  /** The floor's own environment (its own container name and port), as fjord's config parsed it. */
  environment: string;
  rollout: RolloutConfig;
}

/** `argv` as one script line; a command that may fail (clean-up) does not stop the script. */
const line = (c: Cmd) => joinArgv(c.argv) + ' >/dev/null' + (c.mayFail ? ' 2>&1 || true' : '');

/** The remote script of one batch host: fjord's docker commands for `image:tag` after the pre-pull. */
export function floorScript(
  c: Pick<FloorCase, 'image' | 'environment' | 'rollout'>,
  tag: string,
  replaces: boolean,
): string {
  const { before, after } = deployCommands(
    floorTarget(c, tag),
    replaces ? { ref: `${c.image}:old`, state: 'running', labels: {} } : undefined,
  );
  const steps = (cmds: Cmd[]) => cmds.filter((x) => x.step !== 'record').map(line); // the state record is fjord's own
  // fjord's settle window: the container must still run `settle` after its start (overlapping the health
  // check), then its state is read once more.
  const settle = c.rollout.container.settle;
  const settled = [
    `left=$(( ${settle} - ($(date +%s%3N) - started) )); [ "$left" -le 0 ] || sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"`,
    runningCheck(c),
  ];
  return [
    'set -e',
    ...steps(before),
    'started=$(date +%s%3N)',
    healthLoop(c.rollout),
    ...settled,
    ...steps(after),
  ].join('\n');
}

/** A shell loop polling fjord's own health probe at the check's interval until 200, exit 9 at its timeout. */
export function healthLoop(rollout: RolloutConfig): string {
  const hc = rollout.healthCheck;
  if (!hc || 'command' in hc) throw new Error('rollout floor: an HTTP health check is expected');
  const probe = joinArgv(healthProbe(hc));
  // The probe prints the body on stdout and `fjord-probe <status> <curl exit>` on stderr.
  return `n=0; until ${probe} 2>&1 >/dev/null | grep -q 'fjord-probe 200 0'; do n=$((n+1)); [ $n -lt ${Math.ceil(hc.timeout / hc.interval)} ] || exit 9; sleep ${(hc.interval / 1000).toFixed(3)}; done`;
}

/** The new container still runs and has not restarted (fjord's check after the settle window). */
export function runningCheck(c: Pick<FloorCase, 'environment' | 'rollout'>): string {
  return `docker inspect --type container --format '{{.State.Status}} {{.RestartCount}}' ${joinArgv([nextOf(containerName('api', c.environment, c.rollout.container))])} | grep -qx 'running 0'`;
}

/** The host target fjord's builders get for the floor's (or a peer's) own environment. */
export function floorTarget(c: Pick<FloorCase, 'image' | 'environment' | 'rollout'>, tag: string): HostTarget {
  return {
    app: 'api',
    environment: c.environment,
    jobId: `floor-${tag}`,
    image: c.image,
    tag,
    rollout: c.rollout,
    stateDir: '.fjord',
    pulled: true,
  };
}

/**
 * Seconds for one floor rollout of `tag`. `replaces`: an old container runs on every host (after a
 * warm-up), so the script removes it at the switch.
 */
export async function floorRollout(c: FloorCase, tag: string, replaces = true): Promise<number> {
  const started = performance.now();
  writeFileSync(join(c.clone, c.file), `image:\n  repository: ${c.image}\n  tag: ${tag}\n`);
  await run('git', ['commit', '--quiet', '-am', `deploy ${tag}`], { cwd: c.clone });
  await run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: c.clone });
  const clients = new Map<string, FloorClient>();
  try {
    // Every host connected at once (as fjord's preflight), then the pulls, at most pullParallel at a time.
    await Promise.all(c.hosts.map(async (h) => clients.set(h.name, await connectFloor(h, c.privateKey))));
    const pull = joinArgv(prePullCommand(floorTarget(c, tag))!.argv) + ' >/dev/null';
    await eachLimited(c.hosts, c.rollout.pullParallel, (h) => clients.get(h.name)!.exec(pull));
    const script = floorScript(c, tag, replaces);
    const batches = planBatches(
      c.hosts.map((h) => h.name),
      c.rollout.batchSize,
      c.rollout.canary,
    );
    for (const batch of batches) await Promise.all(batch.map((name) => clients.get(name)!.exec(script)));
  } finally {
    for (const client of clients.values()) client.end();
  }
  return (performance.now() - started) / 1000;
}
