/**
 * Issue 7 self-heal over the real sshd fleet (a real Docker engine per host) and a real local queue: v1
 * is deployed to two hosts, then web-2 is changed by hand with `docker` run there over SSH. Reconcile jobs
 * (the scheduler's `reconcileJobs`) run through the worker's handler: the drift is found and named, two
 * reconciles enqueue one heal, the heal restores web-2 and the next reconcile clears its record. A heal
 * that cannot succeed (the registry answers 500 through a fault proxy in front of the real registry, so
 * the pull fails) is retried only after the doubling back-off of an injected clock and stops after
 * `healAttempts`, which the report says; a heal whose attempt cannot be recorded does not run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { silentNotifier } from '../../lib/notify/notifier.js';
import { createLocalQueue, type LocalQueue } from '../../lib/queue/local.js';
import { sendJob } from '../../lib/queue/send-job.js';
import { checkDrift } from '../../lib/reconcile/drift.js';
import { formatDrift } from '../../lib/reconcile/format-drift.js';
import { healRecordFile } from '../../lib/reconcile/heal-record.js';
import { reconcileJobs } from '../../lib/reconcile/reconcile-jobs.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployHandler, makeDeployPorts } from '../../lib/worker/make-handler.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { freePort } from '../fixtures/sshd.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { OPTIONS, version as served } from '../rollout/helpers.js';
import { openFleet } from '../../lib/ssh/fleet.js';

let IMAGE = 'unset';
const values = (tag: string) => `image:\n  repository: ${IMAGE}\n  tag: ${tag}   # fjord\n`;
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('self-heal over a real sshd fleet', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let proxy: FaultProxy;
  /** The registry is in trouble: every manifest request through the proxy answers 500. */
  let registryDown = false;
  let repo: TestRepo;
  let config: Config;
  let queue: LocalQueue;
  let handle: JobHandler;
  let port: number;
  let clock = T0;
  const sends: Array<{ job: DeployJob; duplicate: boolean }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'fjord-heal-'));
  const env = () => ({ FJORD_SSH_KEY: fleet.privateKey.reveal() });

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    proxy = await startFaultProxy({
      target: registry.url,
      fault: (req) => (registryDown && /\/manifests\//.test(req.url ?? '') ? { status: 500 } : undefined),
    });
    for (const tag of ['v1', 'v0-hotfix', 'v0-hotfix2', 'v0-hotfix3', 'v0-hotfix4'])
      await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    IMAGE = `${proxy.host}/acme/api`;
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ 'api/prod.yaml': values('v0') });
    config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image: IMAGE,
        ssh: 'connectTimeout: 3s',
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        selfHeal: true
        rollout: { batchSize: 2, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 10s }, hostTimeout: 40s }
