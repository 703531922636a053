/**
 * Deploy freezes that queue, not drop (issue 14, item 1), end to end on real parts: a bare git manifest
 * repository, the embedded durable queue on disk, the worker loop, and the GitLab stand-in
 * (test/fixtures/gitlab/, extended with freeze periods from GitLab's API docs) holding the app project,
 * its merged MRs, their notes and commit statuses. The worker's clock is injected, so "the freeze ends"
 * is the clock moving, not a wait. Each scenario runs once with the window in fjord.yaml and once as a
 * GitLab Freeze Period: a merge during a freeze rolls nothing out and the note says until when; the
 * freeze ends → it deploys by itself; a newer merge during the freeze → only the newer one deploys.
 * The environment is GitOps-only (no hosts): its manifest commit is its deploy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { parseConfig } from '../../lib/config/index.js';
import { GateWait } from '../../lib/gates/gate.js';
import { gatesFor } from '../../lib/gates/gates-for.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import type { ManifestStore } from '../../lib/manifest/store.js';
import { ManifestNotFound } from '../../lib/manifest/store-errors.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { reportReplaced } from '../../lib/notify/report-replaced.js';
import { createLocalQueue, type LocalQueue } from '../../lib/queue/local.js';
import { sendJob } from '../../lib/queue/send-job.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployHandler, makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { type RunningWorker, startWorker } from '../../lib/worker/worker-loop.js';
import { eventually } from '../fixtures/eventually.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { type GitlabStandIn, startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'api/prod.yaml';
const PROJECT = 'acme/api';
// Christmas in Berlin: 24 Dec 18:00 to 26 Dec 18:00 local (17:00 UTC both days).
const INSIDE = Date.parse('2026-12-25T09:00:00Z');
const AFTER_END = Date.parse('2026-12-26T17:00:01Z');
const UNTIL_TEXT = 'waiting for the freeze to end at 2026-12-26 18:00 Europe/Berlin';
const YAML_FREEZE =
  'freezes: [{ name: xmas, cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin, environments: [prod] }]';

interface World {
  gitlab: GitlabStandIn;
  manifests: TestRepo;
  queue: LocalQueue;
  worker: RunningWorker;
  outcomes: Array<{ job: DeployJob; outcome: Outcome }>;
  setClock(ms: number): void;
  merged(n: number): Promise<DeployJob>;
  restart(): Promise<void>;
  tag(): string;
  deployCommits(): string[];
  stop(): Promise<void>;
}

async function world(source: 'fjord.yaml' | 'GitLab' | 'none', extra = ''): Promise<World> {
  const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
  const manifests = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
  const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: app.bare } } });
  const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
  if (source === 'GitLab')
    await api.FreezePeriods.create(PROJECT, '0 18 24 12 *', '0 18 26 12 *', { cronTimezone: 'Europe/Berlin' });
  const yaml = oneAppConfigYaml({
    repository: manifests.bare,
    file: FILE,
    sources: `{ gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN } }`,
    extra: [source === 'fjord.yaml' ? YAML_FREEZE : '', extra].filter(Boolean).join('\n'),
  });
  const config = parseConfig(yaml);
  const env = { GITLAB_TOKEN: gitlab.token };
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-freeze-'));
  let t = INSIDE;
  const logger = createLogger({ level: 'warn', write: (l) => process.env.FREEZE_DEBUG && console.error(l) });
  const outcomes: World['outcomes'] = [];
  const open = async () => {
    const notifier = createNotifier(config, { env, logger });
    // As lib/embedded/start-embedded.ts wires it: a replaced job is told superseded.
    const queue = await createLocalQueue({
      dir: join(dataDir, 'queue'),
      key: testQueueKey(),
      coalesce: true,
      fsync: false,
      now: () => t,
      onCoalesced: reportReplaced(notifier),
    });
    const handle = makeDeployHandler({
      config,
      configPath: join(manifests.root, 'fjord.yaml'),
      dataDir,
      env,
      now: () => new Date(t),
      notifier,
    });
    const worker = startWorker({
      queue,
      handle,
      logger,
      idleMs: 20,
      onOutcome: (job, outcome) => outcomes.push({ job, outcome }),
    });
    return { queue, worker };
  };
  let running = await open();
  const w: World = {
    gitlab,
    manifests,
    get queue() {
      return running.queue;
    },
    get worker() {
      return running.worker;
    },
    outcomes,
    setClock: (ms) => {
      t = ms;
    },
    async merged(n) {
      await api.Commits.create(
        PROJECT,
        `feat-${n}`,
        `feat: ${n}`,
        [{ action: 'update', filePath: 'main.go', content: `package main // ${n}\n` }],
        { startBranch: 'main' },
      );
      const mr = await api.MergeRequests.create(PROJECT, `feat-${n}`, 'main', `change ${n}`);
      const m = await api.MergeRequests.merge(PROJECT, mr.iid);
      return makeJob({
        n,
        id: `job-freeze-${source === 'GitLab' ? 'gl' : 'yaml'}-${n}`,
        tag: `v${n}`,
        sha: m.merge_commit_sha!,
        source: { provider: 'gitlab', project: PROJECT, ref: 'main', mr: mr.iid },
      });
    },
    async restart() {
      await running.worker.stop();
      await running.queue.close();
      running = await open();
    },
    tag: () => /tag: (\S+)/.exec(manifests.git(['show', `main:${FILE}`]))![1]!,
    deployCommits: () =>
      manifests
        .git(['log', '--format=%s', 'main'])
        .trim()
        .split('\n')
        .filter((s) => s.startsWith('deploy(')),
    async stop() {
      await running.worker.stop();
      await running.queue.close();
      await gitlab.close();
      app.cleanup();
      manifests.cleanup();
    },
  };
  return w;
}

const waitingIn = (w: World, job: DeployJob) =>
  w.queue.list().find((e) => e.job.id === job.id && e.state === 'delayed');
const noteOf = (w: World, job: DeployJob) =>
  w.gitlab.state.notes.find((n) => n.mergeRequestIid === job.source.mr)?.body ?? '';
const statusOf = (w: World, job: DeployJob) => w.gitlab.state.statuses.filter((s) => s.sha === job.sha).at(-1);

for (const source of ['fjord.yaml', 'GitLab'] as const) {
  describe(`a deploy freeze from ${source}`, () => {
    const label = source === 'GitLab' ? /\(GitLab freeze period 1 of acme\/api\)/ : /\(fjord\.yaml freeze "xmas"\)/;
    const worlds: World[] = [];
    after(async () => Promise.all(worlds.map((w) => w.stop())));

    it('holds a merge during the freeze (nothing committed, the note and status say until when), then deploys it by itself when the freeze ends', async () => {
      const w = await world(source);
      worlds.push(w);
      const job = await w.merged(1);
      await sendJob(w.queue, job);
      const entry = await eventually(() => waitingIn(w, job), 'the job to be handed back until the freeze ends');
      assert.equal(entry.visibleAt, '2026-12-26T17:00:00.000Z', 'visible again exactly when the freeze ends');
      assert.equal(entry.attempts, 0, 'waiting used up no attempt');
      assert.equal(w.tag(), 'v0', 'nothing rolled out');
      assert.deepEqual(w.deployCommits(), []);
      const note = await eventually(() => noteOf(w, job).includes(UNTIL_TEXT) && noteOf(w, job), 'the waiting note');
      assert.match(note, label);
      assert.match(note, /waiting/);
      const status = statusOf(w, job);
      assert.equal(status?.state, 'pending');
      assert.match(status?.description ?? '', new RegExp(`^${UNTIL_TEXT}`));
      assert.equal(w.gitlab.state.deployments.length, 0, 'no GitLab Deployment while it waits');

      w.setClock(AFTER_END);
      const done = await eventually(() => w.outcomes.find((o) => o.job.id === job.id), 'the deploy after the freeze');
      assert.equal(done.outcome.status, 'deployed', done.outcome.detail);
      assert.equal(w.tag(), 'v1');
      assert.equal(statusOf(w, job)?.state, 'success');
      assert.match(noteOf(w, job), /deployed/);
    });

    it('a newer merge during the freeze replaces the waiting one: only the newer one deploys when it ends', async () => {
      const w = await world(source);
      worlds.push(w);
      const older = await w.merged(2);
      await sendJob(w.queue, older);
      await eventually(() => waitingIn(w, older), 'the older job to wait');
      const newer = await w.merged(3);
      await sendJob(w.queue, newer);
      await eventually(() => waitingIn(w, newer), 'the newer job to wait');
      assert.deepEqual(
        w.queue.list().map((e) => e.job.id),
        [newer.id],
        'the older one left the queue',
      );
      assert.deepEqual(w.deployCommits(), []);

      w.setClock(AFTER_END);
      const done = await eventually(() => w.outcomes.find((o) => o.job.id === newer.id), 'the newer deploy');
      assert.equal(done.outcome.status, 'deployed', done.outcome.detail);
      await w.worker.idle();
      assert.equal(w.tag(), 'v3');
      assert.deepEqual(
        w.deployCommits(),
        ['deploy(api/prod): registry.example.com/acme/api:v3'],
        'v2 was never committed',
      );
      assert.ok(!w.outcomes.some((o) => o.job.id === older.id), 'the older one never ran');
    });

    it('a waiting job replaced by a newer merge no longer says it waits: its note and commit status (canceled) name the newer deploy', async () => {
      const w = await world(source);
      worlds.push(w);
      const older = await w.merged(6);
      await sendJob(w.queue, older);
      await eventually(
        () => noteOf(w, older).includes(UNTIL_TEXT) && statusOf(w, older)?.state === 'pending',
        "the older job's waiting note and status",
      );
      const newer = await w.merged(7);
      await sendJob(w.queue, newer);
      const note = await eventually(
        () => /superseded/.test(noteOf(w, older)) && noteOf(w, older),
        'the older note to say superseded',
      );
      assert.doesNotMatch(note, /waiting for the freeze/);
      assert.match(
        note,
        new RegExp(`newer deploy of api/prod: v7 \\(!${newer.source.mr}, ${newer.sha!.slice(0, 12)}\\)`),
      );
      const status = await eventually(
        () => statusOf(w, older)?.state === 'canceled' && statusOf(w, older),
        'the older status to be canceled',
      );
      assert.match(status.description ?? '', /^superseded: replaced in the queue by a newer deploy of api\/prod: v7/);
      assert.deepEqual(w.deployCommits(), [], 'nothing rolled out: the newer one waits for the freeze too');
      assert.match(
        await eventually(() => noteOf(w, newer).includes(UNTIL_TEXT) && noteOf(w, newer), 'the newer waiting note'),
        /waiting/,
      );
    });
  });
}

describe('a deploy freeze and the embedded worker', () => {
  const worlds: World[] = [];
  after(async () => Promise.all(worlds.map((w) => w.stop())));

  it('a job waiting for a freeze survives a restart of the embedded worker and deploys once the freeze ends', async () => {
    const w = await world('fjord.yaml');
    worlds.push(w);
    const job = await w.merged(4);
    await sendJob(w.queue, job);
    await eventually(() => waitingIn(w, job), 'the job to wait');
    await w.restart();
    const entry = waitingIn(w, job);
    assert.equal(entry?.visibleAt, '2026-12-26T17:00:00.000Z', 'the not-before time came back from the journal');
    w.setClock(AFTER_END);
    const done = await eventually(() => w.outcomes.find((o) => o.job.id === job.id), 'the deploy after the restart');
    assert.equal(done.outcome.status, 'deployed', done.outcome.detail);
    assert.equal(w.tag(), 'v4');
  });

  it('a freeze in the manifest repository (.fjord/freezes.yaml) holds deploys the same way', async () => {
    const w = await world('none');
    worlds.push(w);
    w.manifests.pushChange(
      '.fjord/freezes.yaml',
      'freezes:\n  - { name: boxing-day, cron: "0 18 26 12 *", duration: 24h, timeZone: Europe/Berlin }\n',
      'freeze: boxing day',
    );
    w.setClock(Date.parse('2026-12-26T18:00:00Z'));
    const job = await w.merged(5);
    await sendJob(w.queue, job);
    const entry = await eventually(() => waitingIn(w, job), 'the job to wait');
    assert.equal(entry.visibleAt, '2026-12-27T17:00:00.000Z');
    assert.match(
      await eventually(() => noteOf(w, job), 'the note'),
      /waiting for the freeze to end at 2026-12-27 18:00 Europe\/Berlin \(\.fjord\/freezes\.yaml freeze "boxing-day"\)/,
    );
    w.setClock(Date.parse('2026-12-27T17:00:00Z'));
    const done = await eventually(() => w.outcomes.find((o) => o.job.id === job.id), 'the deploy');
    assert.equal(done.outcome.status, 'deployed', done.outcome.detail);
  });
});

describe('rollbacks during a freeze', () => {
  const setup = (blockRollbacks: boolean) => {
    const manifests = createBareRepo({ [FILE]: 'image:\n  tag: v7\n' });
    const config = parseConfig(
      oneAppConfigYaml({
        repository: manifests.bare,
        file: FILE,
        extra: `freezes: [{ cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin, blockRollbacks: ${blockRollbacks} }]`,
      }),
    );
    const ports = makeDeployPorts({
      config,
      configPath: join(manifests.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-freeze-rb-')),
      env: {},
      now: () => new Date(INSIDE),
    });
    const ctx = {
      heartbeat: async () => {},
      attempts: 1,
      logger: createLogger({ level: 'error', write: () => {} }),
      signal: new AbortController().signal,
    };
    const job = (reason: DeployJob['reason'], n: number) =>
      makeJob({ n, reason, tag: `v${n}`, source: { provider: 'cli' } });
    return { manifests, ports, ctx, job };
  };

  it('a rollback passes a freeze by default; a merge in the same freeze is held', async () => {
    const { manifests, ports, ctx, job } = setup(false);
    const outcome = await deploy(job('rollback', 6), ctx, ports);
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.match(manifests.git(['log', '-1', '--format=%B', 'main']), /Fjord-Reason: rollback/);
    await assert.rejects(
      deploy(job('merge', 8), ctx, ports),
      (err: unknown) =>
        err instanceof GateWait && /waiting for the freeze to end at 2026-12-26 18:00 Europe\/Berlin/.test(err.reason),
    );
    assert.match(manifests.git(['show', `main:${FILE}`]), /tag: v6/, 'the merge committed nothing');
    manifests.cleanup();
  });

  it('heals and converges pass a freeze by default; blockRollbacks: true holds them too', async () => {
    for (const blockRollbacks of [false, true]) {
      const manifests = createBareRepo({ [FILE]: 'image:\n  tag: v7\n' });
      const config = parseConfig(
        oneAppConfigYaml({
          repository: manifests.bare,
          file: FILE,
          extra: `freezes: [{ cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin, blockRollbacks: ${blockRollbacks} }]`,
        }),
      );
      const [gate] = gatesFor(config, {
        store: {
          read: async () => {
            throw new ManifestNotFound(FILE);
          },
        } as unknown as ManifestStore,
        env: {},
        now: () => new Date(INSIDE),
      });
      for (const reason of ['heal', 'converge', 'rollback', 'merge'] as const) {
        const d = await gate!.check({
          job: makeJob({ reason, id: `job-${reason}-0001`, source: { provider: 'cli' } }),
          now: new Date(INSIDE),
          overrides: {},
        });
        const held = reason === 'merge' || blockRollbacks;
        assert.equal(d.verdict, held ? 'wait' : 'pass', `${reason} with blockRollbacks: ${blockRollbacks}`);
      }
      manifests.cleanup();
    }
  });

  it('blockRollbacks: true holds rollbacks too', async () => {
    const { manifests, ports, ctx, job } = setup(true);
    await assert.rejects(deploy(job('rollback', 6), ctx, ports), GateWait);
    assert.match(manifests.git(['show', `main:${FILE}`]), /tag: v7/);
    manifests.cleanup();
  });
});
