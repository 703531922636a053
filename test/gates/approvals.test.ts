/**
 * Protected environments and approvals (issue 14, item 2) on real parts: a real sshd host with its own
 * Docker engine, a real bare manifest repository, GitLab Note Hook bodies routed as the receiver routes
 * them, and the GitLab stand-in's members API (by id for commenters, by `query` for a merge event's user).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { APPROVALS_FILE } from '../../lib/gates/approval-record.js';
import { dedupIdOf, groupOf, type DeployJob } from '../../lib/job.js';
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
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const DISCUSSION = 'b'.repeat(40);
const ADA = { id: 201, username: 'ada', name: 'Ada Lovelace' };
const MIA = { id: 202, username: 'maintainer-mia' };
const DAN = { id: 203, username: 'dev-dan' };
const REX = { id: 204, username: 'reporter-rex', name: 'Rex Reporter' };
const FAY = { id: 205, username: 'fay' };

describe('protected environments and approvals', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let gitlab: GitlabStandIn;
  let repo: TestRepo;
  let source: TestRepo;
  let handle: JobHandler;
  let noToken: JobHandler;
  let port: number;
  let IMAGE = 'unset';
  let config: Config;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-approvals-'));
  const queued: DeployJob[] = [];

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2', 'v3']) IMAGE = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v0\n', 'api/gitops.yaml': 'image:\n  tag: v0\n' });
    source = createBareRepo({ 'README.md': 'api\n' });
    gitlab = await startGitlabStandIn({ projects: { 'acme/api': { repo: source.bare } } });
    const bot = [...gitlab.state.users.values()][0]!;
    const now = new Date().toISOString();
    gitlab.state.mergeRequests.push({
      id: 1009,
      iid: 9,
      projectId: 1,
      title: 'feature',
      description: '',
      sourceBranch: 'feature',
      targetBranch: 'main',
      state: 'merged',
      author: bot,
      createdAt: now,
      updatedAt: now,
      removeSourceBranch: false,
    });
    gitlab.state.members.push(
      { projectId: 1, userId: ADA.id, username: ADA.username, name: ADA.name, accessLevel: 40 },
      { projectId: 1, userId: MIA.id, username: MIA.username, accessLevel: 40 },
      { projectId: 1, userId: DAN.id, username: DAN.username, accessLevel: 30 },
      { projectId: 1, userId: REX.id, username: REX.username, name: REX.name, accessLevel: 20 },
      { projectId: 1, userId: FAY.id, username: FAY.username, accessLevel: 30 },
    );
    const environments = `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        protect: { minAccessLevel: 30, approvals: 2, approvers: { minAccessLevel: 30 } }
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 6s }, hostTimeout: 40s }
      gitops:
        manifest: { file: api/gitops.yaml, path: image.tag }
        protect: { minAccessLevel: 30 }
`;
    const yaml = (gl: string) =>
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image: IMAGE,
        gitlab: gl,
        environments,
        extra: 'commands: { minAccessLevel: 20 }',
      });
    const env = { FJORD_SSH_KEY: fleet.privateKey.reveal(), GITLAB_TOKEN: gitlab.token, FJORD_LOG_LEVEL: 'warn' };
    // The merges here are made up: the merge confirmation is not this test's subject.
    ({ config, handle } = handlerInDir(
      dir,
      yaml(`url: ${gitlab.url}, tokenEnv: GITLAB_TOKEN, confirmMerge: false`),
      env,
      queued,
    ));
    noToken = handlerInDir(mkdtempSync(join(dir, 'no-token-')), yaml(`url: ${gitlab.url}`), env, queued).handle;
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), gitlab?.close()]);
    repo?.cleanup();
    source?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  let noteId = 900;
  const approve = async (user: { id: number; username: string }, text = '/fjord approve prod') => {
    const payload = {
      object_kind: 'note',
      event_type: 'note',
      user: { ...user, name: user.username },
      project: { id: 1, path_with_namespace: 'acme/api' },
      object_attributes: {
        id: ++noteId,
        note: text,
        noteable_type: 'MergeRequest',
        discussion_id: DISCUSSION,
        system: false,
      },
      merge_request: { iid: 9, target_branch: 'main', last_commit: { id: 'c'.repeat(40) } },
    };
    const routed = routeEvent(parseGitlab('Note Hook', payload) as SourceEvent, {
      config,
      deliveryId: `note-${noteId}`,
      now: Date.now,
    });
    assert.ok('jobs' in routed && routed.jobs.length === 1, JSON.stringify(routed));
    // Beside the environment's group: its answer never waits behind a rollout there.
    if (text.startsWith('/fjord approve')) assert.equal(groupOf(routed.jobs[0]!), 'api/prod/approve');
    await handle(routed.jobs[0]!, ctx);
    return gitlab.state.notes.at(-1)!.body;
  };
  const merge = (tag: string, over: Partial<DeployJob> = {}) =>
    makeJob({
      app: 'api',
      environment: 'prod',
      image: IMAGE,
      tag,
      id: `job-prod-${tag}`,
      source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 9, author: ADA.name },
      enqueuedAt: new Date().toISOString(),
      ...over,
    });
  /** The handler's answer for a job waiting for approvals: it ends (`waiting`), its group is not held. */
  const waits = async (h: JobHandler, job: DeployJob): Promise<{ reason: string }> => {
    const outcome = await h(job, ctx);
    assert.equal(outcome.status, 'waiting', outcome.detail);
    return { reason: outcome.detail! };
  };
  const prodTag = () => /tag: (\S+)/.exec(repo.git(['show', 'main:api/prod.yaml']))![1];
  const onHost = () => served(fleet.hosts[0]!.address, port);

  it('a production deploy needing 2 approvals: waiting; one approval → still waiting; self-approval refused; second approval sends it again → deployed', async () => {
    const job = merge('v1');
    const first = await waits(handle, job);
    assert.match(first.reason, /^waiting for 0 of 2 approvals: `\/fjord approve prod` by someone other than ada /);
    assert.equal(prodTag(), 'v0', 'nothing committed while it waits');
    assert.match(repo.git(['show', `main:${APPROVALS_FILE}`]), /job: job-prod-v1/);

    assert.equal(await approve(MIA), '@maintainer-mia approved v1 for api/prod: 1 of 2 approvals.');
    assert.match((await waits(handle, job)).reason, /^waiting for 1 of 2 approvals \(approved by maintainer-mia\)/);
    assert.equal(await approve(MIA), '@maintainer-mia already approved v1 for api/prod: 1 of 2 approvals.');
    assert.equal(await approve(ADA), '@ada cannot approve your own deploy of v1 to api/prod: another person must.');
    assert.match((await waits(handle, job)).reason, /^waiting for 1 of 2 approvals/);
    assert.equal(prodTag(), 'v0');

    queued.length = 0;
    assert.equal(await approve(DAN), '@dev-dan approved v1 for api/prod: 2 of 2 approvals; deploying.');
    const [resent, ...more] = queued.splice(0);
    assert.deepEqual(more, [], 'sent once');
    assert.deepEqual(
      { ...resent, approved: undefined },
      { ...job, approved: undefined },
      'the recorded job, as it waited',
    );
    assert.equal(resent!.approved, true);
    assert.notEqual(dedupIdOf(resent!), dedupIdOf(job), 'never dropped as a duplicate of its merge');
    assert.equal(
      await approve(FAY),
      '@fay v1 for api/prod is already approved (2 of 2 approvals); nothing more is needed.',
    );
    assert.deepEqual(queued, [], 'an approval after the count is complete sends nothing');
    const outcome = await handle(resent!, ctx);
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.equal(prodTag(), 'v1');
    assert.equal(await onHost(), 'v1');
    assert.match(
      repo.git(['log', '-1', '--format=%B', '--', 'api/prod.yaml']),
      /Fjord-Approved-By: maintainer-mia, dev-dan/,
    );
  });

  it('an approver below protect.approvers.minAccessLevel is refused, and their word does not count', async () => {
    const job = merge('v2');
    assert.match((await waits(handle, job)).reason, /^waiting for 0 of 2 approvals/);
    assert.equal(
      await approve(REX),
      '@reporter-rex may not approve deploys to api/prod: it needs access level 30 on acme/api, you have 20. Nothing was recorded.',
    );
    assert.doesNotMatch(repo.git(['show', `main:${APPROVALS_FILE}`]), /reporter-rex/);
    assert.match((await waits(handle, job)).reason, /^waiting for 0 of 2 approvals/);
  });

  it('a newer deploy replacing the waiting one expires its approvals; the old one is refused if it comes back', async () => {
    const old = merge('v2', { id: 'job-prod-v2-old', enqueuedAt: new Date(Date.now() - 1000).toISOString() });
    await waits(handle, old);
    assert.match(await approve(MIA), /approved v2 for api\/prod: 1 of 2 approvals/);
    const newer = merge('v3');
    assert.match(
      (await waits(handle, newer)).reason,
      /^waiting for 0 of 2 approvals:/,
      'the approval given to v2 does not carry over',
    );
    const back = await handle(old, ctx);
    assert.equal(back.status, 'failed');
    assert.match(back.detail!, /refused: replaced: a newer deploy \(v3\) waits for approval in api\/prod/);
    assert.match(await approve(DAN), /approved v3 for api\/prod: 1 of 2 approvals\./);
    assert.equal(prodTag(), 'v1');
  });

  it('a /fjord deploy needing approvals waits, and the approval that completes it sends the comment command again, pinned to its tag', async () => {
    assert.match(
      await approve(ADA, '/fjord deploy prod --tag v2'),
      /^@ada `deploy prod` → v2: waiting — waiting for 0 of 2 approvals: `\/fjord approve prod` by someone other than ada /,
    );
    assert.equal(prodTag(), 'v1');
    queued.length = 0;
    assert.equal(await approve(MIA), '@maintainer-mia approved v2 for api/prod: 1 of 2 approvals.');
    assert.equal(await approve(DAN), '@dev-dan approved v2 for api/prod: 2 of 2 approvals; deploying.');
    const [resent] = queued.splice(0);
    assert.equal(resent?.reason, 'command', 'a manual order is never taken from a queue: its command is');
    assert.deepEqual(
      [resent!.command?.verb, resent!.command?.tag, resent!.command?.user.username, resent!.approved],
      ['deploy', 'v2', 'ada', true],
    );
    await handle(resent!, ctx);
    assert.match(gitlab.state.notes.at(-1)!.body, /^@ada `deploy prod` → v2: deployed/);
    assert.equal(prodTag(), 'v2');
    assert.equal(await onHost(), 'v2');
  });

  it('/fjord reject: an approver refuses the waiting deploy, recorded in git (who and why); it is refused from then on, later approvals too, and a newer merge asks again', async () => {
    const before = prodTag();
    const job = merge('v3', { id: 'job-prod-v3-rejected' });
    await waits(handle, job);
    assert.equal(
      await approve(REX, '/fjord reject prod'),
      '@reporter-rex may not reject deploys to api/prod: it needs access level 30 on acme/api, you have 20. Nothing was recorded.',
    );
    assert.equal(
      await approve(MIA, '/fjord reject prod breaks the EU checkout'),
      '@maintainer-mia rejected v3 for api/prod (breaks the EU checkout): that deploy is refused and nothing was committed; a new merge asks again.',
    );
    const record = repo.git(['show', `main:${APPROVALS_FILE}`]);
    assert.match(
      record,
      /job: job-prod-v3-rejected[\s\S]*rejected:\n\s+username: maintainer-mia\n\s+id: 202\n\s+at: .+\n\s+reason: breaks the EU checkout/,
    );
    assert.match(
      repo.git(['log', '-1', '--format=%B', '--', APPROVALS_FILE]),
      /^reject\(api\/prod\): by maintainer-mia: breaks the EU checkout\n\n(.*\n)*Fjord-Requested-By: maintainer-mia \(gitlab\)/,
    );
    const back = await handle(job, ctx);
    assert.equal(back.status, 'failed');
    assert.match(
      back.detail!,
      /^refused: rejected by maintainer-mia at \S+: breaks the EU checkout\. Nothing was committed$/,
    );
    assert.equal(
      await approve(DAN),
      '@dev-dan v3 for api/prod was rejected by maintainer-mia (breaks the EU checkout).',
    );
    assert.match(await approve(DAN, '/fjord reject prod'), /was rejected by maintainer-mia/, 'rejected once');
    assert.equal(prodTag(), before, 'nothing committed');
    const newer = merge('v3', { id: 'job-prod-v3-again', sha: 'd'.repeat(40) });
    assert.match((await waits(handle, newer)).reason, /^waiting for 0 of 2 approvals:/, 'a new deploy asks again');
  });

  it('a merger below protect.minAccessLevel is refused with the reason, nothing committed', async () => {
    const head = repo.git(['rev-parse', 'main']);
    const outcome = await handle(
      makeJob({
        app: 'api',
        environment: 'gitops',
        image: IMAGE,
        tag: 'v2',
        id: 'job-gitops-rex',
        source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 9, author: REX.name },
      }),
      ctx,
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(
      outcome.detail,
      'refused: reporter-rex may not deploy to api/gitops: it needs access level 30 on acme/api, they have 20. Nothing was committed',
    );
    assert.equal(repo.git(['rev-parse', 'main']), head);
    const ok = await handle(
      makeJob({
        app: 'api',
        environment: 'gitops',
        image: IMAGE,
        tag: 'v2',
        id: 'job-gitops-ada',
        source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 9, author: ADA.name },
      }),
      ctx,
    );
    assert.equal(ok.status, 'deployed', ok.detail);
  });

  it('without a GitLab token a protected environment fails closed', async () => {
    const head = repo.git(['rev-parse', 'main']);
    const outcome = await noToken(
      makeJob({
        app: 'api',
        environment: 'gitops',
        image: IMAGE,
        tag: 'v3',
        id: 'job-gitops-notoken',
        source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 9, author: ADA.name },
      }),
      ctx,
    );
    assert.equal(outcome.status, 'failed');
    assert.match(
      outcome.detail!,
      /^refused: api\/gitops is protected, but no gitlab API token is configured to read who may deploy there: refused \(fails closed\)$/,
    );
    assert.equal(repo.git(['rev-parse', 'main']), head);
  });
});
