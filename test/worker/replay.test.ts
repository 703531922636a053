/**
 * Issue 12, items 2 and 3: which deploys the worker makes or skips, decided from the manifest history alone
 * (so every run mode decides alike). Real parts: a real bare git manifest repository through the git
 * backend, the worker's deploy pipeline, the receiver's routing of real-shaped GitLab payloads and the real
 * durable queue. No hosts: the manifest commit is the deploy (rollouts: replay-fleet.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { buildCommitMessage } from '../../lib/manifest/commit-message.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { sendJob } from '../../lib/queue/send-job.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'api/prod.yaml';
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const sha = (c: string) => c.repeat(40);
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** The receiver's view of the same app (routing only: the repository is never opened). */
const routingConfig = (trigger: 'push' | 'pipeline') =>
  parseConfig(`
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: /nonexistent }
apps:
  api:
    source: { project: acme/api, trigger: ${trigger} }
    image: registry.example.com/acme/api
    environments:
      prod: { manifest: { file: ${FILE}, path: image.tag } }
`);

function setup() {
  const repo = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
  const config = parseConfig(oneAppConfigYaml({ repository: repo.bare, file: FILE }));
  const ports = makeDeployPorts({
    config,
    configPath: join(repo.root, 'fjord.yaml'),
    dataDir: mkdtempSync(join(tmpdir(), 'fjord-replay-')),
  });
  let n = 0;
  /** A webhook's job as the receiver builds it: a fresh id each delivery, received now. */
  const event = (tag: string, source: Partial<DeployJob['source']>, over: Partial<DeployJob> = {}) =>
    makeJob({
      n: ++n,
      tag,
      sha: sha(tag.at(-1)!),
      enqueuedAt: new Date().toISOString(),
      ...over,
      source: { provider: 'gitlab', project: 'acme/api', ref: 'main', ...source },
    });
  /** What `fjord rollback` / `fjord deploy` build (lib/cli/manual-job.ts). */
  const manual = (tag: string, reason: 'rollback' | 'manual') =>
    makeJob({
      n: ++n,
      tag,
      reason,
      sha: undefined,
      enqueuedAt: new Date().toISOString(),
      source: { provider: 'cli', author: 'ada' },
    });
  const tagNow = () => /tag: (\S+)/.exec(repo.git(['show', `main:${FILE}`]))![1];
  const commits = () => Number(repo.git(['rev-list', '--count', 'main']));
  return { repo, ports, event, manual, tagNow, commits, run: (job: DeployJob) => deploy(job, ctx, ports) };
}

