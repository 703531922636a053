/**
 * Issue 12, item 10: a branch fjord proposed (`writeBack: mr`, `promote: mr`) merged by fast-forward or
 * rebase lands fjord's own commit on the manifest branch as is; its push must converge the fleet, not be
 * skipped as "fjord's own commit". Real parts: a bare manifest repository through the git backend, the
 * receiver's routing of a GitLab push payload built from the real commits, one sshd host with its own
 * Docker engine pulling from a real registry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { silentLogger } from '../../lib/log.js';
import { buildCommitMessage } from '../../lib/manifest/commit-message.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { createBareRepo, gitSync, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe("fjord's own merge requests, merged by fast-forward or rebase", { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image = '';
  let qaPort = 0;
  let prodPort = 0;
  const repos: TestRepo[] = [];
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2']) image = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    qaPort = await freePort(fleet.hosts[0]!.address);
    prodPort = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop()]);
    for (const r of repos) r.cleanup();
  });

  function setup() {
    const repo = createBareRepo({
      'api/staging.yaml': 'image:\n  tag: v0\n',
      'api/qa.yaml': 'image:\n  tag: v0\n',
      'api/prod.yaml': 'image:\n  tag: v0\n',
    });
    repos.push(repo);
    const rollout = (p: number) =>
      `rollout: { container: { ports: ["${p}:8080"] }, healthCheck: { port: ${p}, path: ${HEALTH_PATH}, interval: 200ms, timeout: 30s }, hostTimeout: 1m }`;
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
        environments: `
      qa:
        manifest: { file: api/qa.yaml, path: image.tag }
        hosts: [web-1]
        writeBack: mr
        ${rollout(qaPort)}
      staging:
        manifest: { file: api/staging.yaml, path: image.tag }
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        promoteFrom: staging
        promote: mr
        ${rollout(prodPort)}
`,
      }),
    );
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-own-mr-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    /** GitLab's push event for main moving from `from` to its head, built from the real commits. */
    const pushed = (from: string) => {
      const to = repo.git(['rev-parse', 'main']).trim();
      const commits = repo
        .git(['rev-list', '--reverse', `${from}..${to}`])
        .trim()
        .split('\n')
        .map((id) => ({
          id,
          message: repo.git(['log', '-1', '--format=%B', id]),
          timestamp: new Date().toISOString(),
          modified: repo.git(['diff-tree', '--no-commit-id', '--name-only', '-r', id]).trim().split('\n'),
        }));
      const push = {
        object_kind: 'push',
        ref: 'refs/heads/main',
        before: from,
        after: to,
        checkout_sha: to,
        user_name: 'Ada Person',
        project: { path_with_namespace: 'ops/manifests' },
        commits,
      };
      return routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
        config,
        deliveryId: `d-${to.slice(0, 8)}`,
        now: Date.now,
      });
    };
    const head = () => repo.git(['rev-parse', 'main']).trim();
    /** A fast-forward merge of `branch`: main moves to the branch's commit as is. */
    const fastForward = (branch: string) =>
      repo.git(['update-ref', 'refs/heads/main', repo.git(['rev-parse', branch]).trim(), head()]);
    /** A rebase merge of `branch`: its commits re-made on top of main, messages (and trailers) kept. */
    const rebaseMerge = (branch: string) => {
      const work = join(repo.root, `rebase-${branch.replace(/\W/g, '-')}`);
      gitSync(repo.root, ['clone', '--quiet', repo.bare, work]);
      gitSync(work, ['checkout', '--quiet', branch]);
      gitSync(work, ['rebase', '--quiet', 'origin/main']);
      gitSync(work, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    };
    return { repo, ports, pushed, head, fastForward, rebaseMerge };
  }

  it('a fast-forwarded writeBack: mr branch and a rebase-merged promote: mr branch each roll their environment out', async () => {
    const { repo, ports, pushed, head, fastForward, rebaseMerge } = setup();
    const proposed = await deploy(
      makeJob({ app: 'api', environment: 'qa', image, tag: 'v1', id: 'job-qa-v1' }),
      ctx,
      ports,
    );
    assert.equal(proposed.status, 'proposed', proposed.detail);
    let from = head();
    fastForward('fjord/api-qa-v1');
    const qaPush = pushed(from);
    assert.ok('jobs' in qaPush, `the merged proposal converges: ${JSON.stringify(qaPush)}`);
    assert.deepEqual(
      qaPush.jobs.map((j) => [j.environment, j.reason]),
      [['qa', 'converge']],
    );
    const qa = await deploy(qaPush.jobs[0]!, ctx, ports);
    assert.equal(qa.status, 'deployed', qa.detail);
    assert.equal(await served(fleet.hosts[0]!.address, qaPort), 'v1');

    // Staging's deploy (a direct commit) proposes production; a person's commit lands first, so the merge rebases.
    const staged = await deploy(
      makeJob({ app: 'api', environment: 'staging', image, tag: 'v2', id: 'job-staging-v2' }),
      ctx,
      ports,
    );
    assert.deepEqual(
      (staged.promotions as Array<{ result: string }>).map((p) => p.result),
      ['proposed fjord/api-prod-v2'],
    );
    repo.pushChange('NOTES.md', 'freeze lifted\n', 'notes: freeze lifted');
    from = head();
    rebaseMerge('fjord/api-prod-v2');
    const prodPush = pushed(from);
    assert.ok('jobs' in prodPush, JSON.stringify(prodPush));
    assert.deepEqual(
      prodPush.jobs.map((j) => [j.environment, j.reason]),
      [['prod', 'converge']],
    );
    const prod = await deploy(prodPush.jobs[0]!, ctx, ports);
    assert.equal(prod.status, 'deployed', prod.detail);
    assert.equal(await served(fleet.hosts[0]!.address, prodPort), 'v2');

    // A commit fjord rolled out itself (writeBack: commit) is still skipped when its push arrives.
    const direct = makeJob({ app: 'api', environment: 'prod', image, tag: 'v2', id: 'job-prod-v2' });
    const id = 'd'.repeat(40);
    const own = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: id,
      checkout_sha: id,
      project: { path_with_namespace: 'ops/manifests' },
      commits: [{ id, message: buildCommitMessage(direct), modified: ['api/prod.yaml'] }],
    };
    const skipped = routeEvent(parseGitlab('Push Hook', own) as SourceEvent, {
      config: ports.config,
      deliveryId: 'd-own',
      now: Date.now,
    });
    assert.ok(!('jobs' in skipped), JSON.stringify(skipped));
    assert.match(skipped.ignored, /manifest push of fjord's own commits/);
  });
});
