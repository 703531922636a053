// Rollout failures over real sshd hosts, each with its own REAL Docker engine (test/fixtures/engine.ts),
// images from the loopback docker-registry (test/fixtures/test-images.ts) pulled through a fault proxy
// (test/fixtures/fault-proxy.ts): unhealthy versions, a hanging pull, the host lock, a redelivered job, a
// rollback that fails, an abort and a crash. Every fault is real:
// - an unhealthy version is the `unhealthy` image (its health endpoint answers 500); a crash is the `crash`
//   image (exits 1 a second after start, a crash loop under the restart policy);
// - a hanging pull is the proxy holding one host's manifest request (pulls one host at a time there);
// - a lock held during a health check is the `slow` image, healthy only some seconds after start;
// - a host "sick" for one tag is a health *command* on the host comparing the checked container's
//   `fjord.tag` label with the `sick` file in the host's home (as in chaos/crash-rollout.test.ts);
// - a docker that refuses during a rollback is the host's engine socket moved away (the engine keeps
//   running; the CLI cannot reach it) the moment that host's health check fails, put back afterwards.
// Deadlines are generous or derived from step times measured in before(): the machine may be loaded.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { DOCKER_CLI, engineMissing } from '../fixtures/engine.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage, type ImageMode } from '../fixtures/test-images.js';
import { environment, roll, statuses, version } from './helpers.js';

const run = promisify(execFile);
// Seconds the `slow` image answers 503 for: the first rollout of the lock case holds its lock that long.
const SLOW_S = 8;

