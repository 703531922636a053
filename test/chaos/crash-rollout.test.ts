/**
 * Issue 6 item 2, crash mid-rollout: the real worker (`fjord start` as a child process, embedded durable
 * queue) rolls a job out over the real sshd fleet (3 hosts, batch 1, a real Docker engine each, images
 * from the loopback registry) from a real bare manifest repository,
 * and is killed with SIGKILL — its whole process group, git included — at a seeded random point: after the
 * k-th rollout log line, or a random time into the job. A new worker process is started; the redelivered
 * job must finish the rollout (a healthy tag) or roll it back (an unhealthy image; a host whose health
 * check fails after two hosts were updated). Afterwards: every host runs the manifest's tag, the manifest holds exactly
 * one deploy commit for the job (and one rollback commit when it failed), no host lock is left, and the
 * queue holds nothing (a dead letter only with the report of why). Seed: FJORD_TEST_SEED.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { EnvironmentConfig } from '../../lib/config/schema.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { readLocalQueue } from '../../lib/queue/read-local.js';
import { sendJob } from '../../lib/queue/send-job.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { makeJob, TEST_QUEUE_KEY_VALUE, testQueueKey } from '../fixtures/jobs.js';
import { freePort } from '../fixtures/sshd.js';
import { engineMissing } from '../fixtures/engine.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { bundleFjord, startWorkerProcess, type LogLine, type WorkerProcess } from '../fixtures/worker-process.js';
import { captureText, declareSecrets, recordFigures } from './figures.js';
import { fleetState, seededRandom } from './fleet-state.js';

const SEED = Number(process.env.FJORD_TEST_SEED ?? 20250611);
// `npm run chaos` runs 20 (test/chaos/run.ts); `npm test` 8, at least one of each scenario (below).
const RUNS = Number(process.env.FJORD_CHAOS_CRASH_RUNS ?? 8);
let IMAGE = 'unset';
const FILE = 'prod/values.yaml';
const WEBHOOK_SECRET = 'crash-test-webhook-secret-0a9f';
// The health check, a real command on the host: the app answers, and the host's `sick` file (if any) does
// not name the tag of the container checked (the new `-next` one while it exists, else the running one).
const HEALTH = (port: number) =>
  `c=api-prod-next; docker inspect --type container $c >/dev/null 2>&1 || c=api-prod; ` +
  `[ "$(docker inspect --type container --format '{{index .Config.Labels "fjord.tag"}}' $c)" != "$(cat sick 2>/dev/null)" ] && ` +
  `curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${port}${HEALTH_PATH}`;
const values = (tag: string) => `# prod\nimage:\n  repository: ${IMAGE}\n  tag: ${tag}   # fjord\n`;

/**
 * healthy: the tag is fine; unhealthy: the image's health endpoint answers 500 (web-1 fails first);
 * late-failure: web-3's health check fails for the new tag after web-1 and web-2 were updated (the check
 * is a real command on the host, which fails while the host's `sick` file names the tag of the container
 * it checks; pulls now happen on every host before batch 1, so a failing pull can no longer be late);
 * sick-after-crash: a healthy tag, but while the worker is down web-1 (already updated by it) turns sick
 * for it, so the redelivery fails there and must also put back
 * web-2, which the dead worker changed and the redelivery never reaches.
 */
type Scenario = 'healthy' | 'unhealthy' | 'late-failure' | 'sick-after-crash';
/** What the redelivered job must end in, whatever the kill interrupted. */
const EXPECT: Record<Scenario, 'deployed' | 'failed'> = {
  healthy: 'deployed',
  unhealthy: 'failed',
  'late-failure': 'failed',
  'sick-after-crash': 'failed',
};

