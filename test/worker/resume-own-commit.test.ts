/**
 * A redelivered job that finds its own commit at the manifest's head (its first delivery committed, then the
 * worker died or its ack was lost — seen in the SQS storm under load) finishes that deploy: it reports
 * `deployed` with the first delivery's commit and promotes downstream, as the first delivery would have.
 * Before, it reported `noop` and never promoted. A fresh delivery (attempt 1) of a finished job stays a no-op. Real parts: a bare git manifest repository through the git
 * backend and the worker's deploy pipeline. No hosts: the manifest commit is the deploy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 2,
  logger: silentLogger,
  signal: new AbortController().signal,
};

function setup() {
  const repo = createBareRepo({ 'staging.yaml': 'image:\n  tag: v0\n', 'prod.yaml': 'image:\n  tag: v0\n' });
  const config = parseConfig(`
sources: { gitlab: {} }
manifest: { backend: git, repository: ${repo.bare} }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      staging: { manifest: { file: staging.yaml, path: image.tag } }
      prod:
        manifest: { file: prod.yaml, path: image.tag }
        promoteFrom: staging
        promote: auto
`);
  const queued: DeployJob[] = [];
  const ports = makeDeployPorts({
    config,
    configPath: join(repo.root, 'fjord.yaml'),
    dataDir: mkdtempSync(join(tmpdir(), 'fjord-resume-')),
    enqueue: async (j: DeployJob) => void queued.push(j),
  });
  const commits = () => Number(repo.git(['rev-list', '--count', 'main']));
  return { repo, ports, queued, commits };
}

describe('a redelivery that finds its own commit', () => {
  it('reports deployed with the first delivery’s commit, commits nothing more, and promotes', async () => {
    const { repo, ports, queued, commits } = setup();
    try {
      const job = makeJob({ n: 1, tag: 'v1', environment: 'staging' });
      const first = await deploy(job, ctx, ports);
      assert.equal(first.status, 'deployed', first.detail);
      const after = commits();
      // The first delivery's worker died after its commit (its promotion lost with it): the queue delivers again.
      queued.length = 0;
      const again = await deploy(job, ctx, ports);
      assert.equal(again.status, 'deployed', again.detail);
      assert.equal(again.commitId, first.commitId);
      assert.equal(commits(), after, 'no second commit');
      assert.deepEqual(
        queued.map((j) => [j.environment, j.reason, j.tag]),
        [['prod', 'promote', 'v1']],
      );
    } finally {
      repo.cleanup();
    }
  });

  it('a late duplicate (a fresh delivery, attempt 1) of a job that finished is a no-op', async () => {
    const { repo, ports, queued } = setup();
    try {
      const job = makeJob({ n: 1, tag: 'v1', environment: 'staging' });
      assert.equal((await deploy(job, ctx, ports)).status, 'deployed');
      queued.length = 0;
      const late = await deploy(job, { ...ctx, attempts: 1 }, ports);
      assert.equal(late.status, 'noop', late.detail);
      assert.deepEqual(queued, []);
    } finally {
      repo.cleanup();
    }
  });

  it('a different job finding the same tag at the head is still a no-op', async () => {
    const { repo, ports, queued } = setup();
    try {
      assert.equal((await deploy(makeJob({ n: 1, tag: 'v1', environment: 'staging' }), ctx, ports)).status, 'deployed');
      queued.length = 0;
      const other = await deploy(makeJob({ n: 2, tag: 'v1', environment: 'staging' }), ctx, ports);
      assert.equal(other.status, 'noop', other.detail);
      assert.deepEqual(queued, []);
    } finally {
      repo.cleanup();
    }
  });
});
