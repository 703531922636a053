/**
 * GitHub's pipeline trigger: a `workflow_run` webhook through the real receiver. The payloads are
 * @octokit/webhooks-examples' `workflow_run` examples (api.github.com/index.json: the completed run of
 * octo-org/octo-repo on master, conclusion success, with `pull_requests` empty and with one), changed
 * only where a test says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployJobSchema } from '../../lib/job.js';
import {
  githubExample,
  githubHeaders,
  startTestReceiver,
  testConfig,
  type TestReceiver,
} from '../fixtures/receiver.js';

const completedRun = (pick: (e: any) => boolean = (e) => e.workflow_run.pull_requests.length === 0) =>
  githubExample('workflow_run', (e) => e.action === 'completed' && e.workflow_run.conclusion === 'success' && pick(e));

const config = (trigger: string) =>
  testConfig((c) => {
    c.apps.ci = {
      source: { provider: 'github', project: 'octo-org/octo-repo', branch: 'master', trigger },
      image: 'registry.example.com/octo-org/octo-repo',
      tag: '{shortSha}',
      environments: { production: { manifest: { file: 'ci/production.yaml', path: 'image.tag' } } },
    };
  });

describe('receiver: GitHub workflow_run (trigger pipeline)', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ config: config('pipeline') });
  });
  after(() => r.close());
  const post = (body: unknown, event = 'workflow_run') => {
    const text = JSON.stringify(body);
    return r.post('/hooks/github', text, githubHeaders(event, text));
  };

  it('a completed successful workflow run on the watched branch queues a pipeline deploy of its head sha', async () => {
    const run = completedRun();
    const res = await post(run);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.queued.map((q: any) => [q.app, q.environment, q.tag, q.sha]),
      [['ci', 'production', '3484a3fb', run.workflow_run.head_sha]],
    );
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(deployJobSchema.parse(job), job);
    assert.equal(job.reason, 'pipeline');
    assert.equal(job.source.provider, 'github');
    assert.equal(job.source.project, 'octo-org/octo-repo');
    assert.equal(job.source.ref, 'master');
    assert.equal(job.source.author, 'Codertocat');
    // Ordered by when the run (its latest attempt) started, not by the commit's own time (16:32:07).
    assert.equal(job.source.committedAt, '2020-10-05T16:33:49.000Z');
    // The example with a pull request listed is a run on master too (a repository_dispatch): same deploy.
    assert.equal((await post(completedRun((e) => e.workflow_run.pull_requests.length > 0))).status, 202);
  });

  it('runs that are not a success, not completed, of pull request code, of a fork or of another branch are answered 200 and queue nothing', async () => {
    const before = r.queue.accepted.length;
    const requested = githubExample('workflow_run', (e) => e.action === 'requested');
    assert.deepEqual((await post(requested)).body, { ignored: 'workflow run "requested", not completed' });
    const failed = completedRun();
    failed.workflow_run.conclusion = 'failure';
    assert.deepEqual((await post(failed)).body, { ignored: 'workflow run conclusion "failure", not success' });
    // The other completed example has conclusion null (a run GitHub never concluded).
    const unconcluded = githubExample(
      'workflow_run',
      (e) => e.action === 'completed' && e.workflow_run.conclusion === null,
    );
    assert.equal((await post(unconcluded)).status, 200);
    const prRun = completedRun();
    prRun.workflow_run.event = 'pull_request';
    assert.deepEqual((await post(prRun)).body, { ignored: 'workflow run for "pull_request" (not merged code)' });
    const fork = completedRun();
    fork.workflow_run.head_repository.full_name = 'mallory/octo-repo';
    assert.deepEqual((await post(fork)).body, {
      ignored: 'workflow run of "mallory/octo-repo", not of the repository itself',
    });
    const other = completedRun();
    other.workflow_run.head_branch = 'feature';
    assert.match((await post(other)).body.ignored, /no environment of app ci deploys branch "feature"/);
    assert.equal(r.queue.accepted.length, before);
  });

  it('a hostile head sha or branch is refused with 422 naming the field, and nothing is queued', async () => {
    const before = r.queue.accepted.length;
    const sha = completedRun();
    sha.workflow_run.head_sha = '$(reboot)';
    const bad = await post(sha);
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(bad.body), /workflow_run\.head_sha/);
    const branch = completedRun();
    branch.workflow_run.head_branch = 'master\n; rm -rf /';
    assert.equal((await post(branch)).status, 200, 'a branch no environment names is not an order');
    assert.equal(r.queue.accepted.length, before);
  });

  it('an app with trigger merge ignores workflow runs', async () => {
    const s = await startTestReceiver({ config: config('merge') });
    try {
      const text = JSON.stringify(completedRun());
      const res = await s.post('/hooks/github', text, githubHeaders('workflow_run', text));
      assert.equal(res.status, 200);
      assert.match(res.body.ignored, /app ci deploys on merge, not on pipeline/);
      assert.equal(s.queue.accepted.length, 0);
    } finally {
      await s.close();
    }
  });
});
