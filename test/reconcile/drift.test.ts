/**
 * Issue 7 drift report over the real sshd fleet, a real Docker engine per host: `deploy()` puts v1 on four
 * hosts, then hosts are changed by hand with `docker` run there over SSH (another tag on web-2, a stopped container on
 * web-4) and web-3's sshd stops. `checkDrift` and `fjord status` must name each host's state.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { statusCommand } from '../../lib/cli/status.js';
import { parseConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { checkDrift, type DriftReport } from '../../lib/reconcile/drift.js';
import { openFleet } from '../../lib/ssh/fleet.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { makeJob } from '../fixtures/jobs.js';
import { freePort } from '../fixtures/sshd.js';
import { engineMissing } from '../fixtures/engine.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { OPTIONS, version as served } from '../rollout/helpers.js';

let IMAGE = 'unset';
const values = (tag: string) => `image:\n  repository: ${IMAGE}\n  tag: ${tag}   # fjord\n`;
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('drift report over a real sshd fleet', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let yaml: string;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-drift-'));
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 4, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v0-hotfix']) IMAGE = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ 'api/prod.yaml': values('v0') });
    yaml = fleetConfigYaml({
      fleet,
      repository: repo.bare,
      image: IMAGE,
      ssh: 'connectTimeout: 3s',
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2, web-3, web-4]
        rollout: { batchSize: 4, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 10s }, hostTimeout: 40s }
`,
    });
    writeFileSync(join(dir, 'fjord.yaml'), yaml);
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
    repo?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the in-sync, hand-changed, stopped and unreachable hosts; fjord status exits 1 with the same report', async () => {
    const config = parseConfig(yaml);
    const ports = makeDeployPorts({
      config,
      configPath: join(dir, 'fjord.yaml'),
      dataDir: join(dir, 'data'),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    const outcome = await deploy(
      makeJob({ app: 'api', environment: 'prod', image: IMAGE, tag: 'v1', id: 'job-prod-v1', reason: 'manual' }),
      ctx,
      ports,
    );
    assert.equal(outcome.status, 'deployed', outcome.detail);
    const fleetFor = (names: readonly string[]) =>
      openFleet(
        fleet.hosts.filter((h) => names.includes(h.name)).map((h) => ({ ...h })),
        fleet.auth,
        OPTIONS,
      );

    const clean = await checkDrift({ config, store: ports.store, fleetFor });
    assert.equal(clean.inSync, true, JSON.stringify(clean));
    assert.deepEqual(
      clean.environments[0]!.hosts.map((h) => h.status),
      ['in-sync', 'in-sync', 'in-sync', 'in-sync'],
    );

    // By hand, on the hosts themselves: web-2 runs another tag, web-4's container is stopped.
    const byHand = openFleet(
      fleet.hosts.map((h) => ({ ...h })),
      fleet.auth,
      OPTIONS,
    );
    const sh = async (host: string, argv: string[]) => {
      const r = await (await byHand.session(host)).exec(argv);
      assert.equal(r.exitCode, 0, `${argv.join(' ')} on ${host}: ${r.stderr}`);
    };
    await sh('web-2', ['docker', 'rm', '-f', 'api-prod']);
    await sh('web-2', ['docker', 'pull', `${IMAGE}:v0-hotfix`]);
    await sh('web-2', ['docker', 'run', '-d', '--name', 'api-prod', '-p', `${port}:8080`, `${IMAGE}:v0-hotfix`]);
    await sh('web-4', ['docker', 'stop', 'api-prod']);
    await byHand.close();
    assert.equal(await served(fleet.host('web-2').address, port), 'v0-hotfix');
    await fleet.stopHost('web-3');

    const report = await checkDrift({ config, store: ports.store, fleetFor });
    assert.equal(report.inSync, false);
    const [env] = report.environments;
    assert.deepEqual([env!.app, env!.environment, env!.desiredTag], ['api', 'prod', 'v1']);
    const by = Object.fromEntries(env!.hosts.map((h) => [h.host, h]));
    assert.equal(by['web-1']!.status, 'in-sync');
    assert.deepEqual(
      [by['web-2']!.status, by['web-2']!.desired, by['web-2']!.running],
      ['drifted', `${IMAGE}:v1`, `${IMAGE}:v0-hotfix`],
    );
    assert.equal(by['web-3']!.status, 'unreachable');
    assert.equal(by['web-3']!.errorName, 'HostUnreachable');
    assert.deepEqual(
      [by['web-4']!.status, by['web-4']!.state, by['web-4']!.running],
      ['missing', 'exited', `${IMAGE}:v1`],
    );

    // The CLI: same report, as JSON and as a table; exit 1 on drift.
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => {},
      cwd: dir,
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_DATA_DIR: join(dir, 'cli-data') },
    };
    assert.equal(await statusCommand.run(['--json', '--config', join(dir, 'fjord.yaml')], io), 1);
    const json = JSON.parse(out) as DriftReport;
    assert.deepEqual(
      json.environments[0]!.hosts.map((h) => [h.host, h.status]),
      [
        ['web-1', 'in-sync'],
        ['web-2', 'drifted'],
        ['web-3', 'unreachable'],
        ['web-4', 'missing'],
      ],
    );
    out = '';
    assert.equal(await statusCommand.run(['--config', join(dir, 'fjord.yaml')], io), 1);
    assert.match(out, /api\/prod\s+web-2\s+drifted\s+api:v1\s+api:v0-hotfix/);
    assert.match(out, /web-3\s+unreachable\s+api:v1\s+-\s+HostUnreachable/);
    assert.match(out, /web-4\s+missing\s+api:v1\s+api:v1\s+state exited/);
    assert.match(out, /^DRIFT/m);

    // Put it all back: in sync again, exit 0.
    await fleet.startHost('web-3');
    const heal = await deploy(
      makeJob({ app: 'api', environment: 'prod', image: IMAGE, tag: 'v1', id: 'job-prod-v1-again', reason: 'manual' }),
      ctx,
      ports,
    );
    assert.equal(heal.status, 'deployed', heal.detail);
    out = '';
    assert.equal(await statusCommand.run(['--config', join(dir, 'fjord.yaml')], io), 0, out);
    assert.match(out, /^all in sync/m);
  });
});
