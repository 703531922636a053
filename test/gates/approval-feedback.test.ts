/**
 * The waiting deploy's own feedback (issue 14, item 2) once it stops waiting for approvals: after `/fjord
 * reject <env> [reason]`, and after a newer deploy replaced it (its approvals expired). On GitLab (the
 * stand-in's notes and commit statuses) and GitHub (its issue comments and commit statuses), with the
 * worker's handler and the configured notifier, a real bare manifest repository, and the `/fjord` comments
 * routed as the receiver routes them. The environment has no hosts: the subject is what the MR says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGithub } from '../../lib/events/parse-github.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { noteMarker } from '../../lib/notify/render-note.js';
import type { JobContext, JobHandler } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { mergePull } from '../fixtures/github/merged-pull.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { handlerInDir } from '../fixtures/handler-in-dir.js';
import { makeJob } from '../fixtures/jobs.js';
import { githubExample } from '../fixtures/receiver.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};
const REASON = 'breaks the EU checkout, ask @all first';
// The reason as a note shows it: the mention is a code span, so it pings nobody.
const SHOWN_REASON = 'breaks the EU checkout, ask `@all` first';

const configYaml = (sources: string, source: string, manifests: string) => `sources: ${sources}
manifest: { backend: git, repository: ${manifests} }
commands: { minAccessLevel: 20 }
apps:
  api:
    source: ${source}
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        protect: { approvals: 1, approvers: { minAccessLevel: 30 } }
`;

interface Platform {
  handle: JobHandler;
  /** A merge by the deployer: its job, as the receiver builds it. */
  merged(tag: string): Promise<DeployJob>;
  /** A `/fjord …` comment by the approver on `job`'s MR, run by the worker. */
  comment(job: DeployJob, text: string): Promise<void>;
  /** The body of `job`'s own note (found by its marker). */
  noteOf(job: DeployJob): string | undefined;
  /** The last `fjord/prod` status on `job`'s commit. */
  statusOf(job: DeployJob): { state: string; description?: string | null | undefined } | undefined;
  stop(): Promise<void>;
}

const logger = createLogger({ level: 'error', write: () => {} });
const handlerFor = (dir: string, yaml: string, env: NodeJS.ProcessEnv) =>
  handlerInDir(dir, yaml, env, [], (config) => createNotifier(config, { env, logger }));

async function onGitlab(dir: string, manifests: TestRepo): Promise<Platform> {
  const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
  const gitlab: GitlabStandIn = await startGitlabStandIn({ projects: { 'acme/api': { repo: app.bare } } });
  gitlab.state.members.push(
    { projectId: 1, userId: 201, username: 'ada', name: 'Ada Lovelace', accessLevel: 40 },
    { projectId: 1, userId: 202, username: 'maintainer-mia', accessLevel: 40 },
  );
  const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
  const { config, handle } = handlerFor(
    dir,
    configYaml(
      `{ gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN, confirmMerge: false } }`,
      '{ project: acme/api }',
      manifests.bare,
    ),
    { GITLAB_TOKEN: gitlab.token },
  );
  let note = 700;
  return {
    handle,
    async merged(tag) {
      await api.Commits.create(
        'acme/api',
        `feat-${tag}`,
        `feat: ${tag}`,
        [{ action: 'create', filePath: `${tag}.txt`, content: `${tag}\n` }],
        { startBranch: 'main' },
      );
      const mr = await api.MergeRequests.create('acme/api', `feat-${tag}`, 'main', `change ${tag}`);
      const m = await api.MergeRequests.merge('acme/api', mr.iid);
      return makeJob({
        id: `job-feedback-gl-${tag}`,
        tag,
        sha: m.merge_commit_sha!,
        enqueuedAt: new Date().toISOString(),
        source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: mr.iid, author: 'Ada Lovelace' },
      });
    },
    async comment(job, text) {
      const payload = {
        object_kind: 'note',
        event_type: 'note',
        user: { id: 202, username: 'maintainer-mia', name: 'Mia' },
        project: { id: 1, path_with_namespace: 'acme/api' },
        object_attributes: {
          id: ++note,
          note: text,
          noteable_type: 'MergeRequest',
          discussion_id: 'b'.repeat(40),
          system: false,
        },
        merge_request: { iid: job.source.mr, target_branch: 'main', last_commit: { id: job.sha } },
      };
      const routed = routeEvent(parseGitlab('Note Hook', payload) as SourceEvent, {
        config,
        deliveryId: `note-${note}`,
        now: Date.now,
      });
      assert.ok('jobs' in routed && routed.jobs.length === 1, JSON.stringify(routed));
      await handle(routed.jobs[0]!, ctx);
    },
    noteOf: (job) =>
      gitlab.state.notes.find((n) => n.mergeRequestIid === job.source.mr && n.body.includes(noteMarker(job)))?.body,
    statusOf: (job) => gitlab.state.statuses.filter((s) => s.sha === job.sha && s.name === 'fjord/prod').at(-1),
    async stop() {
      await gitlab.close();
      app.cleanup();
    },
  };
}

