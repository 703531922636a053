/**
 * `/fjord` commands in MR comments (issue 14, item 4) on real parts: GitLab Note Hook bodies parsed and routed
 * as the receiver does, the worker's handler checking the commenter through the GitLab stand-in's members
 * API and answering in the note's thread, a real sshd host with its own Docker engine, a real bare
 * manifest repository. Rollback → hold → the next merge is committed but not rolled out → `/fjord release`
 * rolls it out; every command from a user without permission is refused with a reply and no side effect.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import type { Config } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { HOLDS_FILE, parseHolds } from '../../lib/holds/hold.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { handlerInDir } from '../fixtures/handler-in-dir.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage, type ImageMode } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import { lockHost, unlockHost } from '../../lib/rollout/host-lock.js';
import { LockHeld } from '../../lib/rollout/errors.js';
import { lockOwner } from '../../lib/rollout/state-commands.js';
import { RetryableError } from '../../lib/worker/outcome.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const DISCUSSION = 'a'.repeat(40);
const MIA = { id: 101, username: 'maintainer-mia' };
const DAN = { id: 102, username: 'dev-dan' };

describe('/fjord commands in merge request comments', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let gitlab: GitlabStandIn;
  let repo: TestRepo;
  let source: TestRepo;
  let handle: JobHandler;
  let port: number;
  let IMAGE = 'unset';
  let config: Config;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-commands-'));
  const queued: DeployJob[] = [];
  const env = () => ({
    FJORD_SSH_KEY: fleet.privateKey.reveal(),
    GITLAB_TOKEN: gitlab.token,
    FJORD_LOG_LEVEL: 'warn',
    FJORD_DATA_DIR: join(dir, 'cli-data'),
  });

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    const images: Array<[string, ImageMode]> = [
      ['v1', 'web'],
      ['v2-unhealthy', 'unhealthy'],
      ['v3', 'web'],
    ];
    for (const [tag, mode] of images) IMAGE = await pushTestImage(registry.url, tag, mode, { name: 'acme/api' });
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v0\n' });
    source = createBareRepo({ 'README.md': 'api\n' });
    gitlab = await startGitlabStandIn({ projects: { 'acme/api': { repo: source.bare } } });
    const bot = [...gitlab.state.users.values()][0]!;
    const now = new Date().toISOString();
    gitlab.state.mergeRequests.push({
      id: 1007,
      iid: 7,
      projectId: 1,
      title: 'feature',
      description: '',
      sourceBranch: 'feature',
      targetBranch: 'main',
      state: 'opened',
      author: bot,
      createdAt: now,
      updatedAt: now,
      removeSourceBranch: false,
    });
    gitlab.state.members.push(
      { projectId: 1, userId: MIA.id, username: MIA.username, accessLevel: 40 },
      { projectId: 1, userId: DAN.id, username: DAN.username, accessLevel: 30 },
    );
    // The merges in this test are made up (no MR in the stand-in): the merge confirmation is not its subject.
    const yaml = fleetConfigYaml({
      fleet,
      repository: repo.bare,
      image: IMAGE,
      gitlab: `url: ${gitlab.url}, tokenEnv: GITLAB_TOKEN, confirmMerge: false`,
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 6s }, hostTimeout: 40s }
`,
    });
    ({ config, handle } = handlerInDir(dir, yaml, env(), queued));
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), gitlab?.close()]);
    repo?.cleanup();
    source?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  let noteId = 500;
  /** A Note Hook body as GitLab sends it for a comment on MR !7, routed as the receiver routes it. */
  const comment = (user: { id: number; username: string }, note: string) => {
    const payload = {
      object_kind: 'note',
      event_type: 'note',
      user: { ...user, name: user.username },
      project: { id: 1, path_with_namespace: 'acme/api' },
      object_attributes: {
        id: ++noteId,
        note,
        noteable_type: 'MergeRequest',
        discussion_id: DISCUSSION,
        system: false,
      },
      merge_request: { iid: 7, target_branch: 'main', last_commit: { id: 'c'.repeat(40) } },
    };
    const event = parseGitlab('Note Hook', payload);
    if ('ignored' in event) return event;
    return routeEvent(event as SourceEvent, { config, deliveryId: `note-${noteId}`, now: Date.now });
  };
  const run = async (user: { id: number; username: string }, note: string) => {
    const routed = comment(user, note);
    assert.ok('jobs' in routed, JSON.stringify(routed));
    assert.equal(routed.jobs.length, 1);
    const outcome = await handle(routed.jobs[0]!, ctx);
    const reply = gitlab.state.notes.at(-1)!;
    assert.equal(reply.discussionId, DISCUSSION, 'answered in the same thread');
    return { outcome, reply: reply.body };
  };
  const merge = (tag: string) => makeJob({ app: 'api', environment: 'prod', image: IMAGE, tag, id: `job-prod-${tag}` });
  const onHost = () => served(fleet.hosts[0]!.address, port);
  const holds = () => parseHolds(repo.git(['show', `main:${HOLDS_FILE}`]));

  it('rollback → hold → the next merge is committed but not rolled out → /fjord release rolls it out', async () => {
    const first = await main(['deploy', 'api', 'prod', '--tag', 'v1', '--config', join(dir, 'fjord.yaml')], {
      stdout: () => {},
      stderr: () => {},
      env: env(),
      cwd: dir,
    });
    assert.equal(first, 0);
    assert.equal((await handle(merge('v2-unhealthy'), ctx)).status, 'failed');
    assert.ok(holds()['api/prod'], 'held after the automatic rollback');
    assert.equal((await handle(merge('v3'), ctx)).status, 'held');
    assert.equal(await onHost(), 'v1');

    const { reply } = await run(MIA, '/fjord release prod');
    assert.match(reply, /^@maintainer-mia released api\/prod \([0-9a-f]{12}\); rolling out v3$/);
    assert.deepEqual(holds(), {});
    assert.equal(queued.length, 1);
    assert.deepEqual([queued[0]!.reason, queued[0]!.tag], ['converge', 'v3']);
    const converge = await handle(queued.shift()!, ctx);
    assert.equal(converge.status, 'deployed', converge.detail);
    assert.equal(await onHost(), 'v3');
    assert.match(
      repo.git(['log', '-1', '--format=%B', '--', HOLDS_FILE]),
      /Fjord-Requested-By: maintainer-mia \(gitlab\)/,
    );
  });

  it('every /fjord command from a user without permission is refused with a reply and no side effect', async () => {
    const hold = await run(MIA, '/fjord hold prod incident 7');
    assert.match(hold.reply, /^@maintainer-mia held: api\/prod is held since .*incident 7/);
    const head = repo.git(['rev-parse', 'main']);
    for (const command of [
      'plan',
      'deploy prod',
      'deploy prod --tag v1',
      'rollback prod',
      'rollback prod --to v1',
      'hold prod',
      'release prod',
      'unlock prod',
      'approve',
      'approve prod',
      'reject prod',
    ]) {
      const requests = gitlab.state.requests.length;
      const { outcome, reply } = await run(DAN, `/fjord ${command}`);
      assert.equal(outcome.refused, true, command);
      assert.match(
        reply,
        new RegExp(
          `^@dev-dan may not run \`/fjord ${command.split(' ')[0]}\`: it needs access level 40 on acme/api, you have 30\\. Nothing was done\\.$`,
        ),
      );
      // Only the permission check and the reply reached GitLab; git, the queue and the host are untouched.
      assert.deepEqual(
        gitlab.state.requests.slice(requests).map((r) => `${r.method} ${r.path}`),
        [
          'GET /projects/acme/api/members/all/102',
          `POST /projects/acme/api/merge_requests/7/discussions/${DISCUSSION}/notes`,
        ],
      );
      assert.equal(repo.git(['rev-parse', 'main']), head, command);
      assert.deepEqual(queued, []);
    }
    assert.equal(holds()['api/prod']?.reason, 'incident 7');
    assert.equal(await onHost(), 'v3');
    // A stranger (no membership: 404) is refused the same way.
    assert.match(
      (await run({ id: 999, username: 'stranger' }, '/fjord release prod')).reply,
      /you have 0\. Nothing was done/,
    );
  });

  it('unknown commands and bad arguments get help; approve goes to the approvals hook; other notes are ignored', async () => {
    assert.match(
      (await run(DAN, '/fjord frobnicate prod')).reply,
      /^@dev-dan unknown command "frobnicate"\.\n\nfjord commands/,
    );
    assert.match(
      (await run(DAN, '/fjord deploy qa')).reply,
      /no environment "qa" for acme\/api in fjord\.yaml \(prod\)/,
    );
    assert.match((await run(DAN, '/fjord deploy prod --tag "v1;rm"')).reply, /is not an image tag/);
    assert.equal((await run(MIA, '/fjord approve prod')).reply, '@maintainer-mia no approvals are required for prod');
    assert.deepEqual(comment(MIA, 'looks good to me, /fjord later'), { ignored: 'comment is not a /fjord command' });
  });

  /** `/fjord release prod` by a maintainer, and the converge job it queues run to its end. */
  const release = async () => {
    assert.match((await run(MIA, '/fjord release prod')).reply, /released api\/prod/);
    const converge = await handle(queued.shift()!, ctx);
    assert.ok(['deployed', 'noop'].includes(converge.status), converge.detail);
  };

  it('a permitted /fjord deploy <env> --tag T rolls T out; /fjord rollback <env> --to T rolls back to T and holds', async () => {
    await release();
    const deployed = await run(MIA, '/fjord deploy prod --tag v1');
    assert.equal(deployed.outcome.status, 'deployed', deployed.outcome.detail);
    assert.match(deployed.reply, /^@maintainer-mia `deploy prod` → v1: deployed/);
    assert.equal(await onHost(), 'v1');
    assert.match(repo.git(['show', 'main:api/prod.yaml']), /tag: v1/);

    const rolled = await run(MIA, '/fjord rollback prod --to v3');
    assert.equal(rolled.outcome.status, 'deployed', rolled.outcome.detail);
    assert.match(rolled.reply, /^@maintainer-mia `rollback prod` → v3: deployed/);
    assert.equal(await onHost(), 'v3');
    assert.equal(holds()['api/prod']?.reason, '/fjord rollback to v3');
    assert.equal(holds()['api/prod']?.by, 'maintainer-mia (gitlab)');
    // Held: the next merge is committed, not rolled out.
    assert.equal((await handle(merge('v1'), ctx)).status, 'held');
    assert.equal(await onHost(), 'v3');
    await release();
    assert.equal(await onHost(), 'v1');
  });

  it('/fjord plan answers in the thread with the plan of the merge request head', async () => {
    const head = repo.git(['rev-parse', 'main']);
    const { outcome, reply } = await run(MIA, '/fjord plan');
    assert.equal(outcome.status, 'planned', outcome.detail);
    assert.match(reply, /^@maintainer-mia plan \(!7 deploys [^ ]+ to prod; 1 host\(s\)/);
    assert.match(reply, /web-1/);
    assert.doesNotMatch(
      reply,
      new RegExp(fleet.hosts[0]!.address.replace(/\./g, '\\.')),
      'host addresses stay out of the reply',
    );
    assert.equal(repo.git(['rev-parse', 'main']), head, 'a plan commits nothing');
  });

  it('/fjord unlock breaks the lock a killed deploy left, so the next deploy runs without waiting for lockStaleAfter; another environment keeps its lock', async () => {
    const hostFleet = fleetForConfig(config, env(), dir)(['web-1']);
    try {
      const session = await hostFleet.session('web-1');
      const owner = (app: string, token: string) =>
        lockOwner({
          token,
          jobId: 'job-killed',
          app,
          environment: 'prod',
          owner: 'fjord worker pid 4242 (killed)',
          time: new Date(),
        });
      // What a deploy killed mid-rollout leaves: its lock, an hour from stale (ssh.lockStaleAfter's default).
      await lockHost(session, '.fjord', owner('api', 'deadbeef01'), 3_600_000);
      await assert.rejects(
        handle(merge('v3'), ctx),
        (err) => err instanceof RetryableError && /locked by another deploy/.test(err.message),
      );
      assert.equal(await onHost(), 'v1');

      const { outcome, reply } = await run(MIA, '/fjord unlock prod');
      assert.equal(outcome.status, 'noop');
      assert.match(
        reply,
        /^@maintainer-mia host locks of api\/prod:\n- unlocked: web-1 \(job=job-killed, app=api, environment=prod, owner=fjord worker pid 4242 \(killed\), time=[^)]+\)$/,
      );
      assert.doesNotMatch(reply, /deadbeef01/, 'the lock token stays out of the reply');
      // The queue's redelivery of the deploy the lock stopped now runs at once.
      const redelivered = await handle(merge('v3'), ctx);
      assert.equal(redelivered.status, 'deployed', redelivered.detail);
      assert.equal(await onHost(), 'v3');
      assert.match((await run(MIA, '/fjord unlock prod')).reply, /- were not locked: web-1$/);

      // A host shared with another app: that app's deploy keeps its lock.
      await lockHost(session, '.fjord', owner('web', 'deadbeef02'), 3_600_000);
      assert.match(
        (await run(MIA, '/fjord unlock prod')).reply,
        /- locked by another environment's deploy, left alone: web-1 \(job=job-killed, app=web,/,
      );
      await assert.rejects(lockHost(session, '.fjord', owner('api', 'deadbeef03'), 3_600_000), LockHeld);
      await unlockHost(session, '.fjord', 'deadbeef02');
    } finally {
      await hostFleet.close();
    }
  });

  it('fjord unlock <app> <env> on the command line breaks the same lock', async () => {
    const hostFleet = fleetForConfig(config, env(), dir)(['web-1']);
    try {
      await lockHost(
        await hostFleet.session('web-1'),
        '.fjord',
        lockOwner({
          token: 'deadbeef04',
          jobId: 'job-cli-killed',
          app: 'api',
          environment: 'prod',
          owner: 'fjord cli (killed)',
          time: new Date(),
        }),
        3_600_000,
      );
    } finally {
      await hostFleet.close();
    }
    const out: string[] = [];
    const code = await main(['unlock', 'api', 'prod', '--config', join(dir, 'fjord.yaml')], {
      stdout: (t) => void out.push(t),
      stderr: () => {},
      env: env(),
      cwd: dir,
    });
    assert.equal(code, 0);
    assert.match(out.join(''), /^host locks of api\/prod:\n- unlocked: web-1 \(job=job-cli-killed, /);
    const again: string[] = [];
    await main(['unlock', 'api', 'prod', '--config', join(dir, 'fjord.yaml')], {
      stdout: (t) => void again.push(t),
      stderr: () => {},
      env: env(),
      cwd: dir,
    });
    assert.equal(again.join(''), 'host locks of api/prod:\n- were not locked: web-1\n');
  });
});
