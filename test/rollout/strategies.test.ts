// The compose and command strategies through the engine, over real sshd hosts, each with its own real
// Docker engine; compose is whatever the host has (Debian 12: docker-compose 1.29).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRunning } from '../../lib/rollout/read-running.js';
import { engineMissing } from '../fixtures/engine.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import {
  environment,
  IMAGE as STANDIN_IMAGE,
  roll as rollWith,
  sshFleet,
  statuses,
  version as served,
  type Rollout,
} from './helpers.js';

describe('compose and command strategies', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let IMAGE = STANDIN_IMAGE;
  let port: number;
  const names = ['web-1', 'web-2'];
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2']) IMAGE = await pushTestImage(registry.url, tag);
    await pushTestImage(registry.url, 'v3-unhealthy', 'unhealthy');
    port = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });
  const roll = (f: Parameters<typeof rollWith>[0], r: Rollout) => rollWith(f, { image: IMAGE, ...r });

  it('compose: writes the tag to the project .env, pulls and ups the service; rolls back to the previous tag', async () => {
    for (const h of fleet.hosts) {
      mkdirSync(join(h.home, 'stack'), { recursive: true });
      // docker-compose 1.29 publishes on 0.0.0.0 unless told (not the engine's --ip): each host names its own address.
      writeFileSync(
        join(h.home, 'stack', 'compose.yaml'),
        `services:\n  api:\n    image: ${IMAGE}:\${TAG}\n    ports: ["${h.address}:${port}:8080"]\n`,
      );
      writeFileSync(join(h.home, 'stack', '.env'), 'OTHER=keep me\nTAG=v0\n');
    }
    const env = environment(
      {
        strategy: 'compose',
        batchSize: 1,
        compose: { directory: 'stack', service: 'api' },
        healthCheck: { port, path: HEALTH_PATH, interval: 150, timeout: 5000 },
        hostTimeout: '60s',
      },
      names,
    );
    const first = await roll(fleet, { tag: 'v1', hosts: names, env });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    const second = await roll(fleet, { tag: 'v2', hosts: names, env });
    assert.deepEqual(statuses(second), { 'web-1': 'updated', 'web-2': 'updated' });
    assert.equal(second.hosts[0]!.previousImage, `${IMAGE}:v1`);
    assert.deepEqual(await Promise.all(fleet.hosts.map((h) => served(h.address, port))), ['v2', 'v2']);
    assert.equal(readFileSync(join(fleet.host('web-2').home, 'stack', '.env'), 'utf8'), 'OTHER=keep me\nTAG=v2\n');
    assert.equal(
      (await roll(fleet, { tag: 'v2', hosts: names, env, jobId: 'job-v2-again' })).hosts.every(
        (h) => h.status === 'unchanged',
      ),
      true,
    );

    const bad = await roll(fleet, { tag: 'v3-unhealthy', hosts: names, env });
    assert.deepEqual(statuses(bad), { 'web-1': 'rolled-back', 'web-2': 'untouched' });
    assert.deepEqual(await Promise.all(fleet.hosts.map((h) => served(h.address, port))), ['v2', 'v2']);
    assert.equal(readFileSync(join(fleet.host('web-1').home, 'stack', '.env'), 'utf8'), 'OTHER=keep me\nTAG=v2\n');
    const ssh = sshFleet(fleet);
    try {
      const running = await readRunning(ssh, 'web-1', { app: 'api', environment: 'prod', env });
      // Compose v2 names it stack-api-1, docker-compose 1.29 stack_api_1.
      assert.match(running?.container ?? '', /^stack[-_]api[-_]1$/);
      assert.deepEqual(
        [running?.ref, running?.state, running?.labels['com.docker.compose.service']],
        [`${IMAGE}:v2`, 'running', 'api'],
      );
    } finally {
      await ssh.close();
    }
  });

  it('command: runs the hooks with placeholders as whole arguments, records the tag, and rolls back by re-running them', async () => {
    const env = environment(
      {
        strategy: 'command',
        batchSize: 2,
        command: {
          pre: [['mkdir', '-p', 'releases']],
          deploy: [
            [
              'sh',
              '-c',
              'printf "%s|" "$@" > releases/current',
              'deploy',
              '{image}:{tag}',
              '{app} {env}',
              '$(touch pwned)',
            ],
          ],
          post: [['touch', 'releases/{tag}.done']],
        },
        healthCheck: { command: ['sh', '-c', '! grep -q bad releases/current'], interval: 100, timeout: 600 },
      },
      names,
    );
    const ok = await roll(fleet, { tag: 'v1', hosts: names, env });
    assert.equal(ok.ok, true, JSON.stringify(ok.failed));
    const home = fleet.host('web-2').home;
    assert.equal(readFileSync(join(home, 'releases', 'current'), 'utf8'), `${IMAGE}:v1|api prod|$(touch pwned)|`);
    assert.equal(readFileSync(join(home, '.fjord', 'deployed', 'api.prod'), 'utf8'), `${IMAGE}:v1\n`);
    assert.throws(() => readFileSync(join(home, 'pwned')), /ENOENT/);

    const bad = await roll(fleet, { tag: 'v2-bad', hosts: names, env });
    assert.deepEqual(statuses(bad), { 'web-1': 'rolled-back', 'web-2': 'rolled-back' });
    assert.equal(bad.failed?.step, 'health');
    for (const h of fleet.hosts)
      assert.equal(readFileSync(join(h.home, 'releases', 'current'), 'utf8'), `${IMAGE}:v1|api prod|$(touch pwned)|`);
    const ssh = sshFleet(fleet);
    try {
      assert.deepEqual(await readRunning(ssh, 'web-1', { app: 'api', environment: 'prod', env }), {
        ref: `${IMAGE}:v1`,
        state: 'recorded',
        labels: {},
      });
    } finally {
      await ssh.close();
    }
  });
});