describe('replays and ordering decided from the manifest history', () => {
  it('a resent merge of the version `fjord rollback` removed is not deployed again', async () => {
    const { run, event, manual, tagNow, commits } = setup();
    assert.equal((await run(event('v1', { deliveryId: 'd-v1', committedAt: minutesAgo(30) }))).status, 'deployed');
    const merge2 = { deliveryId: 'd-v2', committedAt: minutesAgo(20) };
    assert.equal((await run(event('v2', merge2))).status, 'deployed');
    assert.equal((await run(manual('v1', 'rollback'))).status, 'deployed');
    assert.equal(tagNow(), 'v1');
    const before = commits();
    // GitLab "Resend" of the v2 merge: byte-identical body, same Idempotency-Key, a new job id.
    const replay = await run(event('v2', merge2));
    assert.equal(replay.status, 'superseded', replay.detail);
    assert.equal(tagNow(), 'v1');
    assert.equal(commits(), before, 'nothing committed');
  });

  it('a replay is recognised by its delivery even without a source time', async () => {
    const { run, event, tagNow } = setup();
    assert.equal((await run(event('v1', { deliveryId: 'd-v1' }))).status, 'deployed');
    assert.equal((await run(event('v2', { deliveryId: 'd-v2' }))).status, 'deployed');
    assert.equal((await run(event('v3', { deliveryId: 'd-v3' }))).status, 'deployed');
    const replay = await run(event('v2', { deliveryId: 'd-v2' }));
    assert.equal(replay.status, 'superseded', replay.detail);
    assert.match(replay.detail ?? '', /replay of a delivery already deployed/);
    assert.equal(tagNow(), 'v3');
  });

  it('an event older than `fjord rollback` / `fjord deploy` does not override it; a newer one does', async () => {
    const { run, event, manual, tagNow } = setup();
    assert.equal((await run(event('v2', { deliveryId: 'd-v2', committedAt: minutesAgo(60) }))).status, 'deployed');
    assert.equal((await run(manual('v1', 'rollback'))).status, 'deployed');
    // A merge made before the rollback, delivered late (a new delivery: not a replay of v2's).
    const late = await run(event('v3', { deliveryId: 'd-v3', committedAt: minutesAgo(10) }));
    assert.equal(late.status, 'superseded', late.detail);
    assert.match(late.detail ?? '', /set on purpose/);
    assert.equal(tagNow(), 'v1');
    assert.equal((await run(manual('v5', 'manual'))).status, 'deployed');
    assert.equal((await run(event('v4', { deliveryId: 'd-v4', committedAt: minutesAgo(5) }))).status, 'superseded');
    assert.equal(tagNow(), 'v5');
    // A merge after the intent deploys.
    assert.equal(
      (await run(event('v6', { deliveryId: 'd-v6', committedAt: new Date(Date.now() + 1000).toISOString() }))).status,
      'deployed',
    );
    assert.equal(tagNow(), 'v6');
  });

  it('a source time far in the future does not freeze the environment', async () => {
    const { run, event, tagNow, repo, ports } = setup();
    const far = { committedAt: '2099-01-01T00:00:00.000Z' };
    // A job that still carries 2099 (queued before the receiver clamped it): recorded as now.
    assert.equal(
      (await run(event('v1', { deliveryId: 'd-v1', ...far }, { enqueuedAt: far.committedAt }))).status,
      'deployed',
    );
    assert.doesNotMatch(repo.git(['log', '-1', '--format=%B', 'main']), /2099/, 'a time beyond now is recorded as now');
    assert.equal(
      (await run(event('v2', { deliveryId: 'd-v2', committedAt: new Date(Date.now() + 1000).toISOString() }))).status,
      'deployed',
    );
    // A 2099 record an older fjord wrote counts as the time of its own commit.
    const file = await ports.store.read(FILE);
    const old = makeJob({ n: 99, tag: 'v9' });
    await ports.store.commit({
      file: FILE,
      content: file.content.replace('v2', 'v9'),
      lastCommitId: file.commitId,
      message: buildCommitMessage(old, { trailers: { 'Fjord-Source-Time': far.committedAt } }),
    });
    assert.equal(
      (await run(event('v3', { deliveryId: 'd-v3', committedAt: new Date(Date.now() + 2000).toISOString() }))).status,
      'deployed',
    );
    assert.equal(tagNow(), 'v3');
  });

  it('a push that resets the branch to an older commit deploys it; a replay of the push it undid does not', async () => {
    const { run, event, tagNow } = setup();
    const [a, b, c] = [sha('a'), sha('b'), sha('c')];
    const pushB = { deliveryId: 'd-push-b', committedAt: minutesAgo(30), before: a };
    const pushC = { deliveryId: 'd-push-c', committedAt: minutesAgo(20), before: b };
    assert.equal((await run(event('vb', pushB, { reason: 'push' }))).status, 'deployed');
    assert.equal((await run(event('vc', pushC, { reason: 'push' }))).status, 'deployed');
    // git reset --hard b && git push --force: `before` is c (deployed last), `after` b, whose commit is older.
    const reset = await run(
      event('vb', { deliveryId: 'd-reset', committedAt: minutesAgo(30), before: c }, { reason: 'push' }),
    );
    assert.equal(reset.status, 'deployed', reset.detail);
    assert.equal(tagNow(), 'vb');
    // The reset took c's place in the order: the push of c, resent, and an old push, late, stay out.
    assert.equal((await run(event('vc', pushC, { reason: 'push' }))).status, 'superseded');
    assert.equal(
      (
        await run(
          event('va', { deliveryId: 'd-push-a', committedAt: minutesAgo(40), before: sha('9') }, { reason: 'push' }),
        )
      ).status,
      'superseded',
    );
    assert.equal(tagNow(), 'vb');
    // A new pipeline for the reset branch head (its before_sha is c too) is no reason to skip either.
    assert.equal(
      (await run(event('vc', { deliveryId: 'd-push-c2', committedAt: minutesAgo(20), before: b }, { reason: 'push' })))
        .status,
      'deployed',
      'pushing c again after the reset',
    );
  });

  it('a new pipeline for an older commit deploys it; a late pipeline of that commit from before does not', async () => {
    const { run, tagNow } = setup();
    const routing = routingConfig('pipeline');
    // GitLab's pipeline event as it is sent: created_at in its own format, the commit's time apart.
    const gitlabTime = (m: number) =>
      minutesAgo(m)
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
    const pipeline = (
      id: number,
      commit: string,
      createdMinutesAgo: number,
      commitMinutesAgo: number,
      before = '0'.repeat(40),
    ) => {
      const body = {
        object_kind: 'pipeline',
        object_attributes: {
          id,
          ref: 'main',
          tag: false,
          sha: commit,
          before_sha: before,
          source: 'push',
          status: 'success',
          created_at: gitlabTime(createdMinutesAgo),
        },
        commit: { id: commit, timestamp: minutesAgo(commitMinutesAgo) },
        user: { name: 'Ada' },
        project: { path_with_namespace: 'acme/api' },
      };
      const out = routeEvent(parseGitlab('Pipeline Hook', body) as SourceEvent, {
        config: routing,
        deliveryId: `pipeline-${id}`,
        now: Date.now,
      });
      assert.ok('jobs' in out, JSON.stringify(out));
      return out.jobs[0]!;
    };
    const [a, b] = [sha('a'), sha('b')];
    assert.equal((await run(pipeline(1, a, 30, 40, sha('9')))).status, 'deployed');
    assert.equal((await run(pipeline(2, b, 20, 25, a))).status, 'deployed');
    // An older pipeline of a, finishing late: the branch pointed at b since.
    const late = await run(pipeline(3, a, 35, 40, sha('9')));
    assert.equal(late.status, 'superseded', late.detail);
    assert.equal(tagNow(), b.slice(0, 8));
    // "Run pipeline" on main after it was reset to a: created now, for a commit older than b.
    const again = await run(pipeline(4, a, 1, 40));
    assert.equal(again.status, 'deployed', again.detail);
    assert.equal(tagNow(), a.slice(0, 8));
  });

  it('the receiver keeps a reset push apart from the first push of that commit, and clamps future times', async () => {
    const config = routingConfig('push');
    const now = Date.now();
    const push = (before: string, after: string, timestamp: string) => ({
      object_kind: 'push',
      ref: 'refs/heads/main',
      before,
      after,
      checkout_sha: after,
      user_name: 'Ada',
      project: { path_with_namespace: 'acme/api' },
      commits: [{ id: after, timestamp }],
    });
    const route = (body: unknown, id: string) => {
      const out = routeEvent(parseGitlab('Push Hook', body) as SourceEvent, { config, deliveryId: id, now: () => now });
      assert.ok('jobs' in out, JSON.stringify(out));
      return out.jobs[0]!;
    };
    const first = route(push(sha('a'), sha('b'), '2026-11-20T10:00:00Z'), 'd-1');
    const reset = route(push(sha('c'), sha('b'), '2026-11-20T10:00:00Z'), 'd-2');
    assert.equal(reset.source.before, sha('c'));
    const queue = await createLocalQueue({ dir: mkdtempSync(join(tmpdir(), 'fjord-replay-q-')), key: testQueueKey() });
    try {
      assert.equal((await sendJob(queue, first)).duplicate, false);
      assert.equal(
        (await sendJob(queue, { ...first, id: 'redelivered-1' })).duplicate,
        true,
        'a redelivery is still one job',
      );
      assert.equal((await sendJob(queue, reset)).duplicate, false, 'the reset is a deploy of its own');
    } finally {
      await queue.close();
    }
    const future = route(push(sha('a'), sha('d'), '2099-01-01T00:00:00Z'), 'd-3');
    assert.equal(future.source.committedAt, new Date(now).toISOString());
    assert.equal(
      route(push('0'.repeat(40), sha('e'), '2026-11-20T10:00:00Z'), 'd-4').source.before,
      undefined,
      'a new branch has no before',
    );
  });
});
