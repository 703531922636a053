/**
 * `bench/e2e`: a merged-MR webhook POSTed to a running embedded fjord (`startEmbedded`: the real Node
 * receiver, the durable local queue, the worker) until the job's outcome is `deployed` — every stage of
 * the product in one figure: authenticate, validate, route, durable enqueue, dequeue, manifest commit +
 * push to a real bare repository, rollout over real sshd hosts, each with its own REAL Docker engine
 * pulling from a real loopback registry, with health checks. Every merge deploys a tag of its own.
 *
 * Baseline, measured in the same run and interleaved: the 202 alone (the same POST answered by the same
 * receiver, the job not yet run) and the rollout floor (`rollout-floor.ts`: git commit + push, then one
 * pull everywhere, then one bare ssh2 script per host, same batches and engines). `vs floor` = e2e
 * seconds / (202 + floor seconds).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../lib/config/index.js';
import { startEmbedded } from '../lib/embedded/start-embedded.js';
import type { DeployJob } from '../lib/job.js';
import { silentLogger } from '../lib/log.js';
import type { Outcome } from '../lib/worker/outcome.js';
import { createBareRepo, gitSync } from '../test/fixtures/git/repo.js';
import { fleetConfigYaml } from '../test/fixtures/fleet-config.js';
import { gitlabHeaders, GITLAB_TOKENS, payload } from '../test/fixtures/receiver.js';
import { freePort } from '../test/fixtures/sshd.js';
import { HEALTH_PATH, startBenchFleet } from './bench-fleet.js';
import { floorRollout, type FloorCase } from './rollout-floor.js';

export interface E2eRow {
  hosts: number;
  batch: number;
  /** Median seconds: POST → outcome `deployed`. */
  seconds: number;
  /** Median milliseconds: POST → 202. */
  acceptMs: number;
  floorSeconds: number;
  ratio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function benchE2e({
  hosts = 3,
  batch = 1,
  runs = 3,
}: {
  hosts?: number;
  batch?: number;
  runs?: number;
} = {}): Promise<E2eRow> {
  const bench = await startBenchFleet(hosts);
  const { fleet, image } = bench;
  const values = (tag: string) => `image:\n  repository: ${image}\n  tag: ${tag}   # fjord\n`;
  const repo = createBareRepo({ 'api/production.yaml': values('v0') });
  const floorRepo = createBareRepo({ 'api/production.yaml': values('v0') }, { name: 'floor' });
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-e2e-'));
  let running: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  try {
    const mr = payload('gitlab-merge-request');
    const address = fleet.hosts[0]!.address;
    const [port, floorPort] = [await freePort(address), await freePort(address)];
    // fjord's config (one environment, so the merge deploys only it) and the floor's, parsed by the same
    // schema: only the container and port differ.
    const configOf = (env: string, name: string, p: number) =>
      parseConfig(
        fleetConfigYaml({
          fleet,
          repository: repo.bare,
          image,
          environments: `
      ${env}:
        manifest: { file: api/production.yaml, path: image.tag }
        hosts: [${fleet.hosts.map((h) => h.name).join(', ')}]
        rollout: { batchSize: ${batch}, container: { name: ${name}, ports: ["${p}:8080"] }, healthCheck: { port: ${p}, path: ${HEALTH_PATH}, interval: 100ms, timeout: 20s }, hostTimeout: 60s }`,
          extra: `registries: [{ host: "${bench.registry.host}", insecure: true }]\n`,
        }).replace(
          'source: { project: acme/api }',
          `source: { project: ${mr.project.path_with_namespace}, branch: ${mr.object_attributes.target_branch} }`,
        ),
      );
    const config = configOf('production', 'api-e2e', port);
    const waiting = new Map<string, (o: Outcome) => void>();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'fjord.yaml'), '# bench\n');
    const embedded = await startEmbedded({
      config,
      configPath: join(dir, 'fjord.yaml'),
      env: { S: GITLAB_TOKENS[0], FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_DATA_DIR: join(dir, 'data') },
      cwd: dir,
      logger: silentLogger,
      port: 0,
      hostname: '127.0.0.1',
      onOutcome: (job: DeployJob, o: Outcome) => waiting.get(job.sha ?? '')?.(o),
    });
    running = embedded;
    const clone = join(floorRepo.root, 'clone');
    gitSync(floorRepo.root, ['clone', '--quiet', floorRepo.bare, clone]);
    const floorConfig = configOf('floor', 'floor-e2e', floorPort).apps.api!.environments.floor!.rollout;
    const floor: FloorCase = {
      hosts: fleet.hosts,
      privateKey: fleet.privateKey.reveal(),
      clone,
      file: 'api/production.yaml',
      image,
      environment: 'floor',
      rollout: floorConfig,
    };
    const floorRun = async (tag: string, replaces = true) => {
      await bench.push(tag);
      return floorRollout(floor, tag, replaces);
    };

    const merge = async (i: number): Promise<{ seconds: number; acceptMs: number }> => {
      const sha = (i.toString(16).padStart(8, '0') + 'e2e').padEnd(40, 'a');
      const body = structuredClone(mr);
      body.object_attributes.merge_commit_sha = sha;
      body.object_attributes.iid = 1000 + i;
      const done = new Promise<Outcome>((resolve) => waiting.set(sha, resolve));
      await bench.push(sha.slice(0, 8)); // the tag the merge deploys: its short sha (the app's default tag template)
      const started = performance.now();
      const answer = await fetch(`${embedded.url}/hooks/gitlab`, {
        method: 'POST',
        headers: gitlabHeaders('Merge Request Hook'),
        body: JSON.stringify(body),
      });
      const acceptMs = performance.now() - started;
      if (answer.status !== 202)
        throw new Error(`e2e bench: webhook answered ${answer.status}: ${await answer.text()}`);
      const outcome = await done;
      if (outcome.status !== 'deployed') throw new Error(`e2e bench: ${outcome.status}: ${outcome.detail ?? ''}`);
      return { seconds: (performance.now() - started) / 1000, acceptMs };
    };

    await Promise.all([merge(0), floorRun('w0', false)]); // warm-up: an old container on every host
    const seconds: number[] = [];
    const accept: number[] = [];
    const floors: number[] = [];
    for (let i = 1; i <= runs; i++) {
      const r = await merge(i);
      seconds.push(r.seconds);
      accept.push(r.acceptMs);
      floors.push(await floorRun(`r${i}`));
    }
    const s = median(seconds);
    const a = median(accept);
    const f = median(floors);
    return {
      hosts,
      batch,
      seconds: round(s, 2),
      acceptMs: round(a, 1),
      floorSeconds: round(f, 2),
      ratio: round(s / (f + a / 1000), 2),
    };
  } finally {
    await running?.stop();
    await bench.stop();
    repo.cleanup();
    floorRepo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
