/**
 * Issue 12, items 11 and 12, on a real sshd host with its own Docker engine and a real registry:
 * `fjord deploy` while the worker's rollout holds the host lock refuses (or waits) before committing, and
 * `fjord rollback` after an automatic rollback skips the version whose rollout failed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import { parseConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import type { RolloutEvent } from '../../lib/rollout/types.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const FILE = 'api/prod.yaml';

describe('fjord deploy / rollback against a host the worker holds', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image = '';
  let port = 0;
  const repos: TestRepo[] = [];

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2']) image = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    await pushTestImage(registry.url, 'v3-sick', 'unhealthy', { name: 'acme/api' });
    // Becomes healthy only after 20 s: the worker's rollout of it holds the host lock that long at least.
    await pushTestImage(registry.url, 'v-slow', 'slow', { name: 'acme/api', env: { SLOW: '20' } });
    port = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop()]);
    for (const r of repos) r.cleanup();
  });

  /** `healthTimeout`: the slow release needs more than its 20 s; the sick one fails at the deadline. */
  function setup(healthTimeout = '90s') {
    const repo = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
    repos.push(repo);
    const dir = mkdtempSync(join(tmpdir(), 'fjord-cli-locked-'));
    const yaml = fleetConfigYaml({
      fleet,
      repository: repo.bare,
      image,
      extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
      environments: `
      prod:
        manifest: { file: ${FILE}, path: image.tag }
        hosts: [web-1]
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 200ms, timeout: ${healthTimeout} }, hostTimeout: 3m }
`,
    });
    writeFileSync(join(dir, 'fjord.yaml'), yaml);
    const env = { FJORD_LOG_LEVEL: 'warn', FJORD_SSH_KEY: fleet.privateKey.reveal() };
    const cli = async (args: string[], onOut: (s: string) => void = () => {}) => {
      let out = '';
      let err = '';
      const code = await main(args, {
        stdout: (s) => {
          out += s;
          onOut(s);
        },
        stderr: (s) => {
          err += s;
        },
        env,
        cwd: dir,
      });
      return { code, out, err };
    };
    const tagNow = () => /tag: (\S+)/.exec(repo.git(['show', `main:${FILE}`]))![1];
    const subjects = () => repo.git(['log', '--format=%s', 'main']).trim().split('\n');
    return { repo, dir, yaml, env, cli, tagNow, subjects };
  }

  it('fjord deploy refuses while the worker holds the host lock, and commits nothing; with --wait it deploys after the worker', async () => {
    const { dir, yaml, env, cli, tagNow, subjects } = setup();
    assert.equal((await cli(['deploy', 'api', 'prod', '--tag', 'v1'])).code, 0);
    // The worker (same ports as every run mode) rolls out the slow release; it holds web-1 from its lock step.
    let locked!: () => void;
    const held = new Promise<void>((r) => (locked = r));
    const onRolloutEvent = (e: RolloutEvent) => {
      if (e.type === 'host-step' && e.step === 'lock' && e.status === 'ok' && !e.rollback) locked();
    };
    const ports = makeDeployPorts({
      config: parseConfig(yaml),
      configPath: join(dir, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-worker-')),
      env,
      onRolloutEvent,
    });
    const workerJob = makeJob({
      app: 'api',
      environment: 'prod',
      image,
      tag: 'v-slow',
      id: 'worker-job-slow',
      reason: 'merge',
    });
    const worker = deploy(
      workerJob,
      { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal },
      ports,
    );
    await held;
    const commits = subjects().length;

    const refused = await cli(['deploy', 'api', 'prod', '--tag', 'v2', '--wait', '0s']);
    assert.equal(refused.code, 1, refused.out + refused.err);
    assert.match(refused.err, /host web-1: locked by another deploy \(job=worker-job-slow, .*nothing was committed/);
    assert.equal(subjects().length, commits, 'nothing committed');
    assert.equal(tagNow(), 'v-slow');

    // Waiting: the command starts while the lock is held and commits only once the worker let go.
    let sawWait = false;
    let manifestWhileWaiting: string | undefined;
    const waited = await cli(['deploy', 'api', 'prod', '--tag', 'v2', '--wait', '5m'], (s) => {
      if (!sawWait && /^waiting for web-1: locked by another deploy \(job=worker-job-slow/m.test(s)) {
        sawWait = true;
        manifestWhileWaiting = tagNow();
      }
    });
    assert.equal(waited.code, 0, waited.out + waited.err);
    assert.ok(sawWait, waited.out);
    assert.equal(manifestWhileWaiting, 'v-slow', 'not committed while waiting');
    assert.equal((await worker).status, 'deployed');
    assert.doesNotMatch(waited.out, /took over a lock/, 'its own lock is no news');
    assert.equal(tagNow(), 'v2');
    assert.match(subjects()[0]!, /^deploy\(api\/prod\): .*:v2$/);
    assert.match(subjects()[1]!, /^deploy\(api\/prod\): .*:v-slow$/);
    assert.equal(await served(fleet.hosts[0]!.address, port), 'v2');
    assert.equal(existsSync(join(fleet.hosts[0]!.home, '.fjord', 'lock')), false, 'no lock left');
  });

  it('fjord rollback after an automatic rollback goes to the version before the failure, not the failed one', async () => {
    const { cli, tagNow } = setup('5s');
    assert.equal((await cli(['deploy', 'api', 'prod', '--tag', 'v1'])).code, 0);
    assert.equal((await cli(['deploy', 'api', 'prod', '--tag', 'v2'])).code, 0);
    const sick = await cli(['deploy', 'api', 'prod', '--tag', 'v3-sick']);
    assert.equal(sick.code, 1);
    assert.match(sick.out, /manifest restored to v2/);
    assert.equal(tagNow(), 'v2');
    const back = await cli(['rollback', 'api', 'prod']);
    assert.equal(back.code, 0, back.out + back.err);
    assert.match(back.out, /api\/prod rollback v1: deployed/);
    assert.equal(tagNow(), 'v1');
    assert.equal(await served(fleet.hosts[0]!.address, port), 'v1');
  });
});
