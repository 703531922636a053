// The rollout engine with the docker strategy over five real sshd hosts, each with its own real Docker
// engine (test/fixtures/engine.ts) pulling from the loopback registry.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidRollout } from '../../lib/rollout/errors.js';
import { readRunning } from '../../lib/rollout/read-running.js';
import type { RolloutEvent } from '../../lib/rollout/types.js';
import { engineMissing } from '../fixtures/engine.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { environment, roll as rollWith, sshFleet, statuses, version, type Rollout } from './helpers.js';

describe('docker rollout over 5 hosts', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let IMAGE: string;
  let port: number;
  let env: ReturnType<typeof environment>;
  const names = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'];
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 5, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2', 'v3']) IMAGE = await pushTestImage(registry.url, tag);
    port = await freePort(fleet.hosts[0]!.address);
    env = environment(
      {
        batchSize: 2,
        container: { ports: [`${port}:${APP_PORT}`], env: { GREETING: 'prod' } },
        healthCheck: { port, path: HEALTH_PATH, interval: 150, timeout: 10_000 },
        hostTimeout: '40s',
      },
      names,
    );
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });
  const roll = (f: Parameters<typeof rollWith>[0], r: Rollout) => rollWith(f, { image: IMAGE, ...r });

  /** The version each host's app answers on its published port (undefined: nothing answers). */
  const tags = () => Promise.all(fleet.hosts.map((h) => version(h.address, port)));
  const locks = () => fleet.hosts.filter((h) => existsSync(join(h.home, '.fjord', 'lock'))).map((h) => h.name);
  const accepted = () => fleet.hosts.map((h) => (fleet.log(h.name).match(/Accepted publickey/g) ?? []).length);

  it('rolls v1 then v2 out in batches of 2, health-checked, labelled; an identical rollout changes nothing', async () => {
    const first = await roll(fleet, { tag: 'v1', hosts: names, env });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.ok(first.hosts.every((h) => h.status === 'updated' && h.previousImage === undefined));
    assert.deepEqual(await tags(), ['v1', 'v1', 'v1', 'v1', 'v1']);

    const events: RolloutEvent[] = [];
    const second = await roll(fleet, { tag: 'v2', hosts: names, env, onEvent: (e) => events.push(e) });
    assert.equal(second.ok, true, JSON.stringify(second.failed));
    assert.deepEqual(Object.values(statuses(second)), ['updated', 'updated', 'updated', 'updated', 'updated']);
    assert.ok(
      second.hosts.every((h) => h.previousImage === `${IMAGE}:v1` && h.timings.pull! >= 0 && h.timings.health! > 0),
    );
    assert.deepEqual(await tags(), ['v2', 'v2', 'v2', 'v2', 'v2']);
    // Batches in sequence: batch 2 starts after batch 1 ended, and holds web-3 and web-4.
    const order = events
      .filter((e) => e.type === 'batch-start' || e.type === 'batch-end')
      .map((e) => `${e.type}:${e.batch}`);
    assert.deepEqual(order, [
      'batch-start:0',
      'batch-end:0',
      'batch-start:1',
      'batch-end:1',
      'batch-start:2',
      'batch-end:2',
    ]);
    assert.deepEqual(
      events.find((e) => e.type === 'batch-start' && e.batch === 1),
      { type: 'batch-start', batch: 1, hosts: ['web-3', 'web-4'] },
    );
    assert.ok(
      events.some((e) => e.type === 'host-step' && e.host === 'web-5' && e.step === 'health' && e.status === 'ok'),
    );

    const ssh = sshFleet(fleet);
    try {
      const running = await readRunning(ssh, 'web-4', { app: 'api', environment: 'prod', env });
      assert.deepEqual(
        { ...running, labels: undefined },
        { container: 'api-prod', ref: `${IMAGE}:v2`, state: 'running', labels: undefined },
      );
      // Ours, not the image's decoy `fjord.tag` label (a real engine merges the image's labels in).
      assert.deepEqual(
        [
          running?.labels['fjord.app'],
          running?.labels['fjord.environment'],
          running?.labels['fjord.tag'],
          running?.labels['fjord.job'],
        ],
        ['api', 'prod', 'v2', 'job-v2'],
      );
      // The engine's own record of the container's settings.
      const inspected = fleet
        .host('web-4')
        .engine!.docker([
          'inspect',
          '--format',
          '{{json .Config.Env}} {{json .HostConfig.RestartPolicy.Name}}',
          'api-prod',
        ]);
      assert.match(inspected, /"GREETING=prod".* "unless-stopped"/);
      // Only the one container is left: the old one was removed, the temporary one renamed.
      const ps = await (await ssh.session('web-4')).run(['docker', 'ps', '-a', '--format', '{{.Names}} {{.Image}}']);
      assert.equal(ps.stdout, `api-prod ${IMAGE}:v2\n`);
    } finally {
      await ssh.close();
    }

    const again = await roll(fleet, { tag: 'v2', hosts: names, env, jobId: 'job-v2-again' });
    assert.equal(again.ok, true);
    assert.deepEqual(Object.values(statuses(again)), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    // Every host still pulls first (an 'already present' pull), but nothing is started.
    assert.ok(again.hosts.every((h) => h.timings.start === undefined && h.timings.pull! >= 0));
    // The same job delivered again (its worker died before the ack): nothing is redone, but the hosts count
    // as updated by it, from what they ran before its first delivery (a failure now would put that back).
    const redelivered = await roll(fleet, { tag: 'v2', hosts: names, env });
    assert.deepEqual(Object.values(statuses(redelivered)), ['updated', 'updated', 'updated', 'updated', 'updated']);
    assert.ok(redelivered.hosts.every((h) => h.previousImage === `${IMAGE}:v1` && h.timings.start === undefined));
    assert.deepEqual(locks(), []);
  });

  it('refuses tags and images with shell metacharacters before connecting anywhere', async () => {
    const before = accepted();
    for (const tag of ['v3;touch pwned', '$(id)', 'v3 v4', '`id`', '-rf', '']) {
      await assert.rejects(
        roll(fleet, { tag, hosts: names, env }),
        (err: unknown) => err instanceof InvalidRollout && /not a valid tag/.test(err.message),
      );
    }
    const ssh = sshFleet(fleet);
    await assert.rejects(
      import('../../lib/rollout/rollout-environment.js').then(({ rolloutEnvironment }) =>
        rolloutEnvironment(
          { app: 'api', environment: 'prod', image: 'acme/api;reboot', tag: 'v3', jobId: 'j', env, hosts: names },
          ssh,
          { stateDir: '.fjord', lockStaleAfterMs: 1000 },
        ),
      ),
      /not a valid image name/,
    );
    await ssh.close();
    assert.deepEqual(accepted(), before);
    assert.deepEqual(await tags(), ['v2', 'v2', 'v2', 'v2', 'v2']);
  });

  it('a host key mismatch stops the rollout before anything runs on any host', async () => {
    const ssh = sshFleet(fleet); // pins taken before the key changes
    try {
      await fleet.rotateHostKey('web-4');
      const report = await roll(ssh, { tag: 'v3', hosts: names, env });
      assert.equal(report.ok, false);
      assert.deepEqual(statuses(report), {
        'web-1': 'untouched',
        'web-2': 'untouched',
        'web-3': 'untouched',
        'web-4': 'failed',
        'web-5': 'untouched',
      });
      assert.equal(report.failed?.host, 'web-4');
      assert.deepEqual([report.failed?.step, report.failed?.errorName], ['connect', 'HostKeyMismatch']);
      assert.match(report.failed!.message, /host key mismatch/);
      assert.deepEqual(await tags(), ['v2', 'v2', 'v2', 'v2', 'v2']);
      assert.deepEqual(locks(), []);
      // Not even pulled: the engines hold no v3.
      for (const h of fleet.hosts) assert.doesNotMatch(h.engine!.docker(['images', '--format', '{{.Tag}}']), /v3/);
    } finally {
      await ssh.close();
    }
  });

  it('a host unreachable in batch 2 rolls batch 1 back to the previous image (and its batch), and leaves the rest untouched', async () => {
    let stopping: Promise<void> | undefined;
    const report = await roll(fleet, {
      tag: 'v3',
      hosts: names,
      env,
      // web-3's sshd goes away while batch 1 runs (its sessions from the connect check drop with it).
      onEvent: (e) => {
        if (e.type === 'batch-start' && e.batch === 0) stopping = fleet.stopHost('web-3');
      },
    });
    await stopping;
    try {
      assert.equal(report.ok, false);
      // web-4 ran beside web-3 in batch 2: it finished, then went back too; web-5's batch never started.
      assert.deepEqual(statuses(report), {
        'web-1': 'rolled-back',
        'web-2': 'rolled-back',
        'web-3': 'failed',
        'web-4': 'rolled-back',
        'web-5': 'untouched',
      });
      assert.equal(report.failed?.host, 'web-3');
      assert.match(report.failed!.message, /unreachable|connection lost/);
      assert.ok(report.hosts[0]!.timings['rollback.health']! > 0);
      // web-3's container kept running: it still serves v2, like everyone else.
      assert.deepEqual(await tags(), ['v2', 'v2', 'v2', 'v2', 'v2']);
      assert.deepEqual(locks(), []);
    } finally {
      await fleet.startHost('web-3');
    }
    const ssh = sshFleet(fleet);
    try {
      const labels = await readRunning(ssh, 'web-1', { app: 'api', environment: 'prod', env });
      assert.equal(labels?.labels['fjord.tag'], 'v2');
    } finally {
      await ssh.close();
    }
  });
});
