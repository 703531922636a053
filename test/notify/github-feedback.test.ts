/**
 * GitHub feedback of whole deploys (issue 14, item 5), through the handler every run mode uses
 * (makeDeployHandler with createNotifier) on real parts: two sshd hosts with a real Docker engine each,
 * Debian's docker-registry (the image wait), a bare manifest repository, and the GitHub stand-in over
 * loopback HTTP holding the app repository and its merged pull requests. What GitHub was told, in order,
 * for a healthy rollout, for its redelivery, and for an unhealthy one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import type { JobHandler } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { assertInOrder } from '../fixtures/in-order.js';
import { mergePull } from '../fixtures/github/merged-pull.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';

const REPO = 'acme/api';

describe('deploy feedback on GitHub: statuses, the PR comment timeline, a deployment', {
  skip: engineMissing(),
}, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let github: GithubStandIn;
  let app: TestRepo;
  let manifests: TestRepo;
  let handle: () => JobHandler;
  let image: string;
  let pulls = 0;
  let healthy: DeployJob;
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const ctx = { heartbeat: async () => {}, attempts: 1, logger, signal: new AbortController().signal };

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    image = `${registry.host}/acme/api`;
    await pushTestImage(registry.url, 'v2', 'web', { name: 'acme/api' });
    await pushTestImage(registry.url, 'v3-unhealthy', 'unhealthy', { name: 'acme/api' });
    app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    manifests = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v1\n' });
    github = await startGithubStandIn({ repositories: { [REPO]: { repo: app.bare } } });
    const port = await freePort(fleet.hosts[0]!.address);
    const yaml = fleetConfigYaml({
      fleet,
      repository: manifests.bare,
      image,
      app: 'waitForImage: 5s',
      extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        rollout: { batchSize: 1, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 4s }, hostTimeout: 40s }
`,
    })
      .replace(/^sources: .*$/m, `sources: { github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN } }`)
      .replace('source: { project: acme/api }', `source: { provider: github, project: ${REPO} }`);
    const config = parseConfig(yaml);
    const env = { FJORD_SSH_KEY: fleet.privateKey.reveal(), GITHUB_TOKEN: github.token };
    // A new handler is a new process: nothing remembered of comment or deployment ids.
    handle = () =>
      makeDeployHandler({
        config,
        configPath: join(manifests.root, 'fjord.yaml'),
        dataDir: mkdtempSync(join(tmpdir(), 'fjord-gh-feedback-')),
        env,
        notifier: createNotifier(config, { env, logger }),
      });
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), github?.close()]);
    app?.cleanup();
    manifests?.cleanup();
  });

  /** A merged PR on the app repository (its merge commit on main), and the job its webhook would make. */
  async function mergedJob(tag: string): Promise<DeployJob> {
    const number = ++pulls;
    const sha = await mergePull(github, app, REPO, number, tag);
    return makeJob({
      id: `job-gh-feedback-${tag}`,
      image,
      tag,
      sha,
      source: { provider: 'github', project: REPO, ref: 'main', mr: number },
      enqueuedAt: new Date().toISOString(),
    });
  }
  const statesOf = (job: DeployJob) =>
    github.state.statuses.filter((s) => s.sha === job.sha).map((s) => [s.context, s.state, s.description]);
  const commentOf = (job: DeployJob) => {
    const comments = github.state.comments.filter((c) => c.issueNumber === job.source.mr);
    assert.equal(comments.length, 1, 'one comment per deploy, edited in place');
    return comments[0]!;
  };
  const deploymentsOf = (job: DeployJob) => github.state.deployments.filter((d) => d.sha === job.sha);

  it('a healthy rollout: pending → pending "rolling out" → success, the timeline in one PR comment, a deployment in_progress → success', async () => {
    healthy = await mergedJob('v2');
    const job = healthy;
    const outcome = await handle()(job, ctx);
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.ok(
      !github.state.requests.some((r) => r.status >= 400),
      `GitHub refused nothing: ${JSON.stringify(github.state.requests.filter((r) => r.status >= 400))}`,
    );

    assert.deepEqual(
      statesOf(job).map(([c, s]) => [c, s]),
      [
        ['fjord/prod', 'pending'],
        ['fjord/prod', 'pending'],
        ['fjord/prod', 'success'],
      ],
    );
    assert.deepEqual(
      statesOf(job)
        .slice(0, 2)
        .map(([, , d]) => d),
      ['waiting to deploy v2', 'rolling out v2'],
    );
    assert.match(String(statesOf(job)[2]![2]), /^deployed/);
    const comment = commentOf(job);
    assert.ok(comment.revisions.length >= 3, `the comment followed the deploy (${comment.revisions.length} revisions)`);
    assert.ok(
      comment.revisions.slice(0, -1).every((r) => /### ⏳ fjord: deploying/.test(r) && !r.includes('done:')),
      'progress edits, then one final edit',
    );
    const commitId = manifests.git(['rev-parse', 'main']).trim();
    assertInOrder(comment.body, [
      /✔ received \(merge of #\d+\)/,
      /✔ image found: 127\.0\.0\.1:\d+\/acme\/api:v2/,
      `manifest committed: api/prod.yaml v1 → v2 (${commitId.slice(0, 12)})`,
      'rollout started: v2 to 2 host(s) in 2 batch(es)',
      /batch 1\/2 healthy: web-1/,
      /batch 2\/2 healthy: web-2/,
      '✔ done: deployed',
      /\| web-1 \| updated \| connect /,
    ]);
    const [d, more] = deploymentsOf(job);
    assert.equal(more, undefined, 'one deployment');
    assert.deepEqual([d!.ref, d!.environment], [job.sha, 'prod']);
    assert.deepEqual(
      d!.statuses.map((s) => s.state),
      ['in_progress', 'success'],
    );
    assert.equal(
      d!.statuses.at(-1)!.logUrl,
      `${github.url}/web/${REPO}/pull/${job.source.mr}#issuecomment-${comment.id}`,
    );
  });

  it('the same job redelivered to a fresh worker: the same comment and deployment, no second of either', async () => {
    const redelivered = healthy;
    const before = commentOf(redelivered).revisions.length;
    const outcome = await handle()(redelivered, ctx);
    assert.ok(outcome.status === 'noop' || outcome.status === 'deployed', `${outcome.status}: ${outcome.detail}`);
    assert.ok(commentOf(redelivered).revisions.length > before, 'the comment was edited');
    assert.match(commentOf(redelivered).body, new RegExp(`: ${outcome.status}`));
    assert.equal(deploymentsOf(redelivered).length, 1, 'no second deployment');
    assert.deepEqual(
      deploymentsOf(redelivered)[0]!.statuses.map((s) => s.state),
      ['in_progress', 'success', 'in_progress', 'success'],
    );
    assert.equal(statesOf(redelivered).at(-1)![1], 'success');
  });

  it('an unhealthy rollout: pending → pending → failure, where it failed in the comment, the deployment failure', async () => {
    const job = await mergedJob('v3-unhealthy');
    const outcome = await handle()(job, ctx);
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(
      statesOf(job).map(([, s]) => s),
      ['pending', 'pending', 'failure'],
    );
    assert.ok([...String(statesOf(job)[2]![2])].length <= 140);
    assertInOrder(commentOf(job).body, [
      '✔ rollout started',
      /✖ batch 1\/2 failed: web-1 at health/,
      '✖ rolling back web-1',
      '✔ hosts back on their previous image',
      /✖ failed at health on web-1: /,
      'Failed on `web-1` at step `health`',
    ]);
    assert.deepEqual(
      deploymentsOf(job)[0]!.statuses.map((s) => s.state),
      ['in_progress', 'failure'],
    );
  });

  it('no log line carries the GitHub token', () => {
    assert.ok(lines.length > 10, 'the deploys were logged');
    assert.ok(!lines.join('\n').includes(github.token), 'GitHub token logged');
  });
});
