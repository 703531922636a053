/**
 * A reset or force-push made after `fjord rollback` is what the branch says now. GitLab push events carry
 * no push time, and the reset commit is older than the rollback's `Fjord-Intent-Time`: the push is
 * ordered by when it was received, and — where a token lets the worker ask — only while its sha is still
 * the branch's head. Real parts: a bare manifest repository (git backend, no hosts: the commit is the
 * deploy), the worker's deploy pipeline and the CLI's rollback job, the GitLab stand-in over a real app
 * repository whose branch is really reset, and the receiver's routing of GitLab push payloads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'api/prod.yaml';
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const hourAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

describe('a reset push after `fjord rollback`', () => {
  let gitlab: GitlabStandIn;
  let app: TestRepo;
  const repos: TestRepo[] = [];
  before(async () => {
    app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    gitlab = await startGitlabStandIn({ projects: { 'acme/api': { repo: app.bare } } });
  });
  after(async () => {
    await gitlab?.close();
    for (const r of [app, ...repos]) r?.cleanup();
  });

  /** A fresh manifest repository; `sources` as in fjord.yaml (with or without a token). */
  function setup(sources: string, env: NodeJS.ProcessEnv = {}) {
    const repo = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
    repos.push(repo);
    const config = parseConfig(
      oneAppConfigYaml({ repository: repo.bare, file: FILE, sources })
        .replace('source: { project: acme/api }', 'source: { project: acme/api, trigger: push }')
        .replace('image: registry', 'tag: "{branch}-{shortSha}"\n    image: registry'),
    );
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-reset-')),
      env,
    });
    let n = 0;
    /** The job of GitLab's push event for main moving `before` → `after` (commit times as git has them), received now. */
    const push = (from: string, to: string): DeployJob => {
      const timestamp = app.git(['log', '-1', '--format=%aI', to]).trim();
      const payload = {
        object_kind: 'push',
        ref: 'refs/heads/main',
        before: from,
        after: to,
        checkout_sha: to,
        user_name: 'Ada',
        project: { path_with_namespace: 'acme/api' },
        commits: [{ id: to, timestamp }],
      };
      const routed = routeEvent(parseGitlab('Push Hook', payload) as SourceEvent, {
        config,
        deliveryId: `d-${++n}`,
        now: Date.now,
      });
      assert.ok('jobs' in routed, JSON.stringify(routed));
      return routed.jobs[0]!;
    };
    /** What `fjord rollback --to <tag>` builds (lib/cli/manual-job.ts). */
    const rollback = (tag: string) =>
      makeJob({
        n: ++n,
        tag,
        reason: 'rollback',
        sha: undefined,
        enqueuedAt: new Date().toISOString(),
        source: { provider: 'cli', author: 'ada' },
      });
    const tagNow = () => /tag: (\S+)/.exec(repo.git(['show', `main:${FILE}`]))![1];
    return { run: (job: DeployJob) => deploy(job, ctx, ports), push, rollback, tagNow };
  }
  /** A commit on main dated `authored` (a commit made long before it is pushed). */
  const commitOnMain = (text: string, authored: string) => {
    const clone = mkdtempSync(join(tmpdir(), 'fjord-reset-clone-'));
    app.git(['clone', '--quiet', app.bare, clone]);
    const run = (args: string[]) => app.git(['-C', clone, ...args]);
    run([
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      'commit',
      '--quiet',
      '--allow-empty',
      '-m',
      text,
      `--date=${authored}`,
    ]);
    run(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const id = run(['rev-parse', 'HEAD']).trim();
    rmSync(clone, { recursive: true, force: true });
    return id;
  };
  const head = () => app.git(['rev-parse', 'main']).trim();
  const resetMain = (to: string) => app.git(['update-ref', 'refs/heads/main', to]);

  it('without a token: the reset, received after the rollback, deploys; a push queued before the rollback stays out', async () => {
    const { run, push, rollback, tagNow } = setup('{ gitlab: {} }');
    const a = head();
    const b = commitOnMain('feat: b', hourAgo(3));
    const c = commitOnMain('feat: c', hourAgo(2));
    assert.equal((await run(push(b, c))).status, 'deployed');
    const queuedBefore = {
      ...push(b, c),
      id: 'job-queued-before-0001',
      tag: `main-${b.slice(0, 8)}`,
      sha: b,
      enqueuedAt: new Date(Date.now() - 1000).toISOString(),
    };
    assert.equal((await run(rollback(`main-${a.slice(0, 8)}`))).status, 'deployed');
    // Received before the rollback, run after it: older than the intent, skipped as before.
    const late = await run(queuedBefore);
    assert.equal(late.status, 'superseded', late.detail);
    // git reset --hard b && git push --force, after the rollback: b's commit is hours older than the intent.
    resetMain(b);
    const reset = await run(push(c, b));
    assert.equal(reset.status, 'deployed', reset.detail);
    assert.equal(tagNow(), `main-${b.slice(0, 8)}`);
  });

  it('with a token: the reset deploys while its sha is the branch head, and is superseded once the branch moved on', async () => {
    const { run, push, rollback, tagNow } = setup(`{ gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN } }`, {
      GITLAB_TOKEN: gitlab.token,
    });
    const a = head();
    const b = commitOnMain('feat: b2', hourAgo(3));
    const c = commitOnMain('feat: c2', hourAgo(2));
    assert.equal((await run(push(b, c))).status, 'deployed');
    assert.equal((await run(rollback(`main-${a.slice(0, 8)}`))).status, 'deployed');
    resetMain(b);
    const stale = push(c, b);
    // Before the worker gets to it, main moves again: the reset is no longer what the branch says.
    const d = commitOnMain('feat: d2', hourAgo(1));
    const skipped = await run(stale);
    assert.equal(skipped.status, 'superseded', skipped.detail);
    assert.match(skipped.detail ?? '', new RegExp(`branch main has moved on to ${d.slice(0, 12)} since this push`));
    assert.equal(tagNow(), `main-${a.slice(0, 8)}`, 'the rollback stands');
    resetMain(b);
    const reset = await run(push(d, b));
    assert.equal(reset.status, 'deployed', reset.detail);
    assert.equal(tagNow(), `main-${b.slice(0, 8)}`);
    assert.ok(
      gitlab.state.requests.some((r) => r.path === '/projects/acme/api/repository/branches/main' && r.status === 200),
      'the branch head was asked',
    );
  });
});
