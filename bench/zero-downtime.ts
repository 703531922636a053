/**
 * `bench/zeroDowntime`: one port-publishing app on a real engine host, deployed v1 → v2 by fjord's rollout
 * engine while a bounded load loop (`load-loop.ts`) sends requests the whole time; counts requests and
 * failed requests, and takes the host's switch time from the rollout report.
 *
 * The figure fjord must show is `{ requests, failed, switchMs }` THROUGH the kept proxy (issue 11: an
 * nginx upstream switch, branch `proxy-switch`, lib/rollout/proxy/*). Until that lands on main the three
 * stay `null` with `pending` saying why; what is measured meanwhile is the same deploy without a proxy
 * (stop-then-start, forced by the published port): `withoutProxy`, the downtime a proxy must remove.
 * When the proxy lands: deploy the same app with the proxy configured in `env()`, fill the three figures
 * from a second `measureDeploy`, keep `withoutProxy` as its baseline.
 */
import { freePort } from '../test/fixtures/sshd.js';
import { environment, roll } from '../test/rollout/helpers.js';
import { HEALTH_PATH, startBenchFleet, type BenchFleet } from './bench-fleet.js';
import { startLoadLoop } from './load-loop.js';

export interface DeployUnderLoad {
  requests: number;
  failed: number;
  /** The host's `switch` step (ms), from the rollout report. */
  switchMs: number;
  /** Longest outage the load loop saw (ms). */
  downtimeMs: number;
}

export interface ZeroDowntimeResult {
  requests: number | null;
  failed: number | null;
  switchMs: number | null;
  /** Why the three figures above are not measured yet (absent once they are). */
  pending?: string;
  withoutProxy: DeployUnderLoad;
}

const PENDING = 'needs the proxy switch (issue 11, branch proxy-switch: lib/rollout/proxy/*), not on main yet';

/** Deploys `from` then, under load, `to` on the bench's one host; returns what the load loop saw. */
export async function measureDeploy(bench: BenchFleet, env: ReturnType<typeof environment>, port: number, [from, to]: [string, string]): Promise<DeployUnderLoad> {
  const hosts = [bench.fleet.hosts[0]!.name];
  for (const tag of [from, to]) await bench.push(tag);
  const first = await roll(bench.fleet, { image: bench.image, tag: from, hosts, env });
  if (!first.ok) throw new Error(`zero-downtime bench: ${from}: ${JSON.stringify(first.failed)}`);
  const load = startLoadLoop({ url: `http://${bench.fleet.hosts[0]!.address}:${port}/` });
  await new Promise((r) => setTimeout(r, 500)); // load running before the deploy starts
  const second = await roll(bench.fleet, { image: bench.image, tag: to, hosts, env });
  await new Promise((r) => setTimeout(r, 500)); // and after it ended
  const seen = await load.stop();
  if (!second.ok) throw new Error(`zero-downtime bench: ${to}: ${JSON.stringify(second.failed)}`);
  if (!seen.bodies[to]) throw new Error(`zero-downtime bench: ${to} never answered (${JSON.stringify(seen.bodies)})`);
  return { requests: seen.requests, failed: seen.failed, switchMs: second.hosts[0]!.timings.switch ?? 0, downtimeMs: seen.longestOutageMs };
}

export async function benchZeroDowntime(): Promise<ZeroDowntimeResult> {
  const bench = await startBenchFleet(1);
  try {
    const port = await freePort(bench.fleet.hosts[0]!.address);
    const env = environment({
      container: { ports: [`${port}:8080`] },
      healthCheck: { port, path: HEALTH_PATH, interval: 100, timeout: 20_000 },
      hostTimeout: '60s',
    }, [bench.fleet.hosts[0]!.name]);
    const withoutProxy = await measureDeploy(bench, env, port, ['zd1', 'zd2']);
    return { requests: null, failed: null, switchMs: null, pending: PENDING, withoutProxy };
  } finally {
    await bench.stop();
  }
}