async function onGithub(dir: string, manifests: TestRepo): Promise<Platform> {
  const REPO = 'acme/api';
  const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
  const github: GithubStandIn = await startGithubStandIn({ repositories: { [REPO]: { repo: app.bare } } });
  github.addCollaborator(REPO, { id: 201, login: 'ada' }, 'maintain');
  github.addCollaborator(REPO, { id: 202, login: 'maintainer-mia' }, 'maintain');
  const { config, handle } = handlerFor(
    dir,
    configYaml(
      `{ github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN, confirmMerge: false } }`,
      `{ provider: github, project: ${REPO} }`,
      manifests.bare,
    ),
    { GITHUB_TOKEN: github.token },
  );
  let pull = 40;
  let commentId = 9100;
  return {
    handle,
    async merged(tag) {
      const number = ++pull;
      const sha = await mergePull(github, app, REPO, number, tag);
      return makeJob({
        id: `job-feedback-gh-${tag}`,
        tag,
        sha,
        enqueuedAt: new Date().toISOString(),
        source: { provider: 'github', project: REPO, ref: 'main', mr: number, author: 'ada' },
      });
    },
    async comment(job, text) {
      const hook = githubExample('issue_comment', (e) => e.action === 'created');
      hook.issue.number = job.source.mr;
      hook.issue.pull_request = { url: `${github.url}/repos/${REPO}/pulls/${job.source.mr}` };
      hook.repository = {
        ...hook.repository,
        full_name: REPO,
        name: 'api',
        owner: { ...hook.repository.owner, login: 'acme' },
      };
      const user = { login: 'maintainer-mia', id: 202 };
      Object.assign(hook.comment, {
        id: ++commentId,
        body: text,
        user: { ...hook.comment.user, ...user, type: 'User' },
      });
      hook.sender = { ...hook.sender, ...user };
      const routed = routeEvent(parseGithub('issue_comment', hook) as SourceEvent, {
        config,
        deliveryId: `c-${commentId}`,
        now: Date.now,
      });
      assert.ok('jobs' in routed && routed.jobs.length === 1, JSON.stringify(routed));
      await handle(routed.jobs[0]!, ctx);
    },
    noteOf: (job) =>
      github.state.comments.find((c) => c.issueNumber === job.source.mr && c.body.includes(noteMarker(job)))?.body,
    statusOf: (job) => github.state.statuses.filter((s) => s.sha === job.sha && s.context === 'fjord/prod').at(-1),
    async stop() {
      await github.close();
      app.cleanup();
    },
  };
}

const ENDED = {
  gitlab: { rejected: 'failed', replaced: 'canceled' },
  github: { rejected: 'failure', replaced: 'error' },
};

for (const [name, start] of [
  ['gitlab', onGitlab],
  ['github', onGithub],
] as const)
  describe(`a deploy waiting for approvals tells its own MR when it stops waiting (${name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), `fjord-approval-feedback-${name}-`));
    let manifests: TestRepo;
    let p: Platform;
    before(async () => {
      manifests = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v0\n' });
      p = await start(dir, manifests);
    });
    after(async () => {
      await p?.stop();
      manifests?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it("/fjord reject: the rejected deploy's own note and commit status say it was rejected, by whom and why, and the status ends failed", async () => {
      const job = await p.merged('v1');
      assert.equal((await p.handle(job, ctx)).status, 'waiting');
      assert.match(p.noteOf(job) ?? '', /waiting for 0 of 1 approvals/);
      assert.equal(p.statusOf(job)?.state, 'pending');

      await p.comment(job, `/fjord reject prod ${REASON}`);
      const note = p.noteOf(job) ?? '';
      assert.match(note, /: failed\n/);
      assert.ok(note.includes(`rejected by maintainer-mia at `), note);
      assert.ok(note.includes(SHOWN_REASON), note);
      assert.doesNotMatch(note, /waiting for 0 of 1 approvals/);
      const status = p.statusOf(job);
      assert.equal(status?.state, ENDED[name].rejected);
      assert.match(status?.description ?? '', /^failed: rejected by maintainer-mia at \S+: breaks the EU checkout/);
    });

    it("a newer deploy replacing the waiting one: the replaced deploy's note and status say superseded, naming the newer one", async () => {
      const old = await p.merged('v2');
      assert.equal((await p.handle(old, ctx)).status, 'waiting');
      assert.equal(p.statusOf(old)?.state, 'pending');
      const newer = await p.merged('v3');
      assert.equal((await p.handle(newer, ctx)).status, 'waiting');
      const note = p.noteOf(old) ?? '';
      const mr = `${name === 'github' ? '#' : '!'}${newer.source.mr}`;
      assert.match(note, /: superseded\n/);
      assert.ok(
        note.includes(`waiting for approval: v3 (${mr}, ${newer.sha!.slice(0, 12)}); its approvals expired`),
        note,
      );
      assert.equal(p.statusOf(old)?.state, ENDED[name].replaced);
      assert.match(p.statusOf(old)?.description ?? '', /^superseded: replaced by a newer deploy of api\/prod/);
      assert.equal(p.statusOf(newer)?.state, 'pending', 'the newer one waits');
    });
  });
