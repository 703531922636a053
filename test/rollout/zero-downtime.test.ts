// Zero-downtime deploys through a REAL, kept proxy: one dockerd and one Debian nginx per host
// (test/fixtures/engine.ts, host-nginx.ts), fjord switching each host's upstream file; a bounded load loop
// through every host's nginx the whole time. Then the same app without a proxy (stop-then-start), which
// reports its measured downtime per host.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RolloutEvent, RolloutReport } from '../../lib/rollout/types.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { nginxMissing, startHostNginx, type HostNginx } from '../fixtures/host-nginx.js';
import { startLoadLoop, type LoadResult } from '../fixtures/load-loop.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { environment, roll, statuses, version } from './helpers.js';

const UPSTREAM = 'fjord_api_prod';

describe("zero-downtime switch through each host's nginx, on real engines", {
  skip: engineMissing() ?? nginxMissing(),
}, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image: string;
  let slots: [number, number];
  const proxies: HostNginx[] = [];
  const names = ['web-1', 'web-2', 'web-3'];
  const env = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
    environment(
      {
        batchSize: 2,
        container: { settle: '500ms', ...container },
        healthCheck: { path: HEALTH_PATH, interval: 100, timeout: 30_000 },
        proxy: {
          containerPort: APP_PORT,
          hostPorts: slots,
          bind: 'engine',
          upstreamFile: proxies[0]!.upstreamFile,
          pidFile: proxies[0]!.pidFile,
          drain: '500ms',
        },
        hostTimeout: '120s',
        ...extra,
      },
      names,
    );

  before(async () => {
    [registry, fleet] = await Promise.all([startRegistry(), startFleet({ hosts: 3, engine: true })]);
    for (const [tag, mode] of [
      ['v1', 'web'],
      ['v2', 'web'],
      ['v3', 'unhealthy'],
      ['v4', 'web'],
      ['t1', 'ignore-term'],
      ['t2', 'ignore-term'],
      ['v5', 'web'],
    ] as const)
      image = await pushTestImage(registry.url, tag, mode);
    slots = [await freePort(fleet.hosts[0]!.address), await freePort(fleet.hosts[0]!.address)];
    for (const h of fleet.hosts) proxies.push(startHostNginx(h, await freePort(h.address), UPSTREAM));
    await Promise.all(proxies.map((p) => p.ready()));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await fleet?.stop();
    await registry?.stop();
  });

  /**
   * Runs `fn` with a load loop through every host's nginx; returns what each loop saw and when each host's
   * upstream switch (its first `switch` step of the deploy) ended, on the load loop's clock.
   */
  async function underLoad(
    fn: (onEvent: (e: RolloutEvent) => void) => Promise<RolloutReport>,
  ): Promise<{ report: RolloutReport; seen: LoadResult[]; switched: Record<string, number> }> {
    const loops = proxies.map((p) => startLoadLoop({ url: p.url, concurrency: 2, timeoutMs: 10_000, maxMs: 240_000 }));
    const switched: Record<string, number> = {};
    const onEvent = (e: RolloutEvent) => {
      if (e.type === 'host-step' && e.step === 'switch' && e.status === 'ok' && !e.rollback)
        switched[e.host] ??= performance.now();
    };
    await new Promise((r) => setTimeout(r, 300)); // load running before the deploy starts
    const report = await fn(onEvent);
    await new Promise((r) => setTimeout(r, 300)); // and after it ended
    const seen = await Promise.all(loops.map((l) => l.stop()));
    return { report, seen, switched };
  }
  /**
   * Every lane went from `from` to `to`, and no request that started after the switch ended got `from`.
   * (During the reload itself old and new workers both accept for a moment: nginx starts the new ones first.)
   */
  const moved = (s: LoadResult, from: string, to: string, switchedAt: number | undefined) => {
    if (switchedAt === undefined) assert.fail('the host never switched');
    for (const runs of s.runs) {
      assert.deepEqual([runs[0]?.body, runs.at(-1)?.body], [from, to], JSON.stringify(runs));
      const late: LoadResult['runs'][number] = runs.filter((r) => r.body === from && r.last > switchedAt);
      assert.equal(
        late.length,
        0,
        `${from} answered a request started ${Math.round((late[0]?.last ?? 0) - switchedAt)} ms after the switch`,
      );
    }
  };
  const noFailures = (seen: LoadResult[]) => {
    for (const [i, s] of seen.entries()) {
      assert.equal(s.bounded, false, `${names[i]}: the load loop hit its bound`);
      assert.ok(s.requests > 20, `${names[i]}: only ${s.requests} requests`);
      assert.equal(s.failed, 0, `${names[i]}: ${s.failed} of ${s.requests} failed: ${s.failures.join('; ')}`);
    }
  };
  const throughProxies = () =>
    Promise.all(
      proxies.map((p) =>
        fetch(p.url).then(
          async (r) => (await r.text()).trim(),
          () => undefined,
        ),
      ),
    );
  const containers = (i: number) =>
    fleet.hosts[i]!.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}} {{.Label "fjord.slot"}}'])
      .trim()
      .split('\n')
      .sort();

  it('deploys v1, then v2 under load with 0 failed requests; traffic moves from v1 to v2 and each lane never goes back', async (t) => {
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.deepEqual(await throughProxies(), ['v1', 'v1', 'v1']);

    const { report, seen, switched } = await underLoad((onEvent) =>
      roll(fleet, { image, tag: 'v2', hosts: names, env: env(), onEvent }),
    );
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    assert.deepEqual(Object.values(statuses(report)), ['updated', 'updated', 'updated']);
    noFailures(seen);
    for (const [i, s] of seen.entries()) moved(s, 'v1', 'v2', switched[names[i]!]);
    for (const [i, h] of report.hosts.entries())
      t.diagnostic(
        `${h.host}: ${seen[i]!.requests} requests through nginx, ${seen[i]!.failed} failed; switch ${h.timings.switch} ms, drain ${h.timings.drain} ms, stop ${h.timings.stop} ms`,
      );
    for (const h of report.hosts) {
      assert.ok(
        h.timings.proxy! > 0 && h.timings.switch! > 0 && h.timings.drain! >= 450 && h.timings.stop! > 0,
        JSON.stringify(h.timings),
      );
      assert.equal(h.downtimeMs, undefined); // nothing was stopped before its successor served
    }
    // The new container took the other slot and the app's name; the old one is gone.
    for (const i of [0, 1, 2]) assert.deepEqual(containers(i), [`api-prod ${image}:v2 running ${slots[1]}`]);
    assert.deepEqual(await throughProxies(), ['v2', 'v2', 'v2']);
  });

  it('an unhealthy v3 fails at health on the first batch; its rollback only points nginx back at the old container, 0 failed requests', async () => {
    const { report, seen } = await underLoad(() =>
      roll(fleet, {
        image,
        tag: 'v3',
        hosts: names,
        env: env({ healthCheck: { path: HEALTH_PATH, interval: 100, timeout: 2000 } }),
      }),
    );
    assert.equal(report.ok, false);
    assert.ok(
      ['web-1', 'web-2'].includes(report.failed!.host) && report.failed!.step === 'health',
      JSON.stringify(report.failed),
    );
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'untouched' });
    noFailures(seen);
    assert.ok(seen.every((s) => Object.keys(s.bodies).join() === 'v2'));
    // The probe went to the new container's slot directly, and the report carries what it answered.
    const probes = report.hosts[0]!.diagnostics!.probes;
    assert.match(
      probes.at(-1)!.target,
      new RegExp(`^http://${fleet.hosts[0]!.address.replace(/\./g, '\\.')}:${slots[0]}${HEALTH_PATH}$`),
    );
    assert.equal(probes.at(-1)!.status, 500);
    // The old container never stopped: no `rollback.start`, the -next one removed.
    assert.equal(report.hosts[0]!.timings['rollback.start'], undefined);
    for (const i of [0, 1, 2]) assert.deepEqual(containers(i), [`api-prod ${image}:v2 running ${slots[1]}`]);
  });

  it('a start failing on the last host (its free slot port held) rolls the two switched hosts back through the proxy, 0 failed requests', async () => {
    // Something else on web-3 holds the slot the new container would take: `docker run` fails at start.
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(slots[0], fleet.hosts[2]!.address, r));
    try {
      const { report, seen } = await underLoad(() => roll(fleet, { image, tag: 'v4', hosts: names, env: env() }));
      assert.equal(report.ok, false);
      assert.deepEqual([report.failed?.host, report.failed?.step], ['web-3', 'start']);
      assert.match(report.failed!.message, /address already in use|port is already allocated/);
      assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'rolled-back' });
      noFailures(seen);
      // web-1 and web-2 served v4, then v2 again: a full deploy of v2 onto the other slot, through the proxy.
      for (const runs of seen[0]!.runs)
        assert.deepEqual(
          [runs[0]?.body, runs.some((r) => r.body === 'v4'), runs.at(-1)?.body],
          ['v2', true, 'v2'],
          JSON.stringify(runs),
        );
      assert.ok(report.hosts[0]!.timings['rollback.switch']! > 0 && report.hosts[0]!.timings['rollback.drain']! > 0);
      assert.deepEqual(containers(0), [`api-prod ${image}:v2 running ${slots[1]}`]);
      assert.deepEqual(containers(2), [`api-prod ${image}:v2 running ${slots[1]}`]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('heals a host that drifted (v1 by hand on web-2) under load, 0 failed requests', async () => {
    const drift = await roll(fleet, { image, tag: 'v1', hosts: ['web-2'], jobId: 'by-hand', env: env() });
    assert.equal(drift.ok, true, JSON.stringify(drift.failed));
    assert.deepEqual(await throughProxies(), ['v2', 'v1', 'v2']);
    const { report, seen, switched } = await underLoad((onEvent) =>
      roll(fleet, { image, tag: 'v2', hosts: names, jobId: 'heal-v2', env: env(), onEvent }),
    );
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    assert.deepEqual(statuses(report), { 'web-1': 'unchanged', 'web-2': 'updated', 'web-3': 'unchanged' });
    noFailures(seen);
    moved(seen[1]!, 'v1', 'v2', switched['web-2']);
    assert.deepEqual(await throughProxies(), ['v2', 'v2', 'v2']);
  });

  it('an old container that ignores SIGTERM costs its stop grace off the request path: requests keep succeeding', async () => {
    const hosts = ['web-1'];
    const grace = { stopTimeout: '3s' };
    const first = await roll(fleet, { image, tag: 't1', hosts, env: env({}, grace) });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    const { report, seen, switched } = await underLoad((onEvent) =>
      roll(fleet, { image, tag: 't2', hosts, env: env({}, grace), onEvent }),
    );
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    noFailures(seen);
    // The stop waited out the grace (PID 1 ignores SIGTERM), while t2 already served every request.
    assert.ok(report.hosts[0]!.timings.stop! >= 2500, JSON.stringify(report.hosts[0]!.timings));
    moved(seen[0]!, 't1', 't2', switched['web-1']);
    const back = await roll(fleet, { image, tag: 'v2', hosts, env: env() });
    assert.equal(back.ok, true, JSON.stringify(back.failed));
  });

  it('nginx down on the last host: that host fails at `proxy` with a named error, nothing on it was stopped or started', async () => {
    await proxies[2]!.stop();
    const startedAt = () =>
      fleet.hosts[2]!.engine!.docker(['inspect', '--format', '{{.State.StartedAt}}', 'api-prod']).trim();
    const before = startedAt();
    try {
      const report = await roll(fleet, { image, tag: 'v5', hosts: names, env: env() });
      assert.equal(report.ok, false);
      assert.deepEqual(
        [report.failed?.host, report.failed?.step, report.failed?.errorName],
        ['web-3', 'proxy', 'ProxyUnavailable'],
      );
      assert.match(
        report.failed!.message,
        /proxy nginx is not usable: nginx is not running: no live nginx process in its pid file nginx\/nginx\.pid; nothing on the host was stopped or started/,
      );
      assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'failed' });
      const web3 = report.hosts[2]!;
      assert.equal(web3.timings.start, undefined);
      assert.equal(web3.timings.stop, undefined);
      // Still the same container, serving on its slot.
      assert.equal(startedAt(), before);
      assert.deepEqual(containers(2), [`api-prod ${image}:v2 running ${slots[1]}`]);
      assert.equal(await version(fleet.hosts[2]!.address, slots[1]), 'v2');
    } finally {
      proxies[2]!.start();
      await proxies[2]!.ready();
    }
    assert.deepEqual(await throughProxies(), ['v2', 'v2', 'v2']);
  });
});