`,
      }) + 'reconcile: { interval: 10s, healAttempts: 3, healBackoff: 1m }\n',
    );
    queue = await createLocalQueue({ key: testQueueKey(), dir: join(dir, 'queue'), fsync: false });
    const configPath = join(dir, 'fjord.yaml');
    const enqueue = async (job: DeployJob) =>
      void sends.push({ job, duplicate: (await sendJob(queue, job)).duplicate });
    handle = makeDeployHandler({
      config,
      configPath,
      dataDir: join(dir, 'data'),
      env: env(),
      enqueue,
      notifier: silentNotifier,
      now: () => new Date(clock),
    });
    const ports = makeDeployPorts({ config, configPath, dataDir: join(dir, 'deploy-data'), env: env() });
    const first = await deploy(
      makeJob({ app: 'api', environment: 'prod', image: IMAGE, tag: 'v1', id: 'job-prod-v1', reason: 'manual' }),
      ctx,
      ports,
    );
    assert.equal(first.status, 'deployed', first.detail);
  });
  after(async () => {
    await queue?.close();
    await fleet?.stop();
    await proxy?.stop();
    await registry?.stop();
    repo?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs every queued job, one at a time, as the worker would; returns what ran. */
  const drain = async (): Promise<Array<{ job: DeployJob; outcome: Outcome }>> => {
    const ran: Array<{ job: DeployJob; outcome: Outcome }> = [];
    for (let got = await queue.receive(1, 120); got.length > 0; got = await queue.receive(1, 120)) {
      for (const msg of got) {
        ran.push({ job: msg.job, outcome: await handle(msg.job, ctx) });
        await queue.ack(msg);
      }
    }
    return ran;
  };
  const reconcileAt = async (ms: number) => {
    clock = ms;
    for (const job of reconcileJobs(config, new Date(ms))) await sendJob(queue, job);
    return drain();
  };
  /** What docker on the host does when a person types it there. */
  const byHand = async (host: string, commands: string[][]) => {
    const ssh = openFleet(
      fleet.hosts.map((h) => ({ ...h })),
      fleet.auth,
      OPTIONS,
    );
    try {
      for (const argv of commands) {
        const r = await (await ssh.session(host)).exec(argv);
        assert.equal(r.exitCode, 0, `${argv.join(' ')} on ${host}: ${r.stderr}`);
      }
    } finally {
      await ssh.close();
    }
  };
  const runTag = (tag: string) => [
    ['docker', 'rm', '-f', 'api-prod'],
    ['docker', 'pull', `${IMAGE}:${tag}`],
    ['docker', 'run', '-d', '--name', 'api-prod', '-p', `${port}:8080`, `${IMAGE}:${tag}`],
  ];
  const recordOn = (host: string) => join(fleet.host(host).home, healRecordFile(config.ssh.stateDir, 'api', 'prod'));
  const report = () =>
    checkDrift({
      config,
      store: makeDeployPorts({
        config,
        configPath: join(dir, 'fjord.yaml'),
        dataDir: join(dir, 'status-data'),
        env: env(),
      }).store,
      fleetFor: fleetForConfig(config, env(), dir),
      now: () => new Date(clock),
    });

  it('finds and names the drift; two reconciles enqueue one heal; the heal restores the host and the next reconcile clears its record', async () => {
    await byHand('web-2', runTag('v0-hotfix'));
    assert.equal(await served(fleet.host('web-2').address, port), 'v0-hotfix');

    // Two ticks' reconcile jobs are queued before either runs: both see the drift, both ask for the heal.
    for (const job of [...reconcileJobs(config, new Date(T0)), ...reconcileJobs(config, new Date(T0 + 10_000))])
      await sendJob(queue, job);
    const ran = await drain();
    assert.deepEqual(
      ran.map((r) => r.job.reason),
      ['reconcile', 'reconcile', 'heal'],
    );
    for (const { outcome } of ran.slice(0, 2)) {
      assert.equal(outcome.status, 'drifted');
      assert.match(outcome.detail!, /web-2 drifted \(running v0-hotfix\); want v1/);
      assert.doesNotMatch(outcome.detail!, /web-1/);
    }
    const heals = sends.filter((s) => s.job.reason === 'heal');
    assert.equal(heals.length, 2);
    assert.equal(heals[0]!.job.id, heals[1]!.job.id, 'the same drift gives the same heal id');
    assert.deepEqual(
      heals.map((h) => h.duplicate),
      [false, true],
    );
    assert.match(heals[0]!.job.id, /^heal-[0-9a-f]{24}-1$/);
    assert.equal(heals[0]!.job.tag, 'v1');

    const healed = ran[2]!.outcome;
    assert.equal(healed.status, 'deployed', healed.detail);
    assert.match(healed.detail!, /heal attempt 1\/3 of web-2: prod at v1 · 1\/1 host\(s\) updated/);
    assert.equal(await served(fleet.host('web-2').address, port), 'v1');
    assert.ok(existsSync(recordOn('web-2')), 'the heal wrote its attempt on the host');
    assert.equal(existsSync(recordOn('web-1')), false, 'the in-sync host was left alone');

    // The same heal job again (redelivered after the dedup window): it finds nothing to do.
    const again = await handle(heals[0]!.job, ctx);
    assert.equal(again.status, 'noop');
    assert.match(again.detail!, /no host is drifted/);

    const next = await reconcileAt(T0 + 60_000);
    assert.deepEqual(
      next.map((r) => [r.job.reason, r.outcome.status]),
      [['reconcile', 'noop']],
    );
    assert.match(next[0]!.outcome.detail!, /in sync at v1 on 2 host/);
    assert.equal(existsSync(recordOn('web-2')), false, 'in sync clears the record');
    assert.equal((await report()).inSync, true);
  });

  it('a heal that cannot succeed backs off (doubling) and stops after healAttempts; the report says so', async () => {
    await byHand('web-2', runTag('v0-hotfix2'));
    registryDown = true;
    const t = T0 + 3_600_000;
    const heals = () => sends.filter((s) => s.job.reason === 'heal' && !s.duplicate).length;
    const before = heals();
    try {
      const first = await reconcileAt(t);
      assert.deepEqual(
        first.map((r) => [r.job.reason, r.outcome.status]),
        [
          ['reconcile', 'drifted'],
          ['heal', 'failed'],
        ],
      );
      assert.match(first[1]!.outcome.detail!, /heal attempt 1\/3 of web-2: host web-2 failed at pull/);
      assert.equal(await served(fleet.host('web-2').address, port), 'v0-hotfix2', 'nothing changed on the host');

      // The failed attempt's job once more: the ledger says it was made, so it does not run twice.
      const repeat = await handle(first[1]!.job, ctx);
      assert.equal(repeat.status, 'noop');
      assert.match(repeat.detail!, /heal attempt 1 not run: heal attempt 2\/3 waits until/);

      // Back-off after attempt 1: healBackoff (1m); after attempt 2: twice that.
      const waiting = await reconcileAt(t + 30_000);
      assert.deepEqual(
        waiting.map((r) => r.job.reason),
        ['reconcile'],
      );
      assert.match(
        waiting[0]!.outcome.detail!,
        /heal attempt 2\/3 waits until 2030-01-01T01:01:00\.000Z \(last: failed\)/,
      );
      const second = await reconcileAt(t + 61_000);
      assert.deepEqual(
        second.map((r) => [r.job.reason, r.outcome.status]),
        [
          ['reconcile', 'drifted'],
          ['heal', 'failed'],
        ],
      );
      assert.match(second[1]!.job.id, /-2$/);
      const stillWaiting = await reconcileAt(t + 61_000 + 100_000);
      assert.deepEqual(
        stillWaiting.map((r) => r.job.reason),
        ['reconcile'],
        'the second back-off is 2 minutes, not 1',
      );
      const third = await reconcileAt(t + 61_000 + 121_000);
      assert.deepEqual(
        third.map((r) => [r.job.reason, r.outcome.status]),
        [
          ['reconcile', 'drifted'],
          ['heal', 'failed'],
        ],
      );

      // Used up: only reported from now on, however long it waits.
      for (const later of [t + 3_600_000, t + 86_400_000]) {
        const stopped = await reconcileAt(later);
        assert.deepEqual(
          stopped.map((r) => r.job.reason),
          ['reconcile'],
        );
        assert.match(
          stopped[0]!.outcome.detail!,
          /web-2 drifted \(running v0-hotfix2\); want v1; heal stopped after 3 attempts \(last: failed\)/,
        );
      }
      assert.equal(heals() - before, 3);
      const text = formatDrift(await report());
      assert.match(text, /api\/prod\s+web-2\s+drifted\s+api:v1\s+api:v0-hotfix2/);
      assert.match(text, /^api\/prod: heal stopped after 3 attempts \(last: failed\)/m);

      // A different drift (a person changes the host again) is a new drift with its own attempts.
      registryDown = false;
      await byHand('web-2', runTag('v0-hotfix3'));
      const fresh = await reconcileAt(t + 86_400_000 + 10_000);
      assert.deepEqual(
        fresh.map((r) => [r.job.reason, r.outcome.status]),
        [
          ['reconcile', 'drifted'],
          ['heal', 'deployed'],
        ],
      );
      assert.match(fresh[1]!.outcome.detail!, /heal attempt 1\/3 of web-2/);
      assert.equal(await served(fleet.host('web-2').address, port), 'v1');
    } finally {
      registryDown = false;
    }
  });

  it('no ledger, no heal: when the attempt cannot be recorded on the host, the heal does not touch it', async () => {
    const healDir = join(fleet.host('web-2').home, config.ssh.stateDir, 'heal');
    rmSync(healDir, { recursive: true, force: true });
    writeFileSync(healDir, 'not a directory\n');
    try {
      await byHand('web-2', runTag('v0-hotfix4'));
      const ran = await reconcileAt(T0 + 2 * 86_400_000);
      assert.deepEqual(
        ran.map((r) => [r.job.reason, r.outcome.status]),
        [
          ['reconcile', 'drifted'],
          ['heal', 'failed'],
        ],
      );
      assert.match(ran[1]!.outcome.detail!, /heal attempt 1 not run: could not record it on web-2/);
      assert.equal(await served(fleet.host('web-2').address, port), 'v0-hotfix4');
    } finally {
      rmSync(healDir, { force: true });
    }
  });
});
