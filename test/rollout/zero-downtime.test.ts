// Zero downtime through a real, kept proxy: each host runs its own real nginx (Debian's, test/fixtures/
// host-nginx.ts) in front of the app's containers on its own real Docker engine, and a bounded load loop
// (fresh connection per request, as arriving clients) runs through every host's nginx during each deploy.
// A deploy, an automatic rollback and a stop of a SIGTERM-ignoring release drop 0 requests; a proxy that
// is down fails its host at `proxy` with nothing stopped; without a proxy, the report states the downtime.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLoadLoop, type LoadLoopResult } from '../../bench/load-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { nginxMissing, startHostNginx, type HostNginx } from '../fixtures/host-nginx.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { environment, roll, statuses, version } from './helpers.js';

describe('zero-downtime deploys through nginx on real engines', { skip: engineMissing() ?? nginxMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let image: string;
  let proxies: HostNginx[] = [];
  let slots: [number, number];
  const names = ['web-1', 'web-2'];
  const env = () =>
    environment({
      batchSize: 1,
      container: { stopTimeout: '2s' },
      proxy: { containerPort: APP_PORT, hostPorts: slots, bind: 'engine', upstreamFile: proxies[0]!.upstreamFile, pidFile: proxies[0]!.pidFile, drain: '1s' },
      // `port` is not probed behind a proxy: the check goes to the new container's slot port.
      healthCheck: { port: slots[0], path: HEALTH_PATH, interval: 100, timeout: 10_000 },
      hostTimeout: '60s',
    }, names);

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    for (const [tag, mode] of [['v1', 'web'], ['v2', 'web'], ['v3', 'web'], ['v4-ignore-term', 'ignore-term'], ['v5', 'web']] as const) image = await pushTestImage(registry.url, tag, mode);
    const address = fleet.hosts[0]!.address;
    slots = [await freePort(address), await freePort(address)];
    const front = await freePort(address);
    proxies = fleet.hosts.map((h) => startHostNginx(h, front, 'fjord_api_prod'));
    await Promise.all(proxies.map((p) => p.ready()));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await fleet?.stop();
    await registry?.stop();
  });

  /** Deploys `tag` while every listed host's nginx takes constant load; returns the report and what each loop saw. */
  async function underLoad(tag: string, loaded = proxies) {
    // No request may be refused, reset or answered other than 200. Separately counted: tries cut off after
    // 15 s without any answer — on a loaded box both lanes have stalled together once in a few runs (not
    // explained yet, see the issue note); at most one such stall per loop is tolerated.
    const loops = loaded.map((p) => startLoadLoop({ url: p.url, concurrency: 2, timeoutMs: 15_000 }));
    // Load before, during and after the deploy.
    await new Promise((r) => setTimeout(r, 300));
    const report = await roll(fleet, { image, tag, hosts: names, env: env() });
    await new Promise((r) => setTimeout(r, 300));
    const seen: LoadLoopResult[] = await Promise.all(loops.map((l) => l.stop()));
    return { report, seen };
  }
  const upstreamOn = (i: number) => readFileSync(join(fleet.hosts[i]!.home, proxies[i]!.upstreamFile), 'utf8');

  it('v1 → v2 under load: every request answered, the answers switch from v1 to v2, blue/green slots', async () => {
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    // `nginx -s reload` returns before the new workers run: the first deploy (from nginx's placeholder
    // upstream) is served once they do.
    const through = () => Promise.all(proxies.map((p) => version(new URL(p.url).hostname, Number(new URL(p.url).port))));
    for (let i = 0; i < 100 && (await through()).join() !== 'v1,v1'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await through(), ['v1', 'v1']);
    assert.match(upstreamOn(0), new RegExp(`upstream fjord_api_prod \\{\\n    server ${fleet.hosts[0]!.address.replace(/\./g, '\\.')}:${slots[0]};\\n\\}`));

    const { report, seen } = await underLoad('v2');
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    for (const s of seen) {
      assert.equal(s.failed - s.timedOut, 0, `refused, reset or non-200 requests: ${JSON.stringify(s)}`);
      assert.ok(s.timedOut <= 2, `requests cut off at 15 s: ${JSON.stringify(s)}`);
      assert.ok(s.requests > 20, `too little load to show anything: ${s.requests}`);
      assert.ok((s.bodies.v1 ?? 0) > 0 && (s.bodies.v2 ?? 0) > 0, JSON.stringify(s.bodies));
      assert.deepEqual(Object.keys(s.bodies), ['v1', 'v2']);
    }
    // The other slot now, and one container per host, under the app's name, labelled with its slot.
    assert.match(upstreamOn(1), new RegExp(`:${slots[1]};`));
    for (const h of fleet.hosts) assert.equal(h.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Label "fjord.tag"}} {{.Label "fjord.slot"}}']), `api-prod v2 ${slots[1]}\n`);
    assert.ok(report.hosts.every((h) => h.timings.switch! > 0 && h.timings.drain! >= 900 && h.downtimeMs === undefined));
  });

  it("a proxy that is down fails its host at `proxy` before anything stops; the rollback of the host already switched drops nothing", async () => {
    await proxies[1]!.stop();
    try {
      // Load only where nginx runs: web-1, which gets v3 and then goes back to v2.
      const { report, seen } = await underLoad('v3', [proxies[0]!]);
      assert.equal(report.ok, false);
      assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'failed' });
      assert.deepEqual([report.failed?.host, report.failed?.step], ['web-2', 'proxy']);
      assert.match(report.failed!.message, /nginx is not running/);
      assert.equal(seen[0]!.failed - seen[0]!.timedOut, 0, JSON.stringify(seen[0]));
      assert.ok(seen[0]!.timedOut <= 2, JSON.stringify(seen[0]));
      assert.ok((seen[0]!.bodies.v3 ?? 0) > 0, `web-1 served v3 before its rollback: ${JSON.stringify(seen[0]!.bodies)}`);
      // web-2: nothing was stopped or started; its v2 container still answers on its slot.
      assert.equal(fleet.hosts[1]!.engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Label "fjord.tag"}} {{.State}}']), 'api-prod v2 running\n');
      assert.equal(await version(fleet.hosts[1]!.address, slots[1]), 'v2');
      assert.equal(await version(fleet.hosts[0]!.address, Number(new URL(proxies[0]!.url).port)), 'v2');
    } finally {
      proxies[1]!.start();
      await proxies[1]!.ready();
    }
  });

  it('a release whose PID 1 ignores SIGTERM is replaced without a failed request; its stop takes the configured grace, not 10 s', async () => {
    const deployed = await underLoad('v4-ignore-term');
    assert.equal(deployed.report.ok, true, JSON.stringify(deployed.report.failed));
    const { report, seen } = await underLoad('v5');
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    for (const s of seen) {
      assert.equal(s.failed - s.timedOut, 0, JSON.stringify(s));
      assert.ok(s.timedOut <= 2, JSON.stringify(s));
      assert.deepEqual(Object.keys(s.bodies), ['v4-ignore-term', 'v5']);
    }
    // stopTimeout 2s: the engine waits 2 s for the ignored SIGTERM, then kills — off the request path.
    for (const h of report.hosts) assert.ok(h.timings.stop! >= 1800 && h.timings.stop! < 8000, `stop took ${h.timings.stop} ms`);
  });

  it('without a proxy, the stop-then-start deploy reports its downtime per host', async () => {
    const port = await freePort(fleet.hosts[0]!.address);
    const plain = environment({ batchSize: 1, container: { name: 'plain', ports: [`${port}:${APP_PORT}`] }, healthCheck: { port, path: HEALTH_PATH, interval: 100, timeout: 10_000 }, hostTimeout: '60s' }, names);
    assert.equal((await roll(fleet, { image, tag: 'v1', hosts: names, env: plain })).ok, true);
    const report = await roll(fleet, { image, tag: 'v2', hosts: names, env: plain });
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    for (const h of report.hosts) assert.ok(h.downtimeMs! > 0 && h.downtimeMs! >= h.timings.stop!, `downtime ${h.downtimeMs} ms, stop ${h.timings.stop} ms`);
  });
});