describe('without a proxy: stop-then-start reports its downtime', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image: string;
  let port: number;
  const names = ['web-1', 'web-2'];

  before(async () => {
    [registry, fleet] = await Promise.all([startRegistry(), startFleet({ hosts: 2, engine: true })]);
    for (const tag of ['v1', 'v2']) image = await pushTestImage(registry.url, tag);
    port = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });

  it('each host reports downtimeMs > 0, and the load loop on the published port sees the outage', async (t) => {
    const env = environment(
      {
        batchSize: 2,
        container: { ports: [`${port}:${APP_PORT}`], settle: '500ms' },
        healthCheck: { port, path: HEALTH_PATH, interval: 100, timeout: 30_000 },
        hostTimeout: '120s',
      },
      names,
    );
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.equal(first.hosts[0]!.downtimeMs, undefined); // nothing ran before: nothing stopped
    const loops = fleet.hosts.map((h) =>
      startLoadLoop({ url: `http://${h.address}:${port}/`, concurrency: 2, maxMs: 120_000 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const report = await roll(fleet, { image, tag: 'v2', hosts: names, env });
    const seen = await Promise.all(loops.map((l) => l.stop()));
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    for (const [i, h] of report.hosts.entries()) {
      // At least the stop and the new container's start; the settle window is part of it too.
      assert.ok(h.downtimeMs! >= h.timings.stop!, `${h.host}: downtime ${h.downtimeMs} ms, stop ${h.timings.stop} ms`);
      assert.ok(seen[i]!.failed > 0, `${h.host}: the load loop saw no outage`);
      t.diagnostic(
        `${h.host}: downtimeMs ${h.downtimeMs} (stop ${h.timings.stop} ms); ${seen[i]!.requests} requests, ${seen[i]!.failed} failed`,
      );
    }
  });
});
