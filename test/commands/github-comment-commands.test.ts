/**
 * `/fjord` commands in GitHub pull request comments (issue 14, item 4) on real parts: `issue_comment` bodies
 * (the @octokit/webhooks-examples shape, on a PR) parsed and routed as the receiver does; the worker's handler
 * checks the commenter through the GitHub stand-in's collaborator-permission API and answers in the PR's
 * conversation (issue comments); a real sshd host with its own Docker engine and a real manifest repository.
 * Every verb is run by a maintainer (it does what it says) and by a writer (refused, nothing else touched).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGithub } from '../../lib/events/parse-github.js';
import { routeEvent } from '../../lib/events/route.js';
import { HOLDS_FILE, parseHolds } from '../../lib/holds/hold.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { planMarker } from '../../lib/plan/render-plan.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { handlerInDir } from '../fixtures/handler-in-dir.js';
import { githubExample } from '../fixtures/receiver.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const REPO = 'Codertocat/Hello-World';
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const MONA = { id: 201, login: 'mona-maintains' };
const WREN = { id: 202, login: 'wren-writes' };
const VERBS = [
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
  'help',
];

describe('/fjord commands in GitHub pull request comments', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let github: GithubStandIn;
  let manifests: TestRepo;
  let source: TestRepo;
  let handle: JobHandler;
  let config: Config;
  let port: number;
  let IMAGE = 'unset';
  let headTag = 'unset';
  const dir = mkdtempSync(join(tmpdir(), 'fjord-gh-commands-'));
  const queued: DeployJob[] = [];

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    source = createBareRepo({ 'src/main.go': 'package main\n' }, { name: 'hello-world', branch: 'master' });
    source.git(['branch', 'changes', 'master']);
    const head = source.pushChange('src/main.go', 'package main // v2\n', 'feat: v2', 'changes');
    headTag = head.slice(0, 8);
    // v1, v3 and the PR head's own tag (`{shortSha}`, fjord.yaml's default): `/fjord deploy prod` deploys that one.
    for (const tag of ['v1', 'v3', headTag])
      IMAGE = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    port = await freePort(fleet.hosts[0]!.address);
    manifests = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v0\n' });
    github = await startGithubStandIn({ repositories: { [REPO]: { repo: source.bare } } });
    github.openPull(REPO, { number: 2, headRef: 'changes', baseRef: 'master' });
    github.addCollaborator(REPO, MONA, 'maintain');
    github.addCollaborator(REPO, WREN, 'write');
    github.addCollaborator(REPO, { id: 203, login: 'outsider' });
    const yaml = fleetConfigYaml({
      fleet,
      repository: manifests.bare,
      image: IMAGE,
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 6s }, hostTimeout: 40s }
`,
    })
      .replace(
        /^sources: .*$/m,
        `sources: { github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN, confirmMerge: false } }`,
      )
      .replace('source: { project: acme/api }', `source: { provider: github, project: ${REPO}, branch: master }`);
    ({ config, handle } = handlerInDir(
      dir,
      yaml,
      { FJORD_SSH_KEY: fleet.privateKey.reveal(), GITHUB_TOKEN: github.token },
      queued,
    ));
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), github?.close()]);
    manifests?.cleanup();
    source?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  let commentId = 9000;
  /** An issue_comment delivery for a comment on PR #2, routed as the receiver routes it, then run by the worker. */
  const run = async (user: { id: number; login: string }, body: string) => {
    const hook = githubExample('issue_comment', (e) => e.action === 'created');
    hook.issue.number = 2;
    hook.issue.pull_request = { url: `${github.url}/repos/${REPO}/pulls/2` };
    Object.assign(hook.comment, {
      id: ++commentId,
      body,
      user: { ...hook.comment.user, login: user.login, id: user.id, type: 'User' },
    });
    hook.sender = { ...hook.sender, login: user.login, id: user.id };
    const event = parseGithub('issue_comment', hook);
    const routed = routeEvent(event as SourceEvent, { config, deliveryId: `c-${commentId}`, now: Date.now });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    const comments = github.state.comments.length;
    const outcome = await handle(routed.jobs[0]!, ctx);
    const replies = github.state.comments.slice(comments).filter((c) => !c.body.startsWith(planMarker('api')));
    assert.equal(replies.length, 1, 'one reply');
    assert.equal(replies[0]!.issueNumber, 2, 'answered in the pull request conversation');
    return { outcome, reply: replies[0]!.body };
  };
  const onHost = () => served(fleet.hosts[0]!.address, port);
  const holds = () => parseHolds(manifests.git(['show', `main:${HOLDS_FILE}`]));
  const converge = async () => {
    assert.equal(queued.length, 1);
    const outcome = await handle(queued.shift()!, ctx);
    assert.ok(['deployed', 'noop'].includes(outcome.status), outcome.detail);
  };

  it('a maintainer runs every verb: deploy (the PR head, or --tag), rollback (previous, or --to) and hold, release, plan, unlock, approve, help', async () => {
    let r = await run(MONA, '/fjord deploy prod --tag v1');
    assert.equal(r.outcome.status, 'deployed', r.outcome.detail);
    assert.match(r.reply, /^@mona-maintains `deploy prod` → v1: deployed/);
    assert.equal(await onHost(), 'v1');

    r = await run(MONA, '/fjord deploy prod');
    assert.equal(r.outcome.status, 'deployed', r.outcome.detail);
    assert.match(
      r.reply,
      new RegExp(`^@mona-maintains \`deploy prod\` → ${headTag}: deployed`),
      'the PR head, read through the pulls API',
    );
    assert.equal(await onHost(), headTag);

    r = await run(MONA, '/fjord rollback prod');
    assert.equal(r.outcome.status, 'deployed', r.outcome.detail);
    assert.match(r.reply, /^@mona-maintains `rollback prod` → v1: deployed/);
    assert.equal(await onHost(), 'v1');
    assert.equal(holds()['api/prod']?.by, 'mona-maintains (github)');

    r = await run(MONA, '/fjord release prod');
    assert.match(r.reply, /^@mona-maintains released api\/prod \([0-9a-f]{12}\); rolling out v1$/);
    await converge();

    r = await run(MONA, '/fjord rollback prod --to v3');
    assert.match(r.reply, /^@mona-maintains `rollback prod` → v3: deployed/);
    assert.equal(await onHost(), 'v3');
    assert.equal(holds()['api/prod']?.reason, '/fjord rollback to v3');
    await run(MONA, '/fjord release prod');
    await converge();

    r = await run(MONA, '/fjord hold prod db migration');
    assert.match(r.reply, /^@mona-maintains held: api\/prod is held since .*db migration/);
    assert.equal(holds()['api/prod']?.reason, 'db migration');
    await run(MONA, '/fjord release prod');
    await converge();
    assert.deepEqual(holds(), {});

    r = await run(MONA, '/fjord plan');
    assert.equal(r.outcome.status, 'planned', r.outcome.detail);
    assert.match(r.reply, new RegExp(`^@mona-maintains plan \\(#2 deploys ${headTag} to prod; 1 host\\(s\\)`));
    assert.ok(
      github.state.comments.some((c) => c.issueNumber === 2 && c.body.startsWith(planMarker('api'))),
      'the plan comment too',
    );

    assert.match(
      (await run(MONA, '/fjord unlock prod')).reply,
      /^@mona-maintains host locks of api\/prod:\n- were not locked: web-1$/,
    );
    assert.equal((await run(MONA, '/fjord approve prod')).reply, '@mona-maintains no approvals are required for prod');
    assert.match((await run(MONA, '/fjord help')).reply, /^@mona-maintains fjord commands/);
    assert.match((await run(MONA, '/fjord frobnicate')).reply, /^@mona-maintains unknown command "frobnicate"/);
    assert.ok(
      !github.state.requests.some((q) => q.status >= 400 && !q.path.endsWith('/permission')),
      'GitHub refused nothing',
    );
  });

  it('every /fjord command from a user without permission is refused with a reply and no side effect', async () => {
    const head = manifests.git(['rev-parse', 'main']);
    const running = await onHost();
    for (const [user, level] of [
      [WREN, 30],
      [{ id: 203, login: 'outsider' }, 0],
      [{ id: 204, login: 'nobody-known' }, 0],
    ] as const) {
      for (const command of VERBS.filter((v) => v !== 'help')) {
        const requests = github.state.requests.length;
        const { outcome, reply } = await run(user, `/fjord ${command}`);
        assert.equal(outcome.refused, true, command);
        assert.equal(
          reply,
          `@${user.login} may not run \`/fjord ${command.split(' ')[0]}\`: it needs access level 40 on ${REPO}, you have ${level}. Nothing was done.`,
        );
        // Only the permission check and the reply reached GitHub; git, the queue and the host are untouched.
        assert.deepEqual(
          github.state.requests.slice(requests).map((q) => `${q.method} ${q.path}`),
          [`GET /repos/${REPO}/collaborators/${user.login}/permission`, `POST /repos/${REPO}/issues/2/comments`],
        );
        assert.equal(manifests.git(['rev-parse', 'main']), head, command);
        assert.deepEqual(queued, []);
      }
    }
    assert.equal(await onHost(), running);
  });
});
