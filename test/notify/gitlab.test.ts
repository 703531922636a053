/**
 * GitlabNotifier against the GitLab REST stand-in (real bare repositories behind it): what GitLab received
 * for a merged MR's deploy — statuses, one note updated in place, a deployment — and silence when GitLab is down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { parseConfig } from '../../lib/config/index.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { GitlabNotifier } from '../../lib/notify/gitlab.js';
import { noteMarker } from '../../lib/notify/render-note.js';
import { runWithFeedback } from '../../lib/notify/run-with-feedback.js';
import { Timeline } from '../../lib/notify/timeline.js';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { Secret } from '../../lib/secret.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';

const APP = 'acme/api';
const MANIFESTS = 'acme/manifests';

const report: RolloutReport = {
  ok: true,
  durationMs: 4200,
  hosts: [
    {
      host: 'web-1',
      status: 'updated',
      previousImage: 'registry.test/acme/api:1',
      timings: { pull: 1200, start: 300, health: 900 },
    },
    {
      host: 'web-2',
      status: 'updated',
      previousImage: 'registry.test/acme/api:1',
      timings: { pull: 1100, start: 250, health: 800 },
    },
  ],
};

describe('GitlabNotifier', () => {
  let gitlab: GitlabStandIn;
  let app: TestRepo;
  let manifests: TestRepo;
  let job: DeployJob;
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });

  before(async () => {
    app = createBareRepo({ 'src/main.go': 'package main\n' }, { name: 'api' });
    manifests = createBareRepo({ 'prod/values.yaml': 'tag: "1"\n' });
    gitlab = await startGitlabStandIn({
      projects: { [APP]: { repo: app.bare }, [MANIFESTS]: { repo: manifests.bare } },
    });
    // A real merged MR on the app project: its merge commit is what gets deployed.
    const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
    await api.Commits.create(
      APP,
      'feat',
      'feat: v2',
      [{ action: 'update', filePath: 'src/main.go', content: 'package main // v2\n' }],
      { startBranch: 'main' },
    );
    const mr = await api.MergeRequests.create(APP, 'feat', 'main', 'v2');
    const merged = await api.MergeRequests.merge(APP, mr.iid);
    job = {
      v: 1,
      id: 'job-notify-0001',
      app: 'api',
      environment: 'prod',
      image: 'registry.test/acme/api',
      tag: 'v2',
      sha: merged.merge_commit_sha!,
      reason: 'merge',
      source: { provider: 'gitlab', project: APP, ref: 'main', mr: mr.iid },
      enqueuedAt: new Date().toISOString(),
    };
  });
  after(async () => {
    await gitlab.close();
    app.cleanup();
    manifests.cleanup();
  });

  const notifier = () =>
    new GitlabNotifier({ url: gitlab.url, token: new Secret(gitlab.token), logger, manifestProject: MANIFESTS });

  it('reports a deploy: status pending → running → success, one note following the timeline, a deployment running → success', async () => {
    const n = notifier();
    const timeline = new Timeline(job.enqueuedAt);
    await n.jobStarted(job, timeline);
    timeline.mark('committed', 'manifest committed');
    await n.jobProgress(job, timeline); // not rolling out yet: still pending
    timeline.mark('rollout', 'rollout started');
    await n.jobProgress(job, timeline);
    timeline.mark('batch', 'batch 1/1 healthy: web-1, web-2');
    await n.jobProgress(job, timeline); // already running: no second `running`
    const commitId = manifests.git(['rev-parse', 'main']).trim();
    timeline.mark('done', 'done: deployed');
    await n.jobFinished(
      job,
      { status: 'deployed', detail: 'prod at v2 on 2 hosts', tag: 'v2', commitId, rollout: report },
      timeline,
    );

    const statuses = gitlab.state.statuses.filter((s) => s.sha === job.sha);
    assert.deepEqual(
      statuses.map((s) => [s.name, s.state, s.ref]),
      [
        ['fjord/prod', 'pending', 'main'],
        ['fjord/prod', 'running', 'main'],
        ['fjord/prod', 'success', 'main'],
      ],
    );
    assert.match(statuses[2]!.description ?? '', /deployed: prod at v2/);
    assert.ok(!gitlab.state.requests.some((r) => r.status >= 400), 'GitLab refused nothing');

    const notes = gitlab.state.notes.filter((x) => x.mergeRequestIid === job.source.mr && x.projectId === 1);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.revisions.length, 5);
    assert.match(notes[0]!.revisions[0]!, /deploying/);
    assert.match(notes[0]!.revisions[3]!, /rollout started[\s\S]*batch 1\/1 healthy/);
    assert.equal(
      statuses[2]!.targetUrl,
      `${gitlab.url}/${APP}/-/merge_requests/${job.source.mr}#note_${notes[0]!.id}`,
      'the status links to the note',
    );
    const body = notes[0]!.body;
    assert.ok(body.includes(`<!-- fjord:api/prod/${job.sha} -->`));
    assert.match(body, /deployed/);
    assert.match(
      body,
      /\| \d\d:\d\d:\d\d \| 0s \| ✔ received \|\n\| [\d:]+ \| \+[\d.]+s \| ✔ manifest committed \|\n(.*\n){2}\| [\d:]+ \| \+[\d.]+s \| ✔ done: deployed \|/,
    );
    assert.ok(body.includes(`${gitlab.url}/${MANIFESTS}/-/commit/${commitId}`), 'manifest commit linked');
    assert.match(body, /\| web-1 \| updated \| pull 1\.2s, start 0\.3s, health 0\.9s \|/);
    assert.match(body, /\| web-2 \| updated \|/);

    const deployments = gitlab.state.deployments.filter((d) => d.sha === job.sha);
    assert.equal(deployments.length, 1);
    assert.deepEqual(
      [deployments[0]!.environment, deployments[0]!.ref, deployments[0]!.projectId],
      ['prod', 'main', 1],
    );
    assert.deepEqual(deployments[0]!.statusHistory, ['running', 'success']);
  });

  it('a second finish for the same job (new process) finds the note by its marker and edits it: no second note', async () => {
    const notesBefore = gitlab.state.notes.length;
    const deploymentsBefore = gitlab.state.deployments.length;
    const n = notifier(); // no memory of the first run: the note is found by its marker
    await n.jobStarted(job);
    const failure = {
      ...report,
      ok: false,
      hosts: [
        {
          host: 'web-1',
          status: 'rolled-back' as const,
          step: 'health' as const,
          timings: { pull: 1000, health: 30000 },
        },
      ],
      failed: {
        host: 'web-1',
        step: 'health' as const,
        message: 'health check failed',
        errorName: 'HealthCheckFailed',
        stderrTail: 'connection refused',
      },
    };
    await n.jobFinished(job, { status: 'failed', detail: 'host web-1 failed at health', rollout: failure });

    assert.equal(gitlab.state.notes.length, notesBefore, 'no new note');
    const note = gitlab.state.notes.find((x) => x.body.includes(`fjord:api/prod/${job.sha}`))!;
    assert.equal(note.revisions.length, 7);
    assert.match(note.body, /failed/);
    assert.match(note.body, /Failed on `web-1` at step `health`/);
    assert.match(note.body, /connection refused/);
    assert.doesNotMatch(note.body, /web-2/, 'old host table replaced');

    assert.equal(gitlab.state.deployments.length, deploymentsBefore + 1, 'the retry is a new deployment');
    assert.deepEqual(gitlab.state.deployments.at(-1)!.statusHistory, ['running', 'failed']);
    assert.deepEqual(
      gitlab.state.statuses.filter((s) => s.sha === job.sha).map((s) => s.state),
      ['pending', 'running', 'success', 'pending', 'failed'],
    );
  });

  it('finishing without a start updates the running deployment it finds, else records one final', async () => {
    const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
    const running = await api.Deployments.create(APP, 'staging', job.sha!, 'main', false, { status: 'running' });
    const staging = { ...job, environment: 'staging' };
    await notifier().jobFinished(staging, { status: 'deployed' });
    assert.deepEqual(gitlab.state.deployments.find((d) => d.id === running.id)!.statusHistory, ['running', 'success']);
    const before = gitlab.state.deployments.length;
    await notifier().jobFinished({ ...job, environment: 'qa' }, { status: 'superseded' });
    assert.equal(gitlab.state.deployments.length, before + 1);
    assert.deepEqual(gitlab.state.deployments.at(-1)!.statusHistory, ['canceled']);
  });

  it('a retried job (started again while running) never asks for a transition GitLab refuses', async () => {
    const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
    const retried = { ...job, environment: 'canary', id: 'job-notify-retry' };
    const n = notifier();
    const timeline = new Timeline(retried.enqueuedAt);
    await n.jobStarted(retried, timeline);
    timeline.mark('rollout', 'rollout started');
    await n.jobProgress(retried, timeline);
    const requests = gitlab.state.requests.length;
    await n.jobStarted(retried, new Timeline(retried.enqueuedAt)); // the worker's second attempt
    await n.jobFinished(retried, { status: 'deployed' });
    assert.ok(!gitlab.state.requests.slice(requests).some((r) => r.status >= 400), 'GitLab refused nothing');
    assert.deepEqual(
      gitlab.state.statuses.filter((s) => s.name === 'fjord/canary').map((s) => s.state),
      ['pending', 'running', 'success'],
    );
    // What was avoided: GitLab (and the stand-in) refuse pending on a running status.
    await api.Commits.editStatus(APP, job.sha!, 'running', { name: 'fjord/probe', ref: 'main' });
    await assert.rejects(api.Commits.editStatus(APP, job.sha!, 'pending', { name: 'fjord/probe', ref: 'main' }));
    assert.deepEqual(
      [gitlab.state.requests.at(-1)!.path.endsWith(`/statuses/${job.sha}`), gitlab.state.requests.at(-1)!.status],
      [true, 400],
    );
  });

  it('maps outcomes to final states: noop → success, superseded → canceled, proposed → success, failed → failed', async () => {
    const cases = [
      ['noop', 'success'],
      ['superseded', 'canceled'],
      ['proposed', 'success'],
      ['failed', 'failed'],
    ] as const;
    for (const [status, state] of cases) {
      const j = { ...job, environment: `map-${status}`, id: `job-map-${status}` };
      await notifier().jobStarted(j);
      await notifier().jobFinished(j, { status, detail: `${status} detail` });
      const sent = gitlab.state.statuses.filter((x) => x.name === `fjord/map-${status}`);
      assert.deepEqual(
        sent.map((x) => x.state),
        ['pending', state],
        status,
      );
      assert.equal(sent[1]!.description, `${status}: ${status} detail`);
    }
  });

  it('a deploy parked for approvals inside the feedback wrapper: status left pending, the deployment canceled, never success', async () => {
    const parked = { ...job, environment: 'approve', id: 'job-notify-parked' };
    const ctx = { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal };
    const reason = 'waiting for 0 of 2 approvals: `/fjord approve approve` by someone other than ada';
    const requests = gitlab.state.requests.length;
    await runWithFeedback(parked, ctx, notifier(), async () => ({ status: 'waiting', detail: reason }));
    assert.deepEqual(
      gitlab.state.statuses.filter((x) => x.name === 'fjord/approve').map((x) => x.state),
      ['pending'],
      'pending, and no second pending GitLab would refuse',
    );
    assert.ok(!gitlab.state.requests.slice(requests).some((r) => r.status >= 400), 'GitLab refused nothing');
    const deployment = gitlab.state.deployments.find((d) => d.environment === 'approve')!;
    assert.deepEqual(deployment.statusHistory, ['running', 'canceled'], 'the deployment is not left running');
    const note = gitlab.state.notes.find((x) => x.body.includes(noteMarker(parked)))!;
    assert.match(note.body, /### ⏸️ fjord: `api` to \*\*approve\*\*: waiting/);
    assert.ok(note.body.includes(reason));
  });

  it('keeps internal address:port out of the MR note and the commit status (createNotifier from fjord.yaml), the image registry kept', async () => {
    const config = parseConfig(`
sources: { gitlab: { url: "${gitlab.url}", tokenEnv: FJORD_GITLAB_TOKEN } }
manifest: { backend: git, repository: ./manifests.git }
hosts:
  web-1: { address: 10.20.0.7, port: 2222, hostKey: "SHA256:${'A'.repeat(43)}" }
  web-2: { address: web2.corp.internal, hostKey: "SHA256:${'B'.repeat(43)}" }
apps:
  api:
    source: { project: ${APP} }
    image: 10.20.0.9:5000/acme/api
    environments:
      prod: { manifest: { file: prod/values.yaml, path: tag }, hosts: [web-1, web-2] }
`);
    const n = createNotifier(config, { env: { FJORD_GITLAB_TOKEN: gitlab.token }, logger });
    const j = { ...job, environment: 'addr', id: 'job-notify-addr', image: '10.20.0.9:5000/acme/api' };
    const failure: RolloutReport = {
      ok: false,
      durationMs: 1000,
      hosts: [
        { host: 'web-1', status: 'failed', step: 'connect', timings: {} },
        { host: 'web-2', status: 'rolled-back', step: 'health', timings: {} },
      ],
      failed: {
        host: 'web-1',
        step: 'connect',
        message: 'host web-1 (10.20.0.7:2222) unreachable: connect ECONNREFUSED 10.20.0.7:2222',
        errorName: 'HostUnreachable',
        stderrTail: 'curl: (7) Failed to connect to web2.corp.internal port 8080 via http://[fd00::7]:8080/health',
      },
    };
    await n.jobFinished(j, {
      status: 'failed',
      detail: 'host web-1 (10.20.0.7:2222) unreachable; web-2 (web2.corp.internal:22) rolled back',
      rollout: failure,
    });
    const note = gitlab.state.notes.find((x) => x.body.includes(`fjord:api/addr/${job.sha}`))!;
    const status = gitlab.state.statuses.filter((x) => x.name === 'fjord/addr').at(-1)!;
    for (const text of [note.body, status.description ?? '']) {
      assert.ok(!/10\.20\.0\.7|2222|web2\.corp\.internal|fd00/.test(text), text);
      assert.match(text, /host web-1 \(\[address\]\) unreachable/);
    }
    assert.match(note.body, /Image `10\.20\.0\.9:5000\/acme\/api:v2`/, "the image reference is fjord.yaml's, kept");
    assert.match(note.body, /connect to \[address\] port 8080 via http:\/\/\[address\]\/health/);
  });

  it('skips what a job without sha, project or MR cannot address', async () => {
    const requests = gitlab.state.requests.length;
    const cli: DeployJob = {
      ...job,
      id: 'job-cli-00001',
      sha: undefined,
      reason: 'manual',
      source: { provider: 'cli' },
    };
    await notifier().jobStarted(cli);
    await notifier().jobFinished(cli, { status: 'deployed' });
    assert.equal(gitlab.state.requests.length, requests, 'no request made');
  });

  it('never throws when GitLab is down or refuses the token; logs without the token', async () => {
    const down = await startGitlabStandIn({ projects: { [APP]: { repo: app.bare } } });
    await down.close();
    lines.length = 0;
    const n = new GitlabNotifier({ url: down.url, token: new Secret(down.token), logger, timeoutMs: 2000 });
    await n.jobStarted(job);
    await n.jobFinished(job, { status: 'deployed' });
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string; what: string });
    assert.deepEqual(
      new Set(warnings.filter((w) => w.msg === 'notification failed').map((w) => w.what)),
      new Set(['commit status', 'merge request note', 'deployment']),
    );

    lines.length = 0;
    const bad = new GitlabNotifier({ url: gitlab.url, token: new Secret('glpat-wrong-token-000'), logger });
    await bad.jobFinished(job, { status: 'deployed' });
    assert.equal(lines.length, 3);
    assert.match(lines.join('\n'), /HTTP 401/);
    assert.ok(!lines.join('\n').includes('glpat-wrong-token-000'));
  });
});
