/**
 * `bench/zeroDowntime`: one app on a real engine host, deployed by fjord's rollout engine while a bounded
 * load loop (`load-loop.ts`, a fresh connection per request) sends requests the whole time: once through
 * the host's real nginx (`rollout.proxy`: the figure `{ requests, failed, switchMs }`), and once without a
 * proxy (stop-then-start, forced by the published port: `withoutProxy`, the downtime the proxy removes).
 */
import { freePort } from '../test/fixtures/sshd.js';
import { environment, roll } from '../test/rollout/helpers.js';
import { HEALTH_PATH, startBenchFleet, type BenchFleet } from './bench-fleet.js';
import { startLoadLoop } from './load-loop.js';
import { startHostNginx } from '../test/fixtures/host-nginx.js';

export interface DeployUnderLoad {
  requests: number;
  failed: number;
  /** The host's `switch` step (ms), from the rollout report. */
  switchMs: number;
  /** Longest outage the load loop saw (ms). */
  downtimeMs: number;
}

export interface ZeroDowntimeResult {
  requests: number;
  failed: number;
  switchMs: number;
  /** Longest outage the load loop saw through the proxy (ms; 0 when none failed). */
  downtimeMs: number;
  withoutProxy: DeployUnderLoad;
}

/** Deploys `from` then, under load, `to` on the bench's one host; returns what the load loop saw. */
export async function measureDeploy(
  bench: BenchFleet,
  env: ReturnType<typeof environment>,
  port: number,
  [from, to]: [string, string],
): Promise<DeployUnderLoad> {
  const hosts = [bench.fleet.hosts[0]!.name];
  for (const tag of [from, to]) await bench.push(tag);
  const first = await roll(bench.fleet, { image: bench.image, tag: from, hosts, env });
  if (!first.ok) throw new Error(`zero-downtime bench: ${from}: ${JSON.stringify(first.failed)}`);
  const url = `http://${bench.fleet.hosts[0]!.address}:${port}/`;
  // `nginx -s reload` returns before the new workers serve: the first deploy counts once they do.
  for (let i = 0; i < 200; i++) {
    const body = await fetch(url).then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    if (body.trim() === from) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const load = startLoadLoop({ url });
  await new Promise((r) => setTimeout(r, 500)); // load running before the deploy starts
  const second = await roll(bench.fleet, { image: bench.image, tag: to, hosts, env });
  await new Promise((r) => setTimeout(r, 500)); // and after it ended
  const seen = await load.stop();
  if (!second.ok) throw new Error(`zero-downtime bench: ${to}: ${JSON.stringify(second.failed)}`);
  if (!seen.bodies[to]) throw new Error(`zero-downtime bench: ${to} never answered (${JSON.stringify(seen.bodies)})`);
  return {
    requests: seen.requests,
    failed: seen.failed,
    switchMs: second.hosts[0]!.timings.switch ?? 0,
    downtimeMs: seen.longestOutageMs,
  };
}

export async function benchZeroDowntime(): Promise<ZeroDowntimeResult> {
  const bench = await startBenchFleet(1);
  try {
    const port = await freePort(bench.fleet.hosts[0]!.address);
    const env = environment(
      {
        container: { ports: [`${port}:8080`] },
        healthCheck: { port, path: HEALTH_PATH, interval: 100, timeout: 20_000 },
        hostTimeout: '60s',
      },
      [bench.fleet.hosts[0]!.name],
    );
    const withoutProxy = await measureDeploy(bench, env, port, ['zd1', 'zd2']);
    // Through the host's real nginx: the same app, its containers on two slots behind the proxy.
    const host = bench.fleet.hosts[0]!;
    const front = await freePort(host.address);
    const slots: [number, number] = [await freePort(host.address), await freePort(host.address)];
    const nginx = startHostNginx(host, front, 'fjord_api_prod');
    try {
      await nginx.ready();
      const proxied = environment(
        {
          container: { name: 'api-proxied' },
          proxy: {
            containerPort: 8080,
            hostPorts: slots,
            bind: 'engine',
            upstreamFile: nginx.upstreamFile,
            pidFile: nginx.pidFile,
            drain: '1s',
          },
          healthCheck: { port: slots[0], path: HEALTH_PATH, interval: 100, timeout: 20_000 },
          hostTimeout: '60s',
        },
        [host.name],
      );
      const through = await measureDeploy(bench, proxied, front, ['zd3', 'zd4']);
      return {
        requests: through.requests,
        failed: through.failed,
        switchMs: through.switchMs,
        downtimeMs: through.downtimeMs,
        withoutProxy,
      };
    } finally {
      await nginx.stop();
    }
  } finally {
    await bench.stop();
  }
}