describe('rollout failures on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let proxy: FaultProxy;
  let image: string;
  let port: number;
  /** Manifest requests for this tag hang from its `hangFrom`-th pull on (dockerd 20.10 starts a pull with one HEAD of the tag). */
  let hang: { tag: string; from: number; heads: number } | undefined;
  /** The hanging pull's hostTimeout: derived in before() from the slowest fresh pull measured there. */
  let hangTimeoutMs = 0;
  const names = ['web-1', 'web-2', 'web-3'];
  // hostTimeout: far above any host's steps on a loaded machine (a failure here never waits for it).
  const env = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
    environment(
      {
        batchSize: 2,
        container: { ports: [`${port}:${APP_PORT}`], ...container },
        healthCheck: { port, path: HEALTH_PATH, interval: 150, timeout: 4_000 },
        hostTimeout: '120s',
        ...extra,
      },
      names,
    );
  // The health check as a real command on the host: fails while the host's `sick` file names the tag of
  // the container it checks (the new `-next` one while it exists, else the running one), else curls the app.
  const sickAware = () => ({
    command: [
      'sh',
      '-c',
      `c=api-prod-next; docker inspect --type container $c >/dev/null 2>&1 || c=api-prod; ` +
        `[ "$(docker inspect --type container --format '{{index .Config.Labels "fjord.tag"}}' $c)" != "$(cat sick 2>/dev/null)" ] && ` +
        `curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${port}${HEALTH_PATH}`,
    ],
    interval: 150,
    timeout: 4_000,
  });
  const setSick = (host: string, tag: string | undefined) =>
    tag
      ? writeFileSync(join(fleet.host(host).home, 'sick'), tag)
      : rmSync(join(fleet.host(host).home, 'sick'), { force: true });
  /** The host's engine socket, and where it is moved to make the host's docker refuse. */
  const socket = (host: string) => new URL(fleet.host(host).engine!.dockerHost).pathname;
  const moved = (host: string) => `${socket(host)}.away`;
  const restoreSocket = (host: string) => existsSync(moved(host)) && renameSync(moved(host), socket(host));

  before(async () => {
    [registry, fleet] = await Promise.all([startRegistry(), startFleet({ hosts: 3, engine: true })]);
    proxy = await startFaultProxy({
      target: registry.url,
      fault: (req) => {
        if (!hang || !(req.url ?? '').endsWith(`/manifests/${hang.tag}`)) return undefined;
        if (req.method === 'HEAD') hang.heads++;
        return hang.heads >= hang.from ? { hang: true } : undefined;
      },
    });
    const images: [string, ImageMode][] = [
      ['v1', 'web'],
      ['v2-unhealthy', 'unhealthy'],
      ['v3', 'web'],
      ['v4-slowstart', 'slow'],
      ['v5', 'web'],
      ['v6', 'web'],
      ['v6b', 'web'],
      ['v2b', 'web'],
      ['v7-unhealthy', 'unhealthy'],
      ['v8', 'web'],
      ['v9-crash', 'crash'],
    ];
    for (const [tag, mode] of images) await pushTestImage(registry.url, tag, mode, { env: { SLOW: String(SLOW_S) } });
    image = `${proxy.host}/demo/web`;
    port = await freePort(fleet.hosts[0]!.address);
    // The first rollout pulls v1 fresh on every host: the slowest of those pulls sets the hanging pull's
    // hostTimeout, which one host's fresh pull of v3 must stay well within.
    const first = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    const slowestPull = Math.max(...first.hosts.map((h) => h.timings.pull ?? 0));
    hangTimeoutMs = Math.max(5_000, 10 * slowestPull);
  });
  after(async () => {
    for (const h of names) if (fleet) restoreSocket(h);
    await fleet?.stop();
    await proxy?.stop();
    await registry?.stop();
  });
  // Every test starts from v1 on all hosts.
  beforeEach(async () => {
    hang = undefined;
    for (const h of names) {
      restoreSocket(h);
      setSick(h, undefined);
    }
    const report = await roll(fleet, { image, tag: 'v1', hosts: names, env: env() });
    assert.equal(report.ok, true, JSON.stringify(report.failed));
  });

  const versions = () => Promise.all(fleet.hosts.map((h) => version(h.address, port)));
  const lockDir = (name: string) => join(fleet.host(name).home, '.fjord', 'lock');
  /** The engine's own record of the host's containers. */
  const containers = (name: string) =>
    fleet.host(name).engine!.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}}']);

  it('an unhealthy version rolls back every touched host, with the health failure reported', async () => {
    const report = await roll(fleet, { image, tag: 'v2-unhealthy', hosts: names, env: env() });
    assert.equal(report.ok, false);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'untouched' });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['health', 'HealthCheckFailed']);
    assert.match(report.failed!.message, /health check failed .*last attempt: HTTP 500, curl exit 0/);
    assert.ok(report.hosts.slice(0, 2).every((h) => h.previousImage === `${image}:v1` && h.step === 'health'));
    assert.deepEqual(await versions(), ['v1', 'v1', 'v1']);
    for (const h of names) assert.equal(containers(h), `api-prod ${image}:v1 running\n`);
    assert.ok(!existsSync(lockDir('web-1')));
  });

  it('a hanging pull hits the host timeout before any host changed', async (t) => {
    // Pulls one host at a time, in host order: the second HEAD of v3 is web-2's, and it never gets an answer.
    hang = { tag: 'v3', from: 2, heads: 0 };
    t.diagnostic(`hostTimeout ${hangTimeoutMs} ms (10 × the slowest fresh pull measured, at least 5 s)`);
    const started = Date.now();
    const report = await roll(fleet, {
      image,
      tag: 'v3',
      hosts: names,
      env: env({ pullParallel: 1, hostTimeout: hangTimeoutMs }),
    });
    const took = Date.now() - started;
    t.diagnostic(`the rollout with a hung pull took ${took} ms`);
    assert.equal(report.ok, false);
    assert.ok(took >= hangTimeoutMs && took < hangTimeoutMs + 60_000, `took ${took} ms`);
    // Every host pulls before batch 1: web-2's hanging pull stops the rollout with nothing changed anywhere.
    assert.deepEqual(statuses(report), { 'web-1': 'untouched', 'web-2': 'failed', 'web-3': 'untouched' });
    assert.ok(report.hosts.every((h) => h.timings.start === undefined));
    assert.deepEqual(
      [report.failed?.host, report.failed?.step, report.failed?.errorName],
      ['web-2', 'pull', 'HostTimeout'],
    );
    assert.match(report.failed!.message, new RegExp(`exceeded hostTimeout of ${hangTimeoutMs} ms during pull`));
    assert.equal(hang.heads, 2, 'web-3 never pulled');
    assert.deepEqual(await versions(), ['v1', 'v1', 'v1']);
    for (const h of names) assert.equal(containers(h), `api-prod ${image}:v1 running\n`);
    assert.ok(!existsSync(lockDir('web-2')));
  });

  it('a second rollout on a locked host is refused (LockHeld) and leaves the first one intact', async () => {
    // v5 already on web-1: the second rollout's pull is short, and it reaches the lock well inside the
    // first one's health check, which waits for the slow image (503 for SLOW_S seconds).
    // (Not `engine.docker`: it blocks this process, whose fault proxy the pull goes through.)
    await run(DOCKER_CLI, ['pull', `${image}:v5`], {
      env: { ...process.env, DOCKER_HOST: fleet.host('web-1').engine!.dockerHost },
    });
    let second: Promise<RolloutReport> | undefined;
    const first = await roll(fleet, {
      image,
      tag: 'v4-slowstart',
      hosts: ['web-1'],
      jobId: 'job-first',
      env: env({ healthCheck: { port, path: HEALTH_PATH, interval: 150, timeout: 60_000 } }),
      onEvent: (e) => {
        if (e.type === 'host-step' && e.step === 'health' && e.status === 'start' && !second) {
          second = roll(fleet, { image, tag: 'v5', hosts: ['web-1'], jobId: 'job-second', env: env() });
        }
      },
    });
    const refused = await second!;
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.equal(refused.ok, false);
    assert.deepEqual(statuses(refused), { 'web-1': 'failed' });
    assert.deepEqual([refused.failed?.step, refused.failed?.errorName], ['lock', 'LockHeld']);
    assert.match(
      refused.failed!.message,
      /locked by another deploy \(job=job-first, app=api, environment=prod, owner=.* pid \d+, time=/,
    );
    assert.doesNotMatch(refused.failed!.message, /token=/);
    assert.ok(first.hosts[0]!.timings.health! >= (SLOW_S - 3) * 1000, `health ${first.hosts[0]!.timings.health} ms`);
    assert.equal(await version(fleet.host('web-1').address, port), 'v4-slowstart');
    assert.equal(containers('web-1'), `api-prod ${image}:v4-slowstart running\n`);
    assert.ok(!existsSync(lockDir('web-1')));
  });

  it('a stale lock is taken over; a fresh one is not', async () => {
    const dir = lockDir('web-3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner'), 'token=abc\njob=crashed-job\nowner=elsewhere pid 1\n');
    const held = await roll(fleet, { image, tag: 'v6', hosts: ['web-3'], env: env(), lockStaleAfterMs: 60_000 });
    assert.deepEqual([held.failed?.step, held.failed?.errorName], ['lock', 'LockHeld']);
    assert.match(held.failed!.message, /job=crashed-job/);
    assert.ok(existsSync(dir), 'a lock not ours is left in place');
    assert.equal(await version(fleet.host('web-3').address, port), 'v1');
    const old = new Date(Date.now() - 120_000);
    utimesSync(dir, old, old);
    const taken = await roll(fleet, { image, tag: 'v6', hosts: ['web-3'], env: env(), lockStaleAfterMs: 60_000 });
    assert.equal(taken.ok, true, JSON.stringify(taken.failed));
    assert.equal(await version(fleet.host('web-3').address, port), 'v6');
    assert.ok(!existsSync(dir));
  });

  it('a lock left by an earlier delivery of the same job is taken over at once', async () => {
    const dir = lockDir('web-3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner'), 'token=abc\njob=job-redelivered\nowner=elsewhere pid 1\n');
    const events: string[] = [];
    const report = await roll(fleet, {
      image,
      tag: 'v6b',
      hosts: ['web-3'],
      jobId: 'job-redelivered',
      env: env(),
      onEvent: (e) => void (e.type === 'lock-taken-over' && events.push(`${e.host}: ${e.from}`)),
    });
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    assert.deepEqual(events, ['web-3: job=job-redelivered, owner=elsewhere pid 1']);
    assert.equal(await version(fleet.host('web-3').address, port), 'v6b');
    assert.ok(!existsSync(dir));
  });

  it('a redelivered job that fails also puts back the hosts its dead first delivery changed and it never reached', async () => {
    const oneByOne = env({ batchSize: 1, healthCheck: sickAware() });
    // The first delivery updated web-1 and web-2, then its worker died (nothing rolled back, no report).
    const first = await roll(fleet, {
      image,
      tag: 'v2b',
      hosts: ['web-1', 'web-2'],
      jobId: 'job-redelivered-2',
      env: oneByOne,
    });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.deepEqual(await versions(), ['v2b', 'v2b', 'v1']);
    // The redelivery finds web-1 sick for v2b (its real health command fails there) before it gets to web-2.
    setSick('web-1', 'v2b');
    const report = await roll(fleet, { image, tag: 'v2b', hosts: names, jobId: 'job-redelivered-2', env: oneByOne });
    assert.deepEqual([report.failed?.host, report.failed?.step], ['web-1', 'health']);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'untouched' });
    assert.equal(report.hosts[1]!.previousImage, `${image}:v1`);
    assert.equal(report.mixedVersions, undefined);
    assert.deepEqual(await versions(), ['v1', 'v1', 'v1']);
    for (const h of names) assert.equal(containers(h), `api-prod ${image}:v1 running\n`);
    assert.ok(names.every((h) => !existsSync(lockDir(h))));
  });

  it('a rollback that fails is reported as rollback-failed and the fleet as a mix of versions', async (t) => {
    const report = await roll(fleet, {
      image,
      tag: 'v7-unhealthy',
      hosts: names,
      env: env(),
      // Once web-2's new version is found sick, its docker can no longer reach its engine: the rollback fails.
      onEvent: (e) =>
        void (
          e.type === 'host-step' &&
          e.host === 'web-2' &&
          e.step === 'health' &&
          e.status === 'failed' &&
          !e.rollback &&
          renameSync(socket('web-2'), moved('web-2'))
        ),
    }).finally(() => restoreSocket('web-2'));
    assert.equal(report.ok, false);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rollback-failed', 'web-3': 'untouched' });
    const web2 = report.hosts[1]!;
    t.diagnostic(`web-2: ${web2.step}: ${web2.error}`);
    // The rollback's first docker command (what runs there now) fails, in the docker CLI's own words for an engine it cannot reach.
    assert.equal(web2.step, 'inspect');
    assert.match(
      web2.error!,
      /^rollback failed: .*exited 1: Cannot connect to the Docker daemon at unix:\/\/\S+\/docker\.sock\. Is the docker daemon running\?$/,
    );
    assert.match(web2.stderrTail!, /Cannot connect to the Docker daemon/);
    assert.match(report.mixedVersions!, /mix of versions: rollback failed on web-2/);
    assert.equal(await version(fleet.host('web-1').address, port), 'v1');
    // web-2 still runs the sick version (its old container was stopped first, for the fixed port).
    assert.equal(await version(fleet.host('web-2').address, port), 'v7-unhealthy');
    assert.ok(!existsSync(lockDir('web-2')));
  });

  it('an aborted rollout starts no further batch and rolls back what it changed', async () => {
    const controller = new AbortController();
    const report = await roll(fleet, {
      image,
      tag: 'v8',
      hosts: names,
      env: env({ batchSize: 1 }),
      signal: controller.signal,
      onEvent: (e) => void (e.type === 'batch-end' && e.batch === 0 && controller.abort()),
    });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'untouched', 'web-3': 'untouched' });
    assert.equal(report.failed?.step, 'aborted');
    assert.deepEqual(await versions(), ['v1', 'v1', 'v1']);
    for (const h of names) assert.equal(containers(h), `api-prod ${image}:v1 running\n`);
  });

  it('without a health check, a container that crashes on start still fails the host and is rolled back', async () => {
    // The crash image exits 1 s after start; under `--restart unless-stopped` it reads Running=true between
    // restarts. A 3 s settle window sees it restart even on a loaded machine.
    const { healthCheck: _, ...unchecked } = env({}, { settle: '3s' }).rollout;
    const report = await roll(fleet, {
      image,
      tag: 'v9-crash',
      hosts: ['web-1'],
      env: { ...env(), rollout: unchecked },
    });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back' });
    assert.deepEqual([report.failed?.step, report.failed?.errorName], ['start', 'ContainerNotRunning']);
    assert.match(
      report.failed!.message,
      /container api-prod-next is not running 3000 ms after start: (restarting|running, but restarted|exited)/,
    );
    assert.match(report.hosts[0]!.diagnostics!.logs, /fatal: cannot open \/data\/app\.db/);
    assert.equal(await version(fleet.host('web-1').address, port), 'v1');
    assert.equal(containers('web-1'), `api-prod ${image}:v1 running\n`);
  });
});
