/**
 * GitHub's pipeline trigger for CI that reports as checks: a `check_suite` webhook through the real receiver,
 * handled like a successful `workflow_run`. The payloads are @octokit/webhooks-examples' `check_suite`
 * examples (api.github.com/index.json: Codertocat/Hello-World, the completed suite of github-actions on
 * `main`, conclusion success), changed only where a test says so.
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

const completedSuite = () =>
  githubExample(
    'check_suite',
    (e) => e.action === 'completed' && e.check_suite.conclusion === 'success' && e.check_suite.head_branch === 'main',
  );

const config = (trigger: string) =>
  testConfig((c) => {
    c.apps.hello = {
      source: { provider: 'github', project: 'Codertocat/Hello-World', branch: 'main', trigger },
      image: 'registry.example.com/codertocat/hello-world',
      tag: '{shortSha}',
      environments: { production: { manifest: { file: 'hello/production.yaml', path: 'image.tag' } } },
    };
  });

describe('receiver: GitHub check_suite (trigger pipeline)', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ config: config('pipeline') });
  });
  after(() => r.close());
  const post = (body: unknown, event = 'check_suite') => {
    const text = JSON.stringify(body);
    return r.post('/hooks/github', text, githubHeaders(event, text));
  };

  it('a completed successful check suite on the watched branch queues a pipeline deploy of its head sha', async () => {
    const suite = completedSuite();
    const res = await post(suite);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.queued.map((q: any) => [q.app, q.environment, q.tag, q.sha]),
      [['hello', 'production', suite.check_suite.head_sha.slice(0, 8), suite.check_suite.head_sha]],
    );
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(deployJobSchema.parse(job), job);
    assert.deepEqual(
      [job.reason, job.source.provider, job.source.project, job.source.ref, job.source.author],
      ['pipeline', 'github', 'Codertocat/Hello-World', 'main', 'Codertocat'],
    );
    // Ordered by when the suite was created (a re-run keeps it), not by the commit's own time (15:20:30).
    assert.equal(job.source.committedAt, '2019-05-15T15:20:31.000Z');
  });

  it('suites that are not a success, not completed, of a fork or of another branch are answered 200 and queue nothing', async () => {
    const before = r.queue.accepted.length;
    const requested = githubExample('check_suite', (e) => e.action === 'requested');
    assert.deepEqual((await post(requested)).body, { ignored: 'check suite "requested", not completed' });
    const failed = completedSuite();
    failed.check_suite.conclusion = 'failure';
    assert.deepEqual((await post(failed)).body, { ignored: 'check suite conclusion "failure", not success' });
    const unconcluded = completedSuite();
    unconcluded.check_suite.conclusion = null;
    assert.deepEqual((await post(unconcluded)).body, { ignored: 'check suite conclusion "none", not success' });
    // A fork's branch: GitHub sends head_branch null and no pull requests.
    const fork = completedSuite();
    fork.check_suite.head_branch = null;
    assert.deepEqual((await post(fork)).body, {
      ignored: "check suite without a head branch (a fork's, not the repository's)",
    });
    const other = githubExample(
      'check_suite',
      (e) => e.action === 'completed' && e.check_suite.head_branch === 'changes',
    );
    assert.match((await post(other)).body.ignored, /no environment of app hello deploys branch "changes"/);
    assert.equal(r.queue.accepted.length, before);
  });

  it('a hostile head sha is refused with 422 naming the field, and nothing is queued', async () => {
    const before = r.queue.accepted.length;
    const sha = completedSuite();
    sha.check_suite.head_sha = '$(reboot)';
    const bad = await post(sha);
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(bad.body), /check_suite\.head_sha/);
    const branch = completedSuite();
    branch.check_suite.head_branch = 'main\n; rm -rf /';
    assert.equal((await post(branch)).status, 200, 'a branch no environment names is not an order');
    assert.equal(r.queue.accepted.length, before);
  });

  it('an app with trigger merge ignores check suites', async () => {
    const s = await startTestReceiver({ config: config('merge') });
    try {
      const text = JSON.stringify(completedSuite());
      const res = await s.post('/hooks/github', text, githubHeaders('check_suite', text));
      assert.equal(res.status, 200);
      assert.match(res.body.ignored, /app hello deploys on merge, not on pipeline/);
      assert.equal(s.queue.accepted.length, 0);
    } finally {
      await s.close();
    }
  });
});
