/**
 * `bench/rollout`: merge event → all hosts healthy, through the real deploy pipeline (`deploy()` with the
 * ports the worker uses: manifest commit + push to a real bare repository, then the rollout engine over
 * real sshd hosts, each with its own REAL Docker engine, pulling from a real loopback registry), for 1, 5
 * and 20 hosts in batches of 1 and 5. Each case is set against its floor (`rollout-floor.ts`) measured in
 * the same run on the same engines with the same parallelism; the two alternate run by run so machine load
 * hits both alike. One 20-host fleet serves every case (first n hosts).
 *
 * Every run deploys a tag of its own (pushed before the clock starts), so every host really pulls a new
 * image and replaces its container; fjord and the floor never deploy the same tag, so neither finds the
 * other's image already pulled. A warm-up run per case first leaves an old container on every host, as
 * in steady state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../lib/config/index.js';
import { silentLogger } from '../lib/log.js';
import { deploy } from '../lib/worker/deploy.js';
import { makeDeployPorts } from '../lib/worker/make-handler.js';
import type { JobContext } from '../lib/worker/worker-loop.js';
import { createBareRepo, gitSync } from '../test/fixtures/git/repo.js';
import { fleetConfigYaml } from '../test/fixtures/fleet-config.js';
import { makeJob } from '../test/fixtures/jobs.js';
import { freePort } from '../test/fixtures/sshd.js';
import { HEALTH_PATH, startBenchFleet } from './bench-fleet.js';
import { floorRollout, type FloorCase } from './rollout-floor.js';

export interface RolloutRow {
  hosts: number;
  batch: number;
  /** Median seconds from `deploy()` of a merge job until it resolved `deployed`. */
  seconds: number;
  /** Median seconds of the floor for the same hosts and batch size. */
  floorSeconds: number;
  ratio: number;
}

const INTERVAL_MS = 100;
/** Hosts at a time in warm-up runs (not measured). */
const WARM_BATCH = 10;
const CASES = [
  { hosts: 1, batch: 1 },
  { hosts: 5, batch: 1 },
  { hosts: 5, batch: 5 },
  { hosts: 20, batch: 1 },
  { hosts: 20, batch: 5 },
];
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Runs every case `runs` times (after one warm-up), fjord and floor alternating, and reports medians. */
export async function benchRollout({
  runs = 3,
  cases: only = CASES,
}: {
  runs?: number;
  cases?: typeof CASES;
} = {}): Promise<{ rows: RolloutRow[] }> {
  const bench = await startBenchFleet(Math.max(...only.map((c) => c.hosts)));
  const { fleet, image } = bench;
  const values = (tag: string) => `image:\n  repository: ${image}\n  tag: ${tag}   # fjord\n`;
  const envName = (c: (typeof CASES)[number]) => `h${c.hosts}b${c.batch}`;
  const files = Object.fromEntries(
    only.flatMap((c) => [envName(c), `${envName(c)}w`]).map((env) => [`api/${env}.yaml`, values('v0')]),
  );
  const repo = createBareRepo(files);
  const floorRepo = createBareRepo(files, { name: 'floor' });
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-rollout-'));
  try {
    const address = fleet.hosts[0]!.address;
    const cases: Array<(typeof CASES)[number] & { env: string; port: number; floorPort: number }> = [];
    for (const c of only)
      cases.push({ ...c, env: envName(c), port: await freePort(address), floorPort: await freePort(address) });
    // Each case's warm-up twin (`…w`) runs the same container (name, port) with wide batches: it leaves
    // an old container on every host of the case cheaply, so the measured run replaces one as in steady
    // state. The floor's environment (`…f`) is parsed by the same schema: only its container and port differ.
    const envYaml = (env: string, c: (typeof cases)[number], batch: number, name = `api-${c.env}`, port = c.port) => `
      ${env}:
        manifest: { file: api/${env}.yaml, path: image.tag }
        hosts: [${fleet.hosts
          .slice(0, c.hosts)
          .map((h) => h.name)
          .join(', ')}]
        rollout: { batchSize: ${batch}, container: { name: ${name}, ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: ${INTERVAL_MS}ms, timeout: 20s }, hostTimeout: 60s }`;
    const environments = cases
      .map(
        (c) =>
          envYaml(c.env, c, c.batch) +
          envYaml(`${c.env}w`, c, WARM_BATCH) +
          envYaml(`${c.env}f`, c, c.batch, `floor-${c.env}`, c.floorPort),
      )
      .join('');
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        environments,
        extra: `registries: [{ host: "${bench.registry.host}", insecure: true }]\n`,
      }),
    );
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir,
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    const clone = join(floorRepo.root, 'clone');
    gitSync(floorRepo.root, ['clone', '--quiet', floorRepo.bare, clone]);

    const pipeline = async (env: string, tag: string) => {
      await bench.push(tag);
      const started = performance.now();
      const outcome = await deploy(
        makeJob({ app: 'api', environment: env, image, tag, id: `bench-${env}-${tag}`, reason: 'merge' }),
        ctx,
        ports,
      );
      if (outcome.status !== 'deployed')
        throw new Error(`rollout bench: ${env} ${tag}: ${outcome.status}: ${outcome.detail ?? ''}`);
      return (performance.now() - started) / 1000;
    };
    const floorRun = async (floor: FloorCase, tag: string, replaces = true) => {
      await bench.push(tag);
      return floorRollout(floor, tag, replaces);
    };
    const rows: RolloutRow[] = [];
    for (const c of cases) {
      const rollout = config.apps.api!.environments[`${c.env}f`]!.rollout;
      const floor: FloorCase = {
        hosts: fleet.hosts.slice(0, c.hosts),
        privateKey: fleet.privateKey.reveal(),
        clone,
        file: `api/${c.env}.yaml`,
        image,
        environment: `${c.env}f`,
        rollout,
      };
      await Promise.all([
        pipeline(`${c.env}w`, `${c.env}-w`),
        floorRun({ ...floor, rollout: { ...rollout, batchSize: WARM_BATCH } }, `${c.env}-fw`, false),
      ]);
      const seconds: number[] = [];
      const floorSeconds: number[] = [];
      for (let i = 1; i <= runs; i++) {
        seconds.push(await pipeline(c.env, `${c.env}-r${i}`));
        floorSeconds.push(await floorRun(floor, `${c.env}-f${i}`));
      }
      const s = median(seconds);
      const f = median(floorSeconds);
      rows.push({
        hosts: c.hosts,
        batch: c.batch,
        seconds: round(s, 2),
        floorSeconds: round(f, 2),
        ratio: round(s / f, 2),
      });
    }
    return { rows };
  } finally {
    await bench.stop();
    repo.cleanup();
    floorRepo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
