/**
 * `restart: true` on a managed file (issue 13): on real Docker engines, a commit that changes only that
 * file replaces the app's container on the same image (rolling, health-checked), with the file in place
 * first; a file without `restart` is swapped and the container keeps running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { createLogger } from '../../lib/log.js';
import type { Fleet } from '../../lib/ssh/fleet.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { sshFleet } from '../rollout/helpers.js';

describe('managed files with restart: true on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let ssh: Fleet;
  let image = 'unset';
  let ports: ReturnType<typeof makeDeployPorts>;
  const ctx: JobContext = {
    heartbeat: async () => {},
    attempts: 1,
    signal: new AbortController().signal,
    logger: createLogger({ level: 'warn', write: () => {} }),
  };
  const hosts = ['web-1', 'web-2'];
  const containerOf = async (host: string) =>
    (
      await (await ssh.session(host)).run(['docker', 'inspect', '--format', '{{.Id}} {{.Config.Image}}', 'api-prod'])
    ).stdout.trim();
  const converge = async (sha: string, file: string) => {
    const push = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: sha,
      checkout_sha: sha,
      user_name: 'Ada Person',
      project: { path_with_namespace: 'ops/manifests' },
      commits: [{ id: sha, message: `edit ${file}`, modified: [file], timestamp: new Date().toISOString() }],
    };
    const routed = routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
      config: ports.config,
      deliveryId: `d-${sha.slice(0, 8)}`,
      now: Date.now,
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    return await deploy(routed.jobs[0]!, ctx, ports);
  };

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    image = await pushTestImage(registry.url, 'v1', 'web', { name: 'acme/api' });
    const port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({
      'api/prod.yaml': `image:\n  repository: ${image}\n  tag: v0\n`,
      'api/settings.ini': 'level=1\n',
      'api/motd': 'hello\n',
    });
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        files:
          - { source: api/settings.ini, target: srv/api/settings.ini, restart: true }
          - { source: api/motd, target: srv/api/motd }
        rollout: { batchSize: 1, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 20s }, hostTimeout: 60s }
`,
      }),
    );
    ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-files-restart-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    ssh = sshFleet(fleet);
    const first = await deploy(
      makeJob({ app: 'api', environment: 'prod', image, tag: 'v1', id: 'job-restart-first', reason: 'manual' }),
      ctx,
      ports,
    );
    assert.equal(first.status, 'deployed', first.detail);
  });
  after(async () => {
    await ssh?.close();
    await fleet?.stop();
    await registry?.stop();
    repo?.cleanup();
  });

  it('a change to a restart: true file replaces the container on the same image; another file leaves it running', async () => {
    const before = await Promise.all(hosts.map(containerOf));
    const outcome = await converge(
      repo.pushChange('api/settings.ini', 'level=2\n', 'settings: level 2'),
      'api/settings.ini',
    );
    assert.equal(outcome.status, 'deployed', outcome.detail);
    const restarted = await Promise.all(hosts.map(containerOf));
    for (const [i, host] of hosts.entries()) {
      assert.notEqual(restarted[i]!.split(' ')[0], before[i]!.split(' ')[0], `${host}: a new container`);
      assert.equal(restarted[i]!.split(' ')[1], `${image}:v1`, `${host}: on the same image`);
      assert.equal(readFileSync(join(fleet.host(host).home, 'srv/api/settings.ini'), 'utf8'), 'level=2\n');
    }
    const kept = await converge(repo.pushChange('api/motd', 'hello again\n', 'motd'), 'api/motd');
    assert.equal(kept.status, 'deployed', kept.detail);
    assert.deepEqual(
      await Promise.all(hosts.map(containerOf)),
      restarted,
      'no restart for a file without restart: true',
    );
    for (const host of hosts)
      assert.equal(readFileSync(join(fleet.host(host).home, 'srv/api/motd'), 'utf8'), 'hello again\n');
  });
});
