// Failures only a REAL engine shows (shared/REAL-FLEET.md "What differs"): a crash loop that reads as
// running under a restart policy, a health check failing with the app's own words, a PID 1 that ignores
// SIGTERM, a `docker run` that fails after creating its container. Two sshd hosts, each with its own
// dockerd, images from the loopback registry (test/fixtures/test-images.ts).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { environment, roll, statuses, version } from './helpers.js';

describe('failures on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image: string;
  let port: number;
  const names = ['web-1', 'web-2'];
  // A value that must never reach a report: the app prints its VERSION, which this environment overrides.
  const SECRET_VERSION = 'v-secret-8842';
  const env = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
    environment(
      {
        batchSize: 1,
        container: { ports: [`${port}:${APP_PORT}`], ...container },
        healthCheck: { port, path: HEALTH_PATH, interval: 200, timeout: 4_000 },
        hostTimeout: '60s',
        ...extra,
      },
      names,
    );

  before(async () => {
    [registry, fleet] = await Promise.all([startRegistry(), startFleet({ hosts: 2, engine: true })]);
    image = await pushTestImage(registry.url, 'v1');
    await pushTestImage(registry.url, 'v2-crash', 'crash');
    await pushTestImage(registry.url, 'v3-sick', 'unhealthy');
    await pushTestImage(registry.url, 'v4-stubborn', 'ignore-term');
    await pushTestImage(registry.url, 'v5');
    port = await freePort(fleet.hosts[0]!.address);
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });

  const versions = () => Promise.all(fleet.hosts.map((h) => version(h.address, port)));
  const containers = (i: number) =>
    fleet.hosts[i]!.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}}']);

  it('a crash-looping release without a health check fails at start and the host runs v1 again', async () => {
    // The crash image exits 1 s after start; under `--restart unless-stopped` it reads Running=true
    // between restarts. A 3 s settle window sees it restart even on a loaded machine.
    const { healthCheck: _, ...unchecked } = env({}, { settle: '3s' }).rollout;
    const report = await roll(fleet, { image, tag: 'v2-crash', hosts: names, env: { ...env(), rollout: unchecked } });
    assert.equal(report.ok, false);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'untouched' });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['start', 'ContainerNotRunning']);
    assert.match(
      report.failed!.message,
      /container api-prod-next is not running 3000 ms after start: (restarting|running, but restarted|exited)/,
    );
    const d = report.hosts[0]!.diagnostics!;
    assert.equal(d.container, 'api-prod-next');
    assert.match(d.logs, /fatal: cannot open \/data\/app\.db/);
    assert.ok(d.state && d.state.restartCount >= 1, JSON.stringify(d.state));
    assert.deepEqual(await versions(), ['v1', 'v1']);
    assert.equal(containers(0), `api-prod ${image}:v1 running\n`);
  });

  it('a crash-looping release with a health check fails at start as soon as it restarts, not at the health timeout', async (t) => {
    const report = await roll(fleet, {
      image,
      tag: 'v2-crash',
      hosts: names,
      env: env({ healthCheck: { port, path: HEALTH_PATH, interval: 200, timeout: 30_000 } }),
    });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'untouched' });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['start', 'ContainerNotRunning']);
    assert.match(report.failed!.message, /is not running during its health check: /);
    const health = report.hosts[0]!.timings.health!;
    t.diagnostic(`crash loop seen after ${health} ms of health check (timeout 30000 ms)`);
    // The crash image exits 1 s after start: seen at its first restart, far from the 30 s timeout.
    assert.ok(health < 15_000, `health ran ${health} ms`);
    assert.ok(
      report.hosts[0]!.diagnostics!.probes.every((p) => p.status === 0),
      'no probe was answered',
    );
    assert.deepEqual(await versions(), ['v1', 'v1']);
  });

  it('an unhealthy release is rolled back with its own log lines and the probe transcript, redacted', async () => {
    const started = Date.now();
    const report = await roll(fleet, {
      image,
      tag: 'v3-sick',
      hosts: names,
      env: env({}, { env: { VERSION: SECRET_VERSION } }),
    });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'untouched' });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['health', 'HealthCheckFailed']);
    assert.match(report.failed!.message, /last attempt: HTTP 500, curl exit 0/);
    const d = report.hosts[0]!.diagnostics!;
    assert.match(d.logs, /health: database unreachable, answering 500/);
    assert.match(d.logs, /fjord-demo \[redacted\] starting/);
    assert.equal(d.state?.status, 'running');
    assert.ok(d.probeCount >= 2 && d.probes.length === Math.min(d.probeCount, 20));
    const last = d.probes.at(-1)!;
    assert.deepEqual([last.target, last.status, last.exitCode], [`http://127.0.0.1:${port}${HEALTH_PATH}`, 500, 0]);
    assert.match(last.body, /^database unreachable: connect 10\.9\.9\.9:5432/);
    assert.ok(Date.parse(last.at) >= started - 1000 && Date.parse(last.at) <= Date.now());
    assert.ok(!JSON.stringify(report).includes(SECRET_VERSION));
    // Back on the v1 image (which, under this environment's VERSION, answers with that value).
    assert.deepEqual(await versions(), [SECRET_VERSION, 'v1']);
    assert.equal(containers(0), `api-prod ${image}:v1 running\n`);
  });

  it('a release whose PID 1 ignores SIGTERM is stopped within stopTimeout when a stop-first deploy replaces it', async (t) => {
    // Baseline, measured here: a stop of a PID 1 that handles SIGTERM (v1 → v5 on web-2).
    const grace = { stopTimeout: '1s' };
    const handled = await roll(fleet, { image, tag: 'v5', hosts: ['web-2'], env: env({}, grace) });
    assert.equal(handled.ok, true, JSON.stringify(handled.failed));
    const baseline = handled.hosts[0]!.timings.stop!;
    const stubborn = await roll(fleet, {
      image,
      tag: 'v4-stubborn',
      hosts: ['web-2'],
      env: env({}, { ...grace, init: true }),
    });
    assert.equal(stubborn.ok, true, JSON.stringify(stubborn.failed));
    assert.equal(
      fleet.hosts[1]!.engine!.docker([
        'inspect',
        '--format',
        '{{.Config.StopTimeout}} {{.HostConfig.Init}}',
        'api-prod',
      ]),
      '1 true\n',
    );
    const replaced = await roll(fleet, { image, tag: 'v5', hosts: ['web-2'], env: env({}, grace) });
    assert.equal(replaced.ok, true, JSON.stringify(replaced.failed));
    const stop = replaced.hosts[0]!.timings.stop!;
    // It waited the grace (SIGTERM ignored), then was killed: the 1 s grace plus a normal stop's cost, far
    // below docker's default 10 s.
    t.diagnostic(
      `stop of a SIGTERM-ignoring PID 1 with stopTimeout 1s: ${stop} ms (a SIGTERM-handling one: ${baseline} ms)`,
    );
    assert.ok(stop >= 1000 && stop < 1000 + baseline + 1500, `stop ${stop} ms, baseline ${baseline} ms`);
    assert.equal(await version(fleet.hosts[1]!.address, port), 'v5');
  });

  it('a docker run that fails on a taken port leaves no created container behind', async (t) => {
    const address = fleet.hosts[0]!.address;
    const taken = await freePort(address);
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(taken, address, resolve));
    try {
      const report = await roll(fleet, {
        image,
        tag: 'v5',
        hosts: ['web-1'],
        env: env({}, { name: 'blocked', ports: [`${taken}:${APP_PORT}`] }),
      });
      t.diagnostic(`failed run: ${report.failed?.message}`);
      assert.deepEqual([report.failed?.step, report.failed?.errorName], ['start', 'CommandFailed']);
      // The engine's own error, not the CLI's hint or the IPv4 forwarding warning.
      assert.match(report.failed!.message, /exited 125: .*address already in use/);
      assert.doesNotMatch(report.failed!.message, /--help|WARNING/);
      assert.doesNotMatch(containers(0), /blocked/);
      assert.equal(containers(0), `api-prod ${image}:v1 running\n`);
    } finally {
      holder.close();
    }
    // A bad --env-file: the CLI itself refuses (exit 125) and prints its hint after the error.
    const report = await roll(fleet, {
      image,
      tag: 'v5',
      hosts: ['web-1'],
      env: env({}, { name: 'badenv', envFile: '/nonexistent/api.env' }),
    });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['start', 'CommandFailed']);
    assert.match(
      report.failed!.message,
      /exited 125: docker: open \/nonexistent\/api\.env: no such file or directory\.?$/,
    );
    assert.doesNotMatch(containers(0), /badenv/);
  });
});
