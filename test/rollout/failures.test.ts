// Rollout failures over real sshd hosts: unhealthy versions, a hanging pull, and the host lock. These hosts
// still run the docker stand-in (test/fixtures/docker-standin): its per-host faults (a health check that
// fails or flaps on one host from a chosen event on, `docker run` failing exactly during a rollback) are
// set by a flag here. Each has a real-engine counterpart: rollout/real-engine*.test.ts (crash loop,
// unhealthy release, SIGTERM, a failed run, a failing registry), chaos/fleet-faults.test.ts (flapping
// health, a hung pull, a start failing on one host, a rollback that cannot reach its host).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { freePort } from '../fixtures/sshd.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { environment, IMAGE, roll, served, statuses } from './helpers.js';

describe('rollout failures', () => {
  let fleet: TestFleet;
  let port: number;
  let env: ReturnType<typeof environment>;
  const names = ['web-1', 'web-2', 'web-3'];
  before(async () => {
    fleet = await startFleet({ hosts: 3 });
    port = await freePort(fleet.hosts[0]!.address);
    env = environment({ batchSize: 2, container: { ports: [`${port}:8080`] }, healthCheck: { port, path: '/healthz', interval: 150, timeout: 1500 }, hostTimeout: '8s' }, names);
    // hostTimeout: each host pays the 1 s settle window plus its steps; 8 s holds on a loaded 2-core box (4 s did not).
  });
  after(() => fleet?.stop());
  // Every test starts from v1 on all hosts.
  beforeEach(async () => {
    for (const h of fleet.hosts) for (const command of ['pull', 'run']) fleet.fault(h.name, command, undefined);
    const report = await roll(fleet, { tag: 'v1', hosts: names, env });
    assert.equal(report.ok, true, JSON.stringify(report.failed));
  });

  const tags = () => Promise.all(fleet.hosts.map((h) => served(h.address, port)));
  const lockDir = (name: string) => join(fleet.host(name).home, '.fjord', 'lock');

  it('an unhealthy version rolls back every touched host, with the health failure reported', async () => {
    const report = await roll(fleet, { tag: 'v2-unhealthy', hosts: names, env });
    assert.equal(report.ok, false);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'untouched' });
    assert.equal(report.failed?.step, 'health');
    assert.match(report.failed!.message, /health check failed .*HTTP 500/);
    assert.ok(report.hosts.slice(0, 2).every((h) => h.previousImage === `${IMAGE}:v1` && h.step === 'health'));
    assert.deepEqual(await tags(), ['v1', 'v1', 'v1']);
    assert.ok(!existsSync(lockDir('web-1')));
  });

  it('a hanging pull hits the host timeout before any host changed', async () => {
    fleet.fault('web-2', 'pull', 'hang');
    const started = Date.now();
    const report = await roll(fleet, { tag: 'v3', hosts: names, env });
    assert.ok(Date.now() - started < 20_000);
    assert.equal(report.ok, false);
    // Every host pulls before batch 1: web-2's hanging pull stops the rollout with nothing changed anywhere.
    assert.deepEqual(statuses(report), { 'web-1': 'untouched', 'web-2': 'failed', 'web-3': 'untouched' });
    assert.ok(report.hosts.every((h) => h.timings.start === undefined));
    assert.deepEqual([report.failed?.host, report.failed?.step, report.failed?.errorName], ['web-2', 'pull', 'HostTimeout']);
    assert.match(report.failed!.message, /exceeded hostTimeout of 8000 ms during pull/);
    assert.deepEqual(await tags(), ['v1', 'v1', 'v1']);
    assert.ok(!existsSync(lockDir('web-2')));
  });

  it('a second rollout on a locked host is refused (LockHeld) and leaves the first one intact', async () => {
    let second: Promise<RolloutReport> | undefined;
    // The slowstart version answers 503 for 2 s: the first rollout holds web-1's lock during its health check
    // (its own hostTimeout is wide: 2 s of 503 plus the switch must not hit the 8 s one on a loaded machine).
    const first = await roll(fleet, {
      tag: 'v4-slowstart', hosts: ['web-1'], jobId: 'job-first', env: { ...env, rollout: { ...env.rollout, hostTimeout: 16_000, healthCheck: { port, path: '/healthz', interval: 150, timeout: 3500 } } },
      onEvent: (e) => void (e.type === 'host-step' && e.step === 'health' && e.status === 'start' && !second && (second = roll(fleet, { tag: 'v5', hosts: ['web-1'], jobId: 'job-second', env }))),
    });
    const refused = await second!;
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    assert.equal(refused.ok, false);
    assert.deepEqual(statuses(refused), { 'web-1': 'failed' });
    assert.deepEqual([refused.failed?.step, refused.failed?.errorName], ['lock', 'LockHeld']);
    assert.match(refused.failed!.message, /locked by another deploy \(job=job-first, app=api, environment=prod, owner=.* pid \d+, time=/);
    assert.doesNotMatch(refused.failed!.message, /token=/);
    assert.equal(await served(fleet.host('web-1').address, port), 'v4-slowstart');
    assert.ok(!existsSync(lockDir('web-1')));
  });

  it('a stale lock is taken over; a fresh one is not', async () => {
    const dir = lockDir('web-3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner'), 'token=abc\njob=crashed-job\nowner=elsewhere pid 1\n');
    const held = await roll(fleet, { tag: 'v6', hosts: ['web-3'], env, lockStaleAfterMs: 60_000 });
    assert.equal(held.failed?.step, 'lock');
    assert.match(held.failed!.message, /job=crashed-job/);
    assert.ok(existsSync(dir), 'a lock not ours is left in place');
    const old = new Date(Date.now() - 120_000);
    utimesSync(dir, old, old);
    const taken = await roll(fleet, { tag: 'v6', hosts: ['web-3'], env, lockStaleAfterMs: 60_000 });
    assert.equal(taken.ok, true, JSON.stringify(taken.failed));
    assert.equal(await served(fleet.host('web-3').address, port), 'v6');
    assert.ok(!existsSync(dir));
  });

  it('a lock left by an earlier delivery of the same job is taken over at once', async () => {
    const dir = lockDir('web-3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner'), 'token=abc\njob=job-redelivered\nowner=elsewhere pid 1\n');
    const events: string[] = [];
    const report = await roll(fleet, { tag: 'v6b', hosts: ['web-3'], jobId: 'job-redelivered', env, onEvent: (e) => void (e.type === 'lock-taken-over' && events.push(`${e.host}: ${e.from}`)) });
    assert.equal(report.ok, true, JSON.stringify(report.failed));
    assert.deepEqual(events, ['web-3: job=job-redelivered, owner=elsewhere pid 1']);
    assert.equal(await served(fleet.host('web-3').address, port), 'v6b');
    assert.ok(!existsSync(dir));
  });

  it('a redelivered job that fails also puts back the hosts its dead first delivery changed and it never reached', async () => {
    const oneByOne = { ...env, rollout: { ...env.rollout, batchSize: 1 } };
    // The first delivery updated web-1 and web-2, then its worker died (nothing rolled back, no report).
    const first = await roll(fleet, { tag: 'v2b', hosts: ['web-1', 'web-2'], jobId: 'job-redelivered-2', env: oneByOne });
    assert.equal(first.ok, true, JSON.stringify(first.failed));
    // The redelivery finds web-1 sick and fails there, before it gets to web-2.
    fleet.fault('web-1', 'health', 'fail');
    const report = await roll(fleet, {
      tag: 'v2b', hosts: names, jobId: 'job-redelivered-2', env: oneByOne,
      onEvent: (e) => void (e.type === 'rollback-start' && fleet.fault('web-1', 'health', undefined)),
    }).finally(() => fleet.fault('web-1', 'health', undefined));
    assert.deepEqual([report.failed?.host, report.failed?.step], ['web-1', 'health']);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rolled-back', 'web-3': 'untouched' });
    assert.equal(report.hosts[1]!.previousImage, `${IMAGE}:v1`);
    assert.equal(report.mixedVersions, undefined);
    assert.deepEqual(await tags(), ['v1', 'v1', 'v1']);
    assert.ok(names.every((h) => !existsSync(lockDir(h))));
  });

  it('a rollback that fails is reported as rollback-failed and the fleet as a mix of versions', async () => {
    const report = await roll(fleet, {
      tag: 'v7-unhealthy', hosts: names, env,
      // Once web-2's new version is found sick, its docker refuses to start anything, so the rollback fails.
      onEvent: (e) => void (e.type === 'host-step' && e.host === 'web-2' && e.step === 'health' && e.status === 'failed' && fleet.fault('web-2', 'run', 'fail 125\ndocker: Error response from daemon: no space left on device.')),
    });
    assert.equal(report.ok, false);
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'rollback-failed', 'web-3': 'untouched' });
    const web2 = report.hosts[1]!;
    assert.equal(web2.step, 'start');
    assert.match(web2.error!, /^rollback failed: .*exited 125: docker: Error response from daemon: no space left on device/);
    assert.match(web2.stderrTail!, /no space left on device/);
    assert.match(report.mixedVersions!, /mix of versions: rollback failed on web-2/);
    assert.equal(await served(fleet.host('web-1').address, port), 'v1');
    assert.ok(!existsSync(lockDir('web-2')));
  });

  it('an aborted rollout starts no further batch and rolls back what it changed', async () => {
    const controller = new AbortController();
    const report = await roll(fleet, {
      tag: 'v8', hosts: names, env: { ...env, rollout: { ...env.rollout, batchSize: 1 } }, signal: controller.signal,
      onEvent: (e) => void (e.type === 'batch-end' && e.batch === 0 && controller.abort()),
    });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back', 'web-2': 'untouched', 'web-3': 'untouched' });
    assert.equal(report.failed?.step, 'aborted');
    assert.deepEqual(await tags(), ['v1', 'v1', 'v1']);
  });

  it('without a health check, a container that crashes on start still fails the host and is rolled back', async () => {
    const { healthCheck: _, ...unchecked } = env.rollout;
    const report = await roll(fleet, { tag: 'v9-crash', hosts: ['web-1'], env: { ...env, rollout: unchecked } });
    assert.deepEqual(statuses(report), { 'web-1': 'rolled-back' });
    assert.equal(report.failed?.step, 'start');
    assert.match(report.failed!.message, /container api-prod-next is not running 1000 ms after start: exited \(exit code 1/);
    assert.equal(report.failed?.errorName, 'ContainerNotRunning');
    assert.equal(await served(fleet.host('web-1').address, port), 'v1');
  });
});
