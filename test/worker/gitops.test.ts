/**
 * Issue 4 end to end: the deploy pipeline with the rollout engine over real sshd hosts (a real Docker engine
 * each, images from the loopback registry),
 * a real bare manifest repository, and the receiver's routing for manifest pushes. Merge → commit →
 * rollout; an unhealthy image → hosts and manifest put back; a person's `git revert` → converge;
 * promotion from staging (auto and MR), and none after a failure.
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
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { makeJob } from '../fixtures/jobs.js';
import { freePort } from '../fixtures/sshd.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { engineMissing } from '../fixtures/engine.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { HEALTH_PATH, pushTestImage, type ImageMode } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

let IMAGE = 'unset';
const values = (tag: string) => `# values\nimage:\n  repository: ${IMAGE}\n  tag: ${tag}   # fjord\n`;
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('gitops pipeline over a real sshd fleet', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let stagingPort: number;
  let prodPort: number;
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 3, engine: true }), startRegistry()]);
    const images: Array<[string, ImageMode]> = [
      ['v1', 'web'],
      ['v2-unhealthy', 'unhealthy'],
      ['v3-unhealthy', 'unhealthy'],
      ['v4', 'web'],
      ['v5', 'web'],
      ['v6', 'web'],
    ];
    for (const [tag, mode] of images) IMAGE = await pushTestImage(registry.url, tag, mode, { name: 'acme/api' });
    stagingPort = await freePort(fleet.hosts[0]!.address);
    prodPort = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });

  const setup = (promote: 'auto' | 'mr') => {
    const repo = createBareRepo({ 'api/staging.yaml': values('v0'), 'api/prod.yaml': values('v0') });
    const env = (port: number) =>
      `rollout: { batchSize: 2, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 6s }, hostTimeout: 40s }`;
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image: IMAGE,
        environments: `
      staging:
        manifest: { file: api/staging.yaml, path: image.tag }
        hosts: [web-1]
        ${env(stagingPort)}
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2, web-3]
        promoteFrom: staging
        promote: ${promote}
        ${env(prodPort)}
`,
      }),
    );
    const queued: DeployJob[] = [];
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-gitops-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
      enqueue: async (job) => void queued.push(job),
    });
    const job = (environment: string, tag: string, over: Partial<DeployJob> = {}) =>
      makeJob({ app: 'api', environment, image: IMAGE, tag, id: `job-${environment}-${tag}`, ...over });
    const tagIn = (file: string) => /tag: (\S+)/.exec(repo.git(['show', `main:${file}`]))![1];
    return { repo, ports, queued, job, tagIn };
  };
  const tagsOn = (port: number) => Promise.all(fleet.hosts.map((h) => served(h.address, port)));

  it('merge → manifest commit → rollout; staging success promotes prod (auto), which rolls out in batches', async () => {
    const { ports, queued, job, tagIn, repo } = setup('auto');
    const staged = await deploy(job('staging', 'v1'), ctx, ports);
    assert.equal(staged.status, 'deployed', staged.detail);
    assert.equal(tagIn('api/staging.yaml'), 'v1');
    assert.deepEqual(await tagsOn(stagingPort), ['v1', undefined, undefined]);
    assert.equal(queued.length, 1);
    assert.deepEqual([queued[0]!.environment, queued[0]!.reason, queued[0]!.tag], ['prod', 'promote', 'v1']);
    const prod = await deploy(queued[0]!, ctx, ports);
    assert.equal(prod.status, 'deployed', prod.detail);
    assert.deepEqual(await tagsOn(prodPort), ['v1', 'v1', 'v1']);
    assert.equal(tagIn('api/prod.yaml'), 'v1');
    // Same job again: manifest and every host already there.
    assert.equal((await deploy({ ...queued[0]!, id: 'job-prod-again' }, ctx, ports)).status, 'noop');
    repo.cleanup();
  });

  it('an unhealthy image rolls every touched host back and restores the manifest; nothing is promoted', async () => {
    const { ports, queued, job, tagIn, repo } = setup('auto');
    await deploy(job('prod', 'v1', { reason: 'manual' }), ctx, ports);
    assert.deepEqual(await tagsOn(prodPort), ['v1', 'v1', 'v1']);
    const bad = await deploy(job('prod', 'v2-unhealthy'), ctx, ports);
    assert.equal(bad.status, 'failed');
    assert.match(bad.detail!, /host web-\d failed at health/);
    assert.match(bad.detail!, /manifest restored to v1/);
    assert.deepEqual(await tagsOn(prodPort), ['v1', 'v1', 'v1']);
    assert.equal(tagIn('api/prod.yaml'), 'v1');
    // The rollback holds the environment (lib/holds): that commit of .fjord/holds.yaml follows the rollback.
    assert.match(
      repo.git(['log', '-1', '--format=%s', 'main']),
      /^hold\(api\/prod\): automatic rollback of v2-unhealthy/,
    );
    const log = repo.git(['log', '--format=%s', 'main', '--', 'api/prod.yaml']).trim().split('\n');
    assert.match(log[0]!, /^rollback\(api\/prod\): .*:v1$/);
    assert.match(log[1]!, /^deploy\(api\/prod\): .*:v2-unhealthy$/);
    const rollback = repo.git(['log', '-1', '--format=%B', 'main', '--', 'api/prod.yaml']);
    assert.match(rollback, /Fjord-Rollback-Of: job-prod-v2-unhealthy/);
    // The failed host's own words are in the rollback commit (git is the record; the status page reads it).
    assert.match(
      rollback,
      /\n\nhost web-\d failed at health: [^\n]+\ncontainer api-prod-next: status running[^\n]*\nhealth probes[^\n]*\n  [^\n]*HTTP 500[^\n]*database unreachable[\s\S]*\nlast log lines:\n[\s\S]*health: database unreachable, answering 500[\s\S]*\n\nFjord-/,
    );
    const { parseTrailers } = await import('../../lib/manifest/trailers.js');
    assert.equal(parseTrailers(rollback)['Fjord-Rollback-Of'], 'job-prod-v2-unhealthy');
    // A failed staging deploy promotes nothing.
    const stagingBad = await deploy(job('staging', 'v3-unhealthy'), ctx, ports);
    assert.equal(stagingBad.status, 'failed');
    assert.equal(queued.length, 0);
    repo.cleanup();
  });

  it("a person's git revert pushed to the manifest repository rolls the fleet back (converge, no new commit)", async () => {
    const { ports, job, repo, tagIn } = setup('auto');
    await deploy(job('prod', 'v4', { reason: 'manual' }), ctx, ports);
    await deploy(job('prod', 'v5', { reason: 'manual' }), ctx, ports);
    assert.deepEqual(await tagsOn(prodPort), ['v5', 'v5', 'v5']);
    const reverted = repo.pushChange('api/prod.yaml', values('v4'), 'Revert "deploy(api/prod): v5"');
    const push = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: reverted,
      checkout_sha: reverted,
      user_name: 'Ada Person',
      project: { path_with_namespace: 'ops/manifests' },
      commits: [
        {
          id: reverted,
          message: 'Revert "deploy(api/prod): v5"',
          modified: ['api/prod.yaml'],
          timestamp: new Date().toISOString(),
        },
      ],
    };
    const routed = routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
      config: ports.config,
      deliveryId: 'd',
      now: Date.now,
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    assert.equal(routed.jobs.length, 1);
    const commitsBefore = repo.git(['rev-list', '--count', 'main']);
    const outcome = await deploy(routed.jobs[0]!, ctx, ports);
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.deepEqual(await tagsOn(prodPort), ['v4', 'v4', 'v4']);
    assert.equal(repo.git(['rev-list', '--count', 'main']), commitsBefore);
    assert.equal(tagIn('api/prod.yaml'), 'v4');
    repo.cleanup();
  });

  it('promote: mr proposes the production change on a branch instead of deploying it', async () => {
    const { ports, queued, job, repo, tagIn } = setup('mr');
    const staged = await deploy(job('staging', 'v6'), ctx, ports);
    assert.equal(staged.status, 'deployed', staged.detail);
    assert.equal(queued.length, 0);
    assert.deepEqual(
      (staged.promotions as Array<{ result: string }>).map((p) => p.result),
      ['proposed fjord/api-prod-v6'],
    );
    assert.equal(tagIn('api/prod.yaml'), 'v0');
    assert.match(repo.git(['show', 'fjord/api-prod-v6:api/prod.yaml']), /tag: v6/);
    repo.cleanup();
  });
});
