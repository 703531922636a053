/**
 * Issue 12, item 4: with a GitLab or GitHub API token configured, the worker asks the source platform,
 * right before the manifest commit, whether a webhook job's MR/PR is merged as its sha and the sha is on
 * the branch (lib/worker/confirm-source.ts). Real parts: the handler every run mode uses
 * (makeDeployHandler, with its notifier), a bare manifest repository (git backend), one sshd host with its
 * own Docker engine pulling from a real registry, the GitLab and GitHub stand-ins over real app
 * repositories (MRs made and merged through the API, PRs as a person makes them), and a real fault proxy
 * in front of the GitLab stand-in for its 500.
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
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import { RetryableError, type Outcome } from '../../lib/worker/outcome.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { mergePull } from '../fixtures/github/merged-pull.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { version as served } from '../rollout/helpers.js';

const PROJECT = 'acme/api';
const TAGS = ['gl-open', 'gl-off', 'gl-other', 'gl-1', 'gl-2', 'gl-401', 'gl-forged', 'gh-open', 'gh-off', 'gh-1'];

describe('the merge confirmed with the source API before the manifest commit', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let gitlab: GitlabStandIn;
  let github: GithubStandIn;
  let proxy: FaultProxy;
  let glApp: TestRepo;
  let ghApp: TestRepo;
  let manifests: TestRepo;
  let image = '';
  let glPort = 0;
  let ghPort = 0;
  /** The next GitLab MR request through the proxy answers 500 while this is true. */
  let failNextMergeRequest = false;
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const ctx: JobContext = { heartbeat: async () => {}, attempts: 1, logger, signal: new AbortController().signal };

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    for (const tag of TAGS) image = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    glApp = createBareRepo({ 'main.go': 'package main\n' }, { name: 'gl-api' });
    ghApp = createBareRepo({ 'main.go': 'package main\n' }, { name: 'gh-api' });
    manifests = createBareRepo({ 'api/gl.yaml': 'image:\n  tag: v0\n', 'api/gh.yaml': 'image:\n  tag: v0\n' });
    [gitlab, github] = await Promise.all([
      startGitlabStandIn({ projects: { [PROJECT]: { repo: glApp.bare } } }),
      startGithubStandIn({ repositories: { [PROJECT]: { repo: ghApp.bare } } }),
    ]);
    proxy = await startFaultProxy({
      target: gitlab.url,
      fault: (req) => {
        if (!failNextMergeRequest || !/\/merge_requests\/\d+$/.test(req.url?.split('?')[0] ?? '')) return undefined;
        failNextMergeRequest = false;
        return { status: 500 };
      },
    });
    glPort = await freePort(fleet.hosts[0]!.address);
    ghPort = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), gitlab?.close(), github?.close(), proxy?.stop()]);
    for (const r of [glApp, ghApp, manifests]) r?.cleanup();
  });

  const rollout = (p: number) =>
    `rollout: { container: { ports: ["${p}:8080"] }, healthCheck: { port: ${p}, path: ${HEALTH_PATH}, interval: 200ms, timeout: 30s }, hostTimeout: 2m }`;
  /** The handler for environment `gl` of a GitLab app; `gitlabKeys` are the keys of `sources.gitlab`. */
  function gitlabHandler(gitlabKeys: string, env: NodeJS.ProcessEnv = { GITLAB_TOKEN: gitlab.token }): JobHandler {
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: manifests.bare,
        image,
        gitlab: gitlabKeys,
        extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
        environments: `
      gl:
        manifest: { file: api/gl.yaml, path: image.tag }
        hosts: [web-1]
        ${rollout(glPort)}
`,
      }),
    );
    return makeDeployHandler({
      config,
      configPath: join(manifests.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-confirm-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal(), ...env },
    });
  }
  function githubHandler(): JobHandler {
    const yaml = fleetConfigYaml({
      fleet,
      repository: manifests.bare,
      image,
      extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
      environments: `
      gh:
        manifest: { file: api/gh.yaml, path: image.tag }
        hosts: [web-1]
        ${rollout(ghPort)}
`,
    })
      .replace(/^sources: .*$/m, `sources: { github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN } }`)
      .replace(`source: { project: ${PROJECT} }`, `source: { provider: github, project: ${PROJECT} }`);
    return makeDeployHandler({
      config: parseConfig(yaml),
      configPath: join(manifests.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-confirm-gh-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal(), GITHUB_TOKEN: github.token },
    });
  }

  const api = () => new Gitlab({ host: gitlab.url, token: gitlab.token });
  /** A branch `feat-<tag>` with one commit and an open MR from it into main, made through the API. */
  async function openMergeRequest(tag: string): Promise<{ iid: number; head: string }> {
    const commit = await api().Commits.create(
      PROJECT,
      `feat-${tag}`,
      `feat: ${tag}`,
      [{ action: 'update', filePath: 'main.go', content: `package main // ${tag}\n` }],
      { startBranch: 'main' },
    );
    const mr = await api().MergeRequests.create(PROJECT, `feat-${tag}`, 'main', tag);
    return { iid: mr.iid, head: commit.id };
  }
  async function mergeMergeRequest(tag: string): Promise<{ iid: number; sha: string }> {
    const { iid } = await openMergeRequest(tag);
    const merged = await api().MergeRequests.merge(PROJECT, iid);
    return { iid, sha: merged.merge_commit_sha! };
  }
  /** The job a GitLab merge webhook for MR `mr` at `sha` makes (routing as build-job.ts does). */
  const mergeJob = (
    env: string,
    tag: string,
    sha: string,
    mr: number | undefined,
    over: Partial<DeployJob> = {},
  ): DeployJob =>
    makeJob({
      id: `job-confirm-${tag}`,
      app: 'api',
      environment: env,
      image,
      tag,
      sha,
      reason: mr ? 'merge' : 'push',
      source: {
        provider: env === 'gh' ? 'github' : 'gitlab',
        project: PROJECT,
        ref: 'main',
        ...(mr ? { mr } : {}),
        author: 'Mallory',
        deliveryId: `d-${tag}`,
      },
      enqueuedAt: new Date().toISOString(),
      ...over,
    });
  const manifestHead = () => manifests.git(['rev-parse', 'main']).trim();
  const tagIn = (file: string) => manifests.git(['show', `main:${file}`]);

  /** `job` refused by `handle`: final (not retried), nothing committed, nothing rolled out. */
  async function assertRefused(handle: JobHandler, job: DeployJob, port: number, why: RegExp): Promise<Outcome> {
    const head = manifestHead();
    const running = await served(fleet.hosts[0]!.address, port);
    const outcome = await handle(job, ctx);
    assert.equal(outcome.status, 'failed', outcome.detail);
    assert.equal(outcome.refused, true, outcome.detail);
    assert.match(String(outcome.detail), why);
    assert.equal(manifestHead(), head, 'nothing committed');
    assert.equal(await served(fleet.hosts[0]!.address, port), running, 'nothing rolled out');
    return outcome;
  }

  describe('GitLab', () => {
    it('an authenticated merge event for an MR the API says is still open is refused; the commit status and MR note say why', async () => {
      const { iid, head } = await openMergeRequest('gl-open');
      const job = mergeJob('gl', 'gl-open', head, iid);
      await assertRefused(
        gitlabHandler(`url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`),
        job,
        glPort,
        new RegExp(`^refused: GitLab says merge request ${PROJECT}!${iid} is "opened", not merged$`),
      );
      const status = gitlab.state.statuses.filter((s) => s.sha === head).at(-1);
      assert.equal(status?.state, 'failed');
      assert.match(status?.description ?? '', /refused: GitLab says merge request .* is "opened", not merged/);
      const note = gitlab.state.notes.find((n) => n.mergeRequestIid === iid);
      assert.match(note?.body ?? '', /refused: GitLab says merge request/);
    });

    it('a push event whose sha is not on the target branch is refused', async () => {
      const { head } = await openMergeRequest('gl-off');
      const job = mergeJob('gl', 'gl-off', head, undefined);
      await assertRefused(
        gitlabHandler(`url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`),
        job,
        glPort,
        new RegExp(`^refused: GitLab says commit ${head.slice(0, 12)} is not on branch "main" of project ${PROJECT}$`),
      );
      assert.ok(
        gitlab.state.requests.some(
          (r) => r.path === `/projects/${PROJECT}/repository/commits/${head}/refs` && r.status === 200,
        ),
        'asked for the refs of the commit',
      );
    });

    it('a merge event naming a merged MR but another sha than its merge commit is refused', async () => {
      const { iid, sha } = await mergeMergeRequest('gl-other');
      const other = glApp.git(['rev-list', '--max-parents=0', 'main']).trim(); // on main, but not this MR's merge
      const job = mergeJob('gl', 'gl-other', other, iid);
      await assertRefused(
        gitlabHandler(`url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`),
        job,
        glPort,
        new RegExp(
          `^refused: GitLab says merge request ${PROJECT}!${iid} was merged as ${sha.slice(0, 12)} / [0-9a-f]{12}, not ${other.slice(0, 12)}$`,
        ),
      );
    });

    it('a genuine merge is confirmed (MR and refs asked) and deployed', async () => {
      const { iid, sha } = await mergeMergeRequest('gl-1');
      const asked = gitlab.state.requests.length;
      const outcome = await gitlabHandler(`url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`)(
        mergeJob('gl', 'gl-1', sha, iid),
        ctx,
      );
      assert.equal(outcome.status, 'deployed', outcome.detail);
      assert.equal(await served(fleet.hosts[0]!.address, glPort), 'gl-1');
      assert.match(tagIn('api/gl.yaml'), /tag: gl-1/);
      const paths = gitlab.state.requests
        .slice(asked)
        .filter((r) => r.method === 'GET')
        .map((r) => r.path);
      assert.ok(paths.includes(`/projects/${PROJECT}/merge_requests/${iid}`), paths.join('\n'));
      assert.ok(paths.includes(`/projects/${PROJECT}/repository/commits/${sha}/refs`), paths.join('\n'));
    });

    it('GitLab answering 500 sends the job back (RetryableError) with nothing committed; the next attempt deploys it', async () => {
      const { iid, sha } = await mergeMergeRequest('gl-2');
      const handle = gitlabHandler(`url: "http://${proxy.host}", tokenEnv: GITLAB_TOKEN`);
      const job = mergeJob('gl', 'gl-2', sha, iid);
      const head = manifestHead();
      failNextMergeRequest = true;
      await assert.rejects(handle(job, ctx), (err: unknown) => {
        assert.ok(err instanceof RetryableError, String(err));
        assert.match(
          err.message,
          new RegExp(`GitLab API could not confirm merge request !${iid} of project ${PROJECT} \\(500\\)`),
        );
        return true;
      });
      assert.equal(failNextMergeRequest, false, 'the 500 was served');
      assert.equal(manifestHead(), head, 'nothing committed before the retry');
      const outcome = await handle({ ...job }, { ...ctx, attempts: 2 });
      assert.equal(outcome.status, 'deployed', outcome.detail);
      assert.equal(await served(fleet.hosts[0]!.address, glPort), 'gl-2');
    });

    it('a token GitLab refuses (401) holds the job (the freeze check cannot read GitLab: it fails closed), naming the status, never the token', async () => {
      const { iid, sha } = await mergeMergeRequest('gl-401');
      const bad = 'glpat-refused-0123456789abcdef';
      const head = manifestHead();
      const handle = gitlabHandler(`url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`, { GITLAB_TOKEN: bad });
      await assert.rejects(
        handle(mergeJob('gl', 'gl-401', sha, iid), ctx),
        (err: Error) => err.name === 'GateWait' && /401/.test(err.message) && !err.message.includes(bad),
      );
      assert.equal(manifestHead(), head, 'nothing committed');
      assert.ok(!lines.join('\n').includes(bad), 'the token is not logged');
    });

    it('without a token nothing is asked: a merge event for an open MR deploys as before', async () => {
      const { iid, head } = await openMergeRequest('gl-forged');
      const asked = gitlab.state.requests.length;
      const outcome = await gitlabHandler(`url: "${gitlab.url}"`, {})(mergeJob('gl', 'gl-forged', head, iid), ctx);
      assert.equal(outcome.status, 'deployed', outcome.detail);
      assert.equal(await served(fleet.hosts[0]!.address, glPort), 'gl-forged');
      assert.equal(gitlab.state.requests.length, asked, 'GitLab was not asked');
    });
  });

  describe('GitHub', () => {
    let pulls = 0;
    it('an authenticated pull_request event for a PR the API says is open is refused', async () => {
      const number = ++pulls;
      ghApp.git(['branch', 'feat-gh-open', 'main']);
      const head = ghApp.pushChange('main.go', 'package main // open\n', 'feat: open', 'feat-gh-open');
      github.openPull(PROJECT, { number, headRef: 'feat-gh-open' });
      await assertRefused(
        githubHandler(),
        mergeJob('gh', 'gh-open', head, number),
        ghPort,
        new RegExp(`^refused: GitHub says pull request ${PROJECT}#${number} is not merged \\(state "open"\\)$`),
      );
      const status = github.state.statuses.filter((s) => s.sha === head).at(-1);
      assert.equal(status?.state, 'failure');
      assert.match(status?.description ?? '', /refused: GitHub says pull request/);
    });

    it('a push event whose sha is not on the branch is refused (compare: diverged)', async () => {
      ghApp.git(['branch', 'feat-gh-off', 'main']);
      const head = ghApp.pushChange('main.go', 'package main // off\n', 'feat: off', 'feat-gh-off');
      ghApp.pushChange('README.md', 'main moved on\n', 'docs: readme'); // main and the branch diverge
      await assertRefused(
        githubHandler(),
        mergeJob('gh', 'gh-off', head, undefined),
        ghPort,
        new RegExp(
          `^refused: GitHub says commit ${head.slice(0, 12)} is not on branch "main" of project ${PROJECT} \\("diverged"\\)$`,
        ),
      );
    });

    it('a genuine merge is confirmed (PR and compare asked) and deployed', async () => {
      const number = ++pulls;
      const sha = await mergePull(github, ghApp, PROJECT, number, 'gh-1');
      const asked = github.state.requests.length;
      const outcome = await githubHandler()(mergeJob('gh', 'gh-1', sha, number), ctx);
      assert.equal(outcome.status, 'deployed', outcome.detail);
      assert.equal(await served(fleet.hosts[0]!.address, ghPort), 'gh-1');
      const paths = github.state.requests
        .slice(asked)
        .filter((r) => r.method === 'GET')
        .map((r) => r.path);
      assert.ok(paths.includes(`/repos/${PROJECT}/pulls/${number}`), paths.join('\n'));
      assert.ok(paths.includes(`/repos/${PROJECT}/compare/${sha}...main`), paths.join('\n'));
    });
  });

  it('no log line carries a token', () => {
    assert.ok(lines.length > 10, 'the deploys were logged');
    const text = lines.join('\n');
    assert.ok(!text.includes(gitlab.token) && !text.includes(github.token));
  });
});
