// The docker strategy on REAL engines: one dockerd per sshd host (test/fixtures/engine.ts), images from
// the loopback docker-registry, a registry fault made by a real proxy in front of the real registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRunning } from '../../lib/rollout/read-running.js';
import type { RolloutEvent } from '../../lib/rollout/types.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { environment, roll, sshFleet, statuses, version } from './helpers.js';

describe('docker rollout on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let proxy: FaultProxy;
  let image: string;
  let port: number;
  let failManifestsFrom = Infinity;
  let manifests = 0;
  const names = ['web-1', 'web-2', 'web-3'];
  const env = (extra: Record<string, unknown> = {}) =>
    environment(
      {
        batchSize: 2,
        container: { ports: [`${port}:${APP_PORT}`] },
        healthCheck: { port, path: HEALTH_PATH, interval: 200, timeout: 20_000 },
        hostTimeout: '60s',
        ...extra,
      },
      names,
    );

  before(async () => {
    [registry, fleet] = await Promise.all([startRegistry(), startFleet({ hosts: 3, engine: true })]);
    // Every pull goes through the fault proxy: it passes requests to the real registry, and from the n-th
    // pull on (dockerd 20.10 starts each pull with one HEAD of the tag's manifest) answers every manifest
    // request with a 500, as a registry in trouble would.
    proxy = await startFaultProxy({
      target: registry.url,
      fault: (req) => {
        if (!/\/manifests\//.test(req.url ?? '')) return undefined;
        if (req.method === 'HEAD') manifests++;
        return manifests >= failManifestsFrom ? { status: 500 } : undefined;
      },
    });
    for (const tag of ['v1', 'v2', 'v3']) await pushTestImage(registry.url, tag);
    image = `${proxy.host}/demo/web`;
    port = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await fleet?.stop();
    await proxy?.stop();
    await registry?.stop();
  });

  const versions = () => Promise.all(fleet.hosts.map((h) => version(h.address, port)));

  it('rolls v1 then v2 over 3 hosts in batches of 2, every host pulling before batch 1', async () => {
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.deepEqual(await versions(), ['v1', 'v1', 'v1']);

    const events: RolloutEvent[] = [];
    const second = await roll(fleet, { image, tag: 'v2', hosts: names, env: env(), onEvent: (e) => events.push(e) });
    assert.equal(second.ok, true, JSON.stringify(second.failed));
    assert.deepEqual(Object.values(statuses(second)), ['updated', 'updated', 'updated']);
    assert.ok(
      second.hosts.every(
        (h) =>
          h.previousImage === `${image}:v1` && h.timings.pull! > 0 && h.timings.health! > 0 && h.timings.switch! > 0,
      ),
    );
    assert.deepEqual(await versions(), ['v2', 'v2', 'v2']);
    // All three pulls end before the first batch starts; batches in order: [web-1, web-2], [web-3].
    const firstBatch = events.findIndex((e) => e.type === 'batch-start');
    const pulls = events
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.type === 'host-step' && e.step === 'pull' && e.status === 'ok');
    assert.equal(pulls.length, 3);
    assert.ok(pulls.every(({ i }) => i < firstBatch));
    assert.deepEqual(
      events.filter((e) => e.type === 'batch-start').map((e) => (e as { hosts: string[] }).hosts),
      [['web-1', 'web-2'], ['web-3']],
    );
    // The batches pull nothing more.
    assert.equal(events.filter((e) => e.type === 'host-step' && e.step === 'pull' && e.status === 'start').length, 3);

    const ssh = sshFleet(fleet);
    try {
      const running = await readRunning(ssh, 'web-3', { app: 'api', environment: 'prod', env: env() });
      assert.equal(running?.ref, `${image}:v2`);
      assert.equal(running?.state, 'running');
      assert.equal(running?.labels['fjord.tag'], 'v2'); // ours, not the image's own decoy label
    } finally {
      await ssh.close();
    }
    // One container per host, and it is the engine's own record that says so.
    for (const h of fleet.hosts)
      assert.equal(
        h.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}}']),
        `api-prod ${image}:v2 running\n`,
      );
  });

  it('a pull failing on the last host fails the rollout before any host changes', async () => {
    // Pulls one host at a time, in order: the third pull is web-3's.
    manifests = 0;
    failManifestsFrom = 3;
    try {
      const report = await roll(fleet, { image, tag: 'v3', hosts: names, env: env({ pullParallel: 1 }) });
      assert.equal(report.ok, false);
      assert.deepEqual(statuses(report), { 'web-1': 'untouched', 'web-2': 'untouched', 'web-3': 'failed' });
      assert.deepEqual([report.failed?.host, report.failed?.step], ['web-3', 'pull']);
      // The engine's own words, not the CLI's hint.
      assert.match(report.failed!.message, /500/);
      assert.doesNotMatch(report.failed!.message, /--help/);
      assert.ok(report.hosts.every((h) => h.timings.start === undefined && h.timings.lock === undefined));
      assert.deepEqual(await versions(), ['v2', 'v2', 'v2']);
      for (const h of fleet.hosts)
        assert.equal(h.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}}']), `api-prod ${image}:v2\n`);
    } finally {
      failManifestsFrom = Infinity;
    }
  });
});
