/**
 * `bench/peers` (rollout half): fjord against Ansible doing the same rollout on the same fleet (the bench
 * fleet: real sshd hosts, each with its own real Docker engine, a real loopback registry). fjord: a merge
 * job through `deploy()`, manifest commit + push included, as bench/rollout.ts measures it. Ansible:
 * `ansible-playbook` with the play of bench/ansible-play.ts (pull everywhere, then `serial: 5` batches of
 * fjord's docker steps and health poll), tuned: pipelining, ControlPersist, no facts. Both in batches of 5,
 * fjord's settle window off (the play has none); every run deploys a tag of its own pushed before the clock
 * starts; fjord and Ansible alternate run by run, each with its own container and port, after one warm-up
 * each that leaves an old container on every host.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../lib/config/index.js';
import { silentLogger } from '../lib/log.js';
import { deploy } from '../lib/worker/deploy.js';
import { makeDeployPorts } from '../lib/worker/make-handler.js';
import type { JobContext } from '../lib/worker/worker-loop.js';
import { createBareRepo } from '../test/fixtures/git/repo.js';
import { fleetConfigYaml } from '../test/fixtures/fleet-config.js';
import { makeJob } from '../test/fixtures/jobs.js';
import type { FleetHost, TestFleet } from '../test/fixtures/fleet.js';
import { freePort } from '../test/fixtures/sshd.js';
import { ansibleConfig, ansibleInventory, ansiblePlaybook, knownHosts, type PlayCase } from './ansible-play.js';
import { HEALTH_PATH, startBenchFleet } from './bench-fleet.js';

const run = promisify(execFile);

export interface AnsiblePeerRow {
  hosts: number;
  batch: number;
  /** Median seconds of fjord: `deploy()` of a merge job until `deployed`. */
  seconds: number;
  /** Median seconds of `ansible-playbook` for the same hosts and batch size. */
  ansibleSeconds: number;
  /** seconds ÷ ansibleSeconds. */
  ratio: number;
}

const BATCH = 5;
const WARM_BATCH = 10;
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Closes the SSH masters a run left in `controlDir` (ControlPersist would keep them 60 s). */
async function closeMasters(controlDir: string): Promise<void> {
  await Promise.all(
    readdirSync(controlDir).map((s) =>
      run('ssh', ['-S', join(controlDir, s), '-O', 'exit', 'fleet-host']).catch(() => undefined),
    ),
  );
}

/**
 * A runner of the Ansible peer in `dir` (a short path: ControlPath sockets must fit in 108 bytes): each call
 * writes a fresh ansible.cfg, inventory and playbook, runs `ansible-playbook` and resolves its seconds, or
 * rejects with the tail of its output. Every run starts cold (its own ControlPath directory; the masters
 * are closed after it), as a CI job running the play would.
 */
