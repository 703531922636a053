/**
 * Holds (issue 14, item 3) on real parts: a real sshd host with its own Docker engine, images from the
 * loopback registry, a real bare manifest repository. Rollback → hold → the next merge is committed but not
 * rolled out (and a reconcile does not heal toward it) → `fjord release` rolls it out.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import type { Config } from '../../lib/config/index.js';
import { HOLDS_FILE, parseHolds } from '../../lib/holds/hold.js';
import { silentLogger } from '../../lib/log.js';
import { parseTrailers } from '../../lib/manifest/trailers.js';
import { reconcileJobs } from '../../lib/reconcile/reconcile-jobs.js';
import type { DeployJob } from '../../lib/job.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { handlerInDir } from '../fixtures/handler-in-dir.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage, type ImageMode } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('holds after a rollback', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let config: Config;
  let handle: JobHandler;
  let port: number;
  let IMAGE = 'unset';
  const dir = mkdtempSync(join(tmpdir(), 'fjord-holds-'));
  const env = () => ({
    FJORD_SSH_KEY: fleet.privateKey.reveal(),
    FJORD_LOG_LEVEL: 'warn',
    FJORD_DATA_DIR: join(dir, 'cli-data'),
  });
  const values = (tag: string) => `# values\nimage:\n  tag: ${tag}   # fjord\n`;
  const queued: DeployJob[] = [];

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    const images: Array<[string, ImageMode]> = [
      ['v1', 'web'],
      ['v2-unhealthy', 'unhealthy'],
      ['v3', 'web'],
    ];
    for (const [tag, mode] of images) IMAGE = await pushTestImage(registry.url, tag, mode, { name: 'acme/api' });
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ 'api/prod.yaml': values('v0') });
    const yaml = fleetConfigYaml({
      fleet,
      repository: repo.bare,
      image: IMAGE,
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        selfHeal: true
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 6s }, hostTimeout: 40s }
`,
    });
    ({ config, handle } = handlerInDir(dir, yaml, env(), queued));
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop()]);
    repo?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main([...args, '--config', join(dir, 'fjord.yaml')], {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: env(),
      cwd: dir,
    });
    return { code, out, err };
  };
  const merge = (tag: string) =>
    makeJob({ app: 'api', environment: 'prod', image: IMAGE, tag, id: `job-prod-${tag}`, reason: 'merge' });
  const tagInGit = () => /tag: (\S+)/.exec(repo.git(['show', 'main:api/prod.yaml']))![1];
  const holds = () => parseHolds(repo.git(['show', `main:${HOLDS_FILE}`]));
  const onHost = () => served(fleet.hosts[0]!.address, port);

  it('rollback → hold → the next merge is committed but not rolled out → fjord release rolls it out', async () => {
    const first = await cli('deploy', 'api', 'prod', '--tag', 'v1');
    assert.equal(first.code, 0, first.out + first.err);
    assert.equal(await onHost(), 'v1');

    // An unhealthy release: the automatic rollback holds the environment, in git, naming the rollback commit.
    const bad = await handle(merge('v2-unhealthy'), ctx);
    assert.equal(bad.status, 'failed', bad.detail);
    const rollbackCommit = repo.git(['log', '-1', '--format=%H', '--', 'api/prod.yaml']).trim();
    assert.match(repo.git(['log', '-1', '--format=%s', '--', 'api/prod.yaml']), /^rollback\(api\/prod\)/);
    const hold = holds()['api/prod'];
    assert.ok(hold, 'the environment is held');
    assert.equal(hold.rollback, rollbackCommit);
    assert.equal(hold.by, 'fjord');
    assert.match(hold.reason, /^automatic rollback of v2-unhealthy: host web-1 failed at health/);
    assert.equal(parseTrailers(repo.git(['log', '-1', '--format=%B', '--', HOLDS_FILE]))['Fjord-Hold'], 'api/prod');

    // The next merge: committed (git says v3, marked held), the host keeps v1, nothing promoted.
    const next = await handle(merge('v3'), ctx);
    assert.equal(next.status, 'held', next.detail);
    assert.match(
      next.detail!,
      /v3 committed \([0-9a-f]{12}\), not rolled out: api\/prod is held since .*release with `\/fjord release prod` or `fjord release api prod`/,
    );
    assert.equal(tagInGit(), 'v3');
    assert.match(
      parseTrailers(repo.git(['log', '-1', '--format=%B', '--', 'api/prod.yaml']))['Fjord-Held'] ?? '',
      /^since \d{4}-/,
    );
    assert.equal(await onHost(), 'v1');

    // The reconciler reports the drift as held and does not heal toward v3 (selfHeal is on).
    const [reconcile] = reconcileJobs(config, new Date());
    const drift = await handle(reconcile!, ctx);
    assert.equal(drift.status, 'drifted');
    assert.match(drift.detail!, /^HELD: web-1 drifted \(running v1\); want v3; not healed: api\/prod is held/);
    assert.deepEqual(queued, [], 'no heal job was enqueued');
    // A redelivery of the held merge does not roll it out either.
    assert.equal((await handle(merge('v3'), ctx)).status, 'held');
    assert.equal(await onHost(), 'v1');

    const released = await cli('release', 'api', 'prod');
    assert.equal(released.code, 0, released.out + released.err);
    assert.match(released.out, /api\/prod released \([0-9a-f]{12}\)/);
    assert.match(released.out, /api\/prod converge v3: deployed/);
    assert.equal(await onHost(), 'v3');
    assert.deepEqual(holds(), {});
    assert.equal(parseTrailers(repo.git(['log', '-1', '--format=%B', '--', HOLDS_FILE]))['Fjord-Release'], 'api/prod');
  });

  it('fjord hold holds on purpose and fjord rollback holds too; a merge is committed, not rolled out', async () => {
    const held = await cli('hold', 'api', 'prod', '--reason', 'incident 42');
    assert.equal(held.code, 0, held.err);
    assert.equal(holds()['api/prod']?.reason, 'incident 42');
    assert.equal((await handle(merge('v1'), ctx)).status, 'held');
    assert.equal(tagInGit(), 'v1');
    assert.equal(await onHost(), 'v3');
    assert.equal((await cli('release', 'api', 'prod')).code, 0);
    assert.equal(await onHost(), 'v1');

    const back = await cli('rollback', 'api', 'prod', '--to', 'v3');
    assert.equal(back.code, 0, back.out + back.err);
    assert.equal(await onHost(), 'v3');
    assert.match(holds()['api/prod']?.reason ?? '', /^fjord rollback to v3$/);
    assert.equal((await handle(merge('v1'), ctx)).status, 'held');
    assert.equal(await onHost(), 'v3');
    // A hold's reason is one line: a newline is refused and nothing is written.
    const before = repo.git(['rev-parse', 'main']);
    const bad = await cli('hold', 'api', 'prod', '--reason', 'a\nb');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /hold of api\/prod: reason: not a valid single-line text/);
    assert.equal(repo.git(['rev-parse', 'main']), before);
  });
});
