/**
 * The GitHub notifier (through createNotifier, as every run mode makes it) against the GitHub REST stand-in
 * over loopback HTTP, with a real bare repository behind it: what GitHub received for a merged PR's
 * deploy — statuses, one PR comment edited in place, a deployment with statuses — that a redelivered job
 * in a new process adds no second comment or deployment, that GitLab hears nothing of a GitHub job, and
 * that the token appears in no log line.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { linksFromConfig } from '../../lib/notify/links.js';
import { renderChatText } from '../../lib/notify/render-chat.js';
import { runWithFeedback } from '../../lib/notify/run-with-feedback.js';
import { silentLogger } from '../../lib/log.js';
import { noteMarker } from '../../lib/notify/render-note.js';
import { Timeline } from '../../lib/notify/timeline.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { mergePull } from '../fixtures/github/merged-pull.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';

const REPO = 'acme/api';
const stringifyApp = (url: string, installationId: number, extra = '') => `
sources: { github: { ${extra}url: "${url}", app: { id: 424242, installationId: ${installationId}, privateKeyEnv: GITHUB_APP_KEY } } }
manifest: { backend: git, repository: ./m.git }
apps: { api: { source: { provider: github, project: ${REPO} }, image: registry.test/acme/api, environments: { prod: { manifest: { file: p.yaml, path: image.tag } } } } }
`;

describe('GitHub feedback (GithubNotifier through createNotifier)', () => {
  let github: GithubStandIn;
  let gitlab: GitlabStandIn;
  let app: TestRepo;
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });
  let pr = 0;

  before(async () => {
    app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    [github, gitlab] = await Promise.all([
      startGithubStandIn({ repositories: { [REPO]: { repo: app.bare } } }),
      startGitlabStandIn({ projects: { [REPO]: { repo: app.bare } } }),
    ]);
  });
  after(async () => {
    await Promise.all([github?.close(), gitlab?.close()]);
    app?.cleanup();
  });

  const config = () =>
    parseConfig(`
sources:
  gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN }
  github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN }
manifest: { backend: git, repository: ./m.git }
apps:
  api:
    source: { provider: github, project: ${REPO} }
    image: registry.test/acme/api
    environments: { prod: { manifest: { file: p.yaml, path: image.tag } } }
`);
  const notifier = () =>
    createNotifier(config(), { env: { GITHUB_TOKEN: github.token, GITLAB_TOKEN: gitlab.token }, logger });

  /** A real merged PR: a commit on main (the merge) and the closed, merged PR record. */
  async function mergedJob(tag: string, id = `job-gh-${tag}`): Promise<DeployJob> {
    const number = ++pr;
    const sha = await mergePull(github, app, REPO, number, tag);
    return {
      v: 1,
      id,
      app: 'api',
      environment: 'prod',
      image: 'registry.test/acme/api',
      tag,
      sha,
      reason: 'merge',
      source: { provider: 'github', project: REPO, ref: 'main', mr: number },
      enqueuedAt: new Date().toISOString(),
    };
  }
  const statusesOf = (job: DeployJob) => github.state.statuses.filter((s) => s.sha === job.sha);
  const commentsOf = (job: DeployJob) => github.state.comments.filter((c) => c.issueNumber === job.source.mr);
  const deploymentsOf = (job: DeployJob) => github.state.deployments.filter((d) => d.sha === job.sha);

  async function run(job: DeployJob, outcome: Outcome, n = notifier()): Promise<void> {
    const timeline = new Timeline(job.enqueuedAt);
    await n.jobStarted(job, timeline);
    timeline.mark('committed', 'manifest committed');
    await n.jobProgress!(job, timeline);
    timeline.begin('rollout');
    timeline.mark('rollout', 'rollout started');
    await n.jobProgress!(job, timeline);
    timeline.mark('batch', 'batch 1/2 healthy: web-1');
    await n.jobProgress!(job, timeline);
    timeline.mark('batch', 'batch 2/2 healthy: web-2');
    await n.jobProgress!(job, timeline);
    await n.jobFinished(job, outcome, timeline);
  }

  it('a deploy: status pending → pending "rolling out" → success, one PR comment edited in place, a deployment in_progress → success', async () => {
    const job = await mergedJob('v2');
    await run(job, { status: 'deployed', detail: 'prod at v2 on 2 hosts', tag: 'v2' });
    assert.ok(
      !github.state.requests.some((r) => r.status >= 400),
      `GitHub refused nothing: ${JSON.stringify(github.state.requests.filter((r) => r.status >= 400))}`,
    );

    const comments = commentsOf(job);
    assert.equal(comments.length, 1, 'one comment per deploy');
    const [comment] = comments;
    assert.ok(comment!.body.startsWith(noteMarker(job)), 'the comment carries the hidden marker');
    assert.ok(
      comment!.revisions.length >= 4,
      `the comment followed the deploy (${comment!.revisions.length} revisions)`,
    );
    assert.match(comment!.body, /### ✅ fjord: `api` to \*\*prod\*\*: deployed/);
    const commentUrl = `${github.url}/web/${REPO}/pull/${job.source.mr}#issuecomment-${comment!.id}`;

    assert.deepEqual(
      statusesOf(job).map((s) => [s.context, s.state, s.description]),
      [
        ['fjord/prod', 'pending', 'waiting to deploy v2'],
        ['fjord/prod', 'pending', 'rolling out v2'],
        ['fjord/prod', 'success', 'deployed: prod at v2 on 2 hosts'],
      ],
    );
    assert.ok(
      statusesOf(job).every((s) => s.targetUrl === commentUrl),
      'every status links to the PR comment',
    );

    const deployments = deploymentsOf(job);
    assert.equal(deployments.length, 1);
    const [d] = deployments;
    assert.deepEqual(
      [d!.ref, d!.environment, (d!.payload as { fjordJob?: string }).fjordJob],
      [job.sha, 'prod', job.id],
    );
    assert.deepEqual(
      d!.statuses.map((s) => s.state),
      ['in_progress', 'success'],
    );
    assert.equal(d!.statuses.at(-1)!.logUrl, commentUrl, 'the deployment links to the PR comment');
    // fjord's own pending status is on the commit when the deployment is made: only required_contexts: [] lets it through.
    const create = github.state.requests.find((r) => r.method === 'POST' && r.path === `/repos/${REPO}/deployments`)!;
    assert.deepEqual([(create.body as any).required_contexts, (create.body as any).auto_merge], [[], false]);
  });

  it('a redelivered job in a new process edits the same comment and the same deployment', async () => {
    const job = await mergedJob('v3');
    await run(job, { status: 'failed', detail: 'health check failed on web-1' }, notifier());
    await run(job, { status: 'deployed', detail: 'prod at v3 on 2 hosts', tag: 'v3' }, notifier());
    assert.equal(commentsOf(job).length, 1, 'no second comment');
    assert.equal(deploymentsOf(job).length, 1, 'no second deployment');
    assert.deepEqual(
      deploymentsOf(job)[0]!.statuses.map((s) => s.state),
      ['in_progress', 'failure', 'in_progress', 'success'],
    );
    assert.deepEqual(
      statusesOf(job)
        .map((s) => s.state)
        .slice(-1),
      ['success'],
    );
    assert.ok(statusesOf(job).some((s) => s.state === 'failure'));
  });

  it('superseded and proposed outcomes: status error / success, deployment inactive; long details cut to 140 characters', async () => {
    const superseded = await mergedJob('v4');
    await run(superseded, { status: 'superseded', detail: `a newer deploy is recorded ${'x'.repeat(300)}` });
    const last = statusesOf(superseded).at(-1)!;
    assert.equal(last.state, 'error');
    assert.equal([...last.description!].length, 140);
    assert.ok(last.description!.endsWith('…'));
    assert.equal(deploymentsOf(superseded)[0]!.statuses.at(-1)!.state, 'inactive');
    const proposed = await mergedJob('v5');
    await run(proposed, { status: 'proposed', detail: 'manifest merge request opened' });
    assert.equal(statusesOf(proposed).at(-1)!.state, 'success');
    assert.equal(deploymentsOf(proposed)[0]!.statuses.at(-1)!.state, 'inactive');
    assert.ok(!github.state.requests.some((r) => r.status >= 400), 'GitHub refused nothing');
  });

  it('a deploy parked for approvals inside the feedback wrapper: status pending with the reason, the deployment inactive, never success', async () => {
    const job = await mergedJob('v9');
    const ctx = { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal };
    const reason = 'waiting for 0 of 2 approvals: `/fjord approve prod` by someone other than ada';
    await runWithFeedback(job, ctx, notifier(), async () => ({ status: 'waiting', detail: reason }));
    assert.deepEqual(
      statusesOf(job).map((s) => [s.state, s.description]),
      [
        ['pending', 'waiting to deploy v9'],
        ['pending', `waiting: ${reason}`],
      ],
    );
    assert.deepEqual(
      deploymentsOf(job)[0]!.statuses.map((s) => s.state),
      ['in_progress', 'inactive'],
      'the deployment is not left in progress',
    );
    assert.match(commentsOf(job)[0]!.body, /### ⏸️ fjord: `api` to \*\*prod\*\*: waiting/);
  });

  it('GitLab hears nothing of a GitHub job, GitHub nothing of a GitLab one', async () => {
    const before = github.state.requests.length;
    const job = await mergedJob('v6');
    await run(job, { status: 'deployed', tag: 'v6' });
    assert.deepEqual(gitlab.state.requests, [], 'no request to GitLab for a GitHub job');
    const count = github.state.requests.length;
    assert.ok(count > before);
    const gitlabJob: DeployJob = { ...job, id: 'job-gl-1', source: { ...job.source, provider: 'gitlab' } };
    await run(gitlabJob, { status: 'deployed', tag: 'v6' });
    assert.equal(github.state.requests.length, count, 'no request to GitHub for a GitLab job');
  });

  it('a pull request is named the GitHub way, #N, in the comment timeline and in chat', async () => {
    const job = await mergedJob('v8');
    const ctx = { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal };
    await runWithFeedback(job, ctx, notifier(), async () => ({ status: 'deployed', tag: 'v8' }));
    assert.match(commentsOf(job)[0]!.body, new RegExp(`✔ received \\(merge of #${job.source.mr}\\)`));
    const text = renderChatText(job, { status: 'deployed', tag: 'v8' }, { links: linksFromConfig(config()) });
    assert.ok(text.includes(`PR <${github.url}/${REPO}/pull/${job.source.mr}|${REPO}#${job.source.mr}>`), text);
  });

  it('a GitHub App: installation tokens made from the app key (PKCS#1, as GitHub hands it out), sent as Bearer, reused; neither in a log line', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const appHub = await startGithubStandIn({
      repositories: { [REPO]: { repo: app.bare } },
      tokens: [],
      app: { id: 424242, installationId: 77, publicKey },
    });
    try {
      appHub.openPull(REPO, { number: 90, headRef: 'main' });
      const sha = app.git(['rev-parse', 'main']).trim();
      const job: DeployJob = {
        v: 1,
        id: 'job-gh-app',
        app: 'api',
        environment: 'prod',
        image: 'registry.test/acme/api',
        tag: 'v9',
        sha,
        reason: 'merge',
        source: { provider: 'github', project: REPO, ref: 'main', mr: 90 },
        enqueuedAt: new Date().toISOString(),
      };
      const appConfig = parseConfig(stringifyApp(appHub.url, 77));
      lines.length = 0;
      await run(
        job,
        { status: 'deployed', tag: 'v9' },
        createNotifier(appConfig, { env: { GITHUB_APP_KEY: privateKey }, logger }),
      );
      assert.ok(
        !appHub.state.requests.some((r) => r.status >= 400),
        JSON.stringify(appHub.state.requests.filter((r) => r.status >= 400)),
      );
      assert.equal(appHub.installationTokens.length, 1, 'one installation token, reused for every request');
      assert.equal(appHub.state.comments.length, 1);
      assert.deepEqual(
        appHub.state.statuses.map((s) => s.state),
        ['pending', 'pending', 'success'],
      );
      assert.deepEqual(
        appHub.state.deployments[0]!.statuses.map((s) => s.state),
        ['in_progress', 'success'],
      );
      const all = lines.join('\n');
      assert.ok(!all.includes(appHub.installationTokens[0]!), 'installation token logged');
      assert.ok(!all.includes('PRIVATE KEY'), 'private key logged');
      // A wrong installation: GitHub's 404, logged as a warning; the deploy is not failed by it.
      const wrong = parseConfig(stringifyApp(appHub.url, 78));
      lines.length = 0;
      await run(
        job,
        { status: 'deployed', tag: 'v9' },
        createNotifier(wrong, { env: { GITHUB_APP_KEY: privateKey }, logger }),
      );
      assert.ok(
        lines.some((l) => /notification failed/.test(l) && /HTTP 404/.test(l)),
        lines.join('\n'),
      );
      assert.ok(!lines.join('\n').includes('PRIVATE KEY'));
    } finally {
      await appHub.close();
    }
  });

  it('sources.github: tokenEnv and app together are refused, naming the path', () => {
    assert.throws(
      () => parseConfig(stringifyApp('https://api.github.com', 1, 'tokenEnv: GITHUB_TOKEN, ')),
      /sources\.github\.app: tokenEnv and app both set: choose one/,
    );
  });

  it('a bad token: warnings that name what failed and the HTTP status, never the token; the deploy goes on', async () => {
    const job = await mergedJob('v7');
    lines.length = 0;
    const n = createNotifier(config(), { env: { GITHUB_TOKEN: 'ghp_wrongwrongwrongwrong0123456789' }, logger });
    await run(job, { status: 'deployed', tag: 'v7' }, n);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'notification failed');
    assert.ok(warnings.length >= 3, lines.join('\n'));
    assert.ok(
      warnings.some((w) => w.what === 'pull request comment' && /Bad credentials.*\(HTTP 401\)/.test(w.error)),
      JSON.stringify(warnings),
    );
    assert.equal(commentsOf(job).length, 0);
    assert.ok(!lines.join('\n').includes('ghp_wrong'), 'token logged');
    assert.ok(!lines.join('\n').includes(github.token), 'token logged');
  });
});