export function makeAnsibleRunner(
  dir: string,
  fleet: TestFleet,
): (hosts: FleetHost[], play: PlayCase, tag: string, replaces: boolean) => Promise<number> {
  const keyFile = join(dir, 'id');
  writeFileSync(keyFile, fleet.privateKey.reveal(), { mode: 0o600 });
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, knownHosts(fleet.hosts));
  let runNo = 0;
  return async (hosts, play, tag, replaces) => {
    const runDir = join(dir, String(++runNo));
    const controlDir = join(runDir, 'cp');
    mkdirSync(controlDir, { recursive: true });
    writeFileSync(
      join(runDir, 'ansible.cfg'),
      ansibleConfig({ forks: play.rollout.pullParallel, controlDir, knownHostsFile }),
    );
    writeFileSync(join(runDir, 'hosts.yml'), ansibleInventory(hosts, keyFile));
    writeFileSync(join(runDir, 'play.yml'), ansiblePlaybook(play, tag, replaces));
    const started = performance.now();
    try {
      await run('ansible-playbook', ['-i', 'hosts.yml', 'play.yml'], {
        cwd: runDir,
        env: { ...process.env, ANSIBLE_CONFIG: join(runDir, 'ansible.cfg') },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(
        `ansible-playbook ${play.environment} ${tag} failed:\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-1000)}`,
      );
    } finally {
      await closeMasters(controlDir);
    }
    return (performance.now() - started) / 1000;
  };
}

export async function benchAnsiblePeer({
  hosts: sizes = [1, 5, 20],
  runs = 3,
}: {
  hosts?: number[];
  runs?: number;
} = {}): Promise<AnsiblePeerRow[]> {
  const bench = await startBenchFleet(Math.max(...sizes));
  const { fleet, image } = bench;
  const values = (tag: string) => `image:\n  repository: ${image}\n  tag: ${tag}   # fjord\n`;
  const repo = createBareRepo(
    Object.fromEntries(sizes.flatMap((n) => [`p${n}`, `p${n}w`]).map((env) => [`api/${env}.yaml`, values('v0')])),
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-peers-'));
  const dir = mkdtempSync('/tmp/fj-ans-');
  try {
    const address = fleet.hosts[0]!.address;
    const cases: Array<{ hosts: number; env: string; port: number; ansiblePort: number }> = [];
    for (const n of sizes)
      cases.push({ hosts: n, env: `p${n}`, port: await freePort(address), ansiblePort: await freePort(address) });
    const envYaml = (env: string, c: (typeof cases)[number], batch: number, name: string, port: number) => `
      ${env}:
        manifest: { file: api/${env}.yaml, path: image.tag }
        hosts: [${fleet.hosts
          .slice(0, c.hosts)
          .map((h) => h.name)
          .join(', ')}]
        rollout: { batchSize: ${batch}, container: { name: ${name}, ports: ["${port}:8080"], settle: 0s }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 100ms, timeout: 20s }, hostTimeout: 60s }`;
    const environments = cases
      .map(
        (c) =>
          envYaml(c.env, c, BATCH, `api-${c.env}`, c.port) +
          envYaml(`${c.env}w`, c, WARM_BATCH, `api-${c.env}`, c.port) +
          envYaml(`${c.env}a`, c, BATCH, `ansible-${c.env}`, c.ansiblePort),
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

    const fjordRun = async (env: string, tag: string) => {
      await bench.push(tag);
      const started = performance.now();
      const outcome = await deploy(
        makeJob({ app: 'api', environment: env, image, tag, id: `bench-${env}-${tag}`, reason: 'merge' }),
        ctx,
        ports,
      );
      if (outcome.status !== 'deployed')
        throw new Error(`peers bench: fjord ${env} ${tag}: ${outcome.status}: ${outcome.detail ?? ''}`);
      return (performance.now() - started) / 1000;
    };
    const ansible = makeAnsibleRunner(dir, fleet);
    const ansibleRun = async (c: (typeof cases)[number], play: PlayCase, tag: string, replaces = true) => {
      await bench.push(tag);
      return ansible(fleet.hosts.slice(0, c.hosts), play, tag, replaces);
    };

    const rows: AnsiblePeerRow[] = [];
    for (const c of cases) {
      const play: PlayCase = {
        image,
        environment: `${c.env}a`,
        rollout: config.apps.api!.environments[`${c.env}a`]!.rollout,
      };
      await Promise.all([
        fjordRun(`${c.env}w`, `${c.env}-w`),
        ansibleRun(c, { ...play, rollout: { ...play.rollout, batchSize: WARM_BATCH } }, `${c.env}-aw`, false),
      ]);
      const seconds: number[] = [];
      const ansibleSeconds: number[] = [];
      for (let i = 1; i <= runs; i++) {
        seconds.push(await fjordRun(c.env, `${c.env}-r${i}`));
        ansibleSeconds.push(await ansibleRun(c, play, `${c.env}-a${i}`));
      }
      const s = median(seconds);
      const a = median(ansibleSeconds);
      rows.push({
        hosts: c.hosts,
        batch: BATCH,
        seconds: round(s, 2),
        ansibleSeconds: round(a, 2),
        ratio: round(s / a, 2),
      });
    }
    return rows;
  } finally {
    await bench.stop();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
