/**
 * Deploy freezes on a real fleet (issue 14, item 1): two sshd hosts with a real Docker engine each
 * (test/fixtures/engine.ts, shared/REAL-FLEET.md), images in Debian's docker-registry, a bare manifest
 * repository, the GitLab stand-in with the app's merged MRs, the embedded durable queue and the worker
 * loop with an injected clock. During the freeze the engines' own records (container id, image, the images
 * pulled) do not change; when it ends the newest merge rolls out by itself, and the one it replaced never
 * reached a host. A rollback passes the freeze (the default) and changes the containers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { reportReplaced } from '../../lib/notify/report-replaced.js';
import { createLocalQueue, type LocalQueue } from '../../lib/queue/local.js';
import { sendJob } from '../../lib/queue/send-job.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployHandler, makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { startWorker, type RunningWorker } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { eventually } from '../fixtures/eventually.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';

const PROJECT = 'acme/api';
const BEFORE = Date.parse('2026-12-24T12:00:00Z');
const INSIDE = Date.parse('2026-12-25T09:00:00Z');
const AFTER_END = Date.parse('2026-12-26T17:00:01Z');
const UNTIL_TEXT = 'waiting for the freeze to end at 2026-12-26 18:00 Europe/Berlin (fjord.yaml freeze "xmas")';

describe('a deploy freeze on a fleet of real Docker engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let gitlab: GitlabStandIn;
  let app: TestRepo;
  let manifests: TestRepo;
  let queue: LocalQueue;
  let worker: RunningWorker;
  let image: string;
  let manualPorts: () => ReturnType<typeof makeDeployPorts>;
  let t = BEFORE;
  let n = 0;
  const outcomes: Array<{ job: DeployJob; outcome: Outcome }> = [];
  const logger = createLogger({ level: 'warn', write: (l) => process.env.FREEZE_DEBUG && console.error(l) });

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    image = `${registry.host}/acme/api`;
    for (const tag of ['v1', 'v2', 'v3']) await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    manifests = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v0\n' });
    gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: app.bare } } });
    const port = await freePort(fleet.hosts[0]!.address);
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: manifests.bare,
        image,
        gitlab: `url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`,
        extra: `registries: [{ host: "${registry.host}", insecure: true }]\nfreezes: [{ name: xmas, cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin }]\n`,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        rollout: { batchSize: 1, container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 10s }, hostTimeout: 60s }
`,
      }),
    );
    const env = { FJORD_SSH_KEY: fleet.privateKey.reveal(), GITLAB_TOKEN: gitlab.token };
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-freeze-fleet-'));
    const notifier = createNotifier(config, { env, logger });
    queue = await createLocalQueue({
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
    // `fjord rollback` runs the pipeline in the CLI's process, not through a queue (lib/cli/manual-job.ts).
    manualPorts = () =>
      makeDeployPorts({
        config,
        configPath: join(manifests.root, 'fjord.yaml'),
        dataDir: join(dataDir, 'cli'),
        env,
        now: () => new Date(t),
      });
    worker = startWorker({
      queue,
      handle,
      logger,
      idleMs: 20,
      onOutcome: (job, outcome) => outcomes.push({ job, outcome }),
    });
  });
  after(async () => {
    await worker?.stop();
    await queue?.close();
    await Promise.all([fleet?.stop(), registry?.stop(), gitlab?.close()]);
    app?.cleanup();
    manifests?.cleanup();
  });

  async function merged(tag: string): Promise<DeployJob> {
    const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
    await api.Commits.create(
      PROJECT,
      `feat-${tag}`,
      `feat: ${tag}`,
      [{ action: 'update', filePath: 'main.go', content: `package main // ${tag}\n` }],
      { startBranch: 'main' },
    );
    const mr = await api.MergeRequests.create(PROJECT, `feat-${tag}`, 'main', tag);
    const m = await api.MergeRequests.merge(PROJECT, mr.iid);
    // As the receiver builds it: the merge time orders deploys.
    const committedAt = new Date(Date.now() - 60_000 + ++n * 1000).toISOString();
    return makeJob({
      id: `job-freeze-fleet-${tag}`,
      image,
      tag,
      sha: m.merge_commit_sha!,
      enqueuedAt: new Date().toISOString(),
      source: { provider: 'gitlab', project: PROJECT, ref: 'main', mr: mr.iid, committedAt },
    });
  }
  /** What each engine runs, in its own words: container id, image, state. */
  const containers = () =>
    fleet.hosts.map((h) =>
      h.engine!.docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Image}} {{.State}}']).trim(),
    );
  const pulled = () =>
    fleet.hosts.map((h) =>
      h.engine!.docker(['images', '--format', '{{.Tag}}']).trim().split('\n').filter(Boolean).sort(),
    );
  const outcomeOf = (job: DeployJob) =>
    eventually(() => outcomes.find((o) => o.job.id === job.id)?.outcome, `the outcome of ${job.tag}`);
  const statusOf = (job: DeployJob) => gitlab.state.statuses.filter((s) => s.sha === job.sha).at(-1);
  const noteOf = (job: DeployJob) => gitlab.state.notes.find((x) => x.mergeRequestIid === job.source.mr)?.body ?? '';

  it('during the freeze nothing on the hosts changes (container id, image, images pulled); when it ends only the newest merge rolls out, by itself', async () => {
    const first = await merged('v1');
    await sendJob(queue, first);
    assert.equal((await outcomeOf(first)).status, 'deployed');
    const before = containers();
    assert.ok(
      before.every((c) => c.endsWith(`${image}:v1 running`)),
      before.join(' | '),
    );

    t = INSIDE;
    const older = await merged('v2');
    await sendJob(queue, older);
    await eventually(
      () =>
        noteOf(older).includes(UNTIL_TEXT) && queue.list().some((e) => e.job.id === older.id && e.state === 'delayed'),
      'v2 to wait for the freeze',
    );
    const newer = await merged('v3');
    await sendJob(queue, newer);
    await eventually(
      () =>
        noteOf(newer).includes(UNTIL_TEXT) && queue.list().some((e) => e.job.id === newer.id && e.state === 'delayed'),
      'v3 to wait for the freeze',
    );
    await eventually(() => statusOf(older)?.state === 'canceled', 'v2 to be reported superseded');
    assert.deepEqual(containers(), before, 'a container changed during the freeze');
    assert.deepEqual(pulled(), [['v1'], ['v1']], 'an image was pulled during the freeze');
    assert.match(manifests.git(['show', 'main:api/prod.yaml']), /tag: v1/);

    t = AFTER_END;
    assert.equal((await outcomeOf(newer)).status, 'deployed');
    const now = containers();
    assert.ok(
      now.every((c) => c.endsWith(`${image}:v3 running`)),
      now.join(' | '),
    );
    assert.ok(
      now.every((c, i) => c.split(' ')[0] !== before[i]!.split(' ')[0]),
      'new containers',
    );
    assert.deepEqual(
      pulled(),
      [
        ['v1', 'v3'],
        ['v1', 'v3'],
      ],
      'v2 never reached a host',
    );
    assert.ok(!outcomes.some((o) => o.job.id === older.id), 'the replaced merge never ran');
    assert.equal(statusOf(newer)?.state, 'success');
  });

  it('a rollback (fjord rollback) passes a freeze by default and rolls the hosts back', async () => {
    t = Date.parse('2027-12-25T09:00:00Z');
    const before = containers();
    const rollback = makeJob({
      id: 'job-freeze-fleet-rollback',
      image,
      tag: 'v1',
      reason: 'rollback',
      enqueuedAt: new Date().toISOString(),
      source: { provider: 'cli', author: 'ops' },
    });
    const ctx = { heartbeat: async () => {}, attempts: 1, logger, signal: new AbortController().signal };
    const outcome = await deploy(rollback, ctx, manualPorts());
    assert.equal(outcome.status, 'deployed', outcome.detail);
    const now = containers();
    assert.ok(
      now.every((c) => c.endsWith(`${image}:v1 running`)),
      now.join(' | '),
    );
    assert.notDeepEqual(now, before);
  });
});
