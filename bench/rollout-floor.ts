/**
 * The rollout benchmark's floor: the least work that puts a new tag on the same hosts with the same
 * parallelism. A local `git commit` + push of the one-line manifest change, then per batch (in sequence,
 * hosts of a batch in parallel) a bare ssh2 `Client` (default settings, key auth) that runs the docker
 * strategy's own steps as ONE remote script: pull, stop the old container (published ports), run the new
 * one, curl the health URL until 200 at the same interval, remove the old one and rename. No lock, no
 * inspect, no state record, no per-command round trips: what fjord adds on top is the ratio.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ssh2';
import type { RolloutConfig } from '../lib/config/schema.js';
import { dockerPull, dockerRemove, dockerRename, dockerRun, dockerStop, nextName } from '../lib/rollout/docker-commands.js';
import { healthProbe } from '../lib/rollout/health-commands.js';
import { joinArgv } from '../lib/ssh/quote.js';
import type { FleetHost } from '../test/fixtures/fleet.js';

const run = promisify(execFile);

export interface FloorCase {
  hosts: FleetHost[];
  batch: number;
  privateKey: string;
  /** A clone of the floor's own bare manifest repository, pushing to `origin main`. */
  clone: string;
  file: string;
  image: string;
  name: string;
  port: number;
  intervalMs: number;
}

/** The remote script: the docker strategy's steps for `image:tag`, health polled at `intervalMs`. */
export function floorScript(c: Pick<FloorCase, 'image' | 'name' | 'port' | 'intervalMs'>, tag: string): string {
  const ref = `${c.image}:${tag}`;
  const next = nextName(c.name);
  const container: RolloutConfig['container'] = { ports: [`${c.port}:8080`], env: {}, volumes: [], args: [], restart: 'unless-stopped', stopFirst: false, settle: 0, init: false };
  const probe = joinArgv(healthProbe({ port: c.port, path: '/healthz', interval: c.intervalMs, timeout: 30_000 }));
  const sleep = (c.intervalMs / 1000).toFixed(3);
  return [
    'set -e',
    joinArgv(dockerPull(ref)) + ' >/dev/null',
    joinArgv(dockerStop(c.name)) + ' >/dev/null 2>&1 || true', // the first run has no old container
    joinArgv(dockerRun({ app: 'floor', environment: 'bench', jobId: tag, ref, tag, container }, next)) + ' >/dev/null',
    // The probe prints the body on stdout and `fjord-probe <status> <curl exit>` on stderr.
    `n=0; until ${probe} 2>&1 >/dev/null | grep -q 'fjord-probe 200 0'; do n=$((n+1)); [ $n -lt 300 ] || exit 9; sleep ${sleep}; done`,
    joinArgv(dockerRemove(c.name)) + ' >/dev/null 2>&1 || true',
    joinArgv(dockerRename(next, c.name)),
  ].join('\n');
}

/** Connect (default ssh2 settings) + one exec of `script`; rejects unless it exits 0. */
function execOnce(host: FleetHost, privateKey: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const fail = (err: Error) => (client.end(), reject(err));
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(script, (err, stream) => {
        if (err) return fail(err);
        let stderr = '';
        stream.on('data', () => undefined);
        stream.stderr.on('data', (d: Buffer) => (stderr += d));
        stream.on('close', (code: number | null) => {
          client.end();
          if (code === 0) resolve();
          else reject(new Error(`floor on ${host.name}: exit ${code}: ${stderr.slice(-500)}`));
        });
      });
    });
    client.connect({ host: host.address, port: host.port, username: host.user, privateKey });
  });
}

/** Seconds for one floor rollout of `tag`. */
export async function floorRollout(c: FloorCase, tag: string): Promise<number> {
  const started = performance.now();
  writeFileSync(join(c.clone, c.file), `image:\n  repository: ${c.image}\n  tag: ${tag}\n`);
  await run('git', ['commit', '--quiet', '-am', `deploy ${tag}`], { cwd: c.clone });
  await run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: c.clone });
  const script = floorScript(c, tag);
  for (let i = 0; i < c.hosts.length; i += c.batch) await Promise.all(c.hosts.slice(i, i + c.batch).map((h) => execOnce(h, c.privateKey, script)));
  return (performance.now() - started) / 1000;
}
