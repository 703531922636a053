/**
 * The benchmarks' fleet: `hosts` sshd hosts, each with its own REAL Docker engine (test/fixtures/engine.ts),
 * and a real loopback registry (`docker-registry`) that every tag is pushed to before it is deployed.
 * `stop()` ends all of it; when start-up fails half-way, whatever did start is stopped before the error.
 */
import { startFleet, type TestFleet } from '../test/fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../test/fixtures/registry.js';
import { HEALTH_PATH, pushTestImage } from '../test/fixtures/test-images.js';

export { HEALTH_PATH };

export interface BenchFleet {
  fleet: TestFleet;
  registry: RegistryFixture;
  /** `<registry host>/demo/web`: the image every case deploys. */
  image: string;
  /** Pushes a new tag of the healthy demo app (a new image config on the same layer, as a new release). */
  push(tag: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchFleet(hosts: number): Promise<BenchFleet> {
  const [registry, fleet] = await Promise.allSettled([startRegistry(), startFleet({ hosts, engine: true })]);
  const stop = async () => {
    await Promise.allSettled([
      fleet.status === 'fulfilled' && fleet.value.stop(),
      registry.status === 'fulfilled' && registry.value.stop(),
    ]);
  };
  if (registry.status === 'rejected' || fleet.status === 'rejected') {
    await stop();
    throw registry.status === 'rejected' ? registry.reason : (fleet as PromiseRejectedResult).reason;
  }
  const image = `${registry.value.host}/demo/web`;
  // One push at a time: two uploads of the same layer blob at once can leave the registry without it
  // (its manifest PUT then answers 400 "blob unknown").
  let pushing: Promise<unknown> = Promise.resolve();
  const push = (tag: string) => {
    const next = pushing.then(() => pushTestImage(registry.value.url, tag));
    pushing = next.catch(() => undefined);
    return next.then(() => undefined);
  };
  return {
    fleet: fleet.value,
    registry: registry.value,
    image,
    push,
    stop,
  };
}