describe('crash mid-rollout (kill -9 of the worker process)', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let dir: string;
  let port: number;
  let env: EnvironmentConfig;
  const workers = new Set<WorkerProcess>();
  let entry: string;

  before(async () => {
    [fleet, entry, registry] = await Promise.all([
      startFleet({ hosts: 3, engine: true }),
      bundleFjord(),
      startRegistry(),
    ]);
    IMAGE = await pushTestImage(registry.url, 'v0', 'web', { name: 'acme/api' });
    declareSecrets(fleet.privateKey.reveal(), WEBHOOK_SECRET);
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ [FILE]: values('v0') });
    dir = mkdtempSync(join(tmpdir(), 'fjord-chaos-crash-'));
    // lockStaleAfter stays at its default (1 h): a redelivered job must get its hosts back without it.
    const yaml =
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image: IMAGE,
        environments: `
      prod:
        manifest: { file: ${FILE}, path: image.tag }
        hosts: [web-1, web-2, web-3]
        rollout: { batchSize: 1, holdAfterRollback: false, container: { ports: ["${port}:8080"] }, healthCheck: { command: ${JSON.stringify(['sh', '-c', HEALTH(port)])}, interval: 100ms, timeout: 1500ms }, hostTimeout: 15s }
`,
      }) +
      'worker: { concurrency: 2, visibility: 2s, maxAttempts: 6 }\n' +
      // The drift check's own jobs (one at every start) would only add noise to the queue checked here.
      'reconcile: { interval: 0s }\n';
    writeFileSync(join(dir, 'fjord.yaml'), yaml);
    env = parseConfig(yaml).apps.api!.environments.prod!;
  });
  after(async () => {
    await Promise.all([...workers].map((w) => w.kill9()));
    await fleet?.stop();
    await registry?.stop();
    repo?.cleanup();
  });
  /** The host's health check fails for containers of `tag` from now on (`sick` in its home), or (undefined) for none. */
  const setSick = (host: string, tag: string | undefined) =>
    tag
      ? writeFileSync(join(fleet.host(host).home, 'sick'), tag)
      : rmSync(join(fleet.host(host).home, 'sick'), { force: true });

  const start = (seen: WorkerProcess[]) => {
    const w = startWorkerProcess({
      entry,
      config: join(dir, 'fjord.yaml'),
      cwd: dir,
      env: {
        FJORD_DATA_DIR: join(dir, 'data'),
        FJORD_QUEUE_KEY: TEST_QUEUE_KEY_VALUE,
        FJORD_SSH_KEY: fleet.privateKey.reveal(),
        S: WEBHOOK_SECRET,
      },
      onText: captureText,
    });
    workers.add(w);
    seen.push(w);
    return w;
  };
  const retire = async (w: WorkerProcess, how: 'kill' | 'stop') => {
    if (how === 'kill') await w.kill9();
    else assert.equal(await w.stop(), 0, 'the worker stops cleanly on SIGTERM');
    workers.delete(w);
  };
  const enqueue = async (job: ReturnType<typeof makeJob>) => {
    const queue = await createLocalQueue({ key: testQueueKey(), dir: join(dir, 'data', 'queue') });
    try {
      await sendJob(queue, job);
    } finally {
      await queue.close();
    }
  };
  /** The first to settle; the others' later rejections (the worker is killed next) are expected. */
  const firstOf = <T>(all: Promise<T>[]) => {
    for (const p of all) p.catch(() => {});
    return Promise.race(all);
  };
  const isDone = (id: string) => (l: LogLine) => l.msg === 'job done' && l.job === id;
  const manifestTag = () => /tag: (\S+)/.exec(repo.git(['show', `main:${FILE}`]))![1]!;
  const commitsOf = (id: string) => {
    const bodies = repo.git(['log', '--format=%B%x00', 'main']).split('\0');
    return {
      deploys: bodies.filter((b) => b.includes(`Fjord-Job: ${id}\n`) && !b.includes('Fjord-Rollback-Of')).length,
      rollbacks: bodies.filter((b) => b.includes(`Fjord-Rollback-Of: ${id}\n`)).length,
    };
  };

  // The test's own bound is a backstop: every wait inside is bounded by measured times (`within` below), and
  // a loaded box makes the 23 runs slower than any fixed total (560 s ran out).
  it(`every redelivered job finishes or rolls back; fleet, manifest, locks and queue agree (${RUNS} runs, seed ${SEED})`, {
    timeout: 60 * 60_000,
  }, async (t) => {
    const random = seededRandom(SEED);
    // Every kill counts as converged once the fleet, manifest, locks and queue agree after its run.
    const figures = { kills: 0, converged: 0, staleLocks: 0 };
    let takeovers = 0; // locks a restarted worker took over from the killed one (diagnostic)
    // Per scenario, from its unkilled calibration run: rollout log lines and milliseconds of one job.
    const calibration = new Map<Scenario, { lines: number; ms: number }>();
    // The slowest worker start-up and job seen so far (calibration runs and every finished run): each wait
    // allows 8× that, at least 30 s, so a loaded machine slows the bounds down with the work.
    const slowest = { startMs: 0, jobMs: 0 };
    const within = (ms: number) => ({ timeoutMs: Math.max(30_000, 8 * ms) });
    const started = async (w: WorkerProcess) => {
      const t = Date.now();
      await w.waitFor((l) => l.msg === 'fjord started (embedded)', within(slowest.startMs + slowest.jobMs));
      slowest.startMs = Math.max(slowest.startMs, Date.now() - t);
    };
    const jobDone = async (w: WorkerProcess, id: string) => {
      const t = Date.now();
      const line = await w.waitFor(isDone(id), within(slowest.jobMs));
      slowest.jobMs = Math.max(slowest.jobMs, Date.now() - t);
      return line;
    };
    let running = 'v0';
    let n = 0;
    const failures: string[] = [];

    const runOne = async (scenario: Scenario, kill: boolean) => {
      const i = n++;
      const runStart = Date.now();
      let kills = 0;
      let acked = false;
      const marks: string[] = [];
      const mark = (what: string) => marks.push(`${what}@${((Date.now() - runStart) / 1000).toFixed(1)}`);
      const tag = scenario === 'unhealthy' ? `r${i}-unhealthy` : `r${i}`;
      const job = makeJob({ n: i + 1, id: `crash-${SEED}-${i}`, image: IMAGE, tag });
      const before = running;
      await pushTestImage(registry.url, tag, scenario === 'unhealthy' ? 'unhealthy' : 'web', { name: 'acme/api' });
      setSick('web-3', scenario === 'late-failure' ? tag : undefined);
      await enqueue(job);
      let where = 'no kill (calibration)';
      let done: LogLine | undefined;
      const seen: WorkerProcess[] = [];
      const first = start(seen);
      await started(first);
      const t0 = Date.now();
      if (!kill) {
        done = await jobDone(first, job.id);
        calibration.set(scenario, {
          lines: first.lines.filter((l) => l.msg === 'rollout').length,
          ms: Date.now() - t0,
        });
        await retire(first, 'stop');
      } else {
        const sick = scenario === 'sick-after-crash';
        const cal = calibration.get(sick ? 'healthy' : scenario)!;
        const byLine = sick || random() < 0.6;
        if (byLine) {
          // sick-after-crash: killed once web-1 is done and before the job is.
          const k = sick ? 18 + Math.floor(random() * (cal.lines - 24)) : 1 + Math.floor(random() * cal.lines);
          await firstOf([
            first.waitFor((l) => l.msg === 'rollout', { count: k, ...within(slowest.jobMs) }),
            first.waitFor(isDone(job.id), within(slowest.jobMs)),
          ]);
          where = `after rollout line ${k}/${cal.lines}`;
        } else {
          const ms = Math.floor(random() * cal.ms);
          await new Promise((r) => setTimeout(r, ms));
          where = `${ms} ms into the job (of ~${cal.ms})`;
        }
        await retire(first, 'kill');
        mark('killed');
        kills++;
        done = first.lines.find(isDone(job.id));
        // Answered before the kill (acked): nothing to redeliver.
        const pending = (await readLocalQueue(join(dir, 'data', 'queue'))).list().some((e) => e.job.id === job.id);
        acked = !pending;
        if (pending) {
          if (sick) setSick('web-1', tag);
          let next = start(seen);
          // One run in five, the restarted worker is killed too, during its own try.
          if (!sick && random() < 0.2) {
            const k = 1 + Math.floor(random() * 8);
            const bound = within(slowest.startMs + slowest.jobMs);
            await firstOf([
              next.waitFor((l) => l.msg === 'rollout', { count: k, ...bound }),
              next.waitFor(isDone(job.id), bound),
            ]);
            await retire(next, 'kill');
            kills++;
            where += `, and the restarted worker after its rollout line ${k}`;
            const stillPending = (await readLocalQueue(join(dir, 'data', 'queue')))
              .list()
              .some((e) => e.job.id === job.id);
            done = next.lines.find(isDone(job.id));
            if (stillPending) next = start(seen);
          }
          if (!next.exited) {
            await started(next).catch(() => undefined);
            mark('restarted');
            // A redelivery waits for the queue's visibility timeout and may roll back what the killed worker did.
            done = await next.waitFor(isDone(job.id), within(2 * slowest.jobMs + 2_000)).catch(() => undefined);
            mark('done');
            await retire(next, 'stop');
            mark('stopped');
          }
        } else if (!done) {
          where += ' (acked before the kill; its log line was cut)';
        }
      }

      // What the world looks like now.
      setSick('web-1', undefined);
      setSick('web-3', undefined);
      // A job answered before the kill was never redelivered: web-1 turned sick after it was done.
      const expected = EXPECT[scenario === 'sick-after-crash' && acked ? 'healthy' : scenario];
      const want = expected === 'deployed' ? tag : before;
      const state = await fleetState(fleet, env, port);
      mark('checked');
      const queue = await createLocalQueue({ key: testQueueKey(), dir: join(dir, 'data', 'queue') });
      const left = queue.list();
      const dead = queue.listDead().filter((d) => d.job.id === job.id);
      await queue.close();
      const commits = commitsOf(job.id);
      const label = `run ${i} (${scenario} ${tag}, kill ${where}; ${((Date.now() - runStart) / 1000).toFixed(1)} s: ${marks.join(' ')})`;
      const problems: string[] = [];
      if (!done && !where.includes('acked before')) problems.push('no outcome logged for the job');
      if (done && !(expected === 'deployed' ? ['deployed', 'noop'] : ['failed']).includes(done.status as string))
        problems.push(`job ended ${done.status}: ${done.detail}`);
      if (manifestTag() !== want) problems.push(`manifest says ${manifestTag()}, expected ${want}`);
      for (const h of state) {
        if (h.ref !== `${IMAGE}:${want}` || h.state !== 'running' || h.serves !== want)
          problems.push(`${h.host} runs ${h.ref} (${h.state}), serves ${h.serves}`);
        if (h.locked)
          problems.push(`${h.host} still locked: ${h.lockOwner?.replace(/^token=.*\n/, '').replace(/\n/g, ', ')}`);
      }
      figures.staleLocks += state.filter((h) => h.locked).length;
      if (left.length) problems.push(`queue still holds ${left.map((e) => `${e.job.id} (${e.state})`).join(', ')}`);
      // A dead letter is acceptable only with its report (the worker's error line naming the job).
      for (const d of dead)
        if (!seen.flatMap((w) => w.lines).some((l) => l.msg === 'job dead-lettered' && l.job === d.job.id))
          problems.push(`dead letter ${d.job.id} without a report`);
      if (commits.deploys !== 1) problems.push(`${commits.deploys} deploy commits for the job`);
      if (commits.rollbacks !== (expected === 'failed' ? 1 : 0))
        problems.push(`${commits.rollbacks} rollback commits for the job`);
      const line = `${label}: ${problems.length ? `NOT CONVERGED: ${problems.join('; ')}` : `converged on ${want}${done ? ` (${done.status})` : ''}`}`;
      captureText(line);
      t.diagnostic(line);
      if (problems.length) failures.push(line);
      else figures.converged += kills;
      figures.kills += kills;
      takeovers += seen
        .flatMap((w) => w.lines)
        .filter((l) => l.msg === 'rollout' && l.type === 'lock-taken-over').length;
      running = want;
    };

    try {
      for (const scenario of ['healthy', 'unhealthy', 'late-failure'] as const) await runOne(scenario, false);
      // The first four killed runs take one scenario each, in a seeded order; the rest are drawn at random.
      const firsts: Scenario[] = ['healthy', 'unhealthy', 'late-failure', 'sick-after-crash'];
      for (let i = firsts.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [firsts[i], firsts[j]] = [firsts[j]!, firsts[i]!];
      }
      for (let r = 0; r < RUNS; r++) {
        const roll = random();
        const drawn =
          roll < 0.45 ? 'healthy' : roll < 0.65 ? 'unhealthy' : roll < 0.85 ? 'late-failure' : 'sick-after-crash';
        await runOne(firsts[r] ?? drawn, true);
      }
    } finally {
      recordFigures(figures);
      t.diagnostic(`figures: ${JSON.stringify(figures)}; host locks taken over from a killed worker: ${takeovers}`);
    }
    assert.deepEqual(failures, []);
    assert.ok(figures.kills >= RUNS);
    assert.equal(figures.converged, figures.kills);
    assert.equal(figures.staleLocks, 0);
  });
});
