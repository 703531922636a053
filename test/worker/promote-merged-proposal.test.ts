/**
 * A deploy held in a merge request (`writeBack: mr`) is rolled out by the converge its merge causes; a
 * downstream environment (`promoteFrom`) is promoted then, as after a direct commit. Real parts: a bare
 * manifest repository through the git backend, the proposal branch merged by fast-forward and by a real
 * merge commit, the receiver's routing of the GitLab push payload built from the real commits, and the
 * worker's deploy pipeline with a queue port that records what it is handed. No hosts: the commit is the deploy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo, gitSync } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

function setup() {
  const repo = createBareRepo({ 'api/staging.yaml': 'image:\n  tag: v0\n', 'api/prod.yaml': 'image:\n  tag: v0\n' });
  const config = parseConfig(`
sources: { gitlab: {} }
manifest: { backend: git, repository: ${repo.bare}, project: ops/manifests }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      staging: { manifest: { file: api/staging.yaml, path: image.tag }, writeBack: mr }
      prod: { manifest: { file: api/prod.yaml, path: image.tag }, promoteFrom: staging }
`);
  const queued: DeployJob[] = [];
  const ports = makeDeployPorts({
    config,
    configPath: join(repo.root, 'fjord.yaml'),
    dataDir: mkdtempSync(join(tmpdir(), 'fjord-promote-mr-')),
    enqueue: async (job) => void queued.push(job),
  });
  const head = () => repo.git(['rev-parse', 'main']).trim();
  /** The converge job of GitLab's push event for main moving from `from` to its head. */
  const pushed = (from: string): DeployJob => {
    const to = head();
    const commits = repo
      .git(['rev-list', '--reverse', `${from}..${to}`])
      .trim()
      .split('\n')
      .map((id) => ({
        id,
        message: repo.git(['log', '-1', '--format=%B', id]),
        timestamp: new Date().toISOString(),
        modified: repo
          .git(['diff-tree', '-m', '--first-parent', '--no-commit-id', '--name-only', '-r', id])
          .trim()
          .split('\n'),
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
    const routed = routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
      config,
      deliveryId: `d-${to.slice(0, 8)}`,
      now: Date.now,
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    assert.deepEqual(
      routed.jobs.map((j) => [j.environment, j.reason]),
      [['staging', 'converge']],
    );
    return routed.jobs[0]!;
  };
  const tagOf = (env: string) => /tag: (\S+)/.exec(repo.git(['show', `main:api/${env}.yaml`]))![1];
  return { repo, ports, queued, head, pushed, tagOf };
}

describe('promotion after a merged writeBack: mr proposal', () => {
  it('merged by fast-forward: the converge promotes prod, and the promoted job deploys it', async () => {
    const { repo, ports, queued, head, pushed, tagOf } = setup();
    const proposed = await deploy(
      makeJob({ app: 'api', environment: 'staging', tag: 'v1', id: 'job-staging-v1' }),
      ctx,
      ports,
    );
    assert.equal(proposed.status, 'proposed', proposed.detail);
    assert.equal(queued.length, 0, 'nothing promoted while the change waits in its merge request');
    const from = head();
    repo.git(['update-ref', 'refs/heads/main', repo.git(['rev-parse', 'fjord/api-staging-v1']).trim(), from]);
    const converged = await deploy(pushed(from), ctx, ports);
    assert.equal(converged.status, 'deployed', converged.detail);
    assert.deepEqual(
      (converged.promotions as Array<{ environment: string; result: string }>).map((p) => [p.environment, p.result]),
      [['prod', 'queued']],
    );
    assert.deepEqual(
      queued.map((j) => [j.environment, j.reason, j.tag]),
      [['prod', 'promote', 'v1']],
    );
    const promoted = await deploy(queued[0]!, ctx, ports);
    assert.equal(promoted.status, 'deployed', promoted.detail);
    assert.equal(tagOf('prod'), 'v1');
  });

  it("merged with a merge commit after a person's commit: promoted the same; a hand edit of the file is not a promotion", async () => {
    const { repo, ports, queued, head, pushed } = setup();
    assert.equal(
      (await deploy(makeJob({ app: 'api', environment: 'staging', tag: 'v2', id: 'job-staging-v2' }), ctx, ports))
        .status,
      'proposed',
    );
    repo.pushChange('NOTES.md', 'notes\n', 'notes: a person was here');
    const from = head();
    const work = join(repo.root, 'merge-work');
    gitSync(repo.root, ['clone', '--quiet', repo.bare, work]);
    gitSync(work, [
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      "Merge branch 'fjord/api-staging-v2'",
      'origin/fjord/api-staging-v2',
    ]);
    gitSync(work, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const converged = await deploy(pushed(from), ctx, ports);
    assert.equal(converged.status, 'deployed', converged.detail);
    assert.deepEqual(
      queued.map((j) => [j.environment, j.tag]),
      [['prod', 'v2']],
    );

    // A person sets staging's tag by hand: converged, but no promotion of a tag fjord did not deploy.
    const before = head();
    repo.pushChange('api/staging.yaml', 'image:\n  tag: v9\n', 'staging: try v9 by hand');
    const hand = await deploy(pushed(before), ctx, ports);
    assert.equal(hand.status, 'noop', hand.detail);
    assert.equal(queued.length, 1, 'no promotion of a hand edit');
  });
});
