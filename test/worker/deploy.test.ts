/**
 * The deploy pipeline (issue 3) end to end on real parts: a real bare git repository as the manifest
 * repository (git backend) or behind the GitLab REST stand-in, and Debian's docker-registry on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import { Secret } from '../../lib/secret.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { pushImage } from '../fixtures/push-image.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';

const VALUES = `# api values
image:
  repository: acme/api   # pushed by CI
  tag: "v0"
replicas: 2
`;
const FILE = 'apps/api/prod/values.yaml';

function configFor(registry: RegistryFixture, repo: TestRepo, extra = '') {
  return parseConfig(`
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: ${repo.bare}${extra} }
registries: [{ host: "${registry.host}", insecure: true }]
apps:
  api:
    source: { project: acme/api }
    image: ${registry.host}/acme/api
    waitForImage: 4s
    environments:
      prod: { manifest: { file: ${FILE}, path: image.tag } }
`);
}

const ctx = (beats: { n: number } = { n: 0 }): JobContext => ({
  heartbeat: async () => void beats.n++,
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
});

describe('deploy pipeline', () => {
  let registry: RegistryFixture;
  before(async () => (registry = await startRegistry()));
  after(async () => registry?.stop());

  const setup = (extra = '') => {
    const repo = createBareRepo({ [FILE]: VALUES });
    const config = configFor(registry, repo, extra);
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-data-')),
    });
    const job = (n: number, over = {}) =>
      makeJob({ n, app: 'api', environment: 'prod', image: `${registry.host}/acme/api`, ...over });
    const fileAt = (ref = 'main') => repo.git(['show', `${ref}:${FILE}`]);
    const commits = () => repo.git(['rev-list', '--count', 'main']).trim();
    return { repo, ports, job, fileAt, commits };
  };

  it('waits for the image, then commits only the tag with trailers', async () => {
    const { repo, ports, job, fileAt } = setup();
    // CI "finishes the build" only once the worker has found the image missing and is waiting for it.
    let pushed: Promise<unknown> | undefined;
    let beats = 0;
    const waiting: JobContext = {
      ...ctx(),
      heartbeat: async () => {
        beats++;
        pushed ??= pushImage(registry.url, 'acme/api', 'v1');
      },
    };
    const outcome = await deploy(job(1), waiting, ports);
    await pushed;
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.ok(beats >= 1, 'the job was kept invisible while waiting');
    assert.equal(fileAt(), VALUES.replace('tag: "v0"', 'tag: "v1"'));
    const message = repo.git(['log', '-1', '--format=%B', 'main']);
    assert.match(message, /^deploy\(api\/prod\): 127\.0\.0\.1:\d+\/acme\/api:v1\n/);
    assert.match(message, /Fjord-Job: job-api-prod-1/);
    assert.match(message, /Fjord-Source: acme\/api@[0-9a-f]{40}/);
    repo.cleanup();
  });

  it('is a no-op when the manifest already has the tag', async () => {
    const { ports, job, commits } = setup();
    await pushImage(registry.url, 'acme/api', 'v2');
    assert.equal((await deploy(job(2), ctx(), ports)).status, 'deployed');
    const before = commits();
    const again = await deploy(job(2, { id: 'job-again-0002' }), ctx(), ports);
    assert.equal(again.status, 'noop');
    assert.equal(commits(), before);
  });

  it('fails with a clear report and commits nothing when the image never appears', async () => {
    const { ports, job, fileAt, commits } = setup();
    const before = commits();
    const outcome = await deploy(job(404, { tag: 'never-built' }), ctx(), ports);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.detail ?? '', /acme\/api:never-built not found in the registry after waiting/);
    assert.equal(commits(), before);
    assert.equal(fileAt(), VALUES);
  });

  it('skips a job older than the deploy already recorded (out-of-order delivery)', async () => {
    const { ports, job, fileAt } = setup();
    await pushImage(registry.url, 'acme/api', 'v5');
    await pushImage(registry.url, 'acme/api', 'v4');
    const newer = job(5, { source: { provider: 'gitlab', project: 'acme/api', committedAt: '2026-11-23T10:05:00Z' } });
    const older = job(4, { source: { provider: 'gitlab', project: 'acme/api', committedAt: '2026-11-23T10:04:00Z' } });
    assert.equal((await deploy(newer, ctx(), ports)).status, 'deployed');
    const outcome = await deploy(older, ctx(), ports);
    assert.equal(outcome.status, 'superseded', outcome.detail);
    assert.match(fileAt(), /tag: "v5"/);
    // A manual deploy goes back on purpose.
    assert.equal((await deploy({ ...older, id: 'manual-0004', reason: 'manual' }, ctx(), ports)).status, 'deployed');
    assert.match(fileAt(), /tag: "v4"/);
  });

  it('names the bad target and commits nothing', async () => {
    const { ports, job, commits } = setup();
    await pushImage(registry.url, 'acme/api', 'v6');
    const broken = {
      ...ports,
      config: {
        ...ports.config,
        apps: {
          api: {
            ...ports.config.apps.api!,
            environments: {
              prod: { ...ports.config.apps.api!.environments.prod!, manifest: { file: FILE, path: 'image.version' } },
            },
          },
        },
      },
    };
    const before = commits();
    const outcome = await deploy(job(6), ctx(), broken);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.detail ?? '', /image\.version/);
    assert.equal(commits(), before);
  });

  it('writeBack: mr leaves the branch alone and proposes the change on its own branch', async () => {
    const { repo, ports, job, fileAt } = setup(', writeBack: mr');
    await pushImage(registry.url, 'acme/api', 'v7');
    const outcome = await deploy(job(7), ctx(), ports);
    assert.equal(outcome.status, 'proposed', outcome.detail);
    assert.equal(fileAt(), VALUES);
    assert.match(fileAt('fjord/api-prod-v7'), /tag: "v7"/);
    repo.cleanup();
  });

  it('commits through the GitLab API (stand-in) with the same result', async () => {
    const repo = createBareRepo({ [FILE]: VALUES });
    const gitlab = await startGitlabStandIn({ projects: { 'ops/manifests': { repo: repo.bare } } });
    try {
      const config = configFor(registry, repo);
      const store = new GitlabManifestStore({
        url: gitlab.url,
        token: new Secret(gitlab.token),
        project: 'ops/manifests',
        branch: 'main',
      });
      const ports = makeDeployPorts({ config, configPath: join(repo.root, 'fjord.yaml'), dataDir: repo.root, store });
      await pushImage(registry.url, 'acme/api', 'v8');
      const outcome = await deploy(
        makeJob({ n: 8, app: 'api', environment: 'prod', image: `${registry.host}/acme/api` }),
        ctx(),
        ports,
      );
      assert.equal(outcome.status, 'deployed', outcome.detail);
      assert.equal(repo.git(['show', `main:${FILE}`]), VALUES.replace('"v0"', '"v8"'));
      assert.match(repo.git(['log', '-1', '--format=%B', 'main']), /Fjord-Tag: v8/);
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  });
});
